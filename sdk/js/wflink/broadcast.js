// Broadcast state, as in Flink and the Rust SDK: a stream broadcast with
// `stream.broadcast(descriptor)` reaches every subtask of the operator it
// is connected to, which keeps the map states it writes (named by
// MapStateDescriptors) the same in every subtask; the other input, keyed
// or not, reads them.
//
//     const names = new MapStateDescriptor("names");
//     clicks.keyBy((c) => c.user).connect(profiles.broadcast(names)).process(new Enrich(names));
//
// The node is a `broadcast-process` of two inputs: input 0 the processed
// stream (hash-partitioned when keyed), input 1 the broadcast stream
// (broadcast partitioning). The states live in the instance and go to the
// host whole at every checkpoint (`snapshot-state`: empty key and
// namespace, the map key as user key); a restored copy comes back in a
// call of input 1 with an empty batch, before any record. The copies stay
// the same only if `processBroadcastElement` depends on nothing but the
// broadcast records.
//
// A keyed function's broadcast records have no key, so keyed state is out
// of their reach, but `ctx.applyToKeyedState(state, fn)` in
// `processBroadcastElement` runs `fn(key, state)` for every key of the
// subtask holding that state (Flink's `applyToKeyedState`), reading the
// keys and their entries from the host (`state` import, host_state.js).

import { CALL, StateError, byteString } from "./context.js";
import { InvalidPlan } from "./errors.js";
import { entriesOf, keysOf } from "./host_state.js";
import { packb, unpackb } from "./msgpack.js";
import { Context } from "./process.js";
import { AggregatingState, ListState, MapState, ReducingState, ValueState, stateId, takeDeclared } from "./state.js";
import { DataStream } from "./stream.js";

/** The keyed state handles `applyToKeyedState` walks. */
const KEYED_STATES = [ValueState, ListState, MapState, ReducingState, AggregatingState];

/** Names a broadcast map state (Flink's `MapStateDescriptor`). Create it
 * once in the build function, pass it to `stream.broadcast(descriptor)`
 * and keep it in the process function to reach the state through its
 * context (`ctx.broadcastState(descriptor)`). Keys and values are stored
 * as MessagePack. */
export class MapStateDescriptor {
  /** A descriptor named `name`, unique among the states of its operator;
   * a savepoint's broadcast state is matched to it by this name.
   * @param {string} name */
  constructor(name) {
    if (typeof name !== "string" || name === "") throw new TypeError("a MapStateDescriptor needs a non-empty string name");
    /** The state's name. */
    this.name = name;
    /** Its id in the plan and in snapshots. */
    this.id = stateId(name);
  }
}

/** A stream whose records go to every subtask of the operator it is
 * connected to, with the broadcast states they write there (Flink's
 * `BroadcastStream`). Connect a stream to it with `connect`. */
export class BroadcastStream {
  /** Prefer `stream.broadcast(descriptor)`.
   * @param {DataStream} stream
   * @param {MapStateDescriptor[]} descriptors */
  constructor(stream, descriptors) {
    /** The stream broadcast. */
    this.stream = stream;
    /** The broadcast states its records write. */
    this.descriptors = descriptors;
  }

  /** Declares one more broadcast map state written by this stream.
   * @param {MapStateDescriptor} descriptor
   * @returns {this} */
  withState(descriptor) {
    if (!(descriptor instanceof MapStateDescriptor)) throw new TypeError("withState takes a MapStateDescriptor");
    this.descriptors.push(descriptor);
    return this;
  }
}

/** A function of a stream and a broadcast stream (Flink's
 * `BroadcastProcessFunction`): each record of the stream goes to
 * `processElement(value, ctx, out)`, which reads the broadcast state
 * (`ctx.broadcastState(descriptor)`, read only); each record of the
 * broadcast stream goes, in every subtask, to
 * `processBroadcastElement(value, ctx, out)`, which writes it. Emit as in
 * a ProcessFunction. */
export class BroadcastProcessFunction {
  /** Handles one record of the processed stream.
   * @param {any} _value the record
   * @param {BroadcastContext} _ctx its time, side outputs and the broadcast state (read only)
   * @param {import("./process.js").Collector} _out the main output
   * @returns {Iterable<any> | void} */
  processElement(_value, _ctx, _out) {
    throw new TypeError(`${this.constructor.name} does not define processElement`);
  }

