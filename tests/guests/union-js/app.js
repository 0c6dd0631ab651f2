// A JavaScript job of two inputs for the runtime tests: the lines
// `key,timestamp_ms,amount` of `--a` and `--b`, merged with `union`,
// then a running sum of the amounts per key, printed (or written under
// `--output DIR`) as `(key,sum)` after every record.

import { exportJob } from "wflink";

function parse(line) {
  const [key, , amount] = line.split(",");
  return [key, Number(amount)];
}

function build(env, args) {
  env.setJobName("union-js");
  const a = env.readTextFile(args.required("a")).map(parse);
  const b = env.readTextFile(args.required("b")).map(parse);
  a.union(b).keyBy((r) => r[0]).sum(1).printOrWrite(args.get("output"));
}

export const { job, operator } = exportJob(build);
