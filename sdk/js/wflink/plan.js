// The plan a build function records: its nodes (WIT `node`, each with its
// user function) and the rules of their edges (the Rust SDK's
// `builder.rs`). Each operation of the DataStream API appends a node, so
// node ids are creation order and the plan is topologically sorted by
// construction.

import { InvalidPlan } from "./errors.js";

/** Job name when the build function sets none. */
export const DEFAULT_JOB_NAME = "wflink job";

/** The uid prefix of a node (as the Rust SDK names them). */
function slug(kind, connector, spec) {
  if (connector) return `${kind}-${connector.name}`;
  if (kind === "assign-timestamps") return "timestamps";
  if (kind === "key-by-field") return "key-by";
  if (kind === "keyed-process" && spec.window) return "window";
  if (kind === "side-output") return `side-output-${spec.name}`;
  if (kind === "broadcast-process" && spec.keyed) return "keyed-broadcast-process";
  return kind;
}

/** The partitioning of an edge leaving a node of these kinds, unless the
 * stream asked for another; forward for the others. */
const DEFAULT_EDGES = { "key-by": "hash", "key-by-field": "hash", "partition-custom": "custom" };

/** One node of the StreamGraph (WIT `node`), plus its user function. */
export class Node {
  constructor(id, kind, name, connector, fn, spec) {
    this.id = id;
    this.kind = kind;
    this.name = name;
    /** Kind-specific settings: the WatermarkStrategy of an
     * assign-timestamps node, `{ states, window }` of a keyed-process
     * node, the OutputTag of a side-output node. */
    this.spec = spec;
    this.uid = `${slug(kind, connector, spec)}-${id}`;
    /** `{ name, options: [[key, value], ...] }` for sources and sinks. */
    this.connector = connector;
    this.parallelism = undefined;
    /** `[{ source, partitioning }]`, the WIT partitioning names (`"forward"`,
     * `"hash"`, `"rebalance"`, `"custom"`, ...). */
    this.inputs = [];
    this.fn = fn;
    this.consumers = 0;
    /** For a key-by: the key type the job declared (`keyBy(fn, keyType)`), if any. */
    this.keyType = undefined;
  }

  label() {
    return `node ${this.id} '${this.name}'`;
  }
}

/** The plan under construction, shared by every stream of one build run. */
export class Plan {
  constructor() {
    this.nodes = [];
    this.jobName = undefined;
    this.parallelism = undefined;
    this.error = undefined;
    /** Window joins begun (`join`) but not finished with a window and `apply`. */
    this.openJoins = new Set();
    /** The partitioning a stream asked for (`rebalance()` and the like),
     * by the id of the node producing it: its edge to the next node
     * carries it (a stream feeds one operation).
     * @type {Map<number, string>} */
    this.partitionings = new Map();
  }

  /** Adds a node reading `input` and `moreInputs`: node ids, or `{ source,
   * partitioning }` for an edge whose partitioning is not the default. */
  add(kind, name, input, connector, fn, spec, moreInputs = []) {
    const node = new Node(this.nodes.length, kind, name, connector, fn, spec);
    const sources = input === undefined ? [...moreInputs] : [input, ...moreInputs];
    for (const from of sources) {
      const source = typeof from === "number" ? from : from.source;
      const upstream = this.nodes[source];
      upstream.consumers += 1;
      // Side outputs are no fan-out: they leave inside the same task.
      const reads = (n) => n.inputs.some((edge) => edge.source === source);
      const main = this.nodes.filter((n) => n.kind !== "side-output" && reads(n)).length;
      if (kind !== "side-output" && (main >= 1 || reads(node))) {
        this.fail(new InvalidPlan(`the stream of ${upstream.label()} feeds two operations; fan-out is not supported yet`));
      }
      // The rule of edges: what the node asked for, else what the stream asked for; else leaving a
      // key-by is hash, leaving a partition-custom custom, all else forward.
      const partitioning = (typeof from === "number" ? undefined : from.partitioning) ?? this.partitionings.get(source);
      node.inputs.push({ source, partitioning: partitioning ?? DEFAULT_EDGES[upstream.kind] ?? "forward" });
    }
    this.nodes.push(node);
    return node.id;
  }

  setParallelism(id, parallelism) {
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      const what = id === undefined ? "the job" : this.nodes[id].label();
      this.fail(new InvalidPlan(`parallelism of ${what} must be at least 1`));
    } else if (id === undefined) {
      this.parallelism = parallelism;
    } else {
      this.nodes[id].parallelism = parallelism;
    }
  }

  fail(error) {
    if (this.error === undefined) this.error = error;
  }

  /** Checks the plan: a sink, no dangling stream, unique uids. */
  finish() {
    if (this.error !== undefined) throw this.error;
    for (const join of this.openJoins) {
      throw new InvalidPlan(
        `the window join of ${join.label()} has no window: finish it with .where(keyA).equalTo(keyB).window(assigner).apply(f)`,
      );
    }
    if (!this.nodes.some((n) => n.kind === "sink")) {
      throw new InvalidPlan("the job defines no sink: end a stream with print(), writeAsText(..) or discard()");
    }
    for (const n of this.nodes) {
      if (n.consumers === 0 && n.kind !== "sink") {
        throw new InvalidPlan(`the stream of ${n.label()} goes nowhere: end it with print(), writeAsText(..) or discard()`);
      }
    }
    const uids = new Map();
    for (const n of this.nodes) {
      if (uids.has(n.uid)) {
        throw new InvalidPlan(`uid '${n.uid}' is used by nodes ${uids.get(n.uid)} and ${n.id}; uids must be unique`);
      }
      uids.set(n.uid, n.id);
    }
    if (this.jobName === undefined) this.jobName = DEFAULT_JOB_NAME;
    return this;
  }
}

/** Connector options as `[key, value]` strings, `extra` last.
 * @param {Record<string, string | number | boolean>} settings
 * @param {Record<string, string | number | boolean>} extra
 * @returns {[string, string][]} */
export function connectorOptions(settings, extra) {
  return Object.entries({ ...settings, ...extra }).map(([k, v]) => [k, String(v)]);
}
