"""Windows on keyed streams: ``keyed.window(TumblingEventTimeWindows.of(..))``
then ``reduce``, ``aggregate`` or ``process``, with allowed lateness and a
side output for late records, as in Flink.

Windows run in the guest on keyed state and timers, as the Rust SDK's do
(and with the same state ids and namespaces): the accumulator of each
(key, window) is a state entry whose namespace is the window (start and
end as big-endian 64-bit integers); a timer at the window's last
millisecond fires it; a cleanup timer at ``max_timestamp + allowed
lateness`` drops it.
"""

from __future__ import annotations

from struct import Struct
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional

from .context import CALL, EVENT_TIME, PROCESSING_TIME
from .errors import JobError
from .msgpack import packb, unpackb
from .state import state_id
from .time import Duration, to_ms

if TYPE_CHECKING:
    from .process import OutputTag
    from .stream import DataStream, KeyedStream

#: What turns a window's result into its outputs: called with the key, the
#: window and the result, it returns an iterable of outputs (a generator
#: works) or None.
WindowFunction = Callable[[Any, "TimeWindow", Any], Optional[Iterable[Any]]]

_NAMESPACE = Struct(">qq")
#: State id of the per-window accumulators (as in the Rust SDK).
ACC_STATE = state_id("window-contents")
#: State id of the per-key list of session windows.
SESSIONS_STATE = state_id("window-sessions")
_MISSING = object()


class TimeWindow:
    """A window ``[start, end)`` of time in ms."""

    __slots__ = ("start", "end")

    def __init__(self, start: int, end: int) -> None:
        #: First ms of the window.
        self.start = start
        #: First ms after the window.
        self.end = end

    def max_timestamp(self) -> int:
        """The last timestamp inside the window (``end - 1``): its results
        carry it, and it fires once the watermark reaches it."""
        return self.end - 1

    def namespace(self) -> bytes:
        """The window as a state namespace (start and end, big-endian)."""
        return _NAMESPACE.pack(self.start, self.end)

    @staticmethod
    def from_namespace(ns: bytes) -> Optional[TimeWindow]:
        """The window a namespace encodes, or None."""
        if len(ns) != 16:
            return None
        return TimeWindow(*_NAMESPACE.unpack(ns))

    def intersects(self, other: TimeWindow) -> bool:
        """Whether two windows overlap or touch (sessions that do merge)."""
        return self.start <= other.end and self.end >= other.start

    def __eq__(self, other):
        return isinstance(other, TimeWindow) and (self.start, self.end) == (other.start, other.end)

    def __hash__(self):
        return hash((self.start, self.end))

    def __repr__(self):
        return f"TimeWindow(start={self.start}, end={self.end})"


class WindowAssigner:
    """How a keyed stream is cut into windows; build one with
    :meth:`TumblingEventTimeWindows.of` and friends."""

    def __init__(
        self, kind: str, event_time: bool, size: int = 0, slide: int = 0, offset: int = 0, gap: int = 0
    ) -> None:
        """Prefer the static constructors of the assigner classes: ``kind``
        is ``"tumbling"``, ``"sliding"`` or ``"session"``; lengths are in ms."""
        #: Tumbling, sliding or session windows.
        self.kind = kind
        #: Whether the windows follow event time (else the wall clock).
        self.event_time = event_time
        #: Window length, ms between window starts, boundary shift and
        #: session gap, in ms.
        self.size, self.slide, self.offset, self.gap = size, slide, offset, gap

    def with_offset(self, offset: Duration) -> WindowAssigner:
        """Shifts the window boundaries by ``offset`` (a timedelta or ms)."""
        return WindowAssigner(self.kind, self.event_time, self.size, self.slide, to_ms(offset, "the offset"), self.gap)

    def assign(self, timestamp: int) -> list[TimeWindow]:
        """The windows ``timestamp`` falls in."""
        if self.kind == "tumbling":
            start = timestamp - (timestamp - self.offset) % self.size
            return [TimeWindow(start, start + self.size)]
        if self.kind == "sliding":
            out = []
            start = timestamp - (timestamp - self.offset) % self.slide
            while start > timestamp - self.size:
                out.append(TimeWindow(start, start + self.size))
                start -= self.slide
            return out
        return [TimeWindow(timestamp, timestamp + self.gap)]


