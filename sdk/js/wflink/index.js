// wflink's JavaScript guest library: write a stream job with a DataStream
// API, build it into a WebAssembly component with `wflink build DIR`.
//
// A job's main module:
//
//     import { exportJob } from "wflink";
//     function build(env, args) {
//       env.readTextFile(args.required("input")).map((line) => line.toUpperCase()).print();
//     }
//     export const { job, operator } = exportJob(build);
//
// Event time, process functions, keyed state, timers, windows and side
// outputs follow Flink's DataStream API (`assignTimestampsAndWatermarks`,
// `process`, `ValueState`, `window(TumblingEventTimeWindows.of(ms))`,
// `OutputTag`); see guest-examples/sensor-alerts-js. Several inputs follow
// it too: `union`, `connect` (CoMap, CoFlatMap, CoProcessFunction,
// KeyedCoProcessFunction), broadcast state (`broadcast(descriptor)`,
// BroadcastProcessFunction, KeyedBroadcastProcessFunction), the window
// join (`join(..).where(..).equalTo(..).window(..).apply(f)`) and the
// interval join (`intervalJoin(..).between(lower, upper).process(f)`);
// `countWindow(size[, slide])` and `windowAll(assigner)` cut windows by
// count and over a whole stream.
//
// Records are any value MessagePack can hold (null, booleans, numbers,
// BigInt, strings, Uint8Array, arrays, plain objects); tuples travel as
// arrays, so a Rust `(String, i64)` and a JS `["word", 1]` are the same bytes.
//
// The types of the host imports and globals the library uses, for a
// TypeScript checker reading the library from a job's project:
/// <reference path="../types/host.d.ts" />

export { AllWindowedStream } from "./all_window.js";
export { Args } from "./args.js";
export {
  BroadcastConnectedStream,
  BroadcastContext,
  BroadcastProcessFunction,
  BroadcastState,
  BroadcastStream,
  KeyedBroadcastConnectedStream,
  KeyedBroadcastProcessFunction,
  MapStateDescriptor,
  ReadOnlyBroadcastState,
} from "./broadcast.js";
export { CoProcessFunction, ConnectedStreams, KeyedCoProcessFunction, KeyedConnectedStreams } from "./connected.js";
export { exportJob } from "./component.js";
export { CountWindowedStream } from "./count_window.js";
export { StateError } from "./context.js";
export { InvalidArguments, InvalidPlan, JobError, UserError } from "./errors.js";
export { IntervalJoin, IntervalJoined, JoinEqual, JoinWhere, JoinedStreams, ProcessJoinFunction, WindowJoin } from "./join.js";
export { Types } from "./keys.js";
export { counterAdd, log } from "./log.js";
export { Collector, Context, KeyedProcessFunction, OutputTag, ProcessFunction, TimerService } from "./process.js";
export { AggregatingState, ListState, MapState, ReducingState, ValueState } from "./state.js";
export { StreamExecutionEnvironment } from "./env.js";
export { DataStream, KeyedStream } from "./stream.js";
export { WatermarkStrategy } from "./time.js";
export {
  AggregateFunction,
  EventTimeSessionWindows,
  ProcessingTimeSessionWindows,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  TimeWindow,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  WindowedStream,
} from "./window.js";
