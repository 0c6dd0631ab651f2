// Joins of two streams, as in Flink and the Rust SDK, built from the
// library's own operators:
//
// - the interval join (`a.keyBy(..).intervalJoin(b.keyBy(..)).between(lower,
//   upper).process(f)`): a record `l` of the left stream meets every `r` of
//   the right one with the same key and `l.ts + lower <= r.ts <= l.ts +
//   upper`. A KeyedCoProcessFunction buffers both sides in keyed map state
//   by timestamp; an event-time timer per buffered timestamp drops the
//   records no later record can meet (once the watermark passes `ts +
//   upper` on the left, `ts - lower` on the right), so the state holds
//   only the current interval.
// - the window join (`a.join(b).where(keyA).equalTo(keyB).window(assigner)
//   .apply(f)`): both streams tagged, merged with `union`, keyed by their
//   side's key and cut into windows; the window function pairs every left
//   record of a window with every right one. A join without a window is an
//   invalid plan.

import { KeyedConnectedStreams } from "./connected.js";
import { InvalidPlan } from "./errors.js";
import { checkKeyType, valueKind } from "./keys.js";
import { OutputTag } from "./process.js";
import { MapState } from "./state.js";
import { WindowAssigner } from "./window.js";

/** The function of an interval join (Flink's `ProcessJoinFunction`):
 * `processElement(left, right, ctx, out)` once per matching pair; emit
 * with `out.collect`, `ctx.output`, or return an iterable. A plain
 * function of the same arguments serves too. Results carry the timestamp
 * of the later-arriving record of the pair. */
export class ProcessJoinFunction {
  /** Handles one pair of records with equal keys within the interval.
   * @param {any} _left the left (first) stream's record
   * @param {any} _right the right (second) stream's record
   * @param {import("./process.js").Context} _ctx time, key and side outputs
   * @param {import("./process.js").Collector} _out the main output
   * @returns {Iterable<any> | void} */
  processElement(_left, _right, _ctx, _out) {
    throw new TypeError(`${this.constructor.name} does not define processElement`);
  }
}

/** Two keyed streams to join on an interval; set it with `between`. */
export class IntervalJoin {
  /** Prefer `left.intervalJoin(right)`.
   * @param {import("./stream.js").KeyedStream} left
   * @param {import("./stream.js").KeyedStream} right */
  constructor(left, right) {
    this.left = left;
    this.right = right;
  }

  /** Joins `l` with every `r` of its key where `l.ts + lowerMs <= r.ts <=
   * l.ts + upperMs` (integers of ms, either may be negative). A lower
   * bound above the upper one is an invalid plan.
   * @param {number} lowerMs
   * @param {number} upperMs
   * @returns {IntervalJoined} */
  between(lowerMs, upperMs) {
    if (!Number.isSafeInteger(lowerMs) || !Number.isSafeInteger(upperMs)) {
      throw new TypeError("interval join: between takes two integers of ms");
    }
    if (lowerMs > upperMs) {
      this.left.plan.fail(new InvalidPlan(`interval join: the lower bound ${lowerMs} ms is above the upper bound ${upperMs} ms`));
    }
    return new IntervalJoined(this.left, this.right, lowerMs, upperMs);
  }
}

/** An interval join with its bounds; finish with `process`. */
export class IntervalJoined {
  /** Prefer `intervalJoin(..).between(lower, upper)`. */
  constructor(left, right, lower, upper) {
    this.left = left;
    this.right = right;
    this.lower = lower;
    this.upper = upper;
    /** Side outputs of records that are not joined, if the job asked. */
    this.tags = { leftUnmatched: undefined, rightUnmatched: undefined, leftLate: undefined, rightLate: undefined };
  }

  /** Excludes the lower bound: `l.ts + lower < r.ts`.
   * @returns {this} */
  lowerBoundExclusive() {
    this.lower += 1;
    return this;
  }

