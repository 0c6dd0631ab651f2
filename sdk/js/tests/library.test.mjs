// The JavaScript library's keyed state, timers, windows and side outputs,
// run in Node through the component's own exports (`job`, `operator`)
// against a small in-memory host that keeps state entries and timers the
// way wflink's host does. Covers what guest-examples/sensor-alerts-js does
// not use: ListState, ReducingState, AggregatingState, processing-time
// timers, deleted timers, sliding and session windows, allowed lateness.
// Run with `npm test` in sdk/js (every test file, under `node --test`), or
// this file alone with `node --import ./sdk/js/tests/register.mjs
// sdk/js/tests/library.test.mjs` (tests/polyglot.rs does).

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AggregatingState,
  KeyedCoProcessFunction,
  EventTimeSessionWindows,
  KeyedProcessFunction,
  ListState,
  OutputTag,
  ReducingState,
  SlidingEventTimeWindows,
  TumblingEventTimeWindows,
  ValueState,
  WatermarkStrategy,
  exportJob,
} from "wflink";
import { packb, unpackb } from "../wflink/msgpack.js";
import { MIN, open } from "./host.mjs";

const alarms = new OutputTag("alarms");

/** Keeps every value of a key (ListState), their sum (ReducingState) and
 * their average (AggregatingState); reports them on a processing-time timer
 * and raises an alarm on an event-time timer unless a value below 0 came. */
class Everything extends KeyedProcessFunction {
  constructor() {
    super();
    this.all = new ListState("all");
    this.sum = new ReducingState("sum", (a, b) => a + b);
    this.average = new AggregatingState("average", {
      createAccumulator: () => [0, 0],
      add: (v, [s, n]) => [s + v, n + 1],
      getResult: ([s, n]) => s / n,
    });
    this.deadline = new ValueState("deadline");
  }

  processElement(value, ctx, out) {
    this.all.add(value);
    this.sum.add(value);
    this.average.add(value);
    const timers = ctx.timerService();
    timers.registerProcessingTimeTimer(timers.currentProcessingTime() + 100);
    if (this.deadline.value() === undefined) {
      this.deadline.update(ctx.timestamp() + 1000);
      timers.registerEventTimeTimer(ctx.timestamp() + 1000);
    }
    if (value < 0) timers.deleteEventTimeTimer(this.deadline.value());
    out.collect(["seen", ctx.getCurrentKey(), value]);
  }

  *onTimer(timestamp, ctx) {
    if (ctx.timeDomain() === "processing-time") {
      yield ["report", ctx.getCurrentKey(), this.all.get(), this.sum.get(), this.average.get()];
      this.all.clear();
    } else {
      ctx.output(alarms, `alarm ${ctx.getCurrentKey()} ${timestamp}`);
      this.deadline.clear();
    }
  }
}

function everythingJob(env) {
  const keyed = env
    .readTextFile("in")
    .map((line) => Number(line))
    .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps(), (v) => v)
    .keyBy((v) => v % 2);
  const checked = keyed.process(new Everything()).name("everything");
  checked.getSideOutput(alarms).map((s) => s.toUpperCase()).print();
  checked.print();
}

test("keyed state of every kind and timers of both clocks keep Flink's semantics", () => {
  const { plan, node, host } = open(everythingJob, "everything");
  const spec = node.kind.val;
  assert.deepEqual(spec.states.map((s) => [s.name, s.kind]), [["all", "list"], ["sum", "reducing"], ["average", "aggregating"], ["deadline", "value"]]);
  assert.equal(plan.nodes.find((n) => n.kind.tag === "assign-timestamps").kind.val.maxOutOfOrdernessMs, 0n);
  host.now = 1000n;
  host.send([[1, 1, 10], [0, 2, 20], [1, 3, 30]]);
  host.send([[0, -4, 40]]);
  assert.deepEqual(host.out.map(([v]) => v), [["seen", 1, 1], ["seen", 0, 2], ["seen", 1, 3], ["seen", 0, -4]]);
  assert.deepEqual(host.out.map(([, t]) => t), [10, 20, 30, 40]);
  host.out.length = 0;
  // Processing time: one timer per key at 1100 (registered twice, kept once).
  host.advance(MIN, 1100);
  assert.deepEqual(host.out.map(([v]) => v).sort(), [["report", 0, [2, -4], -2, -1], ["report", 1, [1, 3], 4, 2]]);
  host.out.length = 0;
  // Event time: key 1's deadline fires; key 0's was deleted by the -4.
  host.advance(5000);
  assert.deepEqual(host.sides.map(([, v]) => v), ["ALARM 1 1010"]);
  assert.equal(host.sides[0][0], alarms.id);
  // Cleared state is gone from the host; the sums stay.
  const names = new Map(node.kind.val.states.map((s) => [s.id, s.name]));
  const left = host.stored().map((e) => `${names.get(e[0])}:${unpackb(e[1])}`).sort();
  assert.deepEqual(left, ["average:0", "average:1", "deadline:0", "sum:0", "sum:1"]);
});

