// Running a chain that uses time, named keyed state or side outputs
// (`process-with-context`, `on-timers`).
//
// The first node decides how a batch enters the chain: a keyed process
// function or a window (keyed, with named state and timers in the call's
// context), or a stateless node (decode the values and go). The other
// nodes run as batch stages over arrays of records with a parallel array
// of event timestamps (undefined when the records carry none); a `key-by`
// ends the chain. Side outputs of the chain's nodes run their own stages
// (map, flatMap, filter) inside the chain and leave as the call's side records.

import { BroadcastOperator } from "./broadcast.js";
import { encodeRecords } from "./batch.js";
import { asUserError, chainNodes, decodeValues, encodeOutput, endingNode, keyWriter } from "./chain.js";
import { CALL, byteString, checkEntries, slices } from "./context.js";
import { InvalidPlan, JobError, UserError } from "./errors.js";
import { KeyKinds, encodedKind } from "./keys.js";
import { Writer, pack } from "./msgpack.js";
import { Context } from "./process.js";
import { stage } from "./stages.js";
import { WindowOperator } from "./window.js";

/** A WIT `list<s64>` (BigInt64Array) as an array of Numbers, by a plain
 * loop (`Array.from` with a function calls it per item). */
function numbers(list) {
  const n = list.length;
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = Number(list[i]);
  return out;
}

/** Runs `f()`; what a user function throws becomes a UserError naming
 * `node`, with its stack. */
function guarded(node, f) {
  try {
    return f();
  } catch (e) {
    if (e instanceof UserError && !e.message.startsWith(node.label())) throw new UserError(`${node.label()}: ${e.message}`);
    throw asUserError(node, e);
  }
}

/** Encodes `values` into `out.values`/`out.valueEnds` (`out.keys`/`keyEnds`
 * by `writeKey` for the key-by or partition-custom `keyBy` ending the
 * chain, when given); `last` names the producing node. */
function encode(out, values, keyBy, writeKey, last) {
  if (keyBy !== undefined) {
    guarded(keyBy, () => encodeOutput(out, values, keyBy, writeKey));
    return;
  }
  try {
    encodeRecords(out, values, undefined);
  } catch (e) {
    throw new UserError(`${last.label()} produced a record that cannot be encoded: ${e.message}`);
  }
}

/** What a contextual call produced: its main records and side records
 * (`{ values: Writer, valueEnds, keys: Writer, keyEnds, timestamps }`),
 * state changes and timers. */
export class CallResult {
  /** An empty result. */
  constructor() {
    this.records = { values: new Writer(1 << 12), valueEnds: [], keys: new Writer(1 << 8), keyEnds: [], timestamps: [] };
    this.sides = { values: new Writer(256), valueEnds: [], tags: [] };
    /** `[id, key, namespace, userKey, value]`; an empty value deletes. */
    this.state = [];
    /** `[domain, timestamp, key, namespace]` each. */
    this.registered = [];
    this.deleted = [];
  }
}

/** An opened chain of the user nodes `nodeIds` of `plan`, run by
 * `process-with-context` and `on-timers`. */
export class ContextChain {
  /** Checks and prepares the chain (its stages and side output stages);
   * `partitions`: the subtasks a partition-custom ending it picks among. */
  constructor(plan, nodeIds, partitions = 0) {
    const nodes = chainNodes(plan, nodeIds);
    /** Side output buffers of this chain's nodes, by tag id (filled by
     * process functions and windows during a call). */
    this.sides = new Map();
    this.sideChains = this.buildSideChains(plan, new Set(nodeIds));
    this.first = nodes[0];
    if (this.first.kind === "reduce") throw new JobError(`${this.first.label()} is a reduce: the host calls process for it (a host bug)`);
    /** The keyed first node, if any: a keyed process function or a window. */
    this.keyed = ["keyed-process", "keyed-co-process"].includes(this.first.kind) ? this.first : undefined;
    /** The co-process first node, if any (a function of two inputs). */
    this.co = this.first.kind === "co-process" ? this.first : undefined;
    if (this.co) this.coCtx = new Context(this.sides);
    /** The broadcast process first node, if any (with its operator). */
    this.broadcast = this.first.kind === "broadcast-process" ? this.first : undefined;
    if (this.broadcast && !(this.broadcast.fn instanceof BroadcastOperator)) {
      throw new JobError(`${this.broadcast.label()} has no broadcast operator (a library bug)`);
    }
    /** The kinds of key each input of a keyed co-process brought. */
    this.keyKinds = new KeyKinds();
    /** The key-by or partition-custom node ending the chain, if any, and its key writer. */
    this.keyBy = endingNode(nodes);
    this.writeKey = this.keyBy && keyWriter(this.keyBy, partitions);
    const middle = nodes.slice(this.keyed || this.co || this.broadcast ? 1 : 0, nodes.length - (this.keyBy ? 1 : 0));
    this.stages = middle.map((n) => [stage(n, this.sides), n]);
    this.last = middle.length ? middle[middle.length - 1] : this.first;
    this.window = this.keyed && this.keyed.fn instanceof WindowOperator ? this.keyed.fn : undefined;
    if (this.keyed && !this.window) this.ctx = new Context(this.sides);
  }

