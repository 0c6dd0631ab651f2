// Running a chain: the user nodes of one task, fed one batch per call.
//
// The chain runs node by node over the whole batch (an array of records
// in, an array out). A `reduce` starts its chain (it reads a key-by's
// hash-partitioned output) and a `key-by` or `partition-custom` ends it
// (the edge leaving it is hash- or custom-partitioned).

import { InvalidPlan, JobError, UserError } from "./errors.js";
import { decodeValues, encodeRecords, latin1 } from "./batch.js";
import { Writer, pack, unpackb } from "./msgpack.js";
import { originalStack } from "./sourcemap.js";
import { stage } from "./stages.js";

export { decodeValues };

/** The flat buffers of one call's output records. */
export class Output {
  constructor() {
    this.values = new Writer(1 << 16);
    this.valueEnds = [];
    this.keys = new Writer(1 << 12);
    this.keyEnds = [];
    this.timestamps = [];
  }
}

/** Nodes that read a key-by and so must start their chain. */
const KEYED = new Set(["reduce", "keyed-process", "keyed-co-process"]);
/** Nodes of two inputs, which start their chain. */
const TWO_INPUTS = new Set(["co-process", "broadcast-process"]);
/** Nodes whose output edge needs a key on each record, which end their
 * chain: the key-by's key, or the subtask a partition-custom picked. */
const ENDINGS = new Set(["key-by", "partition-custom"]);
/** Nodes that run only through `process-with-context` and `on-timers`. */
const TIMED = new Set(["assign-timestamps", "process", "keyed-process", "co-process", "keyed-co-process", "broadcast-process"]);

/** The nodes `nodeIds` of `plan`, checked to form a chain. */
export function chainNodes(plan, nodeIds) {
  if (nodeIds.length === 0) throw new InvalidPlan("open needs at least one node id");
  return nodeIds.map((id, position) => {
    const node = plan.nodes[id];
    if (node === undefined) throw new InvalidPlan(`the plan has no node ${id}`);
    if (node.fn === undefined) throw new InvalidPlan(`${node.label()} is a host connector, not a user function`);
    const input = node.inputs[0];
    if (position > 0 && !(input && input.source === nodeIds[position - 1] && input.partitioning === "forward")) {
      throw new InvalidPlan(
        `${node.label()} does not read node ${nodeIds[position - 1]} through a forward edge, so they cannot chain`,
      );
    }
    if (KEYED.has(node.kind) && position > 0) {
      throw new InvalidPlan(`${node.label()} is a ${node.kind}, which must start its chain (it reads a key-by)`);
    }
    if (TWO_INPUTS.has(node.kind) && position > 0) {
      throw new InvalidPlan(`${node.label()} has two inputs, so it must start its chain`);
    }
    if (ENDINGS.has(node.kind) && position < nodeIds.length - 1) {
      throw new InvalidPlan(`${node.label()} is a ${node.kind}, which must end its chain`);
    }
    return node;
  });
}

/** The node ending the chain `nodes` whose output records carry keys (a
 * key-by or a partition-custom), if any.
 * @returns {import("./plan.js").Node | undefined} */
export function endingNode(nodes) {
  const last = nodes[nodes.length - 1];
  return ENDINGS.has(last.kind) ? last : undefined;
}

/** The function appending a record's key to the Writer `keys` for the
 * node `node` ending a chain: a key-by's key (MessagePack), or for a
 * partition-custom the subtask its partitioner picks among `partitions`,
 * as 4 bytes little-endian (what the host's custom channel reads). A
 * partition that is not an integer from 0 to `partitions - 1` fails the
 * call, naming the node.
 * @param {import("./plan.js").Node} node
 * @param {number} partitions the next node's parallelism (0 if not a partition-custom's chain)
 * @returns {(keys: Writer, record: any) => void} */
export function keyWriter(node, partitions) {
  if (node.kind === "key-by") {
    const fn = node.fn;
    return (keys, r) => pack(keys, fn(r));
  }
  if (!(partitions >= 1)) {
    throw new InvalidPlan(`${node.label()} is a partition_custom, but the host gave its chain no partitions to pick among`);
  }
  const [key, partition] = [node.fn, node.spec];
  return (keys, r) => {
    const p = partition(key(r), partitions);
    if (typeof p !== "number" || !Number.isInteger(p)) {
      const what = typeof p === "string" ? JSON.stringify(p) : String(p);
      throw new UserError(
        `${node.label()}: the partitioner returned ${typeof p} ${what}, not an integer partition (0 to ${partitions - 1})`,
      );
    }
    if (p < 0 || p >= partitions) {
      throw new UserError(
        `${node.label()}: the partitioner returned partition ${p}, but the next operator has ${partitions} subtasks (partitions 0 to ${partitions - 1})`,
      );
    }
    keys.reserve(4);
    keys.view.setUint32(keys.length, p, true);
    keys.length += 4;
  };
}

