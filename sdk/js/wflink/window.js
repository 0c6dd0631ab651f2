// Windows on keyed streams: `keyed.window(TumblingEventTimeWindows.of(ms))`
// then `reduce`, `aggregate` or `process`, with allowed lateness and a side
// output for late records, as in Flink.
//
// Windows run in the guest on keyed state and timers, as the Rust and
// Python SDKs' do (with the same state ids and namespaces): the
// accumulator of each (key, window) is a state entry whose namespace is
// the window (start and end as big-endian 64-bit integers); a timer at the
// window's last millisecond fires it; a cleanup timer at `maxTimestamp +
// allowed lateness` drops it.

import { CALL, EVENT_TIME, PROCESSING_TIME, byteString } from "./context.js";
import { JobError } from "./errors.js";
import { counterAdd } from "./log.js";
import { packb, unpackb } from "./msgpack.js";
import { OutputTag } from "./process.js";
import { stateId } from "./state.js";
import { toMs } from "./time.js";

/** State id of the per-window accumulators (as in the Rust SDK). */
export const ACC_STATE = stateId("window-contents");
/** State id of the per-key list of session windows. */
export const SESSIONS_STATE = stateId("window-sessions");
const MISSING = Symbol("no accumulator");
const EMPTY = new Uint8Array(0);

/** A window `[start, end)` of time in ms. */
export class TimeWindow {
  /** The window from `start` (first ms) to `end` (first ms after it).
   * @param {number} start
   * @param {number} end */
  constructor(start, end) {
    /** First ms of the window. */
    this.start = start;
    /** First ms after the window. */
    this.end = end;
  }

  /** The last timestamp inside the window (`end - 1`): its results carry
   * it, and it fires once the watermark reaches it.
   * @returns {number} */
  maxTimestamp() {
    return this.end - 1;
  }

  /** The window as a state namespace (start and end, big-endian).
   * @returns {Uint8Array} */
  namespace() {
    const bytes = new Uint8Array(16);
    const view = new DataView(bytes.buffer);
    view.setBigInt64(0, BigInt(this.start));
    view.setBigInt64(8, BigInt(this.end));
    return bytes;
  }

  /** The window a namespace encodes, or undefined.
   * @param {Uint8Array} ns
   * @returns {TimeWindow | undefined} */
  static fromNamespace(ns) {
    if (ns.length !== 16) return undefined;
    const view = new DataView(ns.buffer, ns.byteOffset, 16);
    return new TimeWindow(Number(view.getBigInt64(0)), Number(view.getBigInt64(8)));
  }

  /** Whether two windows overlap or touch (sessions that do merge).
   * @param {TimeWindow} other
   * @returns {boolean} */
  intersects(other) {
    return this.start <= other.end && this.end >= other.start;
  }
}

/** How a keyed stream is cut into windows; build one with
 * `TumblingEventTimeWindows.of` and friends. */
export class WindowAssigner {
  /** Prefer the static constructors of the assigner classes.
   * @param {"tumbling" | "sliding" | "session"} kind
   * @param {boolean} eventTime whether the windows follow event time (else the wall clock)
   * @param {{ size?: number, slide?: number, offset?: number, gap?: number }} [settings] in ms */
  constructor(kind, eventTime, { size = 0, slide = 0, offset = 0, gap = 0 } = {}) {
    /** Tumbling, sliding or session windows. */
    this.kind = kind;
    /** Whether the windows follow event time (else the wall clock). */
    this.eventTime = eventTime;
    /** Window length in ms (tumbling, sliding). */
    this.size = size;
    /** Ms between window starts (sliding). */
    this.slide = slide;
    /** Shift of the window boundaries in ms. */
    this.offset = offset;
    /** Ms without records that closes a session. */
    this.gap = gap;
  }

  /** Shifts the window boundaries by `offsetMs`.
   * @param {number | bigint} offsetMs
   * @returns {WindowAssigner} */
  withOffset(offsetMs) {
    const { size, slide, gap } = this;
    return new WindowAssigner(this.kind, this.eventTime, { size, slide, gap, offset: toMs(offsetMs, "the offset") });
  }