  /** Excludes the upper bound: `r.ts < l.ts + upper`.
   * @returns {this} */
  upperBoundExclusive() {
    this.upper -= 1;
    return this;
  }

  /** Sends each left record that met no right one to `tag` when its
   * interval has passed (the watermark reached `ts + upper`).
   * @param {OutputTag} tag
   * @returns {this} */
  sideOutputLeftUnmatched(tag) {
    this.tags.leftUnmatched = outputTag(tag);
    return this;
  }

  /** Sends each right record that met no left one to `tag` when its
   * interval has passed (the watermark reached `ts - lower`).
   * @param {OutputTag} tag
   * @returns {this} */
  sideOutputRightUnmatched(tag) {
    this.tags.rightUnmatched = outputTag(tag);
    return this;
  }

  /** Sends left records behind the watermark to `tag` instead of dropping them.
   * @param {OutputTag} tag
   * @returns {this} */
  sideOutputLeftLateData(tag) {
    this.tags.leftLate = outputTag(tag);
    return this;
  }

  /** Sends right records behind the watermark to `tag` instead of dropping them.
   * @param {OutputTag} tag
   * @returns {this} */
  sideOutputRightLateData(tag) {
    this.tags.rightLate = outputTag(tag);
    return this;
  }

  /** Calls `fn` for every pair within the interval; the node is named
   * "Interval Join" and its state is the two buffers.
   * @param {ProcessJoinFunction | ((left: any, right: any, ctx: import("./process.js").Context, out: import("./process.js").Collector) => Iterable<any> | void)} fn
   * @returns {import("./stream.js").DataStream} */
  process(fn) {
    const call = typeof fn === "function" ? fn : typeof fn?.processElement === "function" ? fn.processElement.bind(fn) : undefined;
    if (call === undefined) throw new TypeError("IntervalJoined.process takes a ProcessJoinFunction or a function (left, right, ctx, out)");
    const operator = new IntervalJoinOperator(this.lower, this.upper, this.tags, call);
    return new KeyedConnectedStreams(this.left, this.right).process(operator).name("Interval Join");
  }
}

function outputTag(tag) {
  if (!(tag instanceof OutputTag)) throw new TypeError("an interval join's side output takes an OutputTag");
  return tag;
}

/** The keyed co-process function that runs an interval join: two map
 * states of `timestamp -> [[record, matched], ...]`. (Not a subclass of
 * KeyedCoProcessFunction: connected.js may not be evaluated yet when this
 * module is, as the two import each other through stream.js.) */
class IntervalJoinOperator {
  constructor(lower, upper, tags, fn) {
    this.lower = lower;
    this.upper = upper;
    this.tags = tags;
    this.fn = fn;
    this.leftState = new MapState("interval-join-left");
    this.rightState = new MapState("interval-join-right");
  }

  leftCleanup(ts) {
    return ts + Math.max(this.upper, 0);
  }

  rightCleanup(ts) {
    return ts - Math.min(this.lower, 0);
  }

  /** Buffers `value` of one side and pairs it with the other side's
   * records in `[ts + lo, ts + hi]`; `pair(mine, other)` calls the join function. */
  element(value, ctx, ours, theirs, lo, hi, late, cleanup, pair) {
    const ts = ctx.timestamp();
    if (ts === undefined) throw new InvalidPlan("interval join: a record has no timestamp; call assignTimestampsAndWatermarks");
    if (ts <= ctx.timerService().currentWatermark()) {
      if (late !== undefined) ctx.output(late, value);
      return;
    }
    let matched = false;
    // Timestamps first (small keys), buckets only where they meet.
    for (const otherTs of theirs.keys()) {
      if (otherTs < ts + lo || otherTs > ts + hi) continue;
      const bucket = theirs.get(otherTs);
      for (const item of bucket) {
        ctx.emitAll(pair(value, item[0]));
        item[1] = true;
      }
      matched = true;
      theirs.put(otherTs, bucket);
    }
    const bucket = ours.get(ts, []);
    bucket.push([value, matched]);
    ours.put(ts, bucket);
    ctx.timerService().registerEventTimeTimer(cleanup(ts));
  }