  /** For each side output read from a node of the chain: its tag, the
   * stages of the nodes between it and its sink, and its last node. */
  buildSideChains(plan, ids) {
    const chains = [];
    for (const side of plan.nodes) {
      if (side.kind !== "side-output" || !ids.has(side.inputs[0].source)) continue;
      const stages = [];
      let at = side;
      for (;;) {
        const after = plan.nodes.filter((n) => n.inputs.length && n.inputs[0].source === at.id);
        if (after.length === 1 && after[0].kind === "sink") break;
        if (after.length !== 1 || !["map", "flat-map", "filter"].includes(after[0].kind)) {
          throw new InvalidPlan(`side output '${side.spec.name}' must pass through map, flatMap or filter only and end in one sink`);
        }
        at = after[0];
        stages.push([stage(at, this.sides), at]);
      }
      this.sides.set(side.spec.id, []);
      chains.push({ tag: side.spec.id, stages, last: at });
    }
    return chains;
  }

  /** Runs one batch of input `input` (0 or 1, for a co-process) with its
   * keys' named state and the time (ms). */
  processWithContext(batch, entries, watermark, processingTime, input = 0) {
    return this.contextual(entries, watermark, processingTime, (result) => this.runBatch(batch, result, input));
  }

  /** Fires `timers` (WIT `timers`) with their keys' named state. */
  onTimers(timers, entries, watermark, processingTime) {
    return this.contextual(entries, watermark, processingTime, (result) => this.runTimers(timers, result));
  }

  contextual(entries, watermark, processingTime, run) {
    checkEntries(entries);
    CALL.begin(entries, watermark, processingTime);
    const result = new CallResult();
    try {
      run(result);
      const sides = result.sides;
      for (const { tag, stages, last } of this.sideChains) {
        let values = this.sides.get(tag);
        if (values.length === 0) continue;
        let stamps;
        for (const [f, node] of stages) [values, stamps] = guarded(node, () => f(values, stamps));
        try {
          for (const v of values) {
            pack(sides.values, v);
            sides.valueEnds.push(sides.values.length);
            sides.tags.push(tag);
          }
        } catch (e) {
          throw new UserError(`${last.label()} produced a side record that cannot be encoded: ${e.message}`);
        }
      }
      result.state = CALL.changes();
      result.registered = CALL.registered;
      result.deleted = CALL.deleted;
      return result;
    } finally {
      CALL.end();
      for (const buffer of this.sides.values()) buffer.length = 0;
    }
  }

  runBatch(batch, result, input) {
    const stamps = batch.timestamps.length ? numbers(batch.timestamps) : undefined;
    if (this.broadcast !== undefined) {
      this.runBroadcast(batch, stamps, result, input);
      return;
    }
    const co = this.co;
    if (co !== undefined) {
      if (input !== 0 && input !== 1) throw new JobError(`${co.label()} has two inputs; a batch came from input ${input} (a host bug)`);
      const values = decodeValues(batch.values, batch.valueEnds, co.label());
      const [out, outStamps] = guarded(co, () => co.fn.run(input, values, stamps, this.coCtx));
      this.finish(out, outStamps, result);
      return;
    }
    const keyed = this.keyed;
    if (keyed === undefined) {
      this.finish(decodeValues(batch.values, batch.valueEnds, this.first.label()), stamps, result);
      return;
    }
    if (batch.valueEnds.length && !batch.keyEnds.length) throw new JobError(`${keyed.label()} received records without keys (a host bug)`);
    const values = decodeValues(batch.values, batch.valueEnds, keyed.label());
    const keys = slices(batch.keys, batch.keyEnds);
    const out = { values: [], stamps: [] };
    if (this.window) {
      guarded(keyed, () => this.window.process(keys, values, stamps, this.sides, keyed.label(), out));
      this.finish(out.values, out.stamps, result);
      return;
    }
    const texts = keys.map(byteString);
    const outStamps = stamps === undefined ? undefined : out.stamps;
    const ctx = this.ctx;
    ctx.bind(out.values, outStamps);
    ctx.domain = undefined;
    const fn = keyed.fn;
    if (keyed.kind === "keyed-co-process") {
      if (input !== 0 && input !== 1) throw new JobError(`${keyed.label()} has two inputs; a batch came from input ${input} (a host bug)`);
      const mismatch = keys.length ? this.keyKinds.check(input, encodedKind(keys[0])) : undefined;
      if (mismatch !== undefined) throw new UserError(`${keyed.label()} ${mismatch}`);
    }
    const element =
      keyed.kind !== "keyed-co-process"
        ? (v) => fn.processElement(v, ctx, ctx.out)
        : input === 0
          ? (v) => fn.processElement1(v, ctx, ctx.out)
          : (v) => fn.processElement2(v, ctx, ctx.out);
    guarded(keyed, () => {
      for (let i = 0; i < values.length; i++) {
        CALL.setKey(keys[i], texts[i]);
        ctx.at(stamps === undefined ? undefined : stamps[i]);
        ctx.emitAll(element(values[i]));
      }
    });
    this.finish(out.values, outStamps, result);
  }

