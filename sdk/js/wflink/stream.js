// The DataStream API: the streams a build function records its job's
// dataflow with (the environment that starts them is in env.js, the plan
// they record into in plan.js).

import { AllWindowedStream } from "./all_window.js";
import { BroadcastConnectedStream, BroadcastStream, KeyedBroadcastConnectedStream, MapStateDescriptor } from "./broadcast.js";
import { ConnectedStreams, KeyedConnectedStreams } from "./connected.js";
import { CountWindowedStream } from "./count_window.js";
import { InvalidPlan } from "./errors.js";
import { IntervalJoin, JoinedStreams } from "./join.js";
import { checkKeyType, sameKeyType } from "./keys.js";
import { connectorOptions } from "./plan.js";
/** @typedef {import("./plan.js").Plan} Plan */
import { OutputTag } from "./process.js";
/** @typedef {import("./process.js").Collector} Collector */
/** @typedef {import("./process.js").Context} Context */
/** @typedef {import("./process.js").KeyedProcessFunction} KeyedProcessFunction */
/** @typedef {import("./process.js").ProcessFunction} ProcessFunction */
import { takeDeclared } from "./state.js";
import { WatermarkStrategy } from "./time.js";
import { WindowedStream } from "./window.js";

/** A built-in aggregation node after `stream`: no function of the job,
 * the host runs it (`spec` is `{ function, field }`).
 * @param {KeyedStream} stream
 * @param {string} fn
 * @param {number | string | undefined} field
 * @returns {DataStream} */
/** Refuses a field position that is not a whole number from 0 (a u32),
 * naming the method `method`. */
function checkPosition(method, field) {
  if (typeof field === "number" && !(Number.isInteger(field) && field >= 0 && field <= 0xffffffff)) {
    throw new RangeError(`${method} takes a field position from 0, not ${field}`);
  }
}

function aggregation(stream, fn, field) {
  if (typeof field !== "number" && field !== undefined && typeof field !== "string") {
    throw new TypeError(`${fn} takes a field position (a number), an object key (a string) or nothing, not ${String(field)}`);
  }
  checkPosition(fn, field);
  const name = `Keyed Aggregation: ${fn.toUpperCase().replace("-", "_")}(${field === undefined ? "" : field})`;
  const spec = { function: fn, field };
  return new DataStream(stream.plan, stream.plan.add("aggregate", name, stream.node, undefined, undefined, spec));
}

/** A stream of records in the plan being built. Each operation returns
 * the next stream; a stream feeds exactly one operation. */
export class DataStream {
  /** The stream produced by node `node` of `plan` (made by the operations).
   * @param {Plan} plan
   * @param {number} node */
  constructor(plan, node) {
    this.plan = plan;
    this.node = node;
  }

  /** Names the node that produces this stream.
   * @param {string} name
   * @returns {this} */
  name(name) {
    this.plan.nodes[this.node].name = String(name);
    return this;
  }

  /** Sets the stable id of the node that produces this stream.
   * @param {string} uid
   * @returns {this} */
  uid(uid) {
    this.plan.nodes[this.node].uid = String(uid);
    return this;
  }

  /** Sets the parallelism of the node that produces this stream.
   * @param {number} parallelism at least 1
   * @returns {this} */
  setParallelism(parallelism) {
    this.plan.setParallelism(this.node, parallelism);
    return this;
  }

  /** Adds a node of `kind` running `fn` on this stream; returns its stream as a `Kind`.
   * @template {DataStream} S
   * @param {string} kind the WIT node kind, e.g. `"map"`
   * @param {string} name the node's name
   * @param {Function} fn the user function
   * @param {new (plan: Plan, node: number) => S} [Kind] the class of the returned stream
   * @param {any} [spec] kind-specific settings
   * @returns {S} */
  then(kind, name, fn, Kind = /** @type {any} */ (DataStream), spec = undefined) {
    if (typeof fn !== "function") throw new InvalidPlan(`${name} needs a function, got ${typeof fn}`);
    return new Kind(this.plan, this.plan.add(kind, name, this.node, undefined, fn, spec));
  }