def _positive_ms(d, what):
    return max(1, to_ms(d, what))


class TumblingEventTimeWindows:
    """Fixed-size, non-overlapping event-time windows."""

    @staticmethod
    def of(size: Duration) -> WindowAssigner:
        """Windows of length ``size`` (a timedelta or ms)."""
        return WindowAssigner("tumbling", True, size=_positive_ms(size, "the window size"))


class TumblingProcessingTimeWindows:
    """Fixed-size, non-overlapping processing-time windows."""

    @staticmethod
    def of(size: Duration) -> WindowAssigner:
        """Windows of length ``size`` (a timedelta or ms)."""
        return WindowAssigner("tumbling", False, size=_positive_ms(size, "the window size"))


class SlidingEventTimeWindows:
    """Fixed-size event-time windows, one starting every ``slide``."""

    @staticmethod
    def of(size: Duration, slide: Duration) -> WindowAssigner:
        """Windows of length ``size``, one starting every ``slide``."""
        return WindowAssigner(
            "sliding", True, size=_positive_ms(size, "the window size"), slide=_positive_ms(slide, "the slide")
        )


class SlidingProcessingTimeWindows:
    """Fixed-size processing-time windows, one starting every ``slide``."""

    @staticmethod
    def of(size: Duration, slide: Duration) -> WindowAssigner:
        """Windows of length ``size``, one starting every ``slide``."""
        return WindowAssigner(
            "sliding", False, size=_positive_ms(size, "the window size"), slide=_positive_ms(slide, "the slide")
        )


class EventTimeSessionWindows:
    """Event-time sessions per key, closed after ``gap`` without records."""

    @staticmethod
    def with_gap(gap: Duration) -> WindowAssigner:
        """Sessions separated by at least ``gap`` (a timedelta or ms)."""
        return WindowAssigner("session", True, gap=_positive_ms(gap, "the session gap"))


class ProcessingTimeSessionWindows:
    """Processing-time sessions per key, closed after ``gap`` without records."""

    @staticmethod
    def with_gap(gap: Duration) -> WindowAssigner:
        """Sessions separated by at least ``gap`` (a timedelta or ms)."""
        return WindowAssigner("session", False, gap=_positive_ms(gap, "the session gap"))


class AggregateFunction:
    """Folds records into an accumulator incrementally (Flink's
    ``AggregateFunction``). The accumulator is stored as MessagePack
    between batches: use tuples, lists, dicts, numbers and strings (lists
    come back as tuples)."""

    def create_accumulator(self) -> Any:
        """A fresh accumulator."""
        raise NotImplementedError

    def add(self, value: Any, accumulator: Any) -> Any:
        """Adds one record; returns the new accumulator."""
        raise NotImplementedError

    def get_result(self, accumulator: Any) -> Any:
        """The result of an accumulator."""
        raise NotImplementedError

    def merge(self, a: Any, b: Any) -> Any:
        """Combines two accumulators (when session windows merge)."""
        raise NotImplementedError


def _emit(window_function, key, window, result):
    if window_function is None:
        return (result,)
    out = window_function(key, window, result)
    return () if out is None else out


class _Reduce:
    def __init__(self, f, window_function):
        self.f, self.g = f, window_function

    def add(self, acc, value):
        return value if acc is _MISSING else self.f(acc, value)

    def merge(self, a, b):
        return self.f(a, b)

    def emit(self, key, window, acc):
        return _emit(self.g, key, window, acc)


class _Aggregate:
    def __init__(self, a, window_function):
        self.a, self.g = a, window_function

    def add(self, acc, value):
        return self.a.add(value, self.a.create_accumulator() if acc is _MISSING else acc)

    def merge(self, a, b):
        return self.a.merge(a, b)

    def emit(self, key, window, acc):
        return _emit(self.g, key, window, self.a.get_result(acc))


class _Process:
    def __init__(self, g):
        self.g = g

    def add(self, acc, value):
        return [value] if acc is _MISSING else [*acc, value]

    def merge(self, a, b):
        return [*a, *b]

    def emit(self, key, window, acc):
        out = self.g(key, window, list(acc))
        return () if out is None else out


