"""wflink's Python guest library: write a stream job with a DataStream
API, build it into a WebAssembly component with ``wflink build DIR``.

A job module (``app.py``)::

    from wflink import export_job

    def build(env, args):
        env.read_text_file(args.required("input")).map(str.upper).print()

    Job, Operator = export_job(build)

Event time, process functions, keyed state, timers, windows and side
outputs follow Flink's DataStream API (``assign_timestamps_and_watermarks``,
``process``, ``ValueState``, ``window(TumblingEventTimeWindows.of(..))``,
``OutputTag``); see guest-examples/sensor-alerts-python. Several inputs
meet as in Flink: ``union``, ``connect`` (CoMap, CoFlatMap,
CoProcessFunction, KeyedCoProcessFunction), broadcast state
(``broadcast(MapStateDescriptor(..))``), window joins (``join``), interval
joins (``interval_join``; see guest-examples/order-payments-python).
Count windows (``count_window``) and ``window_all`` complete the windows.

Records are any value MessagePack can hold (None, bool, int, float, str,
bytes, tuple/list, dict); tuples travel as arrays, so a Rust ``(String,
i64)`` and a Python ``("word", 1)`` are the same bytes.
"""

from __future__ import annotations

from .all_window import AllWindowedStream
from .args import Args
from .broadcast import (
    BroadcastConnectedStream,
    BroadcastContext,
    BroadcastProcessFunction,
    BroadcastState,
    BroadcastStream,
    KeyedBroadcastConnectedStream,
    KeyedBroadcastProcessFunction,
    MapStateDescriptor,
    ReadOnlyBroadcastState,
)
from .connected import CoProcessFunction, ConnectedStreams, KeyedCoProcessFunction, KeyedConnectedStreams
from .context import StateError
from .count_window import CountWindowedStream
from .errors import InvalidArguments, InvalidPlan, JobError, UserError
from .join import IntervalJoin, IntervalJoined, ProcessJoinFunction
from .log import counter_add, log
from .process import Context, KeyedProcessFunction, OutputTag, ProcessFunction
from .state import AggregatingState, ListState, MapState, ReducingState, ValueState
from .stream import BuildFunction, DataStream, KeyedStream, StreamExecutionEnvironment
from .time import Duration, WatermarkStrategy
from .window import (
    AggregateFunction,
    EventTimeSessionWindows,
    ProcessingTimeSessionWindows,
    SlidingEventTimeWindows,
    SlidingProcessingTimeWindows,
    TimeWindow,
    TumblingEventTimeWindows,
    TumblingProcessingTimeWindows,
    WindowedStream,
)
from .window_join import JoinedStreams, JoinEqual, JoinWhere, WindowJoin


def export_job(build: BuildFunction) -> tuple[type, type]:
    """Exports ``build(env, args)`` as the job of this component: assign the
    result as ``Job, Operator = export_job(build)`` in the job's module (the
    classes componentize-py looks for: the WIT ``job`` and ``operator``
    exports)."""
    from .component import export_job as _export

    return _export(build)


__all__ = [
    "AggregateFunction",
    "AggregatingState",
    "AllWindowedStream",
    "Args",
    "BroadcastConnectedStream",
    "BroadcastContext",
    "BroadcastProcessFunction",
    "BroadcastState",
    "BroadcastStream",
    "BuildFunction",
    "CoProcessFunction",
    "ConnectedStreams",
    "Context",
    "CountWindowedStream",
    "DataStream",
    "Duration",
    "EventTimeSessionWindows",
    "IntervalJoin",
    "IntervalJoined",
    "InvalidArguments",
    "InvalidPlan",
    "JobError",
    "JoinEqual",
    "JoinWhere",
    "JoinedStreams",
    "KeyedBroadcastConnectedStream",
    "KeyedBroadcastProcessFunction",
    "KeyedCoProcessFunction",
    "KeyedConnectedStreams",
    "KeyedProcessFunction",
    "KeyedStream",
    "ListState",
    "MapState",
    "MapStateDescriptor",
    "OutputTag",
    "ProcessFunction",
    "ProcessJoinFunction",
    "ProcessingTimeSessionWindows",
    "ReadOnlyBroadcastState",
    "ReducingState",
    "SlidingEventTimeWindows",
    "SlidingProcessingTimeWindows",
    "StateError",
    "StreamExecutionEnvironment",
    "TimeWindow",
    "TumblingEventTimeWindows",
    "TumblingProcessingTimeWindows",
    "UserError",
    "ValueState",
    "WatermarkStrategy",
    "WindowJoin",
    "WindowedStream",
    "counter_add",
    "export_job",
    "log",
]
