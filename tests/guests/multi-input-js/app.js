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
// - `sum`, `min`, `max`, `min-by`, `max-by`: on `a` alone, read, parsed and
//   keyed at parallelism 1 (so each key's records come in file order), the
//   host's keyed aggregation of the amount (field 2), printing
//   `key,timestamp,amount` after each record; `sum-named` and
//   `max-by-named` the same on objects (field `"amount"`); `sum-missing`
//   sums field 3, which the records lack, and fails.
// - `count-sum`, `count-slide`: on `a` alone, keyed as above; a tumbling
//   count window of `--size` records reduced to the sum of the amounts
//   (`key,timestamp,sum`, the window's first record's fields), or a sliding
//   one of `--size` every `--slide` printing `key:amount;amount;...`.
// - `window-all`: `a` with event time (2 s of out-of-orderness), a 10 s
//   tumbling `windowAll` printing `window_end,count,sum`.
// - `interval`: both inputs with event time (2 s), `a` keyed by key
//   interval-joined with `b` keyed by key, `between(--lower, --upper)`, with
//   `--lower-exclusive` and `--upper-exclusive`: `key,a_ts,b_ts,a_amount,b_amount`
//   per pair, and `UNMATCHED key,a_ts` for each `a` that met none (in
//   `DIR/unmatched`).
// - `window`: both with event time, `a` joined with `b` on key in
//   `--assigner` windows (`tumbling` 10 s, `sliding` 10 s every 5 s,
//   `session` with a 3 s gap), printing the pairs as `interval` does.
// - `enrich`: broadcast state, the port of guest-examples/click-enrichment:
//   clicks `timestamp,user,page` (`--clicks`) keyed by user, connected to
//   the broadcast profile updates `timestamp,user,tier` (`--profiles`);
//   each click prints `timestamp,user,page,tier` with the tier valid at its
//   timestamp (`unknown` before the user's first).
// - `broadcast`: `b`, read at parallelism 1, broadcast with the map state
//   `limits` to a non-keyed BroadcastProcessFunction on `a`: each record of
//   `b` sets its key's limit and prints, in every subtask,
//   `B key amount size=N`; each record of `a` prints `A key amount limit=L`.
// - `key-types`: `a` keyed by key as a string (`Types.STRING`) connected
//   to `b` keyed by amount as an integer (`Types.INT`): refused at submit.
// - `join-no-window`: a window join whose `apply` comes without a window:
//   refused at submit.
// - `apply-keyed`: `a` keyed by key, connected to the lines of a socket
//   source at 127.0.0.1:`--port` (same line format, parallelism 1)
//   broadcast with the map state `commands` (unused). Each record of `a`
//   adds its amount to its key's ValueState `sum` and prints `A key amount`.
//   A broadcast line with key `double` doubles every key's sum through
//   `applyToKeyedState` and prints, once per subtask, `DOUBLED n=K` (K: the
//   keys visited); one with key `flush` prints `FLUSH key sum` for every key
//   and clears it, then `FLUSHED n=K`.
// - `partition`: the lines of `a`, read at parallelism `--up N` (1), travel
//   by `--strategy` (`rebalance`, `rescale`, `shuffle`, `broadcast`,
//   `global`, `forward`, `custom` or `custom-out-of-range`) to a map at the
//   job's parallelism, which passes them on unchanged. `custom` is a
//   `partitionCustom` sending key `kN` to subtask `N mod parallelism`;
//   `custom-out-of-range` picks partition `parallelism`, one too many.

