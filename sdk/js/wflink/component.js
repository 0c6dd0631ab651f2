// The component's exports: glue from the WIT `job` and `operator`
// interfaces to the DataStream API. A job's main module exports them with
//
//     export const { job, operator } = exportJob(build);

import { Chain, userStack } from "./chain.js";
import { JobError } from "./errors.js";
import { record } from "./stream.js";

const NO_CONTEXT =
  "the wflink JavaScript library does not support timestamps, process functions, timers or named keyed state yet (process-with-context, on-timers)";

/** Returns the `{ job, operator }` exports componentize-js looks for in the
 * job's main module, running `build(env, args)` to describe the plan. */
export function exportJob(build) {
  // The chain this instance runs (one per instance, set by `open`).
  let chain;
  const job = {
    describe(args) {
      return planToWit(guard(() => record(build, args)));
    },
  };
  const operator = {
    open(args, nodeIds, _subtask) {
      const plan = guard(() => record(build, args));
      chain = guard(() => new Chain(plan, Array.from(nodeIds)));
    },
    process(input, state) {
      if (chain === undefined) throw witError("other", "no chain is open in this instance");
      const [out, changed] = guard(() => chain.process(input, state));
      return outputToWit(out, changed);
    },
    // The host calls these only for chains with timestamps, process
    // functions, timers or named keyed state, which this library cannot
    // declare yet.
    processWithContext(_input, _state, _time) {
      throw witError("other", NO_CONTEXT);
    },
    onTimers(_fired, _state, _time) {
      throw witError("other", NO_CONTEXT);
    },
    // Named state travels with every call (the host's per-call
    // protocol): this library keeps none between calls.
    keepState() {
      return false;
    },
    snapshotState() {
      const bytes = new Uint8Array(0);
      const ends = new Uint32Array(0);
      return {
        stateIds: ends, keys: bytes, keyEnds: ends, namespaces: bytes, namespaceEnds: ends,
        userKeys: bytes, userKeyEnds: ends, values: bytes, valueEnds: ends,
      };
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
  const error = new Error(message);
  error.payload = { tag, val: message };
  return error;
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

function planToWit(plan) {
  const nodes = plan.nodes.map((n) => {
    let kind;
    if (n.kind === "source" || n.kind === "sink") {
      kind = { tag: n.kind, val: { name: n.connector.name, options: n.connector.options.map(([k, v]) => [k, v]) } };
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
  const records = {
    values: out.values.finish(),
    valueEnds: Uint32Array.from(out.valueEnds),
    keys: out.keys.finish(),
    keyEnds: Uint32Array.from(out.keyEnds),
    timestamps: BigInt64Array.from(out.timestamps, (t) => BigInt(t)),
  };
  return { records, state };
}
