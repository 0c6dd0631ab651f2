"""Streams of two inputs: ``a.connect(b)`` pairs two streams, of any
records, for a function of two inputs (Flink's ``ConnectedStreams``):
``map(f1, f2)`` (CoMap), ``flat_map(f1, f2)`` (CoFlatMap) or
``process(CoProcessFunction)``; two keyed streams connect for a
``KeyedCoProcessFunction``, whose keyed state and timers both inputs of a
key share. The node starts a new task chain; the host
names the input of each batch, and the chain calls the first or the
second function on its records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional

if TYPE_CHECKING:
    from .process import Context
    from .stream import DataStream


class CoProcessFunction:
    """A function of two inputs with side outputs and access to time
    (Flink's ``CoProcessFunction``). Subclass it and define
    :meth:`process_element1` and :meth:`process_element2`."""

    def process_element1(self, value: Any, ctx: Context) -> Optional[Iterable[Any]]:
        """Handles one record of the first input; emit through ``ctx`` or
        return an iterable."""
        raise NotImplementedError

    def process_element2(self, value: Any, ctx: Context) -> Optional[Iterable[Any]]:
        """Handles one record of the second input, as :meth:`process_element1`."""
        raise NotImplementedError


class KeyedCoProcessFunction:
    """A function of two keyed inputs (Flink's ``KeyedCoProcessFunction``):
    both inputs of a key share its keyed state (attributes holding
    :class:`~wflink.ValueState` and friends, created in ``__init__``) and
    timers. Subclass it and define :meth:`process_element1`,
    :meth:`process_element2` and, for timers, :meth:`on_timer`."""

    def process_element1(self, value: Any, ctx: Context) -> Optional[Iterable[Any]]:
        """Handles one record of the first input for the current key."""
        raise NotImplementedError

    def process_element2(self, value: Any, ctx: Context) -> Optional[Iterable[Any]]:
        """Handles one record of the second input for the current key."""
        raise NotImplementedError

    def on_timer(self, timestamp: int, ctx: Context) -> Optional[Iterable[Any]]:
        """Called when a timer of the current key fires."""
        return None


class CoFunction:
    """The user functions of a co-process node, one batch function per
    input: ``run(input, values, stamps, ctx)`` returns the output records
    and their timestamps (None when the input has none)."""

    def __init__(self, kind: str, first: Callable, second: Callable) -> None:
        #: ``map``, ``flat-map`` or ``process``: how the functions are called.
        self.kind = kind
        self.functions = (first, second)

    def run(self, input: int, values: list, stamps: Optional[list], ctx: Context) -> tuple:
        fn = self.functions[input]
        if self.kind == "map":
            return list(map(fn, values)), stamps
        out: list = []
        out_stamps = None if stamps is None else []
        if self.kind == "flat-map":
            for i, r in enumerate(values):
                before = len(out)
                out.extend(fn(r))
                if out_stamps is not None:
                    out_stamps.extend([stamps[i]] * (len(out) - before))
            return out, out_stamps
        ctx._bind(out, out_stamps)
        emit_all = ctx._emit_all
        for i, r in enumerate(values):
            ctx._timestamp = None if stamps is None else stamps[i]
            emit_all(fn(r, ctx))
        return out, out_stamps


class ConnectedStreams:
    """Two streams paired by ``connect``, waiting for their function of two
    inputs."""

    def __init__(self, first: DataStream, second: DataStream) -> None:
        self._first = first
        self._second = second

    def map(self, fn1: Callable[[Any], Any], fn2: Callable[[Any], Any]) -> DataStream:
        """Turns each record of the first input into ``fn1(record)`` and
        each of the second into ``fn2(record)`` (Flink's CoMap)."""
        return self._co("Co-Map", CoFunction("map", fn1, fn2))

    def flat_map(self, fn1: Callable[[Any], Iterable[Any]], fn2: Callable[[Any], Iterable[Any]]) -> DataStream:
        """Turns each record of the first input into the records of the
        iterable ``fn1(record)``, and of the second by ``fn2`` (Flink's
        CoFlatMap)."""
        return self._co("Co-Flat Map", CoFunction("flat-map", fn1, fn2))

    def process(self, fn: CoProcessFunction) -> DataStream:
        """Runs a :class:`~wflink.CoProcessFunction` on the records of both
        inputs, with side outputs and timestamps."""
        if not (hasattr(fn, "process_element1") and hasattr(fn, "process_element2")):
            raise TypeError("ConnectedStreams.process takes a CoProcessFunction (process_element1 and 2)")
        return self._co("Co-Process", CoFunction("process", fn.process_element1, fn.process_element2))

    def key_by(
        self, key1: Callable[[Any], Any], key2: Callable[[Any], Any], key_type: Any = None
    ) -> KeyedConnectedStreams:
        """Keys the first input by ``key1(record)`` and the second by
        ``key2(record)``: records of both inputs with equal keys meet in one
        subtask and share the key's state and timers. Key functions
        annotated with different return types are refused at submit;
        ``key_type`` declares the type of both."""
        first, second = self._first.key_by(key1, key_type), self._second.key_by(key2, key_type)
        return first.connect(second)  # type: ignore[return-value]

    def _co(self, name: str, fn: CoFunction) -> DataStream:
        from .stream import DataStream

        plan = self._first._plan
        node = plan.add("co-process", name, self._first._node, fn=fn, more_inputs=[self._second._node])
        return DataStream(plan, node)


class KeyedConnectedStreams:
    """Two keyed streams paired by ``connect`` (or ``ConnectedStreams.key_by``),
    waiting for their :class:`~wflink.KeyedCoProcessFunction`."""

    def __init__(self, first: DataStream, second: DataStream) -> None:
        self._first = first
        self._second = second

    def process(self, fn: KeyedCoProcessFunction) -> DataStream:
        """Runs ``fn`` on the records of both inputs, with the keyed state it
        created in ``__init__``, timers and side outputs."""
        from .state import take_declared
        from .stream import DataStream

        if not (hasattr(fn, "process_element1") and hasattr(fn, "process_element2")):
            raise TypeError("KeyedConnectedStreams.process takes a KeyedCoProcessFunction (process_element1 and 2)")
        plan = self._first._plan
        spec = {"states": take_declared(), "window": None}
        node = plan.add(
            "keyed-co-process", "Keyed Co-Process", self._first._node, fn=fn, spec=spec, more_inputs=[self._second._node]
        )
        return DataStream(plan, node)
