// Keyed state handles, scoped to the current key, as in Flink: ValueState,
// ListState, MapState, ReducingState and AggregatingState.
//
// Create them in a KeyedProcessFunction's constructor
// (`this.flag = new ValueState("flag")`), inside the build function; each
// is declared in the plan under its name. Their values travel with each
// batch (the host sends the stored state of the batch's keys and takes
// back what changed), so reading and writing costs no host call. Values
// are stored as MessagePack: what you store is what MessagePack can hold.
// Read values are fresh copies: change one and `update` it to keep the change.

import { CALL, StateError } from "./context.js";
import { Reader, Writer, pack, packb, unpackb } from "./msgpack.js";

/** States created since the last keyed operator was added to the plan:
 * `[{ id, name, kind }]`. */
const declared = [];

/** The states declared since the last call (the plan attaches them to the
 * keyed operator being added). */
export function takeDeclared() {
  return declared.splice(0, declared.length);
}

const utf8 = new TextEncoder();

/** The id of a state (or output tag) named `name`: FNV-1a over its UTF-8
 * bytes, as the Rust SDK computes it, so ids need no registry. */
export function stateId(name) {
  let h = 0x811c9dc5;
  for (const b of utf8.encode(name)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

function declare(name, kind) {
  if (typeof name !== "string" || name === "") throw new TypeError("a state needs a non-empty string name");
  const id = stateId(name);
  if (!declared.some((d) => d.id === id)) declared.push({ id, name, kind });
  return id;
}

function decode(data) {
  try {
    return unpackb(data);
  } catch (e) {
    throw new StateError(`cannot decode keyed state: ${e.message}`);
  }
}

function encode(value) {
  try {
    return packb(value);
  } catch (e) {
    throw new StateError(`cannot encode keyed state: ${e.message}`);
  }
}

const NO_USER_KEY = new Uint8Array(0);

/** One value per key (Flink's `ValueState`). */
export class ValueState {
  /** Declares the state `name` (unique within its operator).
   * @param {string} name */
  constructor(name) {
    /** The name the plan declares (and the dashboard shows). */
    this.name = name;
    this.id = declare(name, "value");
  }

  /** The current key's value, or `defaultValue` (undefined) when unset.
   * @param {any} [defaultValue]
   * @returns {any} */
  value(defaultValue = undefined) {
    const data = CALL.get(this.id);
    return data === undefined ? defaultValue : decode(data);
  }

  /** Sets the current key's value (`null` or `undefined` clears it).
   * @param {any} value */
  update(value) {
    CALL.set(this.id, NO_USER_KEY, value === null || value === undefined ? undefined : encode(value));
  }

  /** Removes the current key's value. */
  clear() {
    CALL.set(this.id, NO_USER_KEY, undefined);
  }
}

/** A list of values per key (Flink's `ListState`), stored as the elements'
 * encodings back to back, so `add` appends without decoding the list. */
export class ListState {
  /** Declares the state `name` (unique within its operator).
   * @param {string} name */
  constructor(name) {
    /** The name the plan declares. */
    this.name = name;
    this.id = declare(name, "list");
  }

  /** The current key's elements in insertion order (a new array, empty if none).
   * @returns {any[]} */
  get() {
    const data = CALL.get(this.id);
    const items = [];
    if (data !== undefined) {
      try {
        const r = new Reader(data);
        while (r.pos < data.length) items.push(r.read());
      } catch (e) {
        throw new StateError(`cannot decode keyed state: ${e.message}`);
      }
    }
    return items;
  }

  /** Iterates over the current key's elements. */
  [Symbol.iterator]() {
    return this.get()[Symbol.iterator]();
  }

  /** Appends `value` to the current key's list.
   * @param {any} value */
  add(value) {
    const data = CALL.get(this.id);
    const w = new Writer((data ? data.length : 0) + 32);
    if (data !== undefined) w.append(data);
    try {
      pack(w, value);
    } catch (e) {
      throw new StateError(`cannot encode keyed state: ${e.message}`);
    }
    CALL.set(this.id, NO_USER_KEY, w.finish());
  }

  /** Appends every element of `values`.
   * @param {Iterable<any>} values */
  addAll(values) {
    for (const v of values) this.add(v);
  }

  /** Replaces the current key's list with `values`.
   * @param {Iterable<any>} values */
  update(values) {
    const w = new Writer(64);
    for (const v of values) w.append(encode(v));
    CALL.set(this.id, NO_USER_KEY, w.length ? w.finish() : undefined);
  }

  /** Removes the current key's list. */
  clear() {
    CALL.set(this.id, NO_USER_KEY, undefined);
  }
}

/** A map per key (Flink's `MapState`): one state entry per map key (keys
 * and values as MessagePack), so a large map need not be rewritten whole.
 * Map keys are equal when their MessagePack bytes are (`1` and `1.0` are). */
export class MapState {
  /** Declares the state `name` (unique within its operator).
   * @param {string} name */
  constructor(name) {
    /** The name the plan declares. */
    this.name = name;
    this.id = declare(name, "map");
  }

  /** The value of `key` in the current key's map, or `defaultValue`.
   * @param {any} key
   * @param {any} [defaultValue]
   * @returns {any} */
  get(key, defaultValue = undefined) {
    const data = CALL.get(this.id, encode(key));
    return data === undefined ? defaultValue : decode(data);
  }

  /** Sets `key` to `value` in the current key's map.
   * @param {any} key
   * @param {any} value */
  put(key, value) {
    CALL.set(this.id, encode(key), encode(value));
  }

  /** Removes `key` from the current key's map.
   * @param {any} key */
  remove(key) {
    CALL.set(this.id, encode(key), undefined);
  }

  /** Whether the current key's map holds `key`.
   * @param {any} key
   * @returns {boolean} */
  contains(key) {
    return CALL.get(this.id, encode(key)) !== undefined;
  }

  /** The current key's `[key, value]` pairs, in no particular order.
   * @returns {[any, any][]} */
  entries() {
    return CALL.scan(this.id).map(([k, v]) => [decode(k), decode(v)]);
  }

  /** The current key's map keys, in no particular order.
   * @returns {any[]} */
  keys() {
    return CALL.scan(this.id).map(([k]) => decode(k));
  }

  /** The current key's map values, in no particular order.
   * @returns {any[]} */
  values() {
    return CALL.scan(this.id).map(([, v]) => decode(v));
  }

  /** Whether the current key's map has no entry.
   * @returns {boolean} */
  isEmpty() {
    return CALL.scan(this.id).length === 0;
  }

  /** Removes every entry of the current key's map. */
  clear() {
    for (const [k] of CALL.scan(this.id)) CALL.set(this.id, k, undefined);
  }
}

/** One value per key folded with `reduceFunction(a, b)` on `add` (Flink's
 * `ReducingState`). */
export class ReducingState {
  /** Declares the state `name`, folded by `reduceFunction(a, b)`.
   * @param {string} name
   * @param {(a: any, b: any) => any} reduceFunction */
  constructor(name, reduceFunction) {
    /** The name the plan declares. */
    this.name = name;
    this.id = declare(name, "reducing");
    this.reduceFunction = reduceFunction;
  }

  /** The current key's folded value, or undefined.
   * @returns {any} */
  get() {
    const data = CALL.get(this.id);
    return data === undefined ? undefined : decode(data);
  }

  /** Folds `value` into the current key's value.
   * @param {any} value */
  add(value) {
    const data = CALL.get(this.id);
    CALL.set(this.id, NO_USER_KEY, encode(data === undefined ? value : this.reduceFunction(decode(data), value)));
  }

  /** Removes the current key's value. */
  clear() {
    CALL.set(this.id, NO_USER_KEY, undefined);
  }
}

/** One accumulator per key folded with an AggregateFunction on `add`
 * (Flink's `AggregatingState`). */
export class AggregatingState {
  /** Declares the state `name`, folded by `aggregateFunction` (an object
   * with `createAccumulator()`, `add(value, acc)`, `getResult(acc)`).
   * @param {string} name
   * @param {import("./window.js").AggregateFunction} aggregateFunction */
  constructor(name, aggregateFunction) {
    /** The name the plan declares. */
    this.name = name;
    this.id = declare(name, "aggregating");
    this.aggregateFunction = aggregateFunction;
  }

  /** The current key's result, or undefined when nothing was added.
   * @returns {any} */
  get() {
    const data = CALL.get(this.id);
    return data === undefined ? undefined : this.aggregateFunction.getResult(decode(data));
  }

  /** Adds `value` to the current key's accumulator.
   * @param {any} value */
  add(value) {
    const data = CALL.get(this.id);
    const f = this.aggregateFunction;
    const acc = data === undefined ? f.createAccumulator() : decode(data);
    CALL.set(this.id, NO_USER_KEY, encode(f.add(value, acc)));
  }

  /** Removes the current key's accumulator. */
  clear() {
    CALL.set(this.id, NO_USER_KEY, undefined);
  }
}
