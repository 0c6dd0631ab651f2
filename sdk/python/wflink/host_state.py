"""The host's ``state`` import: the keys of this subtask holding a keyed
state, and one key's entries of it, page by page.

The state of a batch's keys travels with the batch; these calls are for
what does not: a keyed broadcast process function's
``ctx.apply_to_keyed_state``, which reaches every key of the subtask from
a broadcast record. Both reflect the host's store as it was before the
current call.

The bindings are imported when the module loads (componentize-py keeps
only the modules imported while it pre-initialises the component).
Outside a component there are none, and the calls raise a clear error;
the library's tests put a stand-in in :data:`_state` (an object with the
import's ``keys`` and ``scan``).
"""

from __future__ import annotations

from typing import Iterator

from .context import StateError, slices

try:
    from wit_world.imports import state as _state
except ImportError:  # not inside a component
    _state = None

#: Keys asked for per ``keys`` call (a page holds whole key groups, so it
#: may hold more).
KEYS_PAGE = 1024
#: Entries asked for per ``scan`` call.
SCAN_PAGE = 1024


def _wire(state_id: int) -> int:
    """The import takes a state id's 32 bits as an ``s32`` (see
    ``wit/state.wit``)."""
    return state_id - (1 << 32) if state_id >= 1 << 31 else state_id


def _host():
    if _state is None:
        raise RuntimeError("apply_to_keyed_state needs the wflink host: it works only inside a job component")
    return _state


def _call(what, f, *args):
    """Calls the import ``f``, turning its error (a WIT ``state-error`` in
    ``componentize_py_types.Err``) into a :class:`StateError`."""
    try:
        return f(*args)
    except Exception as e:
        error = getattr(e, "value", e)
        case = type(error).__name__.removeprefix("StateError_")
        if case == "NoKeyedContext":
            message = "the host has no keyed context for this call"
        elif case == "ForeignKey":
            message = "the key belongs to another subtask"
        elif case == "UnknownState":
            message = f"state id {error.value} is not declared by this operator"
        else:
            message = str(getattr(error, "value", error))
        raise StateError(f"{what} failed: {message}") from None


def keys_of(state_id: int) -> Iterator[bytes]:
    """Every key (MessagePack bytes, as in a keyed batch) of this subtask
    holding an entry of ``state_id``, key group by key group."""
    state = _host()
    group = 0
    while True:
        page = _call("listing the keys of a state", state.keys, _wire(state_id), group, KEYS_PAGE)
        ends = list(page.key_ends)
        if ends and (ends[-1] > len(page.keys) or any(a > b for a, b in zip([0, *ends], ends))):
            raise StateError("the host returned a malformed key page (a host bug)")
        yield from slices(bytes(page.keys), ends)
        if page.next_group is None:
            return
        if page.next_group <= group:
            raise StateError("the host's key pages do not move forward (a host bug)")
        group = page.next_group


def entries_of(state_id: int, key: bytes, namespace: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
    """``(user key, value)`` of every entry of ``state_id`` stored for
    ``key`` and ``namespace``, in user-key order."""
    state = _host()
    after = None
    while True:
        page = _call("reading a key's state", state.scan, _wire(state_id), key, namespace, after, SCAN_PAGE)
        user_ends, value_ends = list(page.user_key_ends), list(page.value_ends)
        if (
            len(user_ends) != len(value_ends)
            or (user_ends and user_ends[-1] > len(page.user_keys))
            or (value_ends and value_ends[-1] > len(page.values))
            or any(a > b for a, b in zip([0, *user_ends], user_ends))
            or any(a > b for a, b in zip([0, *value_ends], value_ends))
        ):
            raise StateError("the host returned malformed state entries (a host bug)")
        user_keys = slices(bytes(page.user_keys), user_ends)
        yield from zip(user_keys, slices(bytes(page.values), value_ends))
        if len(user_keys) < SCAN_PAGE:
            return
        after = user_keys[-1]