  /** Turns each record into exactly one record: `fn(record) -> record`.
   * @param {(record: any) => any} fn
   * @returns {DataStream} */
  map(fn) {
    return this.then("map", "Map", fn);
  }

  /** Turns each record into zero or more: `fn(record)` returns an
   * iterable (an array, or a generator that `yield`s).
   * @param {(record: any) => Iterable<any>} fn
   * @returns {DataStream} */
  flatMap(fn) {
    return this.then("flat-map", "Flat Map", fn);
  }

  /** Keeps the records for which `fn(record)` is truthy.
   * @param {(record: any) => unknown} fn
   * @returns {DataStream} */
  filter(fn) {
    return this.then("filter", "Filter", fn);
  }

  /** Sets each record's event timestamp (ms since the epoch, an integer)
   * to `timestampFn(record)`, and lets the host make watermarks by
   * `strategy` (a WatermarkStrategy) after this node.
   * @param {WatermarkStrategy} strategy
   * @param {(record: any) => number | bigint} timestampFn
   * @returns {DataStream} */
  assignTimestampsAndWatermarks(strategy, timestampFn) {
    if (!(strategy instanceof WatermarkStrategy)) {
      throw new TypeError("assignTimestampsAndWatermarks takes a WatermarkStrategy first");
    }
    return this.then("assign-timestamps", "Timestamps/Watermarks", timestampFn, DataStream, strategy);
  }

  /** Runs a process function on each record: a ProcessFunction (an object
   * with `processElement(value, ctx, out)`) or a plain function `(value,
   * ctx, out) => ...`. It may emit any number of records (`out.collect`,
   * or return an iterable), send records to side outputs
   * (`ctx.output(tag, value)`) and read the record's timestamp and the
   * watermark.
   * @param {ProcessFunction | ((value: any, ctx: Context, out: Collector) => Iterable<any> | void)} fn
   * @returns {DataStream} */
  process(fn) {
    const f = typeof fn === "function" ? fn : fn && typeof fn.processElement === "function" ? fn.processElement.bind(fn) : fn;
    return this.then("process", "Process", /** @type {Function} */ (f));
  }

  /** The records the node producing this stream sent to the side output
   * `tag` (an OutputTag). A side output may go through `map`, `flatMap`
   * and `filter` and must end in a sink.
   * @param {OutputTag} tag
   * @returns {DataStream} */
  getSideOutput(tag) {
    if (!(tag instanceof OutputTag)) throw new TypeError("getSideOutput takes an OutputTag");
    return new DataStream(this.plan, this.plan.add("side-output", `Side Output: ${tag.name}`, this.node, undefined, undefined, tag));
  }

  /** Merges this stream with `others` (streams of the same records) into
   * one, as Flink's `union`; no function runs. The node reading the union
   * starts a new task chain.
   * @param {...DataStream} others
   * @returns {DataStream} */
  union(...others) {
    for (const other of others) {
      if (!(other instanceof DataStream) || other.plan !== this.plan) {
        throw new TypeError("union takes streams of the same job (DataStream objects)");
      }
    }
    if (others.length === 0) return this;
    const more = others.map((other) => other.node);
    return new DataStream(this.plan, this.plan.add("union", "Union", this.node, undefined, undefined, undefined, more));
  }

