"""Windows over a whole, non-keyed stream, as Flink's ``window_all`` and
the Rust SDK's: every record goes to one window operator at parallelism 1
(a key-by on a constant key, as Flink's ``NullByteKeySelector``), so its
windows see the stream entire::

    amounts.window_all(TumblingEventTimeWindows.of(timedelta(minutes=1))).reduce(operator.add)

Use it where the stream is small or pre-aggregated; a keyed window
scales, this does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional

from .time import Duration
from .window import AggregateFunction, TimeWindow, WindowedStream

if TYPE_CHECKING:
    from .process import OutputTag
    from .stream import DataStream, KeyedStream
    from .window import WindowAssigner

#: The name of the window node of ``window_all``, as Flink's plan shows it.
NAME = "All Window"


class AllWindowedStream:
    """A whole stream cut into windows (see ``DataStream.window_all``)."""

    def __init__(self, keyed: KeyedStream, assigner: WindowAssigner) -> None:
        self._windows = WindowedStream(keyed, assigner)

    def allowed_lateness(self, lateness: Duration) -> AllWindowedStream:
        """Keeps windows for ``lateness`` after they fire (event time), as
        :meth:`WindowedStream.allowed_lateness <wflink.WindowedStream.allowed_lateness>`."""
        self._windows.allowed_lateness(lateness)
        return self

    def side_output_late_data(self, tag: OutputTag) -> AllWindowedStream:
        """Sends records too late for every window to the side output ``tag``."""
        self._windows.side_output_late_data(tag)
        return self

    def reduce(
        self,
        reduce_function: Callable[[Any, Any], Any],
        window_function: Optional[Callable[[TimeWindow, Any], Optional[Iterable[Any]]]] = None,
    ) -> DataStream:
        """Folds each window's records with ``reduce_function(a, b)``; emits
        the result, or what ``window_function(window, result)`` returns."""
        g = None if window_function is None else (lambda _key, window, result: window_function(window, result))
        return _single(self._windows.reduce(reduce_function, g))

    def aggregate(
        self,
        aggregate_function: AggregateFunction,
        window_function: Optional[Callable[[TimeWindow, Any], Optional[Iterable[Any]]]] = None,
    ) -> DataStream:
        """Aggregates each window's records incrementally; emits the result,
        or what ``window_function(window, result)`` returns."""
        g = None if window_function is None else (lambda _key, window, result: window_function(window, result))
        return _single(self._windows.aggregate(aggregate_function, g))

    def process(self, process_function: Callable[[TimeWindow, list], Optional[Iterable[Any]]]) -> DataStream:
        """Hands all records of each window, with the window, to
        ``process_function(window, elements)`` (Flink's
        ``ProcessAllWindowFunction``), which returns an iterable of outputs."""
        return _single(self._windows.process(lambda _key, window, elements: process_function(window, elements)))


def _single(stream: DataStream) -> DataStream:
    """The window node at parallelism 1, named as Flink names it."""
    return stream.name(NAME).set_parallelism(1)
