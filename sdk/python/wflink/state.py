"""Keyed state handles, scoped to the current key, as in Flink:
:class:`ValueState`, :class:`ListState`, :class:`MapState`,
:class:`ReducingState` and :class:`AggregatingState`.

Create them in a keyed process function's ``__init__``
(``self.flag = ValueState("flag")``), inside the build function; each is
declared in the plan under its name. Their values travel with each batch
(the host sends the stored state of the batch's keys and takes back what
changed), so reading and writing costs no host call. Values are stored as
MessagePack: what you store is what MessagePack can hold, and tuples and
lists come back as tuples.

Read values are fresh copies: change one and ``update`` it to keep the change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable

from .context import CALL, StateError
from .msgpack import pack_into, packb, unpack_from, unpackb

if TYPE_CHECKING:
    from .window import AggregateFunction

#: States created since the last keyed operator was added to the plan:
#: ``[(id, name, kind)]``.
_declared = []


def take_declared():
    """The states declared since the last call (the plan attaches them to
    the keyed operator being added)."""
    taken = list(_declared)
    _declared.clear()
    return taken


def state_id(name):
    """The id of a state (or output tag) named ``name``: FNV-1a over its
    UTF-8 bytes, as the Rust SDK computes it, so ids need no registry."""
    h = 0x811C9DC5
    for b in name.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def _declare(name, kind):
    if not isinstance(name, str) or not name:
        raise TypeError("a state needs a non-empty str name")
    id = state_id(name)
    if not any(d[0] == id for d in _declared):
        _declared.append((id, name, kind))
    return id


def _decode(data):
    try:
        return unpackb(data)
    except Exception as e:
        raise StateError(f"cannot decode keyed state: {e}") from None


def _encode(value):
    try:
        return packb(value)
    except Exception as e:
        raise StateError(f"cannot encode keyed state: {e}") from None


class ValueState:
    """One value per key."""

    def __init__(self, name: str) -> None:
        #: The name the plan declares (and the dashboard shows).
        self.name = name
        self._id = _declare(name, "value")

    def value(self, default: Any = None) -> Any:
        """The current key's value, or ``default`` when unset."""
        data = CALL.get(self._id)
        return default if data is None else _decode(data)

    def update(self, value: Any) -> None:
        """Sets the current key's value (``None`` clears it)."""
        CALL.set(self._id, b"", None if value is None else _encode(value))

    def clear(self) -> None:
        """Removes the current key's value."""
        CALL.set(self._id, b"", None)


class ListState:
    """A list of values per key, stored as the elements' encodings back to
    back, so :meth:`add` appends without decoding the list."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._id = _declare(name, "list")

    def get(self) -> list:
        """The current key's elements in insertion order (a new list, empty if none)."""
        data = CALL.get(self._id)
        items = []
        if data:
            try:
                pos = 0
                while pos < len(data):
                    item, pos = unpack_from(data, pos)
                    items.append(item)
            except Exception as e:
                raise StateError(f"cannot decode keyed state: {e}") from None
        return items

    def __iter__(self):
        return iter(self.get())

    def add(self, value: Any) -> None:
        """Appends ``value`` to the current key's list."""
        data = bytearray(CALL.get(self._id) or b"")
        try:
            pack_into(data, value)
        except Exception as e:
            raise StateError(f"cannot encode keyed state: {e}") from None
        CALL.set(self._id, b"", bytes(data))

    def add_all(self, values: Iterable[Any]) -> None:
        """Appends every element of ``values``."""
        for v in values:
            self.add(v)

    def update(self, values: Iterable[Any]) -> None:
        """Replaces the current key's list."""
        data = bytearray()
        for v in values:
            data += _encode(v)
        CALL.set(self._id, b"", bytes(data) if data else None)

    def clear(self) -> None:
        """Removes the current key's list."""
        CALL.set(self._id, b"", None)


class MapState:
    """A map per key: one state entry per map key (keys and values as
    MessagePack), so a large map need not be rewritten whole."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._id = _declare(name, "map")

    def get(self, key: Any, default: Any = None) -> Any:
        """The value of ``key`` in the current key's map, or ``default``."""
        data = CALL.get(self._id, _encode(key))
        return default if data is None else _decode(data)

    def put(self, key: Any, value: Any) -> None:
        """Sets ``key`` to ``value`` in the current key's map."""
        CALL.set(self._id, _encode(key), _encode(value))

    def remove(self, key: Any) -> None:
        """Removes ``key`` from the current key's map."""
        CALL.set(self._id, _encode(key), None)

    def contains(self, key: Any) -> bool:
        """Whether the current key's map holds ``key``."""
        return CALL.get(self._id, _encode(key)) is not None

    __contains__ = contains

    def items(self) -> list[tuple[Any, Any]]:
        """The current key's ``(key, value)`` pairs, in no particular order."""
        return [(_decode(k), _decode(v)) for k, v in CALL.scan(self._id)]

    def keys(self) -> list:
        """The current key's map keys, in no particular order."""
        return [_decode(k) for k, _ in CALL.scan(self._id)]

    def values(self) -> list:
        """The current key's map values, in no particular order."""
        return [_decode(v) for _, v in CALL.scan(self._id)]

    def is_empty(self) -> bool:
        """Whether the current key's map has no entry."""
        return not CALL.scan(self._id)

    def clear(self) -> None:
        """Removes every entry of the current key's map."""
        for k, _ in CALL.scan(self._id):
            CALL.set(self._id, k, None)


class ReducingState:
    """One value per key, folded with ``reduce_function(a, b)`` on :meth:`add`."""

    def __init__(self, name: str, reduce_function: Callable[[Any, Any], Any]) -> None:
        self.name = name
        self._id = _declare(name, "reducing")
        self._f = reduce_function

    def get(self) -> Any:
        """The current key's folded value, or None."""
        data = CALL.get(self._id)
        return None if data is None else _decode(data)

    def add(self, value: Any) -> None:
        """Folds ``value`` into the current key's value."""
        data = CALL.get(self._id)
        new = value if data is None else self._f(_decode(data), value)
        CALL.set(self._id, b"", _encode(new))

    def clear(self) -> None:
        """Removes the current key's value."""
        CALL.set(self._id, b"", None)


class AggregatingState:
    """One accumulator per key, folded with an
    :class:`~wflink.AggregateFunction` on :meth:`add`."""

    def __init__(self, name: str, aggregate_function: AggregateFunction) -> None:
        self.name = name
        self._id = _declare(name, "aggregating")
        self._f = aggregate_function

    def get(self) -> Any:
        """The current key's result, or None when nothing was added."""
        data = CALL.get(self._id)
        return None if data is None else self._f.get_result(_decode(data))

    def add(self, value: Any) -> None:
        """Adds ``value`` to the current key's accumulator."""
        data = CALL.get(self._id)
        acc = self._f.create_accumulator() if data is None else _decode(data)
        CALL.set(self._id, b"", _encode(self._f.add(value, acc)))

    def clear(self) -> None:
        """Removes the current key's accumulator."""
        CALL.set(self._id, b"", None)