  processElement1(value, ctx, out) {
    const { fn, lower, upper } = this;
    const pair = (mine, other) => fn(mine, other, ctx, out);
    this.element(value, ctx, this.leftState, this.rightState, lower, upper, this.tags.leftLate, (t) => this.leftCleanup(t), pair);
  }

  processElement2(value, ctx, out) {
    const { fn, lower, upper } = this;
    const pair = (mine, other) => fn(other, mine, ctx, out);
    this.element(value, ctx, this.rightState, this.leftState, -upper, -lower, this.tags.rightLate, (t) => this.rightCleanup(t), pair);
  }

  /** Drops the records of both sides whose interval the watermark has
   * passed, sending the unmatched ones where asked. Each buffered
   * timestamp registered its own timer and timers fire in time order, so
   * the one left timestamp `timestamp - max(upper, 0)` and the one right
   * timestamp `timestamp + min(lower, 0)` are all that is due: no scan. */
  onTimer(timestamp, ctx) {
    const sides = [
      [this.leftState, timestamp - Math.max(this.upper, 0), this.tags.leftUnmatched],
      [this.rightState, timestamp + Math.min(this.lower, 0), this.tags.rightUnmatched],
    ];
    for (const [state, ts, tag] of sides) {
      const bucket = state.get(ts);
      if (bucket === undefined) continue;
      if (tag !== undefined) for (const [value, seen] of bucket) if (!seen) ctx.output(tag, value);
      state.remove(ts);
    }
  }

}

/** Throws the error of a join that reached `apply` without a window. */
function noWindow() {
  throw new InvalidPlan("a window join needs a window: call .window(assigner) after .where(keyA).equalTo(keyB), then .apply(f)");
}

/** Two streams to join; name the first one's key with `where`. */
export class JoinedStreams {
  /** Prefer `first.join(second)`.
   * @param {import("./stream.js").DataStream} first
   * @param {import("./stream.js").DataStream} second */
  constructor(first, second) {
    this.first = first;
    this.second = second;
    first.plan.openJoins.add(this);
  }

  /** For errors: the two streams joined. */
  label() {
    return `${this.first.plan.nodes[this.first.node].label()} and ${this.second.plan.nodes[this.second.node].label()}`;
  }

  /** The key of the first stream's records (Flink's `where`);
   * `keyType` declares its type (see `keyBy`).
   * @param {(record: any) => any} keyA
   * @param {string} [keyType]
   * @returns {JoinWhere} */
  where(keyA, keyType = undefined) {
    if (typeof keyA !== "function") throw new TypeError("where takes the first stream's key function");
    return new JoinWhere(this, keyA, checkKeyType(keyType, "where"));
  }

  /** Not a step of a join: it needs keys and a window first. */
  apply() {
    noWindow();
  }
}

/** A join with the first stream's key; give the second's with `equalTo`. */
export class JoinWhere {
  /** Prefer `join(..).where(keyA)`. */
  constructor(streams, keyA, typeA) {
    this.streams = streams;
    this.keyA = keyA;
    this.typeA = typeA;
  }

  /** The key of the second stream's records, of the same type as the
   * first's: two declared key types that differ are an invalid plan.
   * @param {(record: any) => any} keyB
   * @param {string} [keyType]
   * @returns {JoinEqual} */
  equalTo(keyB, keyType = undefined) {
    if (typeof keyB !== "function") throw new TypeError("equalTo takes the second stream's key function");
    const typeB = checkKeyType(keyType, "equalTo");
    if (this.typeA !== undefined && typeB !== undefined && this.typeA !== typeB) {
      const error = `join: the keys have different types (${this.typeA} and ${typeB}); key both by the same type`;
      this.streams.first.plan.fail(new InvalidPlan(error));
    }
    return new JoinEqual(this, keyB, typeB);
  }

