// Windows over a whole, non-keyed stream, as Flink's `windowAll` and the
// Rust SDK's `window_all`: every record goes to one window operator at
// parallelism 1 (a key-by on a constant key, as Flink's
// NullByteKeySelector), so its windows see the stream entire. Use it where
// the stream is small or pre-aggregated; a keyed window scales, this does not.

/** The name of the window node of `windowAll`, as Flink's plan shows it. */
const NAME = "All Window";

/** A whole stream cut into windows (see `DataStream.windowAll`). */
export class AllWindowedStream {
  /** Prefer `stream.windowAll(assigner)`.
   * @param {import("./stream.js").DataStream} stream
   * @param {import("./window.js").WindowAssigner} assigner */
  constructor(stream, assigner) {
    /** The windows of the one constant key. */
    this.windows = stream.keyBy(() => null).window(assigner);
  }

  /** Keeps windows for `latenessMs` after they fire (event time), as
   * `WindowedStream.allowedLateness`.
   * @param {number | bigint} latenessMs
   * @returns {this} */
  allowedLateness(latenessMs) {
    this.windows.allowedLateness(latenessMs);
    return this;
  }

  /** Sends records too late for every window to the side output `tag`.
   * @param {import("./process.js").OutputTag} tag
   * @returns {this} */
  sideOutputLateData(tag) {
    this.windows.sideOutputLateData(tag);
    return this;
  }

  /** Folds each window's records with `fn(a, b)`; emits one record per window.
   * @param {(a: any, b: any) => any} fn
   * @returns {import("./stream.js").DataStream} */
  reduce(fn) {
    return single(this.windows.reduce(fn));
  }

  /** Aggregates each window's records incrementally with an AggregateFunction; emits its result.
   * @param {import("./window.js").AggregateFunction} aggregateFunction
   * @returns {import("./stream.js").DataStream} */
  aggregate(aggregateFunction) {
    return single(this.windows.aggregate(aggregateFunction));
  }

  /** Hands all records of each window, with the window, to `fn(window,
   * elements)` (Flink's `ProcessAllWindowFunction`), which returns an
   * iterable of outputs or nothing.
   * @param {(window: import("./window.js").TimeWindow, elements: any[]) => Iterable<any> | void} fn
   * @returns {import("./stream.js").DataStream} */
  process(fn) {
    if (typeof fn !== "function") throw new TypeError("process takes a function (window, elements) => iterable");
    return single(this.windows.process((_key, window, elements) => fn(window, elements)));
  }
}

/** The window node at parallelism 1, named as Flink names it. */
function single(stream) {
  return stream.name(NAME).setParallelism(1);
}