  /** Runs a batch of a broadcast process node: input 0 the processed
   * records (each with its key when keyed), input 1 the broadcast ones; an
   * empty batch brings the restored copy of the broadcast states. */
  runBroadcast(batch, stamps, result, input) {
    const node = this.broadcast;
    const op = node.fn;
    if (batch.valueEnds.length === 0) {
      op.restore();
      return;
    }
    if (input !== 0 && input !== 1) throw new JobError(`${node.label()} has two inputs; a batch came from input ${input} (a host bug)`);
    if (op.keyed && input === 0 && batch.keyEnds.length !== batch.valueEnds.length) {
      throw new JobError(`${node.label()} received records without keys (a host bug)`);
    }
    const values = decodeValues(batch.values, batch.valueEnds, node.label());
    const keys = op.keyed && input === 0 ? slices(batch.keys, batch.keyEnds) : undefined;
    const out = [];
    const outStamps = stamps === undefined ? undefined : [];
    const ctx = op.context(this.sides);
    ctx.bind(out, outStamps);
    ctx.domain = undefined;
    ctx.writable = input === 1;
    const fn = op.fn;
    guarded(node, () => {
      for (let i = 0; i < values.length; i++) {
        if (keys !== undefined) CALL.setKey(keys[i], byteString(keys[i]));
        ctx.at(stamps === undefined ? undefined : stamps[i]);
        const v = values[i];
        ctx.emitAll(input === 0 ? fn.processElement(v, ctx, ctx.out) : fn.processBroadcastElement(v, ctx, ctx.out));
      }
    });
    ctx.writable = false;
    this.finish(out, outStamps, result);
  }

  /** Fires the timers of a keyed broadcast process node. */
  runBroadcastTimers(timers, result) {
    const node = this.broadcast;
    const op = node.fn;
    if (!op.keyed) throw new JobError(`${node.label()} sets no timers (a host bug)`);
    const keys = slices(timers.keys, timers.keyEnds);
    const timestamps = numbers(timers.timestamps);
    const out = { values: [], stamps: [] };
    const ctx = op.context(this.sides);
    ctx.bind(out.values, out.stamps);
    ctx.writable = false;
    guarded(node, () => {
      for (let i = 0; i < keys.length; i++) {
        CALL.setKey(keys[i], byteString(keys[i]));
        ctx.at(timestamps[i]);
        ctx.domain = timers.domains[i];
        if (typeof op.fn.onTimer === "function") ctx.emitAll(op.fn.onTimer(timestamps[i], ctx, ctx.out));
      }
    });
    this.finish(out.values, out.stamps, result);
  }

  runTimers(timers, result) {
    if (this.broadcast !== undefined) {
      this.runBroadcastTimers(timers, result);
      return;
    }
    const keyed = this.keyed;
    if (keyed === undefined) throw new JobError("timers fired for a chain that sets none (a host bug)");
    const keys = slices(timers.keys, timers.keyEnds);
    const namespaces = slices(timers.namespaces, timers.namespaceEnds);
    const timestamps = numbers(timers.timestamps);
    const out = { values: [], stamps: [] };
    if (this.window) {
      const fired = keys.map((k, i) => [k, namespaces[i], timestamps[i]]);
      guarded(keyed, () => this.window.onTimers(fired, keyed.label(), out));
    } else if (typeof keyed.fn.onTimer === "function") {
      const texts = keys.map(byteString);
      const ctx = this.ctx;
      ctx.bind(out.values, out.stamps);
      const fn = keyed.fn;
      guarded(keyed, () => {
        for (let i = 0; i < keys.length; i++) {
          CALL.setKey(keys[i], texts[i]);
          CALL.setNamespace(namespaces[i]);
          ctx.at(timestamps[i]);
          ctx.domain = timers.domains[i];
          ctx.emitAll(fn.onTimer(timestamps[i], ctx, ctx.out));
        }
      });
    }
    this.finish(out.values, out.stamps, result);
  }

  /** Runs the chain's stages on the first node's output and encodes it. */
  finish(values, stamps, result) {
    for (const [f, node] of this.stages) [values, stamps] = guarded(node, () => f(values, stamps));
    encode(result.records, values, this.keyBy, this.writeKey, this.last);
    if (stamps !== undefined) for (const t of stamps) result.records.timestamps.push(t);
  }
}