  /** Not a step of a join: it needs the second key and a window first. */
  apply() {
    noWindow();
  }
}

/** A join with both keys; give its window with `window`. Its `apply` and
 * `applyFlat` refuse the plan: a join needs a window. */
export class JoinEqual {
  /** Prefer `join(..).where(keyA).equalTo(keyB)`. */
  constructor(on, keyB, typeB) {
    this.on = on;
    this.keyB = keyB;
    this.typeB = typeB;
  }

  /** The windows records meet in: tumbling, sliding or session windows,
   * in event or processing time.
   * @param {WindowAssigner} assigner
   * @returns {WindowJoin} */
  window(assigner) {
    if (!(assigner instanceof WindowAssigner)) throw new TypeError("window() takes a window assigner, e.g. TumblingEventTimeWindows.of(10_000)");
    return new WindowJoin(this, assigner);
  }

  /** Refused: a window join needs `window(assigner)` before `apply`. */
  apply() {
    noWindow();
  }

  /** Refused: a window join needs `window(assigner)` before `applyFlat`. */
  applyFlat() {
    noWindow();
  }
}

/** A join with keys and window; finish with `apply` or `applyFlat`. */
export class WindowJoin {
  /** Prefer `join(..).where(..).equalTo(..).window(assigner)`. */
  constructor(equal, assigner) {
    this.equal = equal;
    this.assigner = assigner;
  }

  /** Emits `fn(a, b)` for every pair of a first-stream record `a` and a
   * second-stream record `b` with equal keys in one window, when the
   * window fires (Flink's `JoinFunction`; an object with `join(a, b)`
   * serves too). Each result carries the window's last timestamp.
   * @param {((a: any, b: any) => any) | { join(a: any, b: any): any }} fn
   * @returns {import("./stream.js").DataStream} */
  apply(fn) {
    const join = typeof fn === "function" ? fn : typeof fn?.join === "function" ? fn.join.bind(fn) : undefined;
    if (join === undefined) throw new TypeError("apply takes a join function (a, b) => result");
    return this.applyFlat((a, b) => [join(a, b)]);
  }

  /** Like `apply`, with a function returning an iterable of any number of
   * results per pair (Flink's `FlatJoinFunction`; a generator works).
   * @param {(a: any, b: any) => Iterable<any> | void} fn
   * @returns {import("./stream.js").DataStream} */
  applyFlat(fn) {
    if (typeof fn !== "function") throw new TypeError("applyFlat takes a join function (a, b) => iterable");
    const { on, keyB, typeB } = this.equal;
    const { streams, keyA, typeA } = on;
    streams.first.plan.openJoins.delete(streams);
    const kinds = [undefined, undefined];
    // Both sides' keys meet in the one key function after the union: keys
    // of different kinds never match, so they fail the job.
    const key = (item) => {
      const side = item[0];
      const k = side === 0 ? keyA(item[1]) : keyB(item[1]);
      const kind = valueKind(k);
      kinds[side] ??= kind;
      if (kinds[1 - side] !== undefined && kinds[1 - side] !== kind) {
        throw new TypeError(`the join's keys have different types: ${kinds[0]} keys on the first stream, ${kinds[1]} on the second`);
      }
      return k;
    };
    const pairs = function* (_key, _window, items) {
      const lefts = [];
      const rights = [];
      for (const [side, value] of items) (side === 0 ? lefts : rights).push(value);
      for (const a of lefts) for (const b of rights) {
        const produced = fn(a, b);
        if (produced !== undefined && produced !== null) yield* /** @type {Iterable<any>} */ (produced);
      }
    };
    const left = streams.first.map((v) => [0, v]).name("Join: Left");
    const right = streams.second.map((v) => [1, v]).name("Join: Right");
    return left
      .union(right)
      .keyBy(key, typeA ?? typeB)
      .window(this.assigner)
      .process(pairs)
      .name("Window Join");
  }
}