  /** Handles one record of the broadcast stream, in every subtask.
   * @param {any} _value the record
   * @param {BroadcastContext} _ctx its time, side outputs and the broadcast state (writable)
   * @param {import("./process.js").Collector} _out the main output
   * @returns {Iterable<any> | void} */
  processBroadcastElement(_value, _ctx, _out) {
    throw new TypeError(`${this.constructor.name} does not define processBroadcastElement`);
  }
}

/** A function of a keyed stream and a broadcast stream (Flink's
 * `KeyedBroadcastProcessFunction`): as BroadcastProcessFunction, with
 * keyed state (fields holding ValueState and friends, created in the
 * constructor) and timers for the records of the keyed stream. A
 * broadcast record has no key, so keyed state and timers are out of its
 * reach. */
export class KeyedBroadcastProcessFunction extends BroadcastProcessFunction {
  /** Called when a timer of the current key fires; emit as in `processElement`.
   * @param {number} _timestamp the time it was registered for
   * @param {BroadcastContext} _ctx its key, time, side outputs and the broadcast state (read only)
   * @param {import("./process.js").Collector} _out the main output
   * @returns {Iterable<any> | void} */
  onTimer(_timestamp, _ctx, _out) {}
}

/** A stream connected to a BroadcastStream: run a BroadcastProcessFunction with `process`. */
export class BroadcastConnectedStream {
  /** Prefer `stream.connect(broadcastStream)`.
   * @param {DataStream} first
   * @param {BroadcastStream} broadcast */
  constructor(first, broadcast) {
    this.first = first;
    this.broadcast = broadcast;
  }

  /** Runs `fn` on both inputs: `processElement` for the records of this
   * stream, `processBroadcastElement` for those of the broadcast one.
   * @param {BroadcastProcessFunction} fn
   * @returns {DataStream} */
  process(fn) {
    return addNode(this.first, this.broadcast, fn, false);
  }
}

/** A keyed stream connected to a BroadcastStream: run a
 * KeyedBroadcastProcessFunction with `process`. */
export class KeyedBroadcastConnectedStream {
  /** Prefer `keyed.connect(broadcastStream)`.
   * @param {DataStream} first
   * @param {BroadcastStream} broadcast */
  constructor(first, broadcast) {
    this.first = first;
    this.broadcast = broadcast;
  }

  /** Runs `fn` on both inputs, with the keyed states it created in its
   * constructor and timers on the keyed side.
   * @param {KeyedBroadcastProcessFunction} fn
   * @returns {DataStream} */
  process(fn) {
    return addNode(this.first, this.broadcast, fn, true);
  }
}

/** Adds the broadcast process node reading `first` (input 0) and the
 * broadcast stream (input 1, broadcast partitioning). */
function addNode(first, broadcast, fn, keyed) {
  const what = keyed ? "KeyedBroadcastProcessFunction" : "BroadcastProcessFunction";
  if (typeof fn?.processElement !== "function" || typeof fn?.processBroadcastElement !== "function") {
    throw new TypeError(`process takes a ${what} (processElement and processBroadcastElement)`);
  }
  const plan = first.plan;
  const states = new Map();
  for (const d of broadcast.descriptors) {
    if (states.has(d.id) && states.get(d.id).name !== d.name) {
      plan.fail(new InvalidPlan(`broadcast states '${states.get(d.id).name}' and '${d.name}' have the same id; rename one`));
    }
    states.set(d.id, { id: d.id, name: d.name, kind: "map" });
  }
  const spec = {
    broadcastStates: [...states.values()],
    keyed: keyed ? { states: takeDeclared(), window: undefined } : undefined,
  };
  const name = keyed ? "Keyed Broadcast-Process" : "Broadcast-Process";
  const operator = new BroadcastOperator(fn, keyed);
  const second = { source: broadcast.stream.node, partitioning: "broadcast" };
  return new DataStream(plan, plan.add("broadcast-process", name, first.node, undefined, operator, spec, [second]));
}

const EMPTY = new Uint8Array(0);

/** A broadcast map state, read only (Flink's `ReadOnlyBroadcastState`):
 * what `processElement` and `onTimer` get. */