  /** The windows `timestamp` falls in.
   * @param {number} timestamp
   * @returns {TimeWindow[]} */
  assign(timestamp) {
    if (this.kind === "tumbling") {
      const start = timestamp - mod(timestamp - this.offset, this.size);
      return [new TimeWindow(start, start + this.size)];
    }
    if (this.kind === "sliding") {
      const out = [];
      for (let start = timestamp - mod(timestamp - this.offset, this.slide); start > timestamp - this.size; start -= this.slide) {
        out.push(new TimeWindow(start, start + this.size));
      }
      return out;
    }
    return [new TimeWindow(timestamp, timestamp + this.gap)];
  }
}

/** The remainder with the sign of the divisor (Python's `%`). */
function mod(a, b) {
  return ((a % b) + b) % b;
}

function positive(ms, what) {
  return Math.max(1, toMs(ms, what));
}

/** Fixed-size, non-overlapping event-time windows. */
export class TumblingEventTimeWindows {
  /** Windows of `sizeMs` ms.
   * @param {number | bigint} sizeMs
   * @returns {WindowAssigner} */
  static of(sizeMs) {
    return new WindowAssigner("tumbling", true, { size: positive(sizeMs, "the window size") });
  }
}

/** Fixed-size, non-overlapping processing-time windows. */
export class TumblingProcessingTimeWindows {
  /** Windows of `sizeMs` ms.
   * @param {number | bigint} sizeMs
   * @returns {WindowAssigner} */
  static of(sizeMs) {
    return new WindowAssigner("tumbling", false, { size: positive(sizeMs, "the window size") });
  }
}

/** Fixed-size event-time windows, one starting every `slideMs`. */
export class SlidingEventTimeWindows {
  /** Windows of `sizeMs` ms, one starting every `slideMs`.
   * @param {number | bigint} sizeMs
   * @param {number | bigint} slideMs
   * @returns {WindowAssigner} */
  static of(sizeMs, slideMs) {
    return new WindowAssigner("sliding", true, { size: positive(sizeMs, "the window size"), slide: positive(slideMs, "the slide") });
  }
}

/** Fixed-size processing-time windows, one starting every `slideMs`. */
export class SlidingProcessingTimeWindows {
  /** Windows of `sizeMs` ms, one starting every `slideMs`.
   * @param {number | bigint} sizeMs
   * @param {number | bigint} slideMs
   * @returns {WindowAssigner} */
  static of(sizeMs, slideMs) {
    return new WindowAssigner("sliding", false, { size: positive(sizeMs, "the window size"), slide: positive(slideMs, "the slide") });
  }
}

/** Event-time sessions per key, closed after `gapMs` without records. */
export class EventTimeSessionWindows {
  /** Sessions separated by at least `gapMs`.
   * @param {number | bigint} gapMs
   * @returns {WindowAssigner} */
  static withGap(gapMs) {
    return new WindowAssigner("session", true, { gap: positive(gapMs, "the session gap") });
  }
}

/** Processing-time sessions per key, closed after `gapMs` without records. */
export class ProcessingTimeSessionWindows {
  /** Sessions separated by at least `gapMs`.
   * @param {number | bigint} gapMs
   * @returns {WindowAssigner} */
  static withGap(gapMs) {
    return new WindowAssigner("session", false, { gap: positive(gapMs, "the session gap") });
  }
}

/** Folds records into an accumulator incrementally (Flink's
 * `AggregateFunction`). The accumulator is stored as MessagePack between
 * batches: use arrays, plain objects, numbers and strings. */
export class AggregateFunction {
  /** A fresh accumulator.
   * @returns {any} */
  createAccumulator() {
    throw new TypeError(`${this.constructor.name} does not define createAccumulator`);
  }

  /** Adds one record; returns the new accumulator.
   * @param {any} _value
   * @param {any} _accumulator
   * @returns {any} */
  add(_value, _accumulator) {
    throw new TypeError(`${this.constructor.name} does not define add`);
  }

  /** The result of an accumulator.
   * @param {any} _accumulator
   * @returns {any} */
  getResult(_accumulator) {
    throw new TypeError(`${this.constructor.name} does not define getResult`);
  }