// Sliding windows with allowed lateness: a late record within it fires the
// window again at once; later than that goes to the late side output.
test("sliding windows with allowed lateness fire again and send later records to the late side output", () => {
  const late = new OutputTag("late");
  const { host } = open((env) => {
    const windows = env
      .readTextFile("in")
      .keyBy((v) => "k")
      .window(SlidingEventTimeWindows.of(10, 5))
      .allowedLateness(10)
      .sideOutputLateData(late)
      .reduce((a, b) => a + b, (key, w, sum) => [`${key} [${w.start},${w.end}) ${sum}`])
      .name("sliding");
    windows.getSideOutput(late).print();
    windows.print();
  }, "sliding");
  host.send([["k", 1, 3], ["k", 2, 7], ["k", 4, 12]]);
  host.advance(9);
  assert.deepEqual(host.out.map(([v]) => v), ["k [-5,5) 1", "k [0,10) 3"]);
  host.out.length = 0;
  host.send([["k", 8, 6]]); // late for [0,10) and [5,15)? [5,15) is open; [0,10) is within lateness
  assert.deepEqual(host.out.map(([v]) => v), ["k [0,10) 11"]);
  host.out.length = 0;
  host.advance(30);
  assert.deepEqual(host.out.map(([v]) => v), ["k [5,15) 14", "k [10,20) 4"]);
  host.send([["k", 16, 1]]); // every window of 1 ended more than 10 ms ago
  assert.deepEqual(host.sides.map(([, v]) => v), [16]);
  assert.equal(host.state.size, 0, "every window was purged");
});

// Session windows merge and aggregate.
test("session windows merge and aggregate", () => {
  const { host } = open((env) => {
    env
      .readTextFile("in")
      .keyBy((v) => v[0])
      .window(EventTimeSessionWindows.withGap(10))
      .aggregate({
        createAccumulator: () => 0,
        add: (v, acc) => acc + v[1],
        getResult: (acc) => acc,
        merge: (a, b) => a + b,
      })
      .name("sessions")
      .print();
  }, "sessions");
  host.send([["a", ["a", 1], 0], ["a", ["a", 2], 18], ["b", ["b", 5], 3]]);
  host.send([["a", ["a", 4], 9]]); // [9,19) bridges a's [0,10) and [18,28)
  host.advance(100);
  assert.deepEqual(host.out.sort(), [[5, 12], [7, 27]]);
  assert.equal(host.state.size, 0, "merged and fired sessions leave no state");
});

// Tumbling windows need timestamps; state outside a keyed function fails.
test("tumbling windows need timestamps, and state outside a keyed function fails", () => {
  const { host } = open((env) => {
    env.readTextFile("in").keyBy((v) => v).window(TumblingEventTimeWindows.of(10)).reduce((a) => a).name("w").print();
  }, "w");
  assert.throws(
    () => host.operator.processWithContext({ values: packb(1), valueEnds: Uint32Array.of(1), keys: packb(1), keyEnds: Uint32Array.of(1), timestamps: new BigInt64Array(0) }, host.entriesOf([]), host.time()),
    (e) => e.payload.tag === "other" && /have no timestamps: call assignTimestampsAndWatermarks before keyBy/.test(e.payload.val),
  );
  const state = new ValueState("outside");
  assert.throws(() => state.value(), /keyed state accessed outside a keyed context/);
});

test("Kafka and formatted file connectors record their options", () => {
  const { job } = exportJob((env) => {
    env
      .fromKafka("b:9092", "clicks", { format: "json", groupId: "g", bounded: true, options: { "bad-records": "skip" } })
      .sinkToKafka("b:9092", "totals", { format: "json", delivery: "exactly-once", transactionalIdPrefix: "t" });
    env.readFile("in.csv", "csv", { "csv.header": true }).writeAs("out", "json");
  });
  const plan = job.describe([]);
  const connectors = plan.nodes.map((n) => n.kind.val);
  assert.deepEqual(connectors[0], {
    name: "kafka",
    options: [
      ["bootstrap.servers", "b:9092"],
      ["topic", "clicks"],
      ["format", "json"],
      ["group.id", "g"],
      ["bounded", "true"],
      ["bad-records", "skip"],
    ],
  });
  assert.ok(connectors[1].options.some(([k, v]) => k === "transactional-id-prefix" && v === "t"));
  assert.deepEqual(connectors[2], { name: "file", options: [["path", "in.csv"], ["format", "csv"], ["csv.header", "true"]] });
  assert.deepEqual(connectors[3], { name: "file", options: [["path", "out"], ["format", "json"]] });
});

test("a union is one node reading every input, and a stream feeds one union", () => {
  const { job } = exportJob((env) => {
    const [a, b, c] = ["a", "b", "c"].map((p) => env.readTextFile(p));
    a.union(b.keyBy((line) => line.length), c).map((line) => line.toUpperCase()).print();
  });
  const union = job.describe([]).nodes[4];
  assert.deepEqual(union.kind, { tag: "union" });
  assert.deepEqual(union.inputs, [
    { source: 0, partitioning: "forward" },
    { source: 3, partitioning: "hash" },
    { source: 2, partitioning: "forward" },
  ]);
  const twice = exportJob((env) => {
    const a = env.readTextFile("a");
    a.union(a).print();
  });
  assert.throws(
    () => twice.job.describe([]),
    (e) => e.payload.tag === "invalid-plan" && /feeds two operations/.test(e.payload.val),
  );
});

