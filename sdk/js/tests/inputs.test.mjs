// The JavaScript library's operators of several inputs and its count and
// all-windows, run in Node through the component's own exports against
// the small host of host.mjs: the interval join, the window join, broadcast
// state (keyed and not, snapshot and restore), count windows, windowAll,
// and the key-type checks. End to end: tests/js_inputs.rs.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BroadcastProcessFunction,
  EventTimeSessionWindows,
  KeyedBroadcastProcessFunction,
  KeyedCoProcessFunction,
  MapStateDescriptor,
  OutputTag,
  TumblingEventTimeWindows,
  Types,
  ValueState,
  WatermarkStrategy,
  exportJob,
} from "wflink";
import { packb, unpackb } from "../wflink/msgpack.js";
import { stateId } from "../wflink/state.js";
import { cut, flat, open } from "./host.mjs";

/** The plan `build` describes, or the WIT error it throws. */
function describe(build) {
  return exportJob(build).job.describe([]);
}

/** Asserts that `build` is refused at describe as an invalid plan matching `pattern`. */
function refused(build, pattern) {
  assert.throws(
    () => describe(build),
    (e) => e.payload.tag === "invalid-plan" && pattern.test(e.payload.val) && !e.payload.val.includes("\n"),
  );
}

/** Two timed sources of `[key, ts, amount]` records. */
function sources(env) {
  const strategy = WatermarkStrategy.forBoundedOutOfOrderness(0);
  const timed = (path) => env.readTextFile(path).map((l) => l.split(",")).assignTimestampsAndWatermarks(strategy, (r) => r[1]);
  return [timed("a"), timed("b")];
}

const unmatched = new OutputTag("unmatched");

function intervalJob(env) {
  const [a, b] = sources(env);
  const joined = a
    .keyBy((r) => r[0])
    .intervalJoin(b.keyBy((r) => r[0]))
    .between(-10, 20)
    .sideOutputLeftUnmatched(unmatched)
    .process((l, r, ctx, out) => out.collect(`${l[0]} ${l[1]}-${r[1]} @${ctx.timestamp()}`));
  joined.getSideOutput(unmatched).print();
  joined.print();
}

test("an interval join pairs records within its bounds, reports the unmatched and drops what the watermark passed", () => {
  const { node, host } = open(intervalJob, "Interval Join");
  assert.equal(node.kind.tag, "keyed-co-process");
  assert.deepEqual(node.kind.val.states.map((s) => s.name), ["interval-join-left", "interval-join-right"]);
  host.send([["k", ["k", 100], 100], ["k", ["k", 200], 200], ["j", ["j", 100], 100]], 0);
  host.send([["k", ["k", 95], 95], ["k", ["k", 120], 120], ["k", ["k", 121], 121]], 1);
  host.send([["k", ["k", 190], 190]], 0); // meets 95? no (95-190 < -10... as left: r in [180, 210]): none buffered
  host.send([["k", ["k", 205], 205]], 1); // meets left 200 (5) and 190 (15)
  assert.deepEqual(host.out.map(([v]) => v).sort(), ["k 100-120 @120", "k 100-95 @95", "k 190-205 @205", "k 200-205 @205"]);
  assert.deepEqual(host.out.map(([, t]) => t).sort(), [120, 205, 205, 95]);
  host.advance(1000);
  assert.deepEqual(host.sides.map(([, v]) => v), [["j", 100]], "j's record met nothing");
  assert.equal(host.kept, true, "an interval join keeps its state in the instance");
  assert.deepEqual(host.stored(), [], "the watermark dropped both buffers");
  refused((env) => {
    const [a, b] = sources(env);
    a.keyBy((r) => r[0]).intervalJoin(b.keyBy((r) => r[0])).between(5, 1).process(() => {}).print();
  }, /interval join: the lower bound 5 ms is above the upper bound 1 ms/);
});

function windowJoinJob(env) {
  const [a, b] = sources(env);
  a.join(b)
    .where((r) => r[0])
    .equalTo((r) => r[0])
    .window(TumblingEventTimeWindows.of(100))
    .apply((x, y) => `${x[0]} ${x[1]}/${y[1]}`)
    .print();
}

