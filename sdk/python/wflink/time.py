"""Event time: how a job tells the host where its timestamps are and how
late records may come (:class:`WatermarkStrategy`), and durations."""

from __future__ import annotations

from datetime import timedelta
from typing import Optional, Union

#: A length of time: a :class:`datetime.timedelta`, or an int of milliseconds.
Duration = Union[timedelta, int]


def to_ms(duration: Duration, what: str = "a duration") -> int:
    """Milliseconds of ``duration``: a :class:`datetime.timedelta`, or an
    int of milliseconds. Raises TypeError/ValueError naming ``what``."""
    if isinstance(duration, timedelta):
        ms = duration // timedelta(milliseconds=1)
    elif isinstance(duration, int) and not isinstance(duration, bool):
        ms = duration
    else:
        raise TypeError(f"{what} must be a datetime.timedelta or an int of milliseconds, not {type(duration).__name__}")
    if ms < 0:
        raise ValueError(f"{what} must not be negative")
    return ms


class WatermarkStrategy:
    """How watermarks follow the timestamps a stream's assigner extracts
    (Flink's ``WatermarkStrategy``); pass it to
    ``stream.assign_timestamps_and_watermarks``.

    The host makes the watermarks: after seeing timestamps up to ``t``, the
    watermark is ``t - out_of_orderness - 1``. Where streams meet (a
    key-by after a parallel source), each task takes the minimum over its
    inputs.
    """

    def __init__(self, out_of_orderness_ms: int, idle_timeout_ms: Optional[int] = None) -> None:
        #: Bounded out-of-orderness in ms.
        self.out_of_orderness_ms = out_of_orderness_ms
        #: Idle timeout in ms, or None.
        self.idle_timeout_ms = idle_timeout_ms

    @staticmethod
    def for_bounded_out_of_orderness(max_out_of_orderness: Duration) -> WatermarkStrategy:
        """Records may come up to ``max_out_of_orderness`` (a timedelta or
        ms) later than the newest one seen."""
        return WatermarkStrategy(to_ms(max_out_of_orderness, "the out-of-orderness"))

    @staticmethod
    def for_monotonous_timestamps() -> WatermarkStrategy:
        """Timestamps never go back (out-of-orderness zero)."""
        return WatermarkStrategy(0)

    def with_idleness(self, timeout: Duration) -> WatermarkStrategy:
        """A source subtask without records for ``timeout`` (wall clock) is
        marked idle, so it does not hold back the watermark downstream."""
        return WatermarkStrategy(self.out_of_orderness_ms, max(1, to_ms(timeout, "the idle timeout")))
