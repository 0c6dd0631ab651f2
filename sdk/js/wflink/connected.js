// Streams of two inputs: `a.connect(b)` pairs two streams, of any records,
// for a function of two inputs (Flink's `ConnectedStreams`): `map(f1, f2)`
// (CoMap), `flatMap(f1, f2)` (CoFlatMap) or `process(CoProcessFunction)`.
// Two keyed streams connect for a KeyedCoProcessFunction, whose keyed state
// and timers both inputs of a key share. The node starts a new task chain; the host names the input of each
// batch, and the chain calls the first or the second function on its
// records.

import { takeDeclared } from "./state.js";
import { DataStream } from "./stream.js";

/** A function of two inputs with side outputs and access to time (Flink's
 * `CoProcessFunction`). Extend it and define `processElement1(value, ctx,
 * out)` and `processElement2(value, ctx, out)`. */
export class CoProcessFunction {
  /** Handles one record of the first input; emit with `out.collect`,
   * `ctx.output`, or return an iterable.
   * @param {any} _value the record
   * @param {import("./process.js").Context} _ctx its time and side outputs
   * @param {import("./process.js").Collector} _out the main output
   * @returns {Iterable<any> | void} */
  processElement1(_value, _ctx, _out) {
    throw new TypeError(`${this.constructor.name} does not define processElement1`);
  }

  /** Handles one record of the second input, as `processElement1`.
   * @param {any} _value the record
   * @param {import("./process.js").Context} _ctx its time and side outputs
   * @param {import("./process.js").Collector} _out the main output
   * @returns {Iterable<any> | void} */
  processElement2(_value, _ctx, _out) {
    throw new TypeError(`${this.constructor.name} does not define processElement2`);
  }
}

/** A function of two keyed inputs (Flink's `KeyedCoProcessFunction`): both
 * inputs of a key share its keyed state (fields holding ValueState and
 * friends, created in the constructor) and timers. Extend it and define
 * `processElement1`, `processElement2` and, for timers, `onTimer`. */
export class KeyedCoProcessFunction extends CoProcessFunction {
  /** Called when a timer of the current key fires; emit as in `processElement1`.
   * @param {number} _timestamp the time it was registered for
   * @param {import("./process.js").Context} _ctx its key, time and side outputs
   * @param {import("./process.js").Collector} _out the main output
   * @returns {Iterable<any> | void} */
  onTimer(_timestamp, _ctx, _out) {}
}

/** The user functions of a co-process node, one per input, and how they
 * are called (`map`, `flat-map` or `process`). */
export class CoFunction {
  /** @param {string} kind @param {Function} first @param {Function} second */
  constructor(kind, first, second) {
    this.kind = kind;
    this.functions = [first, second];
  }

  /** Runs the function of `input` on a batch; returns `[values, stamps]`.
   * @param {number} input @param {any[]} values @param {number[] | undefined} stamps
   * @param {import("./process.js").Context} ctx
   * @returns {[any[], number[] | undefined]} */
  run(input, values, stamps, ctx) {
    const fn = this.functions[input];
    if (this.kind === "map") return [values.map((r) => fn(r)), stamps];
    const out = [];
    const outStamps = stamps === undefined ? undefined : [];
    if (this.kind === "flat-map") {
      values.forEach((r, i) => {
        for (const p of fn(r)) {
          out.push(p);
          if (outStamps !== undefined && stamps !== undefined) outStamps.push(stamps[i]);
        }
      });
      return [out, outStamps];
    }
    ctx.bind(out, outStamps);
    values.forEach((r, i) => {
      ctx.at(stamps === undefined ? undefined : stamps[i]);
      ctx.emitAll(fn(r, ctx, ctx.out));
    });
    return [out, outStamps];
  }
}

/** Two streams paired by `connect`, waiting for their function of two inputs. */
export class ConnectedStreams {
  /** @param {DataStream} first @param {DataStream} second */
  constructor(first, second) {
    this.first = first;
    this.second = second;
  }

  /** Turns each record of the first input into `fn1(record)` and each of
   * the second into `fn2(record)` (Flink's CoMap).
   * @param {(record: any) => any} fn1 @param {(record: any) => any} fn2
   * @returns {DataStream} */
  map(fn1, fn2) {
    return this.co("Co-Map", new CoFunction("map", fn1, fn2));
  }

  /** Turns each record of the first input into the records of the
   * iterable `fn1(record)`, and of the second by `fn2` (Flink's CoFlatMap).
   * @param {(record: any) => Iterable<any>} fn1 @param {(record: any) => Iterable<any>} fn2
   * @returns {DataStream} */
  flatMap(fn1, fn2) {
    return this.co("Co-Flat Map", new CoFunction("flat-map", fn1, fn2));
  }

  /** Runs a CoProcessFunction on the records of both inputs, with side
   * outputs and timestamps.
   * @param {CoProcessFunction} fn
   * @returns {DataStream} */
  process(fn) {
    if (typeof fn?.processElement1 !== "function" || typeof fn?.processElement2 !== "function") {
      throw new TypeError("ConnectedStreams.process takes a CoProcessFunction (processElement1 and 2)");
    }
    const first = (v, ctx, out) => fn.processElement1(v, ctx, out);
    const second = (v, ctx, out) => fn.processElement2(v, ctx, out);
    return this.co("Co-Process", new CoFunction("process", first, second));
  }

  /** Keys the first input by `key1(record)` and the second by
   * `key2(record)`: records of both inputs with equal keys meet in one
   * subtask and share the key's state and timers.
   * @param {(record: any) => any} key1 @param {(record: any) => any} key2
   * @returns {KeyedConnectedStreams} */
  keyBy(key1, key2) {
    return new KeyedConnectedStreams(this.first.keyBy(key1), this.second.keyBy(key2));
  }

  /** @param {string} name @param {CoFunction} fn @returns {DataStream} */
  co(name, fn) {
    const plan = this.first.plan;
    return new DataStream(plan, plan.add("co-process", name, this.first.node, undefined, fn, undefined, [this.second.node]));
  }
}

/** Two keyed streams paired by `connect` (or `ConnectedStreams.keyBy`),
 * waiting for their KeyedCoProcessFunction. */
export class KeyedConnectedStreams {
  /** @param {DataStream} first @param {DataStream} second */
  constructor(first, second) {
    this.first = first;
    this.second = second;
  }

  /** Runs `fn` on the records of both inputs, with the keyed state it
   * created in its constructor, timers and side outputs.
   * @param {KeyedCoProcessFunction} fn
   * @returns {DataStream} */
  process(fn) {
    if (typeof fn?.processElement1 !== "function" || typeof fn?.processElement2 !== "function") {
      throw new TypeError("KeyedConnectedStreams.process takes a KeyedCoProcessFunction (processElement1 and 2)");
    }
    const plan = this.first.plan;
    const spec = { states: takeDeclared(), window: undefined };
    const node = plan.add("keyed-co-process", "Keyed Co-Process", this.first.node, undefined, fn, spec, [this.second.node]);
    return new DataStream(plan, node);
  }
}