test("a window join is a union of both tagged sides, keyed and windowed, and pairs each window's records", () => {
  const plan = describe(windowJoinJob);
  const names = plan.nodes.map((n) => n.name);
  assert.deepEqual(names.slice(6), ["Join: Left", "Join: Right", "Union", "Key By", "Window Join", "Sink: Print"]);
  const { host } = open(windowJoinJob, "Window Join");
  host.send([["k", [0, ["k", 10]], 10], ["k", [1, ["k", 20]], 20], ["k", [1, ["k", 30]], 30], ["k", [0, ["k", 150]], 150]]);
  host.send([["j", [0, ["j", 10]], 10]]);
  host.advance(1000);
  assert.deepEqual(host.out.map(([v]) => v).sort(), ["k 10/20", "k 10/30"], "the left record of [100,200) and j's met no right record");
  assert.deepEqual(host.out.map(([, t]) => t), [99, 99], "results carry the window's last timestamp");
});

test("a join without a window, an unfinished join, and keys of two declared types are invalid plans", () => {
  refused((env) => {
    const [a, b] = sources(env);
    a.join(b).where((r) => r[0]).equalTo((r) => r[0]).apply((x) => x);
    a.print();
  }, /a window join needs a window/);
  refused((env) => {
    const [a, b] = sources(env);
    a.join(b).where((r) => r[0]);
    env.readTextFile("c").print();
  }, /the window join of node \d+ .* and node \d+ .* has no window/);
  refused((env) => {
    const [a, b] = sources(env);
    a.join(b).where((r) => r[0], Types.STRING).equalTo((r) => Number(r[1]), Types.INT).window(TumblingEventTimeWindows.of(5)).apply((x) => x).print();
  }, /join: the keys have different types \(string and int\)/);
});

test("keyed streams of two declared key types are refused at connect and intervalJoin; of undeclared ones, at the first batch", () => {
  class Both extends KeyedCoProcessFunction {
    processElement1() {}
    processElement2() {}
  }
  refused((env) => {
    const [a, b] = sources(env);
    a.keyBy((r) => r[0], Types.STRING).connect(b.keyBy((r) => r[1], Types.INT)).process(new Both()).print();
  }, /^connect: the keyed streams have different key types \(string and int\); key both by the same type$/);
  refused((env) => {
    const [a, b] = sources(env);
    const keyed = (s, t) => s.keyBy((r) => r[0], t);
    keyed(a, Types.TUPLE(Types.STRING, Types.INT)).intervalJoin(keyed(b, Types.STRING)).between(0, 1).process(() => {}).print();
  }, /intervalJoin: the keyed streams have different key types \(\(string, int\) and string\)/);
  assert.doesNotThrow(() => {
    describe((env) => {
      const [a, b] = sources(env);
      a.keyBy((r) => r[0], Types.STRING).connect(b.keyBy((r) => r[0])).process(new Both()).print();
    });
  }, "an undeclared key type is not refused at submit");
  const { host } = open((env) => {
    const [a, b] = sources(env);
    a.keyBy((r) => r[0]).connect(b.keyBy((r) => r[1])).process(new Both()).name("both").print();
  }, "both");
  host.send([["k", ["k", 1], 1]], 0);
  host.send([["k", ["k", 2], 2]], 0);
  assert.throws(
    () => host.send([[7, ["k", 7], 7]], 1),
    (e) => e.payload.tag === "user" && /different key types: input 0 has string keys, input 1 number keys/.test(e.payload.val),
  );
});

const limits = new MapStateDescriptor("limits");

/** Keeps a limit per key from the broadcast side; the keyed side counts
 * its records (keyed state) and reports with its key's limit. */
class Limited extends KeyedBroadcastProcessFunction {
  constructor() {
    super();
    this.count = new ValueState("count");
  }

  processElement(r, ctx, out) {
    const n = this.count.value(0) + 1;
    this.count.update(n);
    out.collect(`${r[0]} #${n} limit=${ctx.broadcastState(limits).get(r[0], "none")}`);
    ctx.timerService().registerEventTimeTimer(r[1] + 10);
    assert.throws(() => ctx.broadcastState(limits).put("x", 1), TypeError, "read only on the keyed side");
  }

  processBroadcastElement(r, ctx, out) {
    const state = ctx.broadcastState(limits);
    state.put(r[0], r[2]);
    out.collect(`set ${r[0]}=${r[2]} size=${state.size()}`);
  }

  onTimer(timestamp, ctx, out) {
    out.collect(`timer ${ctx.getCurrentKey()} ${timestamp} limit=${ctx.broadcastState(limits).get(ctx.getCurrentKey(), "none")}`);
  }
}

function broadcastJob(env) {
  const [a, b] = sources(env);
  a.keyBy((r) => r[0]).connect(b.broadcast(limits)).process(new Limited()).name("limited").print();
}