export class ReadOnlyBroadcastState {
  /** Prefer `ctx.broadcastState(descriptor)`.
   * @param {Map<string, [Uint8Array, Uint8Array]>} map encoded key text -> [key, value] bytes */
  constructor(map) {
    this.map = map;
  }

  /** The value of `key`, or `defaultValue` (undefined) when it has none.
   * @param {any} key
   * @param {any} [defaultValue]
   * @returns {any} */
  get(key, defaultValue = undefined) {
    const entry = this.map.get(byteString(packb(key)));
    return entry === undefined ? defaultValue : unpackb(entry[1]);
  }

  /** Whether `key` has a value.
   * @param {any} key
   * @returns {boolean} */
  contains(key) {
    return this.map.has(byteString(packb(key)));
  }

  /** Every `[key, value]`, in the order of the keys' encodings.
   * @returns {[any, any][]} */
  entries() {
    return sortedEntries(this.map).map(([k, v]) => [unpackb(k), unpackb(v)]);
  }

  /** Every key, in the order of their encodings.
   * @returns {any[]} */
  keys() {
    return sortedEntries(this.map).map(([k]) => unpackb(k));
  }

  /** The number of entries.
   * @returns {number} */
  size() {
    return this.map.size;
  }

  /** Whether the state has no entry.
   * @returns {boolean} */
  isEmpty() {
    return this.map.size === 0;
  }
}

/** A broadcast map state to read and write (Flink's `BroadcastState`):
 * what `processBroadcastElement` gets. */
export class BroadcastState extends ReadOnlyBroadcastState {
  /** Sets the value of `key`.
   * @param {any} key
   * @param {any} value */
  put(key, value) {
    const k = packb(key);
    this.map.set(byteString(k), [k, packb(value)]);
  }

  /** Removes `key` and its value.
   * @param {any} key */
  remove(key) {
    this.map.delete(byteString(packb(key)));
  }

  /** Removes every entry. */
  clear() {
    this.map.clear();
  }
}

/** The `[key, value]` bytes of `map` in the order of the keys' bytes. */
function sortedEntries(map) {
  return [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, e]) => e);
}

/** What a broadcast process function gets with each record or timer: a
 * Context (time, side outputs; key and timers on the keyed side) with the
 * broadcast state, writable only for the broadcast input's records, and,
 * for a KeyedBroadcastProcessFunction's broadcast records,
 * `applyToKeyedState`. */
export class BroadcastContext extends Context {
  /** A context over `store` (state id -> map), writing side records into `sides`.
   * @param {Map<number, any[]>} sides
   * @param {Map<number, Map<string, [Uint8Array, Uint8Array]>>} store
   * @param {boolean} [keyed] whether the function is a KeyedBroadcastProcessFunction */
  constructor(sides, store, keyed = false) {
    super(sides);
    this.store = store;
    /** Whether the current record is the broadcast input's (which may write). */
    this.writable = false;
    /** Whether the function has keyed state (a KeyedBroadcastProcessFunction). */
    this.keyed = keyed;
  }

