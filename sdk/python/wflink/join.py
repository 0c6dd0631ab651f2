"""The interval join (Flink's ``KeyedStream.interval_join``), as in the Rust
SDK: a record ``l`` of the left keyed stream meets every record ``r`` of the
right one with the same key and ``l.ts + lower <= r.ts <= l.ts + upper``::

    paid = (
        orders.key_by(lambda o: o[0])
        .interval_join(payments.key_by(lambda p: p[1]))
        .between(0, 15 * 60_000)
        .side_output_left_unmatched(unpaid)
        .process(lambda order, payment, ctx: [f"{order[0]} paid by {payment[0]}"])
    )

Both sides are buffered in keyed map state by timestamp; an event-time
timer drops a left record once the watermark passes ``ts + upper`` and a
right one once it passes ``ts - lower``, so the state holds only the
current interval. Records buffered in state come back as tuples where
they were lists (MessagePack has one array type).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, Union

from .errors import InvalidPlan
from .state import MapState, take_declared

if TYPE_CHECKING:
    from .process import Context, OutputTag
    from .stream import DataStream, KeyedStream


class ProcessJoinFunction:
    """The function of an interval join (Flink's ``ProcessJoinFunction``):
    ``process_element(left, right, ctx)`` once per matching pair; emit with
    ``ctx.collect``/``ctx.output`` or return an iterable. A plain function
    of the same three arguments serves too."""

    def process_element(self, left: Any, right: Any, ctx: Context) -> Optional[Iterable[Any]]:
        """Handles one pair of records with equal keys within the interval."""
        raise NotImplementedError


class IntervalJoin:
    """Two keyed streams to join on an interval; set it with :meth:`between`."""

    def __init__(self, left: KeyedStream, right: KeyedStream) -> None:
        self._left, self._right = left, right

    def between(self, lower_ms: int, upper_ms: int) -> IntervalJoined:
        """Joins ``l`` with every ``r`` of its key where
        ``l.ts + lower_ms <= r.ts <= l.ts + upper_ms`` (either may be negative).
        Raises :class:`~wflink.InvalidPlan` when ``lower_ms > upper_ms``."""
        if not isinstance(lower_ms, int) or not isinstance(upper_ms, int):
            raise InvalidPlan("interval join: between takes two ints (milliseconds)")
        if lower_ms > upper_ms:
            raise InvalidPlan(f"interval join: the lower bound {lower_ms} ms is above the upper bound {upper_ms} ms")
        return IntervalJoined(self._left, self._right, lower_ms, upper_ms)


class IntervalJoined:
    """An interval join with its bounds; finish with :meth:`process`."""

    def __init__(self, left, right, lower, upper):
        self._left, self._right = left, right
        self._lower, self._upper = lower, upper
        self._tags = {"left-unmatched": None, "right-unmatched": None, "left-late": None, "right-late": None}

    def lower_bound_exclusive(self) -> IntervalJoined:
        """Excludes the lower bound: ``l.ts + lower < r.ts``."""
        self._lower += 1
        return self

    def upper_bound_exclusive(self) -> IntervalJoined:
        """Excludes the upper bound: ``r.ts < l.ts + upper``."""
        self._upper -= 1
        return self

    def side_output_left_unmatched(self, tag: OutputTag) -> IntervalJoined:
        """Sends each left record that met no right one to ``tag`` when its
        interval has passed (the watermark reached ``ts + upper``)."""
        self._tags["left-unmatched"] = tag
        return self

    def side_output_right_unmatched(self, tag: OutputTag) -> IntervalJoined:
        """Sends each right record that met no left one to ``tag`` when its
        interval has passed (the watermark reached ``ts - lower``)."""
        self._tags["right-unmatched"] = tag
        return self

    def side_output_left_late_data(self, tag: OutputTag) -> IntervalJoined:
        """Sends left records behind the watermark to ``tag`` instead of dropping them."""
        self._tags["left-late"] = tag
        return self

    def side_output_right_late_data(self, tag: OutputTag) -> IntervalJoined:
        """Sends right records behind the watermark to ``tag`` instead of dropping them."""
        self._tags["right-late"] = tag
        return self

    def process(self, fn: Union[ProcessJoinFunction, Callable[[Any, Any, Context], Any]]) -> DataStream:
        """Calls ``fn`` for every pair within the interval; the node is
        named "Interval Join"."""
        call = getattr(fn, "process_element", fn)
        if not callable(call):
            raise TypeError("IntervalJoined.process takes a ProcessJoinFunction or a function (left, right, ctx)")
        operator = _IntervalJoinOperator(self._lower, self._upper, self._tags, call)
        spec = {"states": take_declared(), "window": None}
        return self._left._two_inputs(self._right, "keyed-co-process", "Interval Join", operator, spec)


def _oldest_first(buckets):
    return sorted(buckets, key=lambda item: item[0])


class _IntervalJoinOperator:
    """The keyed co-process function that runs an interval join: two map
    states of ``timestamp -> [(record, matched), ...]``."""

    def __init__(self, lower, upper, tags, fn):
        self.lower, self.upper, self.tags, self.fn = lower, upper, tags, fn
        self.left = MapState("interval-join-left")
        self.right = MapState("interval-join-right")

    def _cleanup_left(self, ts):
        return ts + max(self.upper, 0)

    def _cleanup_right(self, ts):
        return ts - min(self.lower, 0)

    def _element(self, value, ctx, ours, theirs, lo, hi, late, cleanup, pair):
        ts = ctx.timestamp()
        if ts is None:
            raise InvalidPlan("interval join: a record has no timestamp; call assign_timestamps_and_watermarks")
        if ts <= ctx.current_watermark():
            if late is not None:
                ctx.output(late, value)
            return
        matched = False
        for other_ts, bucket in theirs.items():
            if ts + lo <= other_ts <= ts + hi:
                for other, _ in bucket:
                    ctx._emit_all(pair(value, other, ctx))
                matched = True
                theirs.put(other_ts, [(other, True) for other, _ in bucket])
        bucket = list(ours.get(ts) or [])
        bucket.append((value, matched))
        ours.put(ts, bucket)
        ctx.register_event_time_timer(cleanup(ts))

    def process_element1(self, value, ctx):
        fn = self.fn
        self._element(
            value, ctx, self.left, self.right, self.lower, self.upper, self.tags["left-late"],
            self._cleanup_left, lambda mine, other, c: fn(mine, other, c),
        )

    def process_element2(self, value, ctx):
        fn = self.fn
        self._element(
            value, ctx, self.right, self.left, -self.upper, -self.lower, self.tags["right-late"],
            self._cleanup_right, lambda mine, other, c: fn(other, mine, c),
        )

    def on_timer(self, timestamp, ctx):
        for state, cleanup, tag in (
            (self.left, self._cleanup_left, self.tags["left-unmatched"]),
            (self.right, self._cleanup_right, self.tags["right-unmatched"]),
        ):
            for ts, bucket in _oldest_first(state.items()):
                if cleanup(ts) <= timestamp:
                    state.remove(ts)
                    if tag is not None:
                        for value, seen in bucket:
                            if not seen:
                                ctx.output(tag, value)