test("keyed broadcast state: the broadcast side writes, the keyed side reads with keyed state and timers, and the copy snapshots and restores", () => {
  const { node, host } = open(broadcastJob, "limited");
  assert.equal(node.kind.tag, "broadcast-process");
  assert.deepEqual(node.kind.val.broadcastStates, [{ id: limits.id, name: "limits", kind: "map", lazy: false }]);
  assert.deepEqual(node.kind.val.keyed.states.map((s) => s.name), ["count"]);
  assert.deepEqual(node.inputs.map((e) => e.partitioning), ["hash", "broadcast"]);
  assert.equal(node.uid, `keyed-broadcast-process-${node.id}`);
  host.send([["k", ["k", 1], 1]], 0);
  host.send([[undefined, ["k", 2, 50], 2], [undefined, ["j", 2, 60], 2]], 1);
  host.send([["k", ["k", 3], 3], ["j", ["j", 4], 4]], 0);
  host.advance(12);
  assert.deepEqual(host.out.map(([v]) => v), [
    "k #1 limit=none", "set k=50 size=1", "set j=60 size=2", "k #2 limit=50", "j #1 limit=60", "timer k 11 limit=50",
  ]);
  // The host holds the keyed state (the counts: a keyed broadcast chain
  // keeps none, so applyToKeyedState can list its keys from the host); the
  // snapshot holds the broadcast state, with empty keys and namespaces, in
  // key order.
  assert.equal(host.kept, false, "a keyed broadcast chain keeps the per-call protocol");
  assert.equal([...host.state.values()].filter((e) => e[0] === stateId("count")).length, 2, "a count for k and one for j");
  const all = host.operator.snapshotState();
  const ids = [...all.stateIds];
  const keys = cut(all.keys, all.keyEnds);
  assert.deepEqual(ids.filter((_, i) => keys[i].length > 0).length, 0, "no keyed entries in the snapshot");
  const mine = ids.map((id, i) => i).filter((i) => keys[i].length === 0);
  assert.ok(mine.every((i) => ids[i] === limits.id && cut(all.namespaces, all.namespaceEnds)[i].length === 0));
  const pick = (bytes, ends) => mine.map((i) => cut(bytes, ends)[i]);
  assert.deepEqual(pick(all.userKeys, all.userKeyEnds).map(unpackb), ["j", "k"], "in key order");
  assert.deepEqual(pick(all.values, all.valueEnds).map(unpackb), [60, 50]);
  const [u, ue] = flat(pick(all.userKeys, all.userKeyEnds));
  const [v, ve] = flat(pick(all.values, all.valueEnds));
  const none = new Uint8Array(0);
  const empty = new Uint32Array(mine.length);
  const snapshot = { stateIds: Uint32Array.from(mine, () => limits.id), keys: none, keyEnds: empty, namespaces: none, namespaceEnds: empty, userKeys: u, userKeyEnds: ue, values: v, valueEnds: ve };
  // A new instance gets the copy back in an empty batch of input 1.
  const restored = open(broadcastJob, "limited").host;
  restored.restore(snapshot);
  restored.send([["j", ["j", 5], 5]], 0);
  assert.deepEqual(restored.out.map(([v]) => v), ["j #1 limit=60"]);
});

test("a non-keyed broadcast process function sees the broadcast state without keys", () => {
  class Plain extends BroadcastProcessFunction {
    processElement(r, ctx) {
      return [`${r[0]} limit=${ctx.getBroadcastState(limits).get(r[0], "none")}`];
    }

    processBroadcastElement(r, ctx) {
      ctx.broadcastState(limits).put(r[0], r[2]);
    }
  }
  const job = (env) => {
    const [a, b] = sources(env);
    a.connect(b.broadcastState(limits)).process(new Plain()).name("plain").print();
  };
  const { node, host } = open(job, "plain");
  assert.equal(node.kind.val.keyed, undefined);
  assert.deepEqual(node.inputs.map((e) => e.partitioning), ["forward", "broadcast"]);
  host.send([[undefined, ["k", 1, 7], 1]], 1);
  host.send([[undefined, ["k", 2], 2], [undefined, ["z", 2], 2]], 0);
  assert.deepEqual(host.out.map(([v]) => v), ["k limit=7", "z limit=none"]);
  assert.throws(() => describe((env) => env.readTextFile("a").broadcast("limits").print()), /broadcast takes MapStateDescriptors/);
});

/** Runs `records` (`[key, value, timestamp]`) through the reduce chain
 * at node `name` of `build`, batch by batch, keeping its per-key state as
 * the host does; returns `[value, timestamp]` outputs. */
