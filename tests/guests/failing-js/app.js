// A JavaScript job whose map throws a TypeError on the line "boom"; the
// runtime must fail the task with the message and the stack.

import { exportJob } from "wflink";

function check(line) {
  if (line === "boom") throw new TypeError(`failing-js cannot handle '${line}'`);
  return line;
}

function build(env, args) {
  env.setJobName("failing-js");
  env.readTextFile(args.required("input")).map(check).name("check").print();
}

export const { job, operator } = exportJob(build);