import {
  BroadcastProcessFunction,
  CoProcessFunction,
  EventTimeSessionWindows,
  InvalidArguments,
  KeyedBroadcastProcessFunction,
  KeyedCoProcessFunction,
  MapState,
  MapStateDescriptor,
  OutputTag,
  SlidingEventTimeWindows,
  TumblingEventTimeWindows,
  Types,
  ValueState,
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

/** `key,a_ts,b_ts,a_amount,b_amount` of a joined pair. */
function pair(a, b) {
  return `${a[0]},${a[1]},${b[1]},${a[2]},${b[2]}`;
}

/** Every version of a user's profile: `[[validFrom, tier], ...]` by time. */
const PROFILES = new MapStateDescriptor("profiles");

/** Enriches clicks per user with the tier valid at their timestamp. A
 * click waits in keyed state until the watermark passes it: by then every
 * profile update from before it has arrived. */
class Enrich extends KeyedBroadcastProcessFunction {
  constructor() {
    super();
    this.pending = new MapState("pending-clicks");
  }

  processElement(click, ctx) {
    const pages = this.pending.get(click[0], []);
    pages.push(click[2]);
    this.pending.put(click[0], pages);
    ctx.timerService().registerEventTimeTimer(click[0]);
  }

  processBroadcastElement(update, ctx) {
    const state = ctx.broadcastState(PROFILES);
    const versions = state.get(update[1], []);
    const at = versions.filter(([from]) => from <= update[0]).length;
    versions.splice(at, 0, [update[0], update[2]]);
    state.put(update[1], versions);
  }

  *onTimer(timestamp, ctx) {
    const user = ctx.getCurrentKey();
    const pages = this.pending.get(timestamp);
    if (pages === undefined) return;
    this.pending.remove(timestamp);
    const valid = ctx.broadcastState(PROFILES).get(user, []).filter(([from]) => from <= timestamp);
    const tier = valid.length ? valid[valid.length - 1][1] : "unknown";
    for (const page of pages) yield `${timestamp},${user},${page},${tier}`;
  }
}

const LIMITS = new MapStateDescriptor("limits");

/** Keeps the latest amount of each key of `b` in broadcast state; `a` reads it. */
class Limits extends BroadcastProcessFunction {
  processElement(r, ctx) {
    return [`A ${r[0]} ${r[2]} limit=${ctx.broadcastState(LIMITS).get(r[0], "none")}`];
  }

  processBroadcastElement(r, ctx) {
    const limits = ctx.broadcastState(LIMITS);
    limits.put(r[0], r[2]);
    return [`B ${r[0]} ${r[2]} size=${limits.size()}`];
  }
}

/** The keyed aggregations by mode. */
const AGGREGATIONS = { sum: "sum", min: "min", max: "max", "min-by": "minBy", "max-by": "maxBy" };

/** The modes of one keyed input read in file order. */
function perKey(env, args, mode, output) {
  const records = env.readTextFile(args.required("a")).setParallelism(1).map(parse).setParallelism(1);
  const size = args.getInt("size", 3);
  let out;
  if (mode.endsWith("-named")) {
    const objects = records.map((r) => ({ key: r[0], ts: r[1], amount: r[2] })).setParallelism(1);
    const byKey = objects.keyBy((o) => o.key).setParallelism(1);
    byKey[AGGREGATIONS[mode.slice(0, -"-named".length)]]("amount")
      .map((o) => `${o.key},${o.ts},${o.amount}`)
      .printOrWrite(output);
    return;
  }
  const keyed = records.keyBy((r) => r[0]).setParallelism(1);
  if (mode === "sum-missing") out = keyed.sum(3);
  else if (mode in AGGREGATIONS) out = keyed[AGGREGATIONS[mode]](2);
  else if (mode === "count-sum") out = keyed.countWindow(size).reduce((a, b) => [a[0], a[1], a[2] + b[2]]);
  else {
    out = keyed.countWindow(size, args.getInt("slide", 1)).process((key, rs) => [`${key}:${rs.map((r) => r[2]).join(";")}`]);
    out.printOrWrite(output);
    return;
  }
  out.map((r) => `${r[0]},${r[1]},${r[2]}`).printOrWrite(output);
}

/** The modes of two inputs with event time: joins and window-all. */
function timed(env, args, mode, output) {
  const strategy = WatermarkStrategy.forBoundedOutOfOrderness(2000);
  const read = (name) => env.readTextFile(args.required(name)).map(parse).assignTimestampsAndWatermarks(strategy, (r) => r[1]);
  const a = read("a");
  if (mode === "window-all") {
    a.windowAll(TumblingEventTimeWindows.of(10_000))
      .process((w, rs) => [`${w.maxTimestamp()},${rs.length},${rs.reduce((s, r) => s + r[2], 0)}`])
      .printOrWrite(output);
    return;
  }
  const b = read("b");
  if (mode === "interval") {
    const unmatched = new OutputTag("unmatched");
    let join = a
      .keyBy((r) => r[0], Types.STRING)
      .intervalJoin(b.keyBy((r) => r[0], Types.STRING))
      .between(args.requiredInt("lower"), args.requiredInt("upper"))
      .sideOutputLeftUnmatched(unmatched);
    if (args.flag("lower-exclusive")) join = join.lowerBoundExclusive();
    if (args.flag("upper-exclusive")) join = join.upperBoundExclusive();
    const joined = join.process((x, y, _ctx, out) => out.collect(pair(x, y)));
    joined.getSideOutput(unmatched).map((r) => `UNMATCHED ${r[0]},${r[1]}`).printOrWrite(output === undefined ? undefined : `${output}/unmatched`);
    joined.printOrWrite(output);
    return;
  }
  const assigners = {
    tumbling: () => TumblingEventTimeWindows.of(10_000),
    sliding: () => SlidingEventTimeWindows.of(10_000, 5_000),
    session: () => EventTimeSessionWindows.withGap(3_000),
  };
  const assigner = assigners[args.required("assigner")];
  if (assigner === undefined) throw new InvalidArguments(`unknown assigner ${args.required("assigner")}`);
  a.join(b).where((r) => r[0]).equalTo((r) => r[0]).window(assigner()).apply(pair).printOrWrite(output);
}

/** The click enrichment with keyed broadcast state. */
function enrich(env, args, output) {
  const strategy = WatermarkStrategy.forBoundedOutOfOrderness(2000);
  const read = (name) =>
    env
      .readTextFile(args.required(name))
      .map((line) => line.split(","))
      .filter((f) => f.length === 3)
      .map((f) => [Number(f[0]), f[1], f[2]])
      .assignTimestampsAndWatermarks(strategy, (r) => r[0]);
  read("clicks")
    .keyBy((c) => c[1])
    .connect(read("profiles").name("parse-profiles").broadcast(PROFILES))
    .process(new Enrich())
    .name("enrich")
    .uid("enrich")
    .printOrWrite(output);
}

/** Sums amounts per key; broadcast commands walk every key's sum. */
class ApplyKeyed extends KeyedBroadcastProcessFunction {
  constructor() {
    super();
    // The id of `sum` (FNV-1a) is 2^31 or more: the `state` import gets
    // it as a negative s32 (sdk/js/wflink/host_state.js).
    this.sum = new ValueState("sum");
  }

  processElement(r, _ctx, out) {
    this.sum.update(this.sum.value(0) + r[2]);
    out.collect(`A ${r[0]} ${r[2]}`);
  }

  processBroadcastElement(r, ctx, out) {
    let n = 0;
    if (r[0] === "double") {
      ctx.applyToKeyedState(this.sum, (_key, total) => {
        n += 1;
        total.update(total.value() * 2);
      });
      out.collect(`DOUBLED n=${n}`);
    } else if (r[0] === "flush") {
      ctx.applyToKeyedState(this.sum, (key, total) => {
        n += 1;
        out.collect(`FLUSH ${key} ${total.value()}`);
        total.clear();
      });
      out.collect(`FLUSHED n=${n}`);
    }
  }
}

/** Keyed sums walked by broadcast commands from a socket. */
function applyKeyed(env, args, output) {
  const commands = new MapStateDescriptor("commands");
  const b = env.socketTextStream("127.0.0.1", args.requiredInt("port")).setParallelism(1).map(parse).setParallelism(1);
  const a = env.readTextFile(args.required("a")).map(parse).keyBy((r) => r[0]);
  a.connect(b.broadcast(commands)).process(new ApplyKeyed()).printOrWrite(output);
}

/** The number `N` of a line's key `kN` (0 if it has none). */
function keyNumber(line) {
  const n = Number(line.split(",")[0].slice(1));
  return Number.isInteger(n) ? n : 0;
}

/** The lines of `a` sent to the next node by `--strategy`. */
function partition(env, args, output) {
  const lines = env.readTextFile(args.required("a")).setParallelism(args.getInt("up", 1));
  const strategy = args.required("strategy");
  let sent;
  if (strategy === "custom") sent = lines.partitionCustom((n, partitions) => n % partitions, keyNumber);
  else if (strategy === "custom-out-of-range") sent = lines.partitionCustom((_n, partitions) => partitions, keyNumber);
  else if (["rebalance", "rescale", "shuffle", "broadcast", "global", "forward"].includes(strategy)) sent = lines[strategy]();
  else throw new InvalidArguments(`unknown strategy ${strategy}`);
  sent.map((line) => line).printOrWrite(output);
}

function build(env, args) {
  env.setJobName("multi-input-js");
  const output = args.get("output");
  const mode = args.get("mode", "union");
  if (mode === "partition") {
    partition(env, args, output);
    return;
  }
  const aggregations = ["sum-named", "max-by-named", "sum-missing", ...Object.keys(AGGREGATIONS)];
  if ([...aggregations, "count-sum", "count-slide"].includes(mode)) {
    perKey(env, args, mode, output);
    return;
  }
  if (["window-all", "interval", "window"].includes(mode)) {
    timed(env, args, mode, output);
    return;
  }
  if (mode === "enrich") {
    enrich(env, args, output);
    return;
  }
  if (mode === "apply-keyed") {
    applyKeyed(env, args, output);
    return;
  }
  if (mode === "broadcast") {
    const b = env.readTextFile(args.required("b")).setParallelism(1).map(parse).setParallelism(1);
    env.readTextFile(args.required("a")).map(parse).connect(b.broadcast(LIMITS)).process(new Limits()).printOrWrite(output);
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
  } else if (mode === "key-types") {
    a.keyBy((r) => r[0], Types.STRING)
      .connect(b.keyBy((r) => r[2], Types.INT))
      .process(new WindowTotals())
      .printOrWrite(output);
  } else if (mode === "join-no-window") {
    a.join(b).where((r) => r[0]).equalTo((r) => r[0]).apply(pair).printOrWrite(output);
  } else {
    throw new InvalidArguments(`unknown mode ${mode}`);
  }
}

export const { job, operator } = exportJob(build);
