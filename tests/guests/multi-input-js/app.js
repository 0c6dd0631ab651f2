// A JavaScript job of several inputs for the runtime tests, the twin of
// tests/guests/multi-input. The input files `--a` and `--b` have lines
// `key,timestamp_ms,amount`; `--output DIR` writes to files instead of
// printing. Modes (`--mode`):
//
// - `union`: both merged, then a running sum of the amounts per key,
//   `(key,sum)` after each record.
// - `co-map`: `A key amount` for each record of `a`, `B key amount` for
//   each of `b`.
// - `co-flat-map`: each record of `a` becomes as many `A key i` lines as
//   its amount modulo 3; each of `b` one `B key`.
// - `co-process`: amounts of `a` above 50 go to the side output `big`
//   (`BIG key amount`, written to `DIR/big`), the others print
//   `A key amount`; records of `b` (with event timestamps) print
//   `B key timestamp`.
// - `keyed`: both inputs get event time (2 s of out-of-orderness) and are
//   keyed by `key`; a KeyedCoProcessFunction keeps, per key and 10 s
//   window, the sum of `a`'s amounts and the count of `b`'s records in one
//   map state, and prints `key,window_end,sum_a,count_b` when the window's
//   event timer fires (`LATE key timestamp` for a late record).
// - `min`, `max`, `min-by`, `max-by`: on `a` alone, read, parsed and keyed
//   at parallelism 1 (so each key's records come in file order), the keyed
//   aggregation of the amount, printing `key,timestamp,amount` after each
//   record.

import {
  CoProcessFunction,
  InvalidArguments,
  KeyedCoProcessFunction,
  MapState,
  OutputTag,
  WatermarkStrategy,
  exportJob,
} from "wflink";

const WINDOW_MS = 10_000;

function parse(line) {
  const [key, ts, amount] = line.split(",");
  return [key, Number(ts), Number(amount)];
}

/** Routes big amounts of `a` to a side output. */
class Router extends CoProcessFunction {
  constructor(big) {
    super();
    this.big = big;
  }

  processElement1(r, ctx, out) {
    if (r[2] > 50) ctx.output(this.big, `BIG ${r[0]} ${r[2]}`);
    else out.collect(`A ${r[0]} ${r[2]}`);
  }

  processElement2(r, ctx) {
    return [`B ${r[0]} ${ctx.timestamp()}`];
  }
}

/** Sums `a` and counts `b` per key and window; both inputs share the state. */
class WindowTotals extends KeyedCoProcessFunction {
  constructor() {
    super();
    this.totals = new MapState("totals");
  }

  add(r, amount, count, ctx, out) {
    if (r[1] <= ctx.timerService().currentWatermark()) {
      out.collect(`LATE ${r[0]} ${r[1]}`);
      return;
    }
    const end = r[1] - (r[1] % WINDOW_MS) + WINDOW_MS - 1;
    const [s, c] = this.totals.get(end, [0, 0]);
    this.totals.put(end, [s + amount, c + count]);
    ctx.timerService().registerEventTimeTimer(end);
  }

  processElement1(r, ctx, out) {
    this.add(r, r[2], 0, ctx, out);
  }

  processElement2(r, ctx, out) {
    this.add(r, 0, 1, ctx, out);
  }

  onTimer(timestamp, ctx, out) {
    const total = this.totals.get(timestamp);
    if (total !== undefined) {
      this.totals.remove(timestamp);
      out.collect(`${ctx.getCurrentKey()},${timestamp},${total[0]},${total[1]}`);
    }
  }
}

function build(env, args) {
  env.setJobName("multi-input-js");
  const output = args.get("output");
  const mode = args.get("mode", "union");
  const aggregations = { min: "min", max: "max", "min-by": "minBy", "max-by": "maxBy" };
  if (mode in aggregations) {
    const records = env.readTextFile(args.required("a")).setParallelism(1).map(parse).setParallelism(1);
    const keyed = records.keyBy((r) => r[0]).setParallelism(1);
    keyed[aggregations[mode]](2)
      .map((r) => `${r[0]},${r[1]},${r[2]}`)
      .printOrWrite(output);
    return;
  }
  const a = env.readTextFile(args.required("a")).map(parse);
  let b = env.readTextFile(args.required("b")).map(parse);
  if (mode === "union") {
    a.union(b)
      .map((r) => [r[0], r[2]])
      .keyBy((r) => r[0])
      .sum(1)
      .printOrWrite(output);
  } else if (mode === "co-map") {
    a.connect(b)
      .map((r) => `A ${r[0]} ${r[2]}`, (r) => `B ${r[0]} ${r[2]}`)
      .printOrWrite(output);
  } else if (mode === "co-flat-map") {
    const eachA = (r) => Array.from({ length: r[2] % 3 }, (_, i) => `A ${r[0]} ${i}`);
    a.connect(b)
      .flatMap(eachA, (r) => [`B ${r[0]}`])
      .printOrWrite(output);
  } else if (mode === "co-process") {
    const big = new OutputTag("big");
    b = b.assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps(), (r) => r[1]);
    const routed = a.connect(b).process(new Router(big));
    routed.getSideOutput(big).printOrWrite(output === undefined ? undefined : `${output}/big`);
    routed.printOrWrite(output);
  } else if (mode === "keyed") {
    const strategy = WatermarkStrategy.forBoundedOutOfOrderness(2000);
    const timedA = a.assignTimestampsAndWatermarks(strategy, (r) => r[1]);
    b = b.assignTimestampsAndWatermarks(strategy, (r) => r[1]);
    timedA
      .connect(b)
      .keyBy((r) => r[0], (r) => r[0])
      .process(new WindowTotals())
      .uid("window-totals")
      .printOrWrite(output);
  } else {
    throw new InvalidArguments(`unknown mode ${mode}`);
  }
}

export const { job, operator } = exportJob(build);