test("connect records a co-process node of two inputs, and its functions run by input", () => {
  const { job } = exportJob((env) => {
    const [a, b] = ["a", "b"].map((p) => env.readTextFile(p));
    a.connect(b.map((line) => line.trim())).map((l) => l.toUpperCase(), (l) => l.toLowerCase()).print();
  });
  const co = job.describe([]).nodes[3];
  assert.deepEqual(co.kind, { tag: "co-process" });
  assert.equal(co.name, "Co-Map");
  assert.deepEqual(co.inputs, [
    { source: 0, partitioning: "forward" },
    { source: 2, partitioning: "forward" },
  ]);
  const keyed = exportJob((env) => {
    env.readTextFile("a").connect(env.readTextFile("b").keyBy((l) => l)).map(String, String).print();
  });
  assert.throws(
    () => keyed.job.describe([]),
    (e) => e.payload.tag === "invalid-plan" && /connect pairs two keyed streams or two non-keyed ones/.test(e.payload.val),
  );
});

test("two keyed streams connect for a keyed co-process function with its states", () => {
  const { job } = exportJob((env) => {
    class Totals extends KeyedCoProcessFunction {
      constructor() {
        super();
        this.total = new ValueState("total");
      }
    }
    const a = env.readTextFile("a").keyBy((l) => l.length);
    a.connect(env.readTextFile("b").keyBy((l) => l.length)).process(new Totals()).print();
  });
  const node = job.describe([]).nodes[4];
  assert.equal(node.kind.tag, "keyed-co-process");
  assert.deepEqual(node.kind.val.states.map((s) => s.name), ["total"]);
  assert.deepEqual(node.inputs, [
    { source: 1, partitioning: "hash" },
    { source: 3, partitioning: "hash" },
  ]);
});

test("sum, min, max, minBy and maxBy are the host's aggregations", () => {
  const node = (method, field) => {
    const { nodes } = exportJob((env) => {
      env.readTextFile("in").keyBy((l) => l.length)[method](field).print();
    }).job.describe([]);
    return nodes.find((n) => n.kind.tag === "aggregate");
  };
  const functions = { sum: "sum", min: "min", max: "max", minBy: "min-by", maxBy: "max-by" };
  for (const [method, fn] of Object.entries(functions)) {
    assert.deepEqual(node(method, 1).kind.val, { function: fn, field: { tag: "position", val: 1 } });
    assert.deepEqual(node(method, "price").kind.val, { function: fn, field: { tag: "name", val: "price" } });
    assert.deepEqual(node(method, undefined).kind.val, { function: fn, field: { tag: "whole" } });
  }
  assert.equal(node("sum", 1).name, "Keyed Aggregation: SUM(1)");
  assert.equal(node("maxBy", "price").name, "Keyed Aggregation: MAX_BY(price)");
  assert.equal(node("sum", 1).uid, "aggregate-2");
  assert.throws(() => node("sum", -1), /sum takes a field position from 0, not -1/);
  assert.throws(() => node("sum", 1.5), /sum takes a field position from 0, not 1.5/);
  assert.throws(() => node("sum", {}), /sum takes a field position \(a number\), an object key/);
});

test("keyBy a field is the host's key-by, with a hash edge after it", () => {
  const describe = (field) =>
    exportJob((env) => {
      env.readTextFile("in").map((w) => [w, 1]).keyBy(field).sum(1).print();
    }).job.describe([]).nodes;
  for (const [field, val] of [
    [0, { tag: "position", val: 0 }],
    ["word", { tag: "name", val: "word" }],
  ]) {
    const nodes = describe(field);
    assert.deepEqual(nodes[2].kind, { tag: "key-by-field", val });
    assert.equal(nodes[2].uid, "key-by-2");
    assert.equal(nodes[2].name, `Key By: ${field}`);
    assert.deepEqual(nodes[3].inputs, [{ source: 2, partitioning: "hash" }]);
  }
  assert.throws(() => describe(-1), /keyBy takes a field position from 0, not -1/);
  const counted = exportJob((env) => {
    env.readTextFile("in").keyBy().count().print();
  }).job.describe([]).nodes;
  assert.deepEqual(
    counted.slice(1, 3).map((n) => [n.kind, n.name]),
    [
      [{ tag: "key-by-field", val: { tag: "whole" } }, "Key By"],
      [{ tag: "aggregate", val: { function: "count", field: { tag: "whole" } } }, "Keyed Aggregation: COUNT()"],
    ],
  );
  assert.throws(
    () =>
      exportJob((env) => {
        env.readTextFile("in").keyBy(0).rebalance().print();
      }).job.describe([]),
    /rebalance\(\) on the keyed stream of node 1 'Key By: 0': a keyed stream travels by its key's hash/,
  );
});
