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
// Records are any value MessagePack can hold (null, booleans, numbers,
// BigInt, strings, Uint8Array, arrays, plain objects); tuples travel as
// arrays, so a Rust `(String, i64)` and a JS `["word", 1]` are the same bytes.

export { Args } from "./args.js";
export { exportJob } from "./component.js";
export { InvalidArguments, InvalidPlan, JobError, UserError } from "./errors.js";
export { counterAdd, log } from "./log.js";
export { DataStream, KeyedStream, StreamExecutionEnvironment } from "./stream.js";