class WindowedStream:
    """A keyed stream cut into windows (see ``KeyedStream.window``)."""

    def __init__(self, keyed: KeyedStream, assigner: WindowAssigner) -> None:
        if not isinstance(assigner, WindowAssigner):
            raise TypeError("window() takes a window assigner, e.g. TumblingEventTimeWindows.of(timedelta(seconds=10))")
        self._keyed = keyed
        self._assigner = assigner
        self._lateness = 0
        self._late_tag = None

    def allowed_lateness(self, lateness: Duration) -> WindowedStream:
        """Keeps windows for ``lateness`` (a timedelta or ms) after they
        fire (event time): a late record within it updates the window,
        which fires again."""
        self._lateness = to_ms(lateness, "the allowed lateness")
        return self

    def side_output_late_data(self, tag: OutputTag) -> WindowedStream:
        """Sends records too late for every window they belong to to the
        side output ``tag`` instead of dropping them (dropped ones are
        counted in the ``late-records-dropped`` metric)."""
        self._late_tag = tag
        return self

    def reduce(
        self, reduce_function: Callable[[Any, Any], Any], window_function: Optional[WindowFunction] = None
    ) -> DataStream:
        """Folds each window's records with ``reduce_function(a, b)``; emits
        the result, or what ``window_function(key, window, result)``
        returns (an iterable; a generator works)."""
        return self._build("reduce", _Reduce(reduce_function, window_function))

    def aggregate(
        self, aggregate_function: AggregateFunction, window_function: Optional[WindowFunction] = None
    ) -> DataStream:
        """Aggregates each window's records incrementally with an
        :class:`AggregateFunction`; emits its result, or what
        ``window_function(key, window, result)`` returns (an iterable)."""
        return self._build("aggregate", _Aggregate(aggregate_function, window_function))

    def process(
        self, process_window_function: Callable[[Any, TimeWindow, list], Optional[Iterable[Any]]]
    ) -> DataStream:
        """Hands all records of each window to
        ``process_window_function(key, window, elements)``, which returns
        an iterable of outputs. Keeps every record until the window fires:
        prefer ``reduce`` or ``aggregate`` when they suffice."""
        return self._build("process", _Process(process_window_function))

    def _build(self, function, logic):
        a = self._assigner
        states = [(ACC_STATE, "window-contents", "aggregating")]
        if a.kind == "session":
            states.append((SESSIONS_STATE, "window-sessions", "value"))
        spec = {
            "states": states,
            "window": {
                "assigner": a,
                "allowed_lateness_ms": self._lateness,
                "late_output_tag": self._late_tag.id if self._late_tag else None,
                "function": function,
            },
        }
        operator = WindowOperator(a, self._lateness if a.event_time else 0, self._late_tag, logic)
        return self._keyed._keyed_process(operator, "Window", spec)