  /** Combines two accumulators (when session windows merge).
   * @param {any} _a
   * @param {any} _b
   * @returns {any} */
  merge(_a, _b) {
    throw new TypeError(`${this.constructor.name} does not define merge`);
  }
}

/** What turns a window's result into its outputs: called with the key,
 * the window and the result, it returns an iterable of outputs (a
 * generator works) or nothing.
 * @typedef {(key: any, window: TimeWindow, result: any) => Iterable<any> | void} WindowFunction */

/** The outputs of a window: `result`, or what the window function returns. */
function emit(windowFunction, key, window, result) {
  if (windowFunction === undefined) return [result];
  const out = windowFunction(key, window, result);
  return out === undefined || out === null ? [] : out;
}

/** The window function kinds, as `{ add, merge, emit }`. */
const logics = {
  reduce: (f, g) => ({
    add: (acc, value) => (acc === MISSING ? value : f(acc, value)),
    merge: (a, b) => f(a, b),
    emit: (key, window, acc) => emit(g, key, window, acc),
  }),
  aggregate: (a, g) => ({
    add: (acc, value) => a.add(value, acc === MISSING ? a.createAccumulator() : acc),
    merge: (x, y) => a.merge(x, y),
    emit: (key, window, acc) => emit(g, key, window, a.getResult(acc)),
  }),
  process: (g) => ({
    add: (acc, value) => (acc === MISSING ? [value] : [...acc, value]),
    merge: (x, y) => [...x, ...y],
    emit: (key, window, acc) => {
      const out = g(key, window, acc);
      return out === undefined || out === null ? [] : out;
    },
  }),
};

/** A keyed stream cut into windows (see `KeyedStream.window`). */
export class WindowedStream {
  /** Prefer `keyedStream.window(assigner)`.
   * @param {import("./stream.js").KeyedStream} keyed
   * @param {WindowAssigner} assigner */
  constructor(keyed, assigner) {
    if (!(assigner instanceof WindowAssigner)) {
      throw new TypeError("window() takes a window assigner, e.g. TumblingEventTimeWindows.of(10_000)");
    }
    this.keyed = keyed;
    this.assigner = assigner;
    this.lateness = 0;
    this.lateTag = undefined;
  }

  /** Keeps windows for `latenessMs` after they fire (event time): a late
   * record within it updates the window, which fires again.
   * @param {number | bigint} latenessMs
   * @returns {this} */
  allowedLateness(latenessMs) {
    this.lateness = toMs(latenessMs, "the allowed lateness");
    return this;
  }

  /** Sends records too late for every window they belong to to the side
   * output `tag` instead of dropping them (dropped ones are counted in the
   * `late-records-dropped` metric).
   * @param {OutputTag} tag
   * @returns {this} */
  sideOutputLateData(tag) {
    if (!(tag instanceof OutputTag)) throw new TypeError("sideOutputLateData takes an OutputTag");
    this.lateTag = tag;
    return this;
  }

  /** Folds each window's records with `reduceFunction(a, b)`; emits the
   * result, or the items of what `windowFunction(key, window, result)`
   * returns (an iterable; a generator works).
   * @param {(a: any, b: any) => any} reduceFunction
   * @param {WindowFunction} [windowFunction]
   * @returns {import("./stream.js").DataStream} */
  reduce(reduceFunction, windowFunction = undefined) {
    return this.build("reduce", logics.reduce(reduceFunction, windowFunction));
  }

  /** Aggregates each window's records incrementally with an
   * AggregateFunction; emits its result, or the items of what
   * `windowFunction(key, window, result)` returns.
   * @param {AggregateFunction} aggregateFunction
   * @param {WindowFunction} [windowFunction]
   * @returns {import("./stream.js").DataStream} */
  aggregate(aggregateFunction, windowFunction = undefined) {
    return this.build("aggregate", logics.aggregate(aggregateFunction, windowFunction));
  }