/** Encodes `records` into `out`, keyed when `ending` (a key-by or
 * partition-custom ending the chain) is given: a key-by's keys and the
 * values take the batch encoder's fast paths; a partition-custom's keys
 * are written one by one by `writeKey`.
 * @param {Output} out
 * @param {any[]} records
 * @param {import("./plan.js").Node | undefined} ending
 * @param {((keys: Writer, record: any) => void) | undefined} writeKey */
export function encodeOutput(out, records, ending, writeKey) {
  if (ending === undefined || ending.kind === "key-by") {
    encodeRecords(out, records, ending?.fn);
    return;
  }
  for (let i = 0; i < records.length; i++) {
    writeKey(out.keys, records[i]);
    out.keyEnds.push(out.keys.length);
  }
  encodeRecords(out, records, undefined);
}

/** An opened chain of the user nodes `nodeIds` of `plan`, run by `process`. */
export class Chain {
  /** @param {import("./plan.js").Plan} plan
   * @param {number[]} nodeIds
   * @param {number} [partitions] the subtasks a partition-custom ending the chain picks among */
  constructor(plan, nodeIds, partitions = 0) {
    const nodes = chainNodes(plan, nodeIds);
    /** The node that needs `process-with-context`, if any. */
    this.timed = nodes.find((n) => TIMED.has(n.kind));
    this.first = nodes[0];
    /** The reduce node starting the chain, if any. */
    this.reduceNode = nodes[0].kind === "reduce" ? nodes[0] : undefined;
    /** The key-by or partition-custom node ending the chain, if any, and its key writer. */
    this.keyBy = endingNode(nodes);
    this.writeKey = this.keyBy && keyWriter(this.keyBy, partitions);
    const middle = nodes.slice(this.reduceNode ? 1 : 0, nodes.length - (this.keyBy ? 1 : 0));
    // A timed chain runs as a ContextChain (timed.js): no stages here.
    this.stages = this.timed ? [] : middle.map((n) => [stage(n, undefined), n]);
  }

  /** Runs one batch; returns `[Output, changed]` where `changed` holds the
   * changed state entries as `[keyBytes, valueBytes]` pairs. */
  process(batch, state) {
    if (this.timed) throw new JobError(`${this.timed.label()} is a ${this.timed.kind}: it needs process-with-context (a host bug)`);
    const out = new Output();
    let records;
    let changed = [];
    // `from[i]`: the input record whose timestamp output `i` carries (a
    // count window's output: the record that fired it), if not the i-th.
    let from;
    if (this.reduceNode) [records, changed, from] = this.reduce(batch, state);
    else records = decodeValues(batch.values, batch.valueEnds, this.first.label());
    const stamps = batch.timestamps;
    // Each record's timestamp is that of the input record it came from.
    let origins;
    if (stamps.length !== 0) {
      origins = from ?? new Array(records.length);
      if (from === undefined) for (let i = 0; i < records.length; i++) origins[i] = i;
    }
    this.runInto(records, origins, stamps, out);
    return [out, changed];
  }

  /** Runs the chain's stages over `records` and encodes what they produce
   * into `out`, each with the timestamp of its origin in `stamps`. */
  runInto(records, origins, stamps, out) {
    for (const [run, node] of this.stages) {
      try {
        [records, origins] = run(records, origins);
      } catch (e) {
        throw asUserError(node, e);
      }
    }
    try {
      encodeOutput(out, records, this.keyBy, this.writeKey);
    } catch (e) {
      if (this.keyBy) throw asUserError(this.keyBy, e);
      const last = this.stages.length ? this.stages[this.stages.length - 1][1] : this.first;
      throw new UserError(`${last.label()} produced a record that cannot be encoded: ${e.message}`);
    }
    if (origins !== undefined) for (let i = 0; i < origins.length; i++) out.timestamps.push(stamps[origins[i]]);
  }