  /** Runs `fn(key, state)` once for every key of this subtask that holds
   * an entry of the keyed state `state` (a handle the function created in
   * its constructor), with `state` set to that key, so `fn` can read,
   * update or clear it (Flink's `applyToKeyedState`). Only in a
   * KeyedBroadcastProcessFunction's `processBroadcastElement`.
   *
   * `key` is decoded as `ctx.getCurrentKey()` gives it. Emit from `fn`
   * through the `out` and `ctx` of `processBroadcastElement`; what a
   * generator function yields is emitted too, other return values are
   * ignored. Keys come key group by key group; each key's entries are read
   * from the host once per call (what the call wrote before wins), and
   * writes go back with the call as every keyed write does. A key whose
   * entries the call removed is not visited; afterwards there is no
   * current key again.
   * @template {ValueState | ListState | MapState | ReducingState | AggregatingState} S
   * @param {S} state
   * @param {(key: any, state: S) => Iterable<any> | void} fn */
  applyToKeyedState(state, fn) {
    if (!this.keyed) {
      throw new StateError(
        "applyToKeyedState needs keyed state: use a KeyedBroadcastProcessFunction on a keyed stream (a BroadcastProcessFunction has none)",
      );
    }
    if (!this.writable) throw new StateError("applyToKeyedState works in processBroadcastElement only (Flink's broadcast Context)");
    if (!KEYED_STATES.some((kind) => state instanceof kind)) {
      throw new TypeError(
        "applyToKeyedState takes a keyed state handle (ValueState, ListState, MapState, ReducingState or AggregatingState)",
      );
    }
    if (typeof fn !== "function") throw new TypeError("applyToKeyedState takes a function fn(key, state)");
    const id = state.id;
    // Every key's entries first: fn writes only its own key's, so which
    // keys hold the state does not change while the keys are visited.
    const listed = new Map();
    for (const key of keysOf(id)) {
      const text = byteString(key);
      if (!listed.has(text)) listed.set(text, key);
    }
    const namespace = new Uint8Array(0);
    for (const key of listed.values()) CALL.load(id, key, entriesOf(id, key, namespace));
    const holding = CALL.keysHolding(id);
    const live = new Set(holding.map(([, text]) => text));
    // The host's order, then keys only this call's writes gave the state.
    const order = [...listed].filter(([text]) => live.has(text)).map(([text, key]) => [key, text]);
    for (const [key, text] of holding) if (!listed.has(text)) order.push([key, text]);
    try {
      for (const [key, text] of order) {
        CALL.setKey(key, text);
        const result = fn(unpackb(key), state);
        if (result !== null && typeof result === "object" && typeof result[Symbol.iterator] === "function") this.emitAll(result);
      }
    } finally {
      CALL.clearKey();
    }
  }

  /** The broadcast state named by `descriptor`: a BroadcastState in
   * `processBroadcastElement`, a ReadOnlyBroadcastState elsewhere.
   * @param {MapStateDescriptor} descriptor
   * @returns {ReadOnlyBroadcastState} */
  broadcastState(descriptor) {
    if (!(descriptor instanceof MapStateDescriptor)) throw new TypeError("broadcastState takes a MapStateDescriptor");
    let map = this.store.get(descriptor.id);
    if (map === undefined) {
      map = new Map();
      this.store.set(descriptor.id, map);
    }
    return this.writable ? new BroadcastState(map) : new ReadOnlyBroadcastState(map);
  }

  /** Flink's name of `broadcastState`.
   * @param {MapStateDescriptor} descriptor
   * @returns {ReadOnlyBroadcastState} */
  getBroadcastState(descriptor) {
    return this.broadcastState(descriptor);
  }
}

/** The operator of a broadcast process node: the user function and this
 * subtask's copy of the broadcast states. */
export class BroadcastOperator {
  /** @param {BroadcastProcessFunction} fn @param {boolean} keyed */
  constructor(fn, keyed) {
    this.fn = fn;
    this.keyed = keyed;
    /** State id -> (encoded key as text -> [key bytes, value bytes]). */
    this.store = new Map();
    this.ctx = undefined;
  }

  /** The context of the chain's calls, writing side records into `sides`.
   * @param {Map<number, any[]>} sides
   * @returns {BroadcastContext} */
  context(sides) {
    if (this.ctx === undefined) this.ctx = new BroadcastContext(sides, this.store, this.keyed);
    return this.ctx;
  }

  /** Takes the restored copy from the call's entries (those with an empty
   * key), replacing what the states held. */
  restore() {
    const restored = new Set();
    for (const [id, key, , userKey, value] of CALL.entries()) {
      if (key.length !== 0) continue;
      let map = this.store.get(id);
      if (map === undefined || !restored.has(id)) {
        map = new Map();
        this.store.set(id, map);
        restored.add(id);
      }
      map.set(byteString(userKey), [userKey.slice(), value.slice()]);
    }
  }

  /** Every broadcast entry, for `snapshot-state`: `[id, key, namespace,
   * userKey, value]` with an empty key and namespace, in state and key order. */
  snapshot() {
    const out = [];
    for (const id of [...this.store.keys()].sort((a, b) => a - b)) {
      for (const [k, v] of sortedEntries(this.store.get(id))) out.push([id, EMPTY, EMPTY, k, v]);
    }
    return out;
  }
}