  /** Pairs this stream with `other` (of any records) for a function of
   * two inputs: `map`, `flatMap` or `process` on the ConnectedStreams;
   * two keyed streams give KeyedConnectedStreams for a
   * KeyedCoProcessFunction (their declared key types must agree); a
   * BroadcastStream (`broadcast(descriptor)`) gives a
   * BroadcastConnectedStream for a BroadcastProcessFunction, or, from a
   * keyed stream, a KeyedBroadcastConnectedStream for a
   * KeyedBroadcastProcessFunction.
   * @param {DataStream | BroadcastStream} other
   * @returns {any} ConnectedStreams, KeyedConnectedStreams, BroadcastConnectedStream or KeyedBroadcastConnectedStream */
  connect(other) {
    if (other instanceof BroadcastStream && other.stream.plan === this.plan) {
      return this instanceof KeyedStream ? new KeyedBroadcastConnectedStream(this, other) : new BroadcastConnectedStream(this, other);
    }
    if (!(other instanceof DataStream) || other.plan !== this.plan) {
      throw new TypeError("connect takes a stream of the same job (a DataStream or a BroadcastStream)");
    }
    const [keyed1, keyed2] = [this instanceof KeyedStream, other instanceof KeyedStream];
    if (keyed1 && keyed2) {
      sameKeyType(this, other, "connect");
      return new KeyedConnectedStreams(this, other);
    }
    if (keyed1 || keyed2) {
      throw new InvalidPlan(
        "connect pairs two keyed streams or two non-keyed ones; key the other stream too (keyBy), " +
          "or connect both unkeyed and key them with ConnectedStreams.keyBy(key1, key2)",
      );
    }
    return new ConnectedStreams(this, other);
  }

  /** Partitions the stream by `fn(record)`: records whose keys encode
   * equally (MessagePack) meet in one subtask. `keyType` (e.g.
   * `Types.STRING`, as Flink's `keyBy(selector, typeInfo)`) declares the
   * key's type: streams keyed by different declared types are refused at
   * submit when connected or joined.
   *
   * `fn` may instead name a field, as Flink's `keyBy(0)`: a number is the
   * position of an element of array records, a string the key of object
   * records. The host then reads each record's key out of the record
   * itself, with no JavaScript call and no key to encode per record, and
   * the key is what `(r) => r[0]` (or `(r) => r.name`) would give, so the
   * state of a job is the same either way. A record without that field
   * fails the job. Without `fn` each record is its own key, as
   * `(r) => r` gives, also read by the host.
   * @param {((record: any) => any) | number | string} [fn] the key of a record, or the field holding it
   * @param {string} [keyType] the key's type, from `Types`
   * @returns {KeyedStream} */
  keyBy(fn, keyType = undefined) {
    if (fn === undefined || typeof fn === "number" || typeof fn === "string") {
      checkPosition("keyBy", fn);
      const name = fn === undefined ? "Key By" : `Key By: ${fn}`;
      const node = this.plan.add("key-by-field", name, this.node, undefined, undefined, fn);
      const keyed = new KeyedStream(this.plan, node);
      this.plan.nodes[node].keyType = checkKeyType(keyType, "keyBy");
      return keyed;
    }
    const keyed = this.then("key-by", "Key By", fn, KeyedStream);
    this.plan.nodes[keyed.node].keyType = checkKeyType(keyType, "keyBy");
    return keyed;
  }

  /** Without arguments: sends each record to every subtask of the next
   * node (Flink's `broadcast()`). With the broadcast map state(s)
   * `descriptors` (MapStateDescriptor, Flink's `broadcast(descriptor)`): a
   * BroadcastStream; connected to another stream, every record goes to
   * every subtask of the operator, whose `processBroadcastElement` writes
   * the states there.
   * @param {...MapStateDescriptor} descriptors none, or the states its records write
   * @returns {any} a DataStream without descriptors, else a BroadcastStream */
  broadcast(...descriptors) {
    if (descriptors.length === 0) return this.partitioned("broadcast", "broadcast");
    if (!descriptors.every((d) => d instanceof MapStateDescriptor)) {
      throw new TypeError("broadcast takes MapStateDescriptors (the broadcast states its records write), or nothing");
    }
    return new BroadcastStream(this, descriptors);
  }

  /** This stream, its edge to the next node marked `partitioning`
   * (`method` names the call in errors): a keyed stream travels by its
   * key's hash, so it is refused there.
   * @param {string} partitioning the WIT name
   * @param {string} method
   * @returns {DataStream} */
  partitioned(partitioning, method) {
    const upstream = this.plan.nodes[this.node];
    if (upstream.kind === "key-by" || upstream.kind === "key-by-field") {
      this.plan.fail(
        new InvalidPlan(
          `${method}() on the keyed stream of ${upstream.label()}: a keyed stream travels by its key's hash; call ${method}() before keyBy`,
        ),
      );
    }
    this.plan.partitionings.set(this.node, partitioning);
    return new DataStream(this.plan, this.node);
  }