function runReduce(build, name, batches) {
  const { job, operator } = exportJob(build);
  const plan = job.describe([]);
  const node = plan.nodes.find((n) => n.name === name);
  assert.ok(node, `the plan has a node named ${name}`);
  operator.open([], Uint32Array.from([node.id]), { index: 0, parallelism: 1, maxParallelism: 128 });
  const state = new Map();
  const out = [];
  for (const records of batches) {
    const keys = records.map(([k]) => packb(k));
    const [kb, ke] = flat(keys);
    const [vb, ve] = flat(records.map(([, v]) => packb(v)));
    const have = keys.map((k) => Buffer.from(k).toString("hex")).filter((h, i, all) => state.has(h) && all.indexOf(h) === i);
    const [sk, ske] = flat(have.map((h) => Buffer.from(h, "hex")));
    const [sv, sve] = flat(have.map((h) => state.get(h)));
    const batch = { values: vb, valueEnds: ve, keys: kb, keyEnds: ke, timestamps: BigInt64Array.from(records, (r) => BigInt(r[2])) };
    const result = operator.process(batch, { keys: sk, keyEnds: ske, values: sv, valueEnds: sve });
    const changedKeys = cut(result.state.keys, result.state.keyEnds);
    cut(result.state.values, result.state.valueEnds).forEach((v, i) => state.set(Buffer.from(changedKeys[i]).toString("hex"), v));
    const r = result.records;
    cut(r.values, r.valueEnds).forEach((v, i) => out.push([unpackb(v), Number(r.timestamps[i])]));
  }
  return out;
}

test("count windows fire per key every size records, or every slide records with the last size", () => {
  const records = (key, from, to) => Array.from({ length: to - from }, (_, i) => [key, from + i, (from + i) * 10]);
  const tumbling = runReduce(
    (env) => env.readTextFile("in").keyBy((v) => v % 2).countWindow(3).reduce((a, b) => a + b).map((v) => v).print(),
    "Count Window (3)",
    [[...records(0, 0, 0), [0, 2, 20], [1, 1, 10], [0, 4, 40]], [[1, 3, 30], [0, 6, 60], [0, 8, 80], [1, 5, 50]]],
  );
  assert.deepEqual(tumbling, [[12, 60], [9, 50]], "key 0 fires at 6 with 2+4+6, key 1 at 5 with 1+3+5; key 0's 8 waits");
  const sliding = runReduce(
    (env) => env.readTextFile("in").keyBy(() => "k").countWindow(3, 2).process((key, rs) => [`${key}:${rs.join(";")}`]).print(),
    "Count Window (3, slide 2)",
    [[["k", 1, 1], ["k", 2, 2], ["k", 3, 3]], [["k", 4, 4], ["k", 5, 5], ["k", 6, 6]]],
  );
  assert.deepEqual(sliding, [["k:1;2", 2], ["k:2;3;4", 4], ["k:4;5;6", 6]]);
  const counted = runReduce(
    (env) => {
      const count = { createAccumulator: () => 0, add: (_v, n) => n + 1, getResult: (n) => `n=${n}` };
      env.readTextFile("in").keyBy(() => "k").countWindow(2).aggregate(count).map((v) => v).print();
    },
    "Count Window (2)",
    [[["k", 1, 1], ["k", 2, 2], ["k", 3, 3], ["k", 4, 4]]],
  );
  assert.deepEqual(counted, [["n=2", 2], ["n=2", 4]]);
  refused((env) => env.readTextFile("in").keyBy((v) => v).countWindow(5, 0).reduce((a) => a).print(), /a count window needs a size and a slide of at least 1 \(got 5 and 0\)/);
});

test("windowAll keys every record by one constant key into a window at parallelism 1", () => {
  const build = (env) => {
    env
      .readTextFile("in")
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps(), (v) => v)
      .windowAll(EventTimeSessionWindows.withGap(10))
      .process((w, values) => [`[${w.start},${w.end}) ${values.length}`])
      .print();
  };
  const plan = describe(build);
  const window = plan.nodes.find((n) => n.name === "All Window");
  assert.equal(window.parallelism, 1);
  assert.equal(plan.nodes[window.inputs[0].source].kind.tag, "key-by");
  const { host } = open(build, "All Window");
  host.send([[null, 1, 1], [null, 5, 5], [null, 40, 40]]);
  host.advance(100);
  assert.deepEqual(host.out.map(([v]) => v).sort(), ["[1,15) 2", "[40,50) 1"]);
});