  /** Hands all records of each window to `processWindowFunction(key,
   * window, elements)`, which returns an iterable of outputs. Keeps every
   * record until the window fires: prefer `reduce` or `aggregate`.
   * @param {(key: any, window: TimeWindow, elements: any[]) => Iterable<any> | void} processWindowFunction
   * @returns {import("./stream.js").DataStream} */
  process(processWindowFunction) {
    return this.build("process", logics.process(processWindowFunction));
  }

  /** Adds the window node running `logic` (`fn` names it in the plan).
   * @param {"reduce" | "aggregate" | "process"} fn
   * @param {object} logic
   * @returns {import("./stream.js").DataStream} */
  build(fn, logic) {
    const a = this.assigner;
    const states = [{ id: ACC_STATE, name: "window-contents", kind: "aggregating" }];
    if (a.kind === "session") states.push({ id: SESSIONS_STATE, name: "window-sessions", kind: "value" });
    const spec = {
      states,
      window: { assigner: a, allowedLatenessMs: this.lateness, lateOutputTag: this.lateTag && this.lateTag.id, function: fn },
    };
    const operator = new WindowOperator(a, a.eventTime ? this.lateness : 0, this.lateTag, logic);
    return this.keyed.keyedProcess(operator, "Window", spec);
  }
}

/** The window node of a chain, the chain's first node (it reads a key-by). */
export class WindowOperator {
  /** The operator of a window by `assigner` with `lateness` ms allowed,
   * late records to `lateTag` (or counted), folding by `logic`. */
  constructor(assigner, lateness, lateTag, logic) {
    this.assigner = assigner;
    this.lateness = lateness;
    this.lateTag = lateTag === undefined ? undefined : lateTag.id;
    this.logic = logic;
    this.domain = assigner.eventTime ? EVENT_TIME : PROCESSING_TIME;
    /** This call's accumulators: `ns|key` text -> `{ ns, key, acc, changed }`. */
    this.accs = new Map();
    /** This call's session lists: key text -> `{ key, windows: [[start, end]], changed }`. */
    this.sessions = new Map();
    this.late = 0;
  }

  load(label) {
    this.accs = new Map();
    this.sessions = new Map();
    try {
      for (const [id, key, ns, , value] of CALL.entries()) {
        if (id === ACC_STATE) {
          this.accs.set(slot(ns, key), { ns, key, acc: unpackb(value), changed: false });
        } else if (id === SESSIONS_STATE) {
          this.sessions.set(byteString(key), { key, windows: unpackb(value), changed: false });
        }
      }
    } catch (e) {
      throw new JobError(`${label} could not decode its window state: ${e.message}`);
    }
  }

  store() {
    const direct = CALL.direct;
    for (const { ns, key, acc, changed } of this.accs.values()) {
      if (changed) direct.push([ACC_STATE, key, ns, EMPTY, acc === MISSING ? EMPTY : packb(acc)]);
    }
    for (const { key, windows, changed } of this.sessions.values()) {
      if (changed) direct.push([SESSIONS_STATE, key, EMPTY, EMPTY, windows.length ? packb(windows) : EMPTY]);
    }
    this.accs = new Map();
    this.sessions = new Map();
    if (this.late) {
      counterAdd("late-records-dropped", this.late);
      this.late = 0;
    }
  }

  fire(key, window, acc, out) {
    const ts = window.maxTimestamp();
    for (const r of this.logic.emit(unpackb(key), window, acc)) {
      out.values.push(r);
      out.stamps.push(ts);
    }
  }

  timers(key, window) {
    const ns = window.namespace();
    CALL.registered.push([this.domain, window.maxTimestamp(), key, ns]);
    if (this.domain === EVENT_TIME && this.lateness > 0) {
      CALL.registered.push([this.domain, window.maxTimestamp() + this.lateness, key, ns]);
    }
  }

  lateRecord(value, sides) {
    if (this.lateTag === undefined) {
      this.late += 1;
      return;
    }
    const buffer = sides.get(this.lateTag);
    if (buffer !== undefined) buffer.push(value);
  }

