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

import { CoProcessFunction, InvalidArguments, OutputTag, WatermarkStrategy, exportJob } from "wflink";

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

function build(env, args) {
  env.setJobName("multi-input-js");
  const output = args.get("output");
  const a = env.readTextFile(args.required("a")).map(parse);
  let b = env.readTextFile(args.required("b")).map(parse);
  const mode = args.get("mode", "union");
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
  } else {
    throw new InvalidArguments(`unknown mode ${mode}`);
  }
}

export const { job, operator } = exportJob(build);