  /** Sends records round-robin to every subtask of the next node.
   * @returns {DataStream} */
  rebalance() {
    return this.partitioned("rebalance", "rebalance");
  }

  /** Sends records round-robin to a subset of the next node's subtasks,
   * pairing upstream and downstream subtasks pointwise (from 2 to 4
   * subtasks, each upstream one feeds two; from 4 to 2, two feed each).
   * @returns {DataStream} */
  rescale() {
    return this.partitioned("rescale", "rescale");
  }

  /** Sends each record to a random subtask of the next node.
   * @returns {DataStream} */
  shuffle() {
    return this.partitioned("shuffle", "shuffle");
  }

  /** Sends every record to the first subtask of the next node.
   * @returns {DataStream} */
  global() {
    return this.partitioned("global", "global");
  }

  /** Keeps records on their subtask: subtask `i` feeds subtask `i` of the
   * next node, which must have the same parallelism (else the plan is
   * refused at submit, as Flink does).
   * @returns {DataStream} */
  forward() {
    return this.partitioned("forward-strict", "forward");
  }

  /** Sends each record to the subtask of the next node that `partitioner`
   * picks (Flink's `partitionCustom(partitioner, keySelector)`):
   * `keySelector(record)` computes the record's key, and
   * `partitioner(key, numPartitions)` returns an integer from 0 to
   * `numPartitions - 1`, `numPartitions` being the next node's
   * parallelism. Either may be an object with Flink's method
   * (`partition`, `getKey`). Both run at the end of the upstream chain; a
   * partition out of range, or not an integer, fails the task naming this
   * node.
   * @param {((key: any, numPartitions: number) => number) | {partition: (key: any, numPartitions: number) => number}} partitioner
   * @param {((record: any) => any) | {getKey: (record: any) => any}} keySelector
   * @returns {DataStream} */
  partitionCustom(partitioner, keySelector) {
    const partition = typeof partitioner === "function" ? partitioner : partitioner?.partition?.bind(partitioner);
    const key = typeof keySelector === "function" ? keySelector : keySelector?.getKey?.bind(keySelector);
    if (typeof partition !== "function" || typeof key !== "function") {
      throw new TypeError("partitionCustom takes a partitioner (key, numPartitions) => number and a key selector record => key");
    }
    const node = this.plan.add("partition-custom", "Partition Custom", this.node, undefined, key, partition);
    return new DataStream(this.plan, node);
  }

  /** The Rust SDK's name of `broadcast(descriptor)`.
   * @param {...MapStateDescriptor} descriptors at least one
   * @returns {BroadcastStream} */
  broadcastState(...descriptors) {
    return this.broadcast(...descriptors);
  }

  /** Joins this stream with `other` on a key and a window (Flink's
   * `join`): `a.join(b).where(keyA).equalTo(keyB).window(assigner).apply(f)`.
   * Event-time windows need timestamps on both streams.
   * @param {DataStream} other
   * @returns {JoinedStreams} */
  join(other) {
    if (!(other instanceof DataStream) || other.plan !== this.plan) {
      throw new TypeError("join takes a stream of the same job (a DataStream)");
    }
    return new JoinedStreams(this, other);
  }

  /** Cuts the whole stream into windows by `assigner`, at parallelism 1
   * (Flink's `windowAll`): every record reaches one window operator;
   * finish with `reduce`, `aggregate` or `process`.
   * @param {import("./window.js").WindowAssigner} assigner
   * @returns {AllWindowedStream} */
  windowAll(assigner) {
    return new AllWindowedStream(this, assigner);
  }

  /** Ends this stream in a sink node of the host connector `name` with `options`.
   * @param {string} name the connector, e.g. `"print"`
   * @param {[string, string][]} options its settings as `[key, value]` pairs
   * @param {string} label the node's name
   * @returns {DataStream} */
  sink(name, options, label) {
    return new DataStream(this.plan, this.plan.add("sink", label, this.node, { name, options }));
  }