  /** Adds a batch's records (`keys` as bytes) to their windows; fires late
   * updates into `out` (`{ values, stamps }`). */
  process(keys, values, stamps, sides, label, out) {
    const eventTime = this.assigner.eventTime;
    if (eventTime && stamps === undefined && values.length) {
      throw new JobError(
        `${label} is an event-time window but its records have no timestamps: call assignTimestampsAndWatermarks before keyBy`,
      );
    }
    this.load(label);
    const watermark = CALL.watermark;
    const now = CALL.processingTime;
    const session = this.assigner.kind === "session";
    const lateness = this.lateness;
    for (let i = 0; i < values.length; i++) {
      const key = keys[i];
      const value = values[i];
      const windows = this.assigner.assign(eventTime ? stamps[i] : now);
      if (session) {
        this.addToSession(key, windows[0], value, watermark, sides);
        continue;
      }
      const onTime = windows.filter((w) => !eventTime || w.end - 1 + lateness > watermark);
      if (onTime.length === 0) {
        this.lateRecord(value, sides);
        continue;
      }
      for (const w of onTime) {
        const ns = w.namespace();
        const at = slot(ns, key);
        let s = this.accs.get(at);
        if (s === undefined || s.acc === MISSING) {
          s = { ns, key, acc: this.logic.add(MISSING, value), changed: true };
          this.accs.set(at, s);
          this.timers(key, w);
        } else {
          s.acc = this.logic.add(s.acc, value);
          s.changed = true;
        }
        // A late record within the allowed lateness: fire again at once.
        if (eventTime && w.end - 1 <= watermark) this.fire(key, w, s.acc, out);
      }
    }
    this.store();
  }

  addToSession(key, window, value, watermark, sides) {
    const keyText = byteString(key);
    const entry = this.sessions.get(keyText) || { key, windows: [], changed: false };
    let merged = window;
    const kept = [];
    const absorbed = [];
    for (const [start, end] of entry.windows) {
      const w = new TimeWindow(start, end);
      if (w.intersects(window)) {
        merged = new TimeWindow(Math.min(merged.start, start), Math.max(merged.end, end));
        absorbed.push(w);
      } else kept.push([start, end]);
    }
    if (this.domain === EVENT_TIME && merged.end - 1 + this.lateness <= watermark) {
      this.sessions.set(keyText, entry);
      this.lateRecord(value, sides);
      return;
    }
    let acc = MISSING;
    for (const w of absorbed) {
      const s = this.accs.get(slot(w.namespace(), key));
      if (s !== undefined && s.acc !== MISSING) {
        acc = acc === MISSING ? s.acc : this.logic.merge(acc, s.acc);
        s.acc = MISSING;
        s.changed = true;
      }
    }
    kept.push([merged.start, merged.end]);
    this.sessions.set(keyText, { key, windows: kept, changed: true });
    const ns = merged.namespace();
    this.accs.set(slot(ns, key), { ns, key, acc: this.logic.add(acc, value), changed: true });
    // Timers of absorbed windows find no accumulator and do nothing.
    this.timers(key, merged);
  }

  /** Fires the windows of the timers `[key, namespace, timestamp]` into
   * `out`; purges those past their lateness. */
  onTimers(fired, label, out) {
    this.load(label);
    for (const [key, ns, timestamp] of fired) {
      const window = TimeWindow.fromNamespace(ns);
      if (window === undefined) continue;
      const s = this.accs.get(slot(ns, key));
      if (s === undefined || s.acc === MISSING) continue;
      const acc = s.acc;
      const purge = timestamp >= window.maxTimestamp() + this.lateness;
      if (purge) {
        s.acc = MISSING;
        s.changed = true;
      }
      if (timestamp === window.maxTimestamp()) this.fire(key, window, acc, out);
      if (purge && this.assigner.kind === "session") {
        const entry = this.sessions.get(byteString(key));
        if (entry !== undefined) {
          entry.windows = entry.windows.filter(([start, end]) => start !== window.start || end !== window.end);
          entry.changed = true;
        }
      }
    }
    this.store();
  }
}

/** The Map key of a (namespace, key) accumulator. */
function slot(ns, key) {
  return `${ns.length}:${byteString(ns)}${byteString(key)}`;
}
