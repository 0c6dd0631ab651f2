// Count windows on keyed streams, as Flink's `countWindow(size)` and
// `countWindow(size, slide)` and the Rust SDK's: per key, a window fires
// every `slide` records (`size` for tumbling ones) with the key's last
// `size` records.
//
// They run on the keyed-reduce path (a `reduce` node: one state value per
// key, handed over with each batch). A tumbling window folds as records
// come (a reduce or aggregate keeps one accumulator per key); a sliding
// one keeps the key's last `size` records and folds them when it fires,
// as Flink's count evictor does. Results carry the timestamp of the record
// that fired the window.

import { unpackb } from "./msgpack.js";

/** A keyed stream cut into count windows (see `KeyedStream.countWindow`). */
export class CountWindowedStream {
  /** Prefer `keyed.countWindow(size[, slide])`.
   * @param {import("./stream.js").KeyedStream} keyed
   * @param {number} size
   * @param {number} slide */
  constructor(keyed, size, slide) {
    this.keyed = keyed;
    this.size = size;
    this.slide = slide;
  }

  /** Folds each window's records with `fn(a, b)`; emits one record per window.
   * @param {(a: any, b: any) => any} fn
   * @returns {import("./stream.js").DataStream} */
  reduce(fn) {
    if (typeof fn !== "function") throw new TypeError("reduce takes a function (a, b) => value");
    return this.build({ add: (box, v) => (box.length ? fn(box[0], v) : v), emit: (_key, acc) => [acc] });
  }

  /** Aggregates each window's records with an AggregateFunction
   * (`createAccumulator`, `add`, `getResult`); emits its result.
   * @param {import("./window.js").AggregateFunction} aggregateFunction
   * @returns {import("./stream.js").DataStream} */
  aggregate(aggregateFunction) {
    const a = aggregateFunction;
    if (typeof a?.add !== "function" || typeof a?.createAccumulator !== "function" || typeof a?.getResult !== "function") {
      throw new TypeError("aggregate takes an AggregateFunction (createAccumulator, add, getResult)");
    }
    return this.build({
      add: (box, v) => a.add(v, box.length ? box[0] : a.createAccumulator()),
      emit: (_key, acc) => [a.getResult(acc)],
    });
  }

  /** Hands all records of each window, oldest first, with its key to
   * `fn(key, elements)`, which returns an iterable of outputs (a generator
   * works) or nothing.
   * @param {(key: any, elements: any[]) => Iterable<any> | void} fn
   * @returns {import("./stream.js").DataStream} */
  process(fn) {
    if (typeof fn !== "function") throw new TypeError("process takes a function (key, elements) => iterable");
    return this.build({
      add: (box, v) => (box.length ? [...box[0], v] : [v]),
      emit: (key, elements) => {
        const out = fn(key, elements);
        return out === undefined || out === null ? [] : out;
      },
    });
  }

  /** Adds the count window node (a keyed reduce stepping `logic`). */
  build(logic) {
    const { size, slide } = this;
    const name = size === slide ? `Count Window (${size})` : `Count Window (${size}, slide ${slide})`;
    return this.keyed.then("reduce", name, new CountStep(logic, size, slide).fn);
  }
}

/** Counts a key's records and fires its window every `slide` of them. Its
 * state per key: `[seen since the last firing, [accumulator] or [], last
 * size records (sliding only)]`. */
export class CountStep {
  /** @param {{ add: (box: any[], v: any) => any, emit: (key: any, acc: any) => Iterable<any> }} logic
   * @param {number} size @param {number} slide */
  constructor(logic, size, slide) {
    this.logic = logic;
    this.size = size;
    this.slide = slide;
    const step = (state, record, key, emit) => this.step(state, record, key, emit);
    /** The function the chain runs (marked as a step, not a plain reduce). */
    this.fn = Object.assign(step, { countStep: this });
  }

  /** Adds `record` to the key's `state` (undefined for a new key); calls
   * `emit(result)` for each result of a window that fires; returns the new state.
   * @param {any} state @param {any} record @param {Uint8Array} key
   * @param {(value: any) => void} emit
   * @returns {any} */
  step(state, record, key, emit) {
    const [seen, box, last] = state === undefined ? [0, [], []] : state;
    const tumbling = this.size === this.slide;
    let nextBox = box;
    let nextLast = last;
    if (tumbling) nextBox = [this.logic.add(box, record)];
    else nextLast = [...last.slice(last.length === this.size ? 1 : 0), record];
    if (seen + 1 < this.slide) return [seen + 1, nextBox, nextLast];
    let folded = tumbling ? nextBox : [];
    if (!tumbling) for (const r of nextLast) folded = [this.logic.add(folded, r)];
    if (folded.length) for (const r of this.logic.emit(unpackb(key), folded[0])) emit(r);
    return [0, [], nextLast];
  }
}