class WindowOperator:
    """The window node of a chain, the chain's first node (it reads a key-by)."""

    def __init__(self, assigner, lateness, late_tag, logic):
        self.assigner = assigner
        self.lateness = lateness
        self.late_tag = late_tag.id if late_tag else None
        self.logic = logic
        self.domain = EVENT_TIME if assigner.event_time else PROCESSING_TIME
        #: This call's accumulators: ``(namespace, key) -> [acc, changed]``.
        self._accs = {}
        #: This call's session lists: ``key -> [[(start, end)...], changed]``.
        self._sessions = {}
        self._late = 0

    def _load(self, label):
        self._accs, self._sessions = {}, {}
        try:
            for id, key, ns, _, value in CALL.entries():
                if id == ACC_STATE:
                    self._accs[(ns, key)] = [unpackb(value), False]
                elif id == SESSIONS_STATE:
                    self._sessions[key] = [[tuple(w) for w in unpackb(value)], False]
        except Exception as e:
            raise JobError(f"{label} could not decode its window state: {e}") from None

    def _store(self):
        direct = CALL.direct
        for (ns, key), (acc, changed) in self._accs.items():
            if changed:
                direct.append((ACC_STATE, key, ns, b"", b"" if acc is _MISSING else packb(acc)))
        for key, (sessions, changed) in self._sessions.items():
            if changed:
                direct.append((SESSIONS_STATE, key, b"", b"", packb(sessions) if sessions else b""))
        self._accs, self._sessions = {}, {}
        if self._late:
            from .log import counter_add

            counter_add("late-records-dropped", self._late)
            self._late = 0

    def _fire(self, key, window, acc, out):
        values, stamps = out
        results = self.logic.emit(unpackb(key), window, acc)
        ts = window.max_timestamp()
        for r in results:
            values.append(r)
            stamps.append(ts)

    def _timers(self, key, window):
        ns = window.namespace()
        CALL.registered.push(self.domain, window.max_timestamp(), key, ns)
        if self.domain == EVENT_TIME and self.lateness > 0:
            CALL.registered.push(self.domain, window.max_timestamp() + self.lateness, key, ns)

    def _late_record(self, value, sides):
        if self.late_tag is None:
            self._late += 1
            return
        buffer = sides.get(self.late_tag)
        if buffer is not None:
            buffer.append(value)

    def process(self, keys, values, stamps, sides, label, out):
        """Adds a batch's records (``keys`` as bytes) to their windows; fires
        late updates into ``out`` (``(values, stamps)`` lists)."""
        event_time = self.assigner.event_time
        if event_time and stamps is None and values:
            raise JobError(
                f"{label} is an event-time window but its records have no timestamps: "
                "call assign_timestamps_and_watermarks before key_by",
            )
        self._load(label)
        watermark, now = CALL.watermark, CALL.processing_time
        session = self.assigner.kind == "session"
        lateness = self.lateness
        accs = self._accs
        for i, (key, value) in enumerate(zip(keys, values)):
            timestamp = stamps[i] if event_time else now
            windows = self.assigner.assign(timestamp)
            if session:
                self._add_to_session(key, windows[0], value, watermark, sides)
                continue
            on_time = [w for w in windows if not event_time or w.end - 1 + lateness > watermark]
            if not on_time:
                self._late_record(value, sides)
                continue
            for w in on_time:
                address = (w.namespace(), key)
                slot = accs.get(address)
                if slot is None or slot[0] is _MISSING:
                    accs[address] = slot = [self.logic.add(_MISSING, value), True]
                    self._timers(key, w)
                else:
                    slot[0] = self.logic.add(slot[0], value)
                    slot[1] = True
                if event_time and w.end - 1 <= watermark:
                    # A late record within the allowed lateness: fire again at once.
                    self._fire(key, w, slot[0], out)
        self._store()

    def _add_to_session(self, key, window, value, watermark, sides):
        entry = self._sessions.get(key) or [[], False]
        merged = window
        kept, absorbed = [], []
        for start, end in entry[0]:
            w = TimeWindow(start, end)
            if w.intersects(window):
                merged = TimeWindow(min(merged.start, start), max(merged.end, end))
                absorbed.append(w)
            else:
                kept.append((start, end))
        if self.domain == EVENT_TIME and merged.end - 1 + self.lateness <= watermark:
            self._sessions[key] = entry
            return self._late_record(value, sides)
        acc = _MISSING
        for w in absorbed:
            slot = self._accs.get((w.namespace(), key))
            if slot is not None and slot[0] is not _MISSING:
                acc = slot[0] if acc is _MISSING else self.logic.merge(acc, slot[0])
                slot[0], slot[1] = _MISSING, True
        kept.append((merged.start, merged.end))
        self._sessions[key] = [kept, True]
        self._accs[(merged.namespace(), key)] = [self.logic.add(acc, value), True]
        # Timers of absorbed windows find no accumulator and do nothing.
        self._timers(key, merged)

    def on_timers(self, timers, label, out):
        """Fires the windows of ``timers`` (``(key, namespace, timestamp)``
        each) into ``out``; purges those past their lateness."""
        self._load(label)
        for key, ns, timestamp in timers:
            window = TimeWindow.from_namespace(ns)
            if window is None:
                continue
            slot = self._accs.get((ns, key))
            if slot is None or slot[0] is _MISSING:
                continue
            acc = slot[0]
            purge = timestamp >= window.max_timestamp() + self.lateness
            if purge:
                slot[0], slot[1] = _MISSING, True
            if timestamp == window.max_timestamp():
                self._fire(key, window, acc, out)
            if purge and self.assigner.kind == "session":
                entry = self._sessions.get(key)
                if entry is not None:
                    entry[0] = [w for w in entry[0] if w != (window.start, window.end)]
                    entry[1] = True
        self._store()