  /** The keyed running reduce: takes the state of the batch's keys, folds
   * each record into its key's value, emits every new value, and returns
   * the changed entries. */
  reduce(batch, state) {
    const node = this.reduceNode;
    if (batch.valueEnds.length > 0 && batch.keyEnds.length === 0) {
      throw new JobError(`${node.label()} received records without keys (a host bug)`);
    }
    const table = new Map();
    try {
      const ids = keyStrings(state.keys, state.keyEnds);
      let keyStart = 0;
      let valueStart = 0;
      for (let i = 0; i < state.keyEnds.length; i++) {
        const key = state.keys.subarray(keyStart, state.keyEnds[i]);
        const value = unpackb(state.values.subarray(valueStart, state.valueEnds[i]));
        table.set(ids[i], { key, value, changed: false });
        keyStart = state.keyEnds[i];
        valueStart = state.valueEnds[i];
      }
    } catch (e) {
      throw new JobError(`${node.label()} could not decode its state: ${e.message}`);
    }
    const records = decodeValues(batch.values, batch.valueEnds, node.label());
    const ids = keyStrings(batch.keys, batch.keyEnds);
    if (node.fn.countStep !== undefined) return this.countWindows(table, records, ids, batch);
    const fn = node.fn;
    const emitted = new Array(records.length);
    const changed = [];
    try {
      let keyStart = 0;
      for (let i = 0; i < records.length; i++) {
        const id = ids[i];
        let slot = table.get(id);
        if (slot === undefined) {
          const key = batch.keys.subarray(keyStart, batch.keyEnds[i]);
          slot = { key, value: records[i], changed: true };
          table.set(id, slot);
          changed.push(slot);
        } else {
          slot.value = fn(slot.value, records[i]);
          if (!slot.changed) {
            slot.changed = true;
            changed.push(slot);
          }
        }
        keyStart = batch.keyEnds[i];
        emitted[i] = slot.value;
      }
    } catch (e) {
      throw asUserError(node, e);
    }
    return [emitted, changed.map((slot) => [slot.key, encode(slot.value)])];
  }

  /** The count windows of a reduce node: each record steps its key's
   * state; returns the windows' results, the changed entries and, per
   * result, the index of the record that fired its window. */
  countWindows(table, records, ids, batch) {
    const node = this.reduceNode;
    const step = node.fn;
    const emitted = [];
    const from = [];
    const changed = [];
    try {
      let keyStart = 0;
      for (let i = 0; i < records.length; i++) {
        let slot = table.get(ids[i]);
        if (slot === undefined) {
          slot = { key: batch.keys.subarray(keyStart, batch.keyEnds[i]), value: undefined, changed: false };
          table.set(ids[i], slot);
        }
        keyStart = batch.keyEnds[i];
        slot.value = step(slot.value, records[i], slot.key, (r) => {
          emitted.push(r);
          from.push(i);
        });
        if (!slot.changed) {
          slot.changed = true;
          changed.push(slot);
        }
      }
    } catch (e) {
      throw asUserError(node, e);
    }
    return [emitted, changed.map((slot) => [slot.key, encode(slot.value)]), from];
  }
}

/** The keys of a batch as strings, to index a Map: the whole key buffer is
 * decoded once as Latin-1 (one character per byte) and cut by offsets. */
function keyStrings(bytes, ends) {
  const out = new Array(ends.length);
  if (latin1 !== undefined) {
    const text = latin1.decode(bytes);
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      out[i] = text.substring(start, ends[i]);
      start = ends[i];
    }
  } else {
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      out[i] = String.fromCharCode.apply(null, bytes.subarray(start, ends[i]));
      start = ends[i];
    }
  }
  return out;
}

function encode(value) {
  const w = new Writer(32);
  pack(w, value);
  return w.finish();
}

/** A user function's exception as a `user` error: where, what, and the
 * JavaScript stack. */
export function asUserError(node, error) {
  if (error instanceof JobError) return error;
  const what = error instanceof Error ? `${error.name}: ${error.message}` : `${String(error)}`;
  return new UserError(`${node.label()} threw ${what}${userStack(error)}`);
}

/** The stack of `error`, pointed at the job's own files and lines, without
 * the library's and the bindings' frames, on lines after a newline (empty
 * when there is none). */
export function userStack(error) {
  if (!(error instanceof Error) || !error.stack) return "";
  const frames = originalStack(error.stack)
    .split("\n")
    .filter((f) => f && !f.includes("@wflink/") && !f.includes("/wflink/") && !f.includes("initializer.js"));
  return frames.length ? `\n${frames.join("\n")}` : "";
}
