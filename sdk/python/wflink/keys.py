"""Key types, checked where two keyed inputs meet.

Records of two inputs meet only when their keys encode equally, so keys of
different types (``"1"`` and ``1``) never meet: a keyed co-process, an
interval join or a window join over them would quietly pair nothing. The
Rust SDK refuses such a plan at compile time (both inputs name one key
type); this library refuses it when the job is described, at submit,
whenever it knows both key types: from ``key_type=`` (PyFlink's spelling)
or from the return annotation of the key function (``def user(click) ->
str``). A lambda declares none, so its stream's key type is unknown and
not checked.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any, Callable, Optional

from .errors import InvalidPlan

#: Annotations written as strings (``from __future__ import annotations``)
#: that name builtin types.
_BUILTINS = {t.__name__: t for t in (str, int, float, bool, bytes, tuple, list, dict, type(None))}


def _name(t: Any) -> str:
    """A key type as users write it: ``str``, ``tuple[str, int]``."""
    if isinstance(t, str):
        return t
    if isinstance(t, type) and typing.get_origin(t) is None:
        return t.__name__
    return str(t).replace("typing.", "")


def key_type_of(fn: Callable[[Any], Any], declared: Any = None) -> Optional[str]:
    """The name of the key type of the key function ``fn``: ``declared``
    when given, else its return annotation, else None (unknown)."""
    if declared is not None:
        return _name(declared)
    try:
        annotation = inspect.signature(fn).return_annotation
    except (TypeError, ValueError):
        return None
    if annotation is inspect.Signature.empty:
        return None
    if isinstance(annotation, str):
        annotation = _BUILTINS.get(annotation.strip(), annotation.strip())
    return _name(annotation)


def check_same_key_types(what: str, first: Optional[str], second: Optional[str]) -> None:
    """Refuses, in one line, two inputs of ``what`` keyed by different
    known types."""
    if first is not None and second is not None and first != second:
        raise InvalidPlan(
            f"{what}: the first input is keyed by {first} and the second by {second}; "
            "keys of different types never meet, so key both inputs by the same type"
        )