  /** Prints every record to the TaskManager's stdout (arrays as `(a,b)`).
   * @returns {DataStream} */
  print() {
    return this.sink("print", [], "Sink: Print");
  }

  /** Writes every record as a line of text to files under the directory `path`.
   * @param {string} path
   * @returns {DataStream} */
  writeAsText(path) {
    return this.sink("file", [["path", String(path)]], "Sink: File");
  }

  /** Writes every record to files under `path` in `format` (`"raw"`,
   * `"json"` or `"csv"`; `{"csv.header": "true"}` starts each part file
   * with the keys of the first object).
   * @param {string} path
   * @param {string} format
   * @param {Record<string, string | number | boolean>} [options]
   * @returns {DataStream} */
  writeAs(path, format, options = {}) {
    return this.sink("file", connectorOptions({ path, format }, options), "Sink: File");
  }

  /** Writes every record to Kafka `topic`, by `format`. `delivery`:
   * `"none"`, `"at-least-once"` (default) or `"exactly-once"` (Kafka
   * transactions; needs `transactionalIdPrefix` and a broker with
   * transactions). With `metadata: true` each record is an object with
   * `value` and, optionally, `key`, `topic`, `partition`, `timestamp` and `headers`.
   * @param {string} bootstrapServers
   * @param {string} topic
   * @param {{format?: string, delivery?: string, transactionalIdPrefix?: string, metadata?: boolean, options?: Record<string, string | number | boolean>}} [settings]
   * @returns {DataStream} */
  sinkToKafka(bootstrapServers, topic, settings = {}) {
    /** @type {Record<string, string | number | boolean>} */
    const base = {
      "bootstrap.servers": bootstrapServers,
      topic,
      format: settings.format ?? "raw",
      delivery: settings.delivery ?? "at-least-once",
    };
    if (settings.transactionalIdPrefix !== undefined) base["transactional-id-prefix"] = settings.transactionalIdPrefix;
    if (settings.metadata) base.metadata = true;
    return this.sink("kafka", connectorOptions(base, settings.options ?? {}), "Sink: kafka");
  }

  /** Writes to files under `directory` when it is given, else prints: the
   * usual `--output DIR` switch of the examples.
   * @param {string | undefined} directory
   * @returns {DataStream} */
  printOrWrite(directory) {
    return directory === undefined ? this.print() : this.writeAsText(directory);
  }

  /** Drops every record (for benchmarks).
   * @returns {DataStream} */
  discard() {
    return this.sink("discard", [], "Sink: Discard");
  }
}

/** A stream partitioned by key; its operations keep one state value per
 * key, held by the host and handed to the function with each batch. */
export class KeyedStream extends DataStream {
  /** A running reduce per key: the key's first record is its state, each
   * later one becomes `fn(state, record)`. Emits the new state after every
   * record.
   * @param {(state: any, record: any) => any} fn
   * @returns {DataStream} */
  reduce(fn) {
    return this.then("reduce", "Reduce", fn);
  }

  /** A running sum per key of `field`, as Flink's `sum`: after every
   * record, emits the key's first record with `field` replaced by the sum
   * so far. `field` is a position of array records, a key of object
   * records, or undefined to sum records that are numbers.
   *
   * The host runs it natively, not the interpreter: integers add as 64-bit
   * integers (an overflow fails the job, naming the key), other numbers as
   * floats, and an integer plus a float is a float. A record without the
   * field, or whose field is not a number, fails the job.
   * @param {number | string} [field]
   * @returns {DataStream} */
  sum(field) {
    return aggregation(this, "sum", field);
  }

  /** A running minimum per key of `field` (as for `sum`), as Flink's
   * `min`: only that field changes, the others keep the key's first
   * record's values (use `minBy` for the whole record). Emits the running
   * record after every record; run by the host.
   * @param {number | string} [field]
   * @returns {DataStream} */
  min(field) {
    return aggregation(this, "min", field);
  }

  /** A running maximum per key of `field`, as `min`.
   * @param {number | string} [field]
   * @returns {DataStream} */
  max(field) {
    return aggregation(this, "max", field);
  }

