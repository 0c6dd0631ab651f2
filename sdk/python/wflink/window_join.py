"""The window join (Flink's ``DataStream.join``), as in the Rust SDK:
records of two streams with equal keys that fall in the same window are
paired, and each pair goes through a join function when the window fires::

    pairs = (
        clicks.join(views)
        .where(lambda c: c[0])
        .equal_to(lambda v: v[0])
        .window(TumblingEventTimeWindows.of(timedelta(minutes=1)))
        .apply(lambda c, v: f"{c[0]} {c[1]} {v[1]}")
    )

Built as Flink builds it: both streams are tagged (``(0, a)`` and ``(1,
b)``), merged with ``union``, keyed by the key of their side and cut into
windows by the assigner; the window function pairs every left record of a
window with every right one. So tumbling, sliding and session windows, in
event or processing time, and the window's state all come from the window
operator. Each result carries the window's last timestamp. A join is
complete only with its window: one left without is refused at submit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable

from .errors import InvalidPlan
from .keys import check_same_key_types, key_type_of
from .window import WindowAssigner

if TYPE_CHECKING:
    from .stream import DataStream

_NO_WINDOW = "a window join needs its window: a.join(b).where(key_a).equal_to(key_b).window(assigner).apply(fn)"


class JoinedStreams:
    """Two streams to join; name the first one's key with :meth:`where`."""

    def __init__(self, first: DataStream, second: DataStream) -> None:
        self._first, self._second = first, second
        plan = first._plan
        self._id = id(self)
        plan.open_joins[self._id] = (
            f"the join of {plan.nodes[first._node].label()} with {plan.nodes[second._node].label()} "
            f"has no window; {_NO_WINDOW}"
        )

    def where(self, key: Callable[[Any], Any], key_type: Any = None) -> JoinWhere:
        """The key of the first stream's records (Flink's ``where``);
        ``key_type`` or ``key``'s return annotation names its type."""
        return JoinWhere(self, key, key_type_of(key, key_type))


class JoinWhere:
    """A join with the first stream's key; give the second's with :meth:`equal_to`."""

    def __init__(self, streams: JoinedStreams, key: Callable[[Any], Any], key_type) -> None:
        self._streams, self._key, self._key_type = streams, key, key_type

    def equal_to(self, key: Callable[[Any], Any], key_type: Any = None) -> JoinEqual:
        """The key of the second stream's records, of the same type as the
        first's: keys annotated or declared with different types are
        refused at submit."""
        second = key_type_of(key, key_type)
        check_same_key_types("join", self._key_type, second)
        return JoinEqual(self, key)


class JoinEqual:
    """A join with both keys; give its window with :meth:`window`."""

    def __init__(self, on: JoinWhere, key: Callable[[Any], Any]) -> None:
        self._on, self._key = on, key

    def window(self, assigner: WindowAssigner) -> WindowJoin:
        """The windows records meet in: tumbling, sliding or session
        windows, in event or processing time."""
        if not isinstance(assigner, WindowAssigner):
            raise TypeError("window() takes a window assigner, e.g. TumblingEventTimeWindows.of(timedelta(seconds=10))")
        return WindowJoin(self, assigner)

    def apply(self, fn: Any) -> DataStream:
        """Not without a window: raises :class:`~wflink.InvalidPlan`."""
        raise InvalidPlan(_NO_WINDOW)


class WindowJoin:
    """A join with keys and window; finish with :meth:`apply`."""

    def __init__(self, equal: JoinEqual, assigner: WindowAssigner) -> None:
        self._equal, self._assigner = equal, assigner
        self._lateness = 0

    def allowed_lateness(self, lateness: Any) -> WindowJoin:
        """Keeps windows for ``lateness`` after they fire (event time): a
        late record within it joins, and the window fires again."""
        self._lateness = lateness
        return self

    def apply(self, fn: Callable[[Any, Any], Any]) -> DataStream:
        """Emits ``fn(a, b)`` for every pair of a first-stream record ``a``
        and a second-stream record ``b`` with equal keys in one window,
        when the window fires (Flink's ``JoinFunction``; an object with a
        ``join(a, b)`` method serves too). The node is named "Window Join"."""
        call = getattr(fn, "join", fn)
        if not callable(call):
            raise TypeError("apply takes a function (a, b) or a JoinFunction (an object with join)")
        return self._build(lambda a, b: (call(a, b),))

    def apply_flat(self, fn: Callable[[Any, Any], Iterable[Any]]) -> DataStream:
        """Like :meth:`apply`, with ``fn(a, b)`` returning any number of
        records per pair, as an iterable (Flink's ``FlatJoinFunction``)."""
        return self._build(fn)

    def _build(self, each_pair):
        streams = self._equal._on._streams
        key_a, key_b = self._equal._on._key, self._equal._key

        def pair(_key, _window, items):
            lefts = [value for side, value in items if side == 0]
            rights = [value for side, value in items if side == 1]
            for a in lefts:
                for b in rights:
                    yield from each_pair(a, b)

        def key(item):
            return key_a(item[1]) if item[0] == 0 else key_b(item[1])

        left = streams._first.map(lambda a: (0, a)).name("Join: Left")
        right = streams._second.map(lambda b: (1, b)).name("Join: Right")
        windows = left.union(right).key_by(key).window(self._assigner).allowed_lateness(self._lateness)
        joined = windows.process(pair).name("Window Join")
        del streams._first._plan.open_joins[streams._id]
        return joined
