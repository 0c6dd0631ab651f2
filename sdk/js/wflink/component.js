// The component's exports: glue from the WIT `job` and `operator`
// interfaces to the DataStream API. A job's main module exports them with
//
//     export const { job, operator } = exportJob(build);

import { BroadcastOperator } from "./broadcast.js";
import { Chain, userStack } from "./chain.js";
import { JobError } from "./errors.js";
import { record } from "./env.js";
import { CALL } from "./context.js";
import { ContextChain } from "./timed.js";
import { WindowOperator } from "./window.js";

/** Returns the `{ job, operator }` exports componentize-js looks for in the
 * job's main module, running `build(env, args)` to describe the plan.
 * @param {import("./env.js").BuildFunction} build
 * @returns {{ job: object, operator: object }} */
export function exportJob(build) {
  // The chain this instance runs (one per instance, set by `open`), and
  // the same chain run with context (made on the first contextual call).
  let chain;
  let plan;
  let ids;
  let contextChain;
  // The subtasks a partition-custom ending the chain picks among.
  let partitions = 0;
  const timed = () => {
    if (chain === undefined) throw witError("other", "no chain is open in this instance");
    if (contextChain === undefined) contextChain = guard(() => new ContextChain(plan, ids, partitions));
    return contextChain;
  };
  const job = {
    describe(args) {
      return planToWit(guard(() => record(build, args)));
    },
  };
  const operator = {
    open(args, nodeIds, subtask) {
      plan = guard(() => record(build, args));
      ids = Array.from(nodeIds);
      partitions = subtask.customPartitions;
      CALL.keepState(false);
      contextChain = undefined;
      chain = guard(() => new Chain(plan, ids, partitions));
    },
    process(input, state) {
      if (chain === undefined) throw witError("other", "no chain is open in this instance");
      const [out, changed] = guard(() => chain.process(input, state));
      return outputToWit(out, changed);
    },
    // The host calls these for chains with timestamps, process
    // functions, keyed process functions, windows or side outputs.
    processWithContext(input, state, time) {
      const c = timed();
      const [watermark, now] = [Number(time.watermark), Number(time.processingTime)];
      return contextOutputToWit(guard(() => c.processWithContext(input, state, watermark, now, Number(time.input))));
    },
    onTimers(fired, state, time) {
      const c = timed();
      return contextOutputToWit(guard(() => c.onTimers(fired, state, Number(time.watermark), Number(time.processingTime))));
    },
    // A chain whose first node is a keyed process function (of one or
    // two inputs, the interval join's) keeps its named state in the
    // instance between calls, so a call carries only restored entries
    // instead of every entry of its keys. Windows, running reduces and
    // keyed broadcast process functions keep the per-call protocol (state
    // travels with every call): the host holds a keyed broadcast chain's
    // state, whose keys `applyToKeyedState` lists through the `state` import.
    keepState() {
      const first = plan === undefined || ids === undefined ? undefined : plan.nodes[ids[0]];
      const keep =
        first !== undefined &&
        (first.kind === "keyed-co-process" || (first.kind === "keyed-process" && !(first.fn instanceof WindowOperator)));
      CALL.keepState(keep);
      return keep;
    },
    // The kept keyed entries, and a broadcast process chain's broadcast
    // states, which live in the instance whatever `keepState` answered.
    snapshotState() {
      const first = plan === undefined || ids === undefined ? undefined : plan.nodes[ids[0]];
      const entries = CALL.snapshot();
      if (first !== undefined && first.fn instanceof BroadcastOperator) entries.push(...first.fn.snapshot());
      return stateEntriesToWit(entries);
    },
    finish() {
      return outputToWit(undefined, []);
    },
  };
  return { job, operator };
}

/** The value thrown out of an export that returns a WIT `result`: its
 * `payload` becomes the `job-error`. */
function witError(tag, message) {
  return Object.assign(new Error(message), { payload: { tag, val: message } });
}

