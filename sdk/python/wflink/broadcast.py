"""Broadcast state, as in Flink and the Rust SDK: a stream broadcast with
``stream.broadcast(MapStateDescriptor("rules"))`` reaches every subtask
of the operator it is connected to, which keeps the map states it writes
the same in every subtask; the other input, keyed or not, reads them::

    limits = MapStateDescriptor("limits")

    class Check(BroadcastProcessFunction):
        def process_element(self, order, ctx):
            limit = ctx.broadcast_state(limits).get(order[0])
            yield f"{order[0]} {'over' if limit is not None and order[2] > limit else 'ok'}"

        def process_broadcast_element(self, update, ctx):
            ctx.broadcast_state(limits).put(update[0], update[1])

    orders.connect(updates.broadcast(limits)).process(Check())

``process_element`` (and ``on_timer``) read the broadcast state only
(:class:`ReadOnlyBroadcastState`); ``process_broadcast_element`` writes
it (:class:`BroadcastState`). A keyed stream connected to a broadcast
stream runs a :class:`KeyedBroadcastProcessFunction`, with keyed state
and timers for the keyed records; a broadcast record has no key, so they
are out of its reach, but ``ctx.apply_to_keyed_state(state, fn)`` in
``process_broadcast_element`` runs ``fn(key, state)`` for every key of
the subtask holding that state (Flink's ``applyToKeyedState``)::

    class Rules(KeyedBroadcastProcessFunction):
        def __init__(self):
            self.total = ValueState("total")
        ...
        def process_broadcast_element(self, rule, ctx):
            if rule == "reset":
                ctx.apply_to_keyed_state(self.total, lambda key, total: total.clear())

Each subtask keeps its copy in the instance and hands it to the host at
every checkpoint (``snapshot-state``); a restore at any parallelism gives
new subtask ``i`` the copy of old subtask ``i mod old parallelism``. The
copies are the same only if ``process_broadcast_element`` depends on
nothing but the broadcast records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, Union

from . import host_state
from .context import CALL, StateError
from .errors import JobError
from .msgpack import packb, unpackb
from .process import Context
from .state import AggregatingState, ListState, MapState, ReducingState, ValueState, state_id, take_declared

#: The keyed state handles ``apply_to_keyed_state`` walks.
KeyedState = Union[ValueState, ListState, MapState, ReducingState, AggregatingState]
_KEYED_STATES = (ValueState, ListState, MapState, ReducingState, AggregatingState)

if TYPE_CHECKING:
    from .stream import DataStream


class MapStateDescriptor:
    """Names a broadcast map state (Flink's ``MapStateDescriptor``).
    Create it once in the build function, pass it to
    ``stream.broadcast(..)`` and use it in the function to reach the state
    through its context. Keys and values are any MessagePack value."""

    __slots__ = ("name", "id")

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError("a MapStateDescriptor needs a non-empty str name")
        #: The name, unique among the states of its operator; a
        #: savepoint's broadcast state is matched to it by this name.
        self.name = name
        #: The state id in the plan and in snapshots.
        self.id = state_id(name)

    def __repr__(self):
        return f"MapStateDescriptor({self.name!r})"


class BroadcastProcessFunction:
    """A function of a stream and a broadcast stream (Flink's
    ``BroadcastProcessFunction``). Subclass it and define
    :meth:`process_element` and :meth:`process_broadcast_element`."""

    def process_element(self, value: Any, ctx: BroadcastContext) -> Optional[Iterable[Any]]:
        """Handles one record of the processed stream; reads the broadcast
        state (``ctx.broadcast_state(descriptor)``, read only); emit
        through ``ctx`` or return an iterable."""
        raise NotImplementedError

    def process_broadcast_element(self, value: Any, ctx: BroadcastContext) -> Optional[Iterable[Any]]:
        """Handles one record of the broadcast stream, in every subtask;
        writes the broadcast state."""
        raise NotImplementedError


class KeyedBroadcastProcessFunction(BroadcastProcessFunction):
    """A function of a keyed stream and a broadcast stream (Flink's
    ``KeyedBroadcastProcessFunction``): as
    :class:`BroadcastProcessFunction`, with keyed state (attributes holding
    :class:`~wflink.ValueState` and friends, created in ``__init__``) and
    timers for the records of the keyed stream."""

    def on_timer(self, timestamp: int, ctx: BroadcastContext) -> Optional[Iterable[Any]]:
        """Called when a timer of the current key fires; reads the
        broadcast state read only."""
        return None


class ReadOnlyBroadcastState:
    """A broadcast map state to read (Flink's ``ReadOnlyBroadcastState``),
    what ``process_element`` and ``on_timer`` get. Values read are fresh
    copies (lists come back as tuples)."""

    __slots__ = ("_map",)

    def __init__(self, entries: dict) -> None:
        self._map = entries

    def get(self, key: Any, default: Any = None) -> Any:
        """The value of ``key``, or ``default``."""
        data = self._map.get(_encode(key))
        return default if data is None else _decode(data)

    def contains(self, key: Any) -> bool:
        """Whether ``key`` has a value."""
        return _encode(key) in self._map

    __contains__ = contains

    def items(self) -> list[tuple[Any, Any]]:
        """Every ``(key, value)``, in the order of the keys' encodings (as the Rust SDK's)."""
        return [(_decode(k), _decode(self._map[k])) for k in sorted(self._map)]

    def keys(self) -> list:
        """Every key, in the order of their encodings."""
        return [_decode(k) for k in sorted(self._map)]

    def values(self) -> list:
        """Every value, in the order of the keys' encodings."""
        return [_decode(self._map[k]) for k in sorted(self._map)]

    def __len__(self) -> int:
        return len(self._map)

    def is_empty(self) -> bool:
        """Whether the state has no entry."""
        return not self._map


class BroadcastState(ReadOnlyBroadcastState):
    """A broadcast map state to read and write (Flink's
    ``BroadcastState``), what ``process_broadcast_element`` gets."""

    __slots__ = ()

    def put(self, key: Any, value: Any) -> None:
        """Sets the value of ``key``."""
        self._map[_encode(key)] = _encode(value)

    def remove(self, key: Any) -> None:
        """Removes ``key`` and its value."""
        self._map.pop(_encode(key), None)

    def clear(self) -> None:
        """Removes every entry."""
        self._map.clear()


def _encode(value):
    try:
        return packb(value)
    except Exception as e:
        raise StateError(f"cannot encode broadcast state: {e}") from None


def _decode(data):
    try:
        return unpackb(data)
    except Exception as e:
        raise StateError(f"cannot decode broadcast state: {e}") from None


class BroadcastContext(Context):
    """The context of a broadcast process function: a
    :class:`~wflink.Context` (emit, time, key and timers on the keyed
    side) plus :meth:`broadcast_state`, read only in ``process_element``
    and ``on_timer``, writable in ``process_broadcast_element``, and, in a
    :class:`KeyedBroadcastProcessFunction`'s ``process_broadcast_element``,
    :meth:`apply_to_keyed_state`."""

    __slots__ = ("_store", "_writable", "_keyed")

    def __init__(self, sides: dict, store: dict, writable: bool, keyed: bool = False) -> None:
        super().__init__(sides)
        self._store = store
        self._writable = writable
        self._keyed = keyed

    def broadcast_state(self, descriptor: MapStateDescriptor) -> ReadOnlyBroadcastState:
        """The broadcast state named by ``descriptor``: a
        :class:`BroadcastState` in ``process_broadcast_element``, a
        :class:`ReadOnlyBroadcastState` elsewhere."""
        entries = self._store.get(descriptor.id)
        if entries is None:
            raise StateError(
                f"broadcast state '{descriptor.name}' is not declared: pass its descriptor to broadcast(..)"
            )
        return BroadcastState(entries) if self._writable else ReadOnlyBroadcastState(entries)

    def apply_to_keyed_state(self, state: KeyedState, fn: Callable[[Any, KeyedState], Optional[Iterable[Any]]]) -> None:
        """Runs ``fn(key, state)`` once for every key of this subtask that
        holds an entry of the keyed state ``state`` (a handle the function
        created in ``__init__``), with ``state`` set to that key, so ``fn``
        can read, update or clear it (Flink's ``applyToKeyedState``).
        Only in a :class:`KeyedBroadcastProcessFunction`'s
        ``process_broadcast_element``.

        ``key`` is decoded as ``ctx.current_key()`` gives it (lists as
        tuples). ``fn`` may emit through ``ctx`` or return an iterable, as
        ``process_broadcast_element`` does. Keys come key group by key
        group; each key's entries are read from the host once per call
        (what the call wrote before wins), and writes go back with the
        call as every keyed write does. A key whose entries the call
        removed is not visited; afterwards there is no current key again.
        """
        if not self._keyed:
            raise StateError(
                "apply_to_keyed_state needs keyed state: use a KeyedBroadcastProcessFunction on a keyed stream "
                "(a BroadcastProcessFunction has none)"
            )
        if not self._writable:
            raise StateError("apply_to_keyed_state works in process_broadcast_element only (Flink's broadcast Context)")
        if not isinstance(state, _KEYED_STATES):
            raise TypeError(
                "apply_to_keyed_state takes a keyed state handle (ValueState, ListState, MapState, ReducingState "
                f"or AggregatingState), not {type(state).__name__}"
            )
        if not callable(fn):
            raise TypeError("apply_to_keyed_state takes a function fn(key, state)")
        id = state._id
        # Every key's entries first: fn writes only its own key's, so which
        # keys hold the state does not change while the keys are visited.
        listed = list(dict.fromkeys(host_state.keys_of(id)))
        for key in listed:
            CALL.load(id, key, host_state.entries_of(id, key))
        holding = CALL.keys_holding(id)
        live, seen = set(holding), set(listed)
        # The host's order, then keys only this call's writes gave the state.
        order = [k for k in listed if k in live] + [k for k in holding if k not in seen]
        emit_all = self._emit_all
        try:
            for key in order:
                CALL.set_key(key)
                result = fn(unpackb(key), state)
                if result is not None and not isinstance(result, (str, bytes)) and hasattr(result, "__iter__"):
                    emit_all(result)
        finally:
            CALL.clear_key()


class BroadcastStream:
    """A stream whose records go to every subtask of the operator it is
    connected to, with the broadcast states they write there (Flink's
    ``BroadcastStream``); connect a stream to it with ``connect``."""

    def __init__(self, stream: DataStream, descriptors: list) -> None:
        self._stream = stream
        self._descriptors = descriptors

    def with_state(self, descriptor: MapStateDescriptor) -> BroadcastStream:
        """Declares one more broadcast map state written by this stream."""
        return BroadcastStream(self._stream, [*self._descriptors, descriptor])

    def _connect_to(self, first: DataStream):
        from .stream import KeyedStream

        if first._plan is not self._stream._plan:
            raise TypeError("connect takes a stream of the same job")
        if isinstance(first, KeyedStream):
            return KeyedBroadcastConnectedStream(first, self)
        return BroadcastConnectedStream(first, self)


class BroadcastConnectedStream:
    """A stream connected to a :class:`BroadcastStream`; run a
    :class:`BroadcastProcessFunction` with :meth:`process`."""

    def __init__(self, first: DataStream, broadcast: BroadcastStream) -> None:
        self._first, self._broadcast = first, broadcast

    def process(self, fn: BroadcastProcessFunction) -> DataStream:
        """Runs ``fn`` on both inputs: ``process_element`` for the records
        of this stream, ``process_broadcast_element`` for those of the
        broadcast one. The node is named "Broadcast-Process"."""
        return _add_node(self._first, self._broadcast, fn, keyed=False)


class KeyedBroadcastConnectedStream:
    """A keyed stream connected to a :class:`BroadcastStream`; run a
    :class:`KeyedBroadcastProcessFunction` with :meth:`process`."""

    def __init__(self, first: DataStream, broadcast: BroadcastStream) -> None:
        self._first, self._broadcast = first, broadcast

    def process(self, fn: KeyedBroadcastProcessFunction) -> DataStream:
        """Runs ``fn`` on both inputs, with the keyed states it created in
        ``__init__`` and timers on the keyed side. The node is named
        "Keyed Broadcast-Process"."""
        return _add_node(self._first, self._broadcast, fn, keyed=True)


def _add_node(first, broadcast, fn, keyed):
    """The broadcast process node reading ``first`` (input 0) and the
    broadcast stream (input 1, through a broadcast edge)."""
    from .stream import DataStream

    if not (hasattr(fn, "process_element") and hasattr(fn, "process_broadcast_element")):
        raise TypeError("process takes a broadcast process function (process_element and process_broadcast_element)")
    descriptors = {d.id: d for d in broadcast._descriptors}
    states = take_declared()
    spec = {
        "broadcast": list(descriptors.values()),
        "states": states if keyed else None,
        "window": None,
    }
    plan = first._plan
    name = "Keyed Broadcast-Process" if keyed else "Broadcast-Process"
    operator = BroadcastOperator(fn, keyed, list(descriptors))
    node = plan.add(
        "broadcast-process", name, first._node, fn=operator, spec=spec,
        more_inputs=[broadcast._stream._node], partitioning={1: "broadcast"},
    )
    return DataStream(plan, node)


class BroadcastOperator:
    """The operator of a broadcast process node, the first of its chain:
    input 0 is the processed stream, input 1 the broadcast stream. Holds
    this subtask's copy of the broadcast states: by state id, encoded map
    key to encoded value."""

    def __init__(self, fn, keyed, ids):
        self.fn = fn
        self.keyed = keyed
        self.store = {id: {} for id in ids}
        self.element_ctx = self.broadcast_ctx = None

    def bind(self, sides):
        """Creates the two contexts, writing side outputs into ``sides``."""
        self.element_ctx = BroadcastContext(sides, self.store, writable=False, keyed=self.keyed)
        self.broadcast_ctx = BroadcastContext(sides, self.store, writable=True, keyed=self.keyed)

    def process(self, input, keys, values, stamps):
        """Runs a batch of input ``input``; returns ``(values, stamps)``.
        An empty batch brings the restored copy of the broadcast state."""
        if not values:
            self.restore()
            return [], None
        out = []
        out_stamps = None if stamps is None else []
        if input == 0:
            ctx, call = self.element_ctx, self.fn.process_element
        elif input == 1:
            # No key is set in this call: keyed state and timers fail.
            ctx, call = self.broadcast_ctx, self.fn.process_broadcast_element
        else:
            raise JobError(f"a broadcast process node has two inputs, not input {input} (a host bug)")
        ctx._bind(out, out_stamps)
        ctx._domain = None
        emit_all = ctx._emit_all
        keyed = self.keyed and input == 0
        for i, value in enumerate(values):
            if keyed:
                CALL.set_key(keys[i])
            ctx._timestamp = None if stamps is None else stamps[i]
            emit_all(call(value, ctx))
        return out, out_stamps

    def on_timers(self, keys, timestamps, domains):
        """Fires timers of the keyed side; returns ``(values, stamps)``."""
        on_timer = getattr(self.fn, "on_timer", None)
        if not self.keyed or on_timer is None:
            raise JobError("timers fired for a broadcast process function that sets none (a host bug)")
        out, out_stamps = [], []
        ctx = self.element_ctx
        ctx._bind(out, out_stamps)
        emit_all = ctx._emit_all
        for key, timestamp, domain in zip(keys, timestamps, domains):
            CALL.set_key(key)
            ctx._timestamp = timestamp
            ctx._domain = domain
            emit_all(on_timer(timestamp, ctx))
        return out, out_stamps

    def restore(self):
        """Takes the restored copy from the call's entries (those with an
        empty key), replacing what the store held of each state in it."""
        restored = set()
        for id, key, _, user_key, value in CALL.entries():
            if key or id not in self.store:
                continue
            if id not in restored:
                restored.add(id)
                self.store[id].clear()
            self.store[id][bytes(user_key)] = bytes(value)

    def snapshot(self):
        """This subtask's copy: ``(state id, map key, value)`` in key order."""
        return [(id, k, entries[k]) for id, entries in sorted(self.store.items()) for k in sorted(entries)]