  /** Per key, the whole record with the least `field` so far (as for
   * `sum`), as Flink's `minBy`: on ties the earlier record stays. Run by
   * the host.
   * @param {number | string} [field]
   * @returns {DataStream} */
  minBy(field) {
    return aggregation(this, "min-by", field);
  }

  /** Per key, the whole record with the greatest field `field` so far, as
   * `minBy`.
   * @param {number | string} [field]
   * @returns {DataStream} */
  maxBy(field) {
    return aggregation(this, "max-by", field);
  }

  /** A running count per key: after every record, emits the pair of the
   * key's first record and the number of its records so far,
   * `[record, count]` (keyed by the record itself, `keyBy()`, the word
   * count: `words.keyBy().count()` gives `["flink", 3]` for the third
   * `"flink"`). Run by the host, as `sum`.
   * @returns {DataStream} */
  count() {
    return aggregation(this, "count", undefined);
  }

  /** Runs a KeyedProcessFunction (an object with `processElement(value,
   * ctx, out)` and optionally `onTimer(timestamp, ctx, out)`) on each
   * record with its key's state (the state handles it created in its
   * constructor), timers and side outputs.
   * @param {KeyedProcessFunction} fn
   * @returns {DataStream} */
  process(fn) {
    if (!fn || typeof fn.processElement !== "function") {
      throw new TypeError("KeyedStream.process takes a KeyedProcessFunction (an object with processElement)");
    }
    return this.keyedProcess(fn, "Keyed Process", { states: takeDeclared(), window: undefined });
  }

  /** Cuts each key's records into windows by `assigner` (e.g.
   * `TumblingEventTimeWindows.of(10_000)`); finish with `reduce`,
   * `aggregate` or `process` on the result.
   * @param {import("./window.js").WindowAssigner} assigner
   * @returns {WindowedStream} */
  window(assigner) {
    return new WindowedStream(this, assigner);
  }

  /** Cuts each key's records into count windows, as Flink's
   * `countWindow(size[, slide])`: without `slide`, a key's window fires at
   * its `size`-th record and the next starts empty; with `slide`, every
   * `slide` records of a key a window fires with the key's last `size`
   * (fewer until `size` have come). Finish with `reduce`, `aggregate` or
   * `process`.
   * @param {number} size records per window, at least 1
   * @param {number} [slide] records between firings, at least 1
   * @returns {CountWindowedStream} */
  countWindow(size, slide = size) {
    if (!Number.isInteger(size) || !Number.isInteger(slide) || size < 1 || slide < 1) {
      this.plan.fail(new InvalidPlan(`a count window needs a size and a slide of at least 1 (got ${size} and ${slide})`));
    }
    return new CountWindowedStream(this, Math.max(1, Math.trunc(size) || 1), Math.max(1, Math.trunc(slide) || 1));
  }

  /** Joins this keyed stream with `other` (keyed by the same key type) on
   * an interval of event time: finish with `between(lowerMs, upperMs)`
   * and `process(f)`. Both streams need event timestamps.
   * @param {KeyedStream} other
   * @returns {IntervalJoin} */
  intervalJoin(other) {
    if (!(other instanceof KeyedStream) || other.plan !== this.plan) {
      throw new TypeError("intervalJoin takes a KeyedStream of the same job (call keyBy on the other stream first)");
    }
    sameKeyType(this, other, "intervalJoin");
    return new IntervalJoin(this, other);
  }

  /** The key type this stream was keyed by, if the job declared one.
   * @returns {string | undefined} */
  keyType() {
    return this.plan.nodes[this.node].keyType;
  }

  /** Adds the keyed-process node running `fn` (a KeyedProcessFunction or
   * a window operator) with its `spec` (`{ states, window }`).
   * @param {object} fn
   * @param {string} name the node's name
   * @param {{ states: any[], window: any }} spec
   * @returns {DataStream} */
  keyedProcess(fn, name, spec) {
    return new DataStream(this.plan, this.plan.add("keyed-process", name, this.node, undefined, fn, spec));
  }
}