/** Runs `f`, turning what it throws into the WIT error case: a JobError
 * keeps its case and message; anything else is a `user` error with its stack. */
function guard(f) {
  try {
    return f();
  } catch (e) {
    if (e instanceof JobError) throw witError(e.tag, e.message);
    const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw witError("user", `${what}${userStack(e)}`);
  }
}

/** The WIT `aggregation` of a built-in aggregation node. */
function aggregationToWit({ function: fn, field }) {
  return { function: fn, field: fieldToWit(field) };
}

/** The WIT field of an aggregation or a key-by by field: a position, an
 * object key, or (undefined) the record itself. */
function fieldToWit(field) {
  if (field === undefined) return { tag: "whole" };
  if (typeof field === "string") return { tag: "name", val: field };
  return { tag: "position", val: field };
}

function planToWit(plan) {
  const nodes = plan.nodes.map((n) => {
    let kind;
    if (n.kind === "source" || n.kind === "sink") {
      kind = { tag: n.kind, val: { name: n.connector.name, options: n.connector.options.map(([k, v]) => [k, v]) } };
    } else if (n.kind === "assign-timestamps") {
      const s = n.spec;
      const idle = s.idleTimeoutMs === undefined ? undefined : BigInt(s.idleTimeoutMs);
      kind = { tag: n.kind, val: { maxOutOfOrdernessMs: BigInt(s.outOfOrdernessMs), idleTimeoutMs: idle } };
    } else if (n.kind === "aggregate") {
      kind = { tag: n.kind, val: aggregationToWit(n.spec) };
    } else if (n.kind === "key-by-field") {
      kind = { tag: n.kind, val: fieldToWit(n.spec) };
    } else if (n.kind === "side-output") {
      kind = { tag: n.kind, val: { tag: n.spec.id, name: n.spec.name } };
    } else if (n.kind === "keyed-process" || n.kind === "keyed-co-process") {
      kind = { tag: n.kind, val: keyedProcessSpec(n.spec) };
    } else if (n.kind === "broadcast-process") {
      const broadcastStates = n.spec.broadcastStates.map(({ id, name, kind }) => ({ id, name, kind, lazy: false }));
      kind = { tag: n.kind, val: { broadcastStates, keyed: n.spec.keyed && keyedProcessSpec(n.spec.keyed) } };
    } else {
      kind = { tag: n.kind };
    }
    return {
      id: n.id,
      name: n.name,
      uid: n.uid,
      kind,
      parallelism: n.parallelism,
      inputs: n.inputs.map((e) => ({ source: e.source, partitioning: e.partitioning })),
    };
  });
  return { jobName: plan.jobName, nodes, parallelism: plan.parallelism };
}

/** The WIT `keyed-process-spec` of a keyed process function or window. */
function keyedProcessSpec(spec) {
  const states = spec.states.map(({ id, name, kind }) => ({ id, name, kind, lazy: false }));
  const w = spec.window;
  if (w === undefined) return { states, window: undefined };
  const a = w.assigner;
  let assigner;
  if (a.kind === "tumbling") assigner = { tag: "tumbling", val: { sizeMs: BigInt(a.size), offsetMs: BigInt(a.offset) } };
  else if (a.kind === "sliding") {
    assigner = { tag: "sliding", val: { sizeMs: BigInt(a.size), slideMs: BigInt(a.slide), offsetMs: BigInt(a.offset) } };
  } else assigner = { tag: "session", val: BigInt(a.gap) };
  const window = {
    assigner,
    domain: a.eventTime ? "event-time" : "processing-time",
    allowedLatenessMs: BigInt(w.allowedLatenessMs),
    lateOutputTag: w.lateOutputTag,
    function: w.function,
  };
  return { states, window };
}

