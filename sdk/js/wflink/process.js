// Process functions: per-record functions with side outputs and access to
// time (ProcessFunction), and on keyed streams also to keyed state and
// timers (KeyedProcessFunction), as in Flink.
//
// A process function is called as `processElement(value, ctx, out)` and
// emits in either (or both) of two ways:
// - `out.collect(value)` on the main output, `ctx.output(tag, value)` on a
//   side output, as in Flink;
// - by returning an iterable, e.g. as a generator (`*processElement(value,
//   ctx) { yield value; }`): every item goes to the main output.

import { CALL, EVENT_TIME, PROCESSING_TIME } from "./context.js";
import { unpackb } from "./msgpack.js";
import { stateId } from "./state.js";

/** Names a side output. Create it once in the build function and use it
 * both to emit (`ctx.output(tag, value)`) and to read the side output
 * stream (`stream.getSideOutput(tag)`). */
export class OutputTag {
  /** A tag named `name` (unique within the job).
   * @param {string} name */
  constructor(name) {
    if (typeof name !== "string" || name === "") throw new TypeError("an OutputTag needs a non-empty string name");
    /** The tag's name. */
    this.name = name;
    /** The tag id in the plan and in side records. */
    this.id = stateId(name);
  }
}

/** A per-record function with side outputs and access to time (Flink's
 * `ProcessFunction`). Extend it and define `processElement(value, ctx,
 * out)`, or pass a plain function `(value, ctx, out) => ...` to
 * `stream.process`. */
export class ProcessFunction {
  /** Handles one record; emit with `out.collect`, `ctx.output`, or return
   * an iterable.
   * @param {any} _value the record
   * @param {Context} _ctx its time and side outputs
   * @param {Collector} _out the main output
   * @returns {Iterable<any> | void} */
  processElement(_value, _ctx, _out) {
    throw new TypeError(`${this.constructor.name} does not define processElement`);
  }
}

/** A per-record function on a keyed stream with keyed state (fields
 * holding ValueState and friends, created in the constructor), timers and
 * side outputs (Flink's `KeyedProcessFunction`). */
export class KeyedProcessFunction {
  /** Handles one record of the current key; emit as in ProcessFunction.
   * @param {any} _value the record
   * @param {Context} _ctx its key, time, timers and side outputs
   * @param {Collector} _out the main output
   * @returns {Iterable<any> | void} */
  processElement(_value, _ctx, _out) {
    throw new TypeError(`${this.constructor.name} does not define processElement`);
  }

  /** Called when a timer of the current key fires; `timestamp` is the time
   * it was registered for. Emit as in `processElement`.
   * @param {number} _timestamp ms
   * @param {Context} _ctx the timer's key, time domain and side outputs
   * @param {Collector} _out the main output
   * @returns {Iterable<any> | void} */
  onTimer(_timestamp, _ctx, _out) {}
}

/** Timers and clocks of the current key (Flink's `TimerService`), from
 * `ctx.timerService()`. */
export class TimerService {
  /** The current event-time watermark in ms (`-(2 ** 63)` before the first).
   * @returns {number} */
  currentWatermark() {
    return CALL.watermark;
  }

  /** The wall clock in ms since the epoch, as of this call.
   * @returns {number} */
  currentProcessingTime() {
    return CALL.processingTime;
  }

  /** Calls `onTimer` once the watermark reaches `timestamp` (keyed only).
   * Registering the same time twice keeps one timer.
   * @param {number | bigint} timestamp ms, an integer */
  registerEventTimeTimer(timestamp) {
    CALL.registerTimer(EVENT_TIME, timestamp);
  }

  /** Calls `onTimer` once the wall clock reaches `timestamp` (keyed only).
   * @param {number | bigint} timestamp ms since the epoch, an integer */
  registerProcessingTimeTimer(timestamp) {
    CALL.registerTimer(PROCESSING_TIME, timestamp);
  }

  /** Deletes an event-time timer of the current key (keyed only).
   * @param {number | bigint} timestamp the time it was registered for */
  deleteEventTimeTimer(timestamp) {
    CALL.deleteTimer(EVENT_TIME, timestamp);
  }

  /** Deletes a processing-time timer of the current key (keyed only).
   * @param {number | bigint} timestamp the time it was registered for */
  deleteProcessingTimeTimer(timestamp) {
    CALL.deleteTimer(PROCESSING_TIME, timestamp);
  }
}

const TIMER_SERVICE = new TimerService();

/** Where a process function's main output goes (Flink's `Collector`). */
export class Collector {
  /** An unbound collector; the chain points it at each call's output. */
  constructor() {
    /** @type {any[] | undefined} the call's main output records */
    this.values = undefined;
    /** @type {(number | undefined)[] | undefined} their timestamps, when records carry them */
    this.stamps = undefined;
    /** @type {number | undefined} the current record's timestamp */
    this.timestamp = undefined;
  }

  /** Emits `value` on the main output, with the current record's timestamp.
   * @param {any} value */
  collect(value) {
    this.values.push(value);
    if (this.stamps !== undefined) this.stamps.push(this.timestamp);
  }
}

/** What a process function gets with each record or timer: the time, the
 * key (keyed only), timers and side outputs. */
export class Context {
  /** A context writing side records into `sides` (tag id -> array).
   * @param {Map<number, any[]>} sides */
  constructor(sides) {
    /** The side records of the call, by tag id. */
    this.sides = sides;
    /** The main output. */
    this.out = new Collector();
    /** @type {number | undefined} the current record's or timer's time */
    this.stamp = undefined;
    /** @type {"event-time" | "processing-time" | undefined} the firing timer's domain */
    this.domain = undefined;
  }

  /** Points the main output at `values` (and `stamps`, or undefined when
   * the records carry no timestamps).
   * @param {any[]} values
   * @param {(number | undefined)[] | undefined} stamps */
  bind(values, stamps) {
    this.out.values = values;
    this.out.stamps = stamps;
  }

  /** Makes `timestamp` the current record's (or timer's) time.
   * @param {number | undefined} timestamp */
  at(timestamp) {
    this.stamp = timestamp;
    this.out.timestamp = timestamp;
  }

  /** Emits what a function returned: nothing, or every item of an iterable.
   * @param {any} result */
  emitAll(result) {
    if (result === undefined || result === null) return;
    if (typeof result[Symbol.iterator] !== "function") {
      throw new TypeError("a process function returns nothing or an iterable (use out.collect(value) to emit one value)");
    }
    for (const item of result) this.out.collect(item);
  }

  /** Emits `value` on the side output `tag` (dropped when no stream reads
   * that side output).
   * @param {OutputTag} tag
   * @param {any} value */
  output(tag, value) {
    if (!(tag instanceof OutputTag)) throw new TypeError("ctx.output takes an OutputTag first");
    const buffer = this.sides.get(tag.id);
    if (buffer !== undefined) buffer.push(value);
  }

  /** The event timestamp (ms) of the current record, or the firing time of
   * the current timer; undefined when the record has none.
   * @returns {number | undefined} */
  timestamp() {
    return this.stamp;
  }

  /** The current watermark and timers of the current key.
   * @returns {TimerService} */
  timerService() {
    return TIMER_SERVICE;
  }

  /** The key of the current record or timer (keyed functions only).
   * @returns {any} */
  getCurrentKey() {
    CALL.requireKeyed();
    return unpackb(CALL.key);
  }

  /** In `onTimer`: `"event-time"` or `"processing-time"`.
   * @returns {"event-time" | "processing-time" | undefined} */
  timeDomain() {
    return this.domain;
  }
}