/** Flat buffers (`bytes`, `ends`) of byte arrays, the WIT way. */
function flat(parts) {
  let length = 0;
  for (const p of parts) length += p.length;
  const bytes = new Uint8Array(length);
  const ends = new Uint32Array(parts.length);
  let at = 0;
  parts.forEach((p, i) => {
    bytes.set(p, at);
    at += p.length;
    ends[i] = at;
  });
  return [bytes, ends];
}

/** The WIT `timers` of `[domain, timestamp, key, namespace]` items. */
function timersToWit(items) {
  const [keys, keyEnds] = flat(items.map((t) => t[2]));
  const [namespaces, namespaceEnds] = flat(items.map((t) => t[3]));
  const timestamps = BigInt64Array.from(items, (t) => BigInt(t[1]));
  return { keys, keyEnds, namespaces, namespaceEnds, timestamps, domains: items.map((t) => t[0]) };
}

/** The WIT `state-entries` of `[id, key, namespace, userKey, value]` items. */
function stateEntriesToWit(entries) {
  const [keys, keyEnds] = flat(entries.map((e) => e[1]));
  const [namespaces, namespaceEnds] = flat(entries.map((e) => e[2]));
  const [userKeys, userKeyEnds] = flat(entries.map((e) => e[3]));
  const [values, valueEnds] = flat(entries.map((e) => e[4]));
  return { stateIds: Uint32Array.from(entries, (e) => e[0]), keys, keyEnds, namespaces, namespaceEnds, userKeys, userKeyEnds, values, valueEnds };
}

/** The WIT `context-output` of a ContextChain's CallResult. */
function contextOutputToWit(result) {
  const state = stateEntriesToWit(result.state);
  const sides = result.sides;
  const empty = new Uint8Array(0);
  const sideRecords = {
    records: { values: sides.values.finish(), valueEnds: new Uint32Array(sides.valueEnds), keys: empty, keyEnds: new Uint32Array(0), timestamps: new BigInt64Array(0) },
    tags: new Uint32Array(sides.tags),
  };
  return {
    records: batchToWit(result.records),
    sideOutputs: sideRecords,
    state,
    timersRegistered: timersToWit(result.registered),
    timersDeleted: timersToWit(result.deleted),
  };
}

/** The WIT `batch` of an Output. Typed arrays are made by their
 * constructors and loops, not `from` with a function per element (an
 * interpreted call per record). */
function batchToWit(out) {
  return {
    values: out.values.finish(),
    valueEnds: new Uint32Array(out.valueEnds),
    keys: out.keys.finish(),
    keyEnds: new Uint32Array(out.keyEnds),
    timestamps: stampsToWit(out.timestamps),
  };
}

/** Timestamps (Numbers or BigInts) as a WIT `list<s64>`. */
function stampsToWit(stamps) {
  const n = stamps.length;
  const out = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const t = stamps[i];
    out[i] = typeof t === "bigint" ? t : BigInt(t);
  }
  return out;
}

function outputToWit(out, changed) {
  let keyLength = 0;
  let valueLength = 0;
  for (const [k, v] of changed) {
    keyLength += k.length;
    valueLength += v.length;
  }
  const keys = new Uint8Array(keyLength);
  const values = new Uint8Array(valueLength);
  const keyEnds = new Uint32Array(changed.length);
  const valueEnds = new Uint32Array(changed.length);
  let k = 0;
  let v = 0;
  changed.forEach(([key, value], i) => {
    keys.set(key, k);
    k += key.length;
    keyEnds[i] = k;
    values.set(value, v);
    v += value.length;
    valueEnds[i] = v;
  });
  const state = { keys, keyEnds, values, valueEnds };
  if (out === undefined) {
    const empty = new Uint8Array(0);
    const records = { values: empty, valueEnds: new Uint32Array(0), keys: empty, keyEnds: new Uint32Array(0), timestamps: new BigInt64Array(0) };
    return { records, state };
  }
  return { records: batchToWit(out), state };
}
