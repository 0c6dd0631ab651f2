// The JavaScript library's explicit partitionings, run in Node through the
// component's own exports: the edge each one puts into the plan, and
// `partitionCustom`'s chain keying each record with the subtask its
// partitioner picks (4 bytes little-endian). End to end: tests/js_inputs.rs.

import assert from "node:assert/strict";
import { test } from "node:test";
import { exportJob } from "wflink";
import { packb, unpackb } from "../wflink/msgpack.js";
import { cut, flat } from "./host.mjs";

/** The plan `build` describes. */
function describe(build) {
  return exportJob(build).job.describe([]);
}

/** The edges of each node of the plan, as `[source, partitioning]`. */
function edges(plan) {
  return plan.nodes.map((n) => n.inputs.map((e) => [e.source, e.partitioning]));
}

for (const [method, partitioning] of [
  ["rebalance", "rebalance"],
  ["rescale", "rescale"],
  ["shuffle", "shuffle"],
  ["broadcast", "broadcast"],
  ["global", "global"],
  ["forward", "forward-strict"],
]) {
  test(`${method}() is the edge to the next node, ${partitioning}`, () => {
    const plan = describe((env) => {
      const lines = env.readTextFile("in")[method]();
      lines.map((l) => l.toUpperCase()).keyBy((l) => l[0]).reduce((a, b) => b).print();
    });
    assert.deepEqual(edges(plan), [[], [[0, partitioning]], [[1, "forward"]], [[2, "hash"]], [[3, "forward"]]]);
  });
}

test("partitioning a keyed stream is refused with one line", () => {
  const build = (env) => env.readTextFile("in").keyBy((l) => l).rebalance().print();
  assert.throws(
    () => describe(build),
    (e) => e.payload.tag === "invalid-plan" && /rebalance\(\) on the keyed stream of node 1 'Key By'.*before keyBy/.test(e.payload.val),
  );
});

/** A job splitting lines `name n` and partitioning them by `n` with `partitioner`. */
function customJob(partitioner) {
  return (env) => {
    const parsed = env.readTextFile("in").map((l) => l.split(" "));
    parsed.partitionCustom(partitioner, (r) => Number(r[1])).map((r) => r.join("")).print();
  };
}

/** Opens the chain of nodes 1 and 2 (map, partition-custom) with `partitions`
 * custom partitions and runs `lines` through it: the keys and values out. */
function partitionLines(partitioner, partitions, lines) {
  const { job, operator } = exportJob(customJob(partitioner));
  job.describe([]);
  operator.open([], Uint32Array.from([1, 2]), { index: 0, parallelism: 1, maxParallelism: 128, customPartitions: partitions });
  const [values, valueEnds] = flat(lines.map((l) => packb(l)));
  const empty = new Uint8Array(0);
  const batch = { values, valueEnds, keys: empty, keyEnds: new Uint32Array(0), timestamps: new BigInt64Array(0) };
  const { records } = operator.process(batch, { keys: empty, keyEnds: new Uint32Array(0), values: empty, valueEnds: new Uint32Array(0) });
  return { keys: cut(records.keys, records.keyEnds).map((k) => [...k]), values: cut(records.values, records.valueEnds).map(unpackb) };
}

test("partitionCustom ends its chain and keys each record with the partition picked", () => {
  const plan = describe(customJob((key, n) => key % n));
  const node = plan.nodes[2];
  assert.deepEqual([node.kind.tag, node.name, node.uid], ["partition-custom", "Partition Custom", "partition-custom-2"]);
  assert.deepEqual(edges(plan)[3], [[2, "custom"]]);
  const { keys, values } = partitionLines((key, n) => key % n, 3, ["a 4", "b 9", "c 2"]);
  assert.deepEqual(keys, [[1, 0, 0, 0], [0, 0, 0, 0], [2, 0, 0, 0]]);
  assert.deepEqual(values, [["a", "4"], ["b", "9"], ["c", "2"]]);
  const object = { partition: (key) => Math.floor(key / 10) };
  assert.deepEqual(partitionLines(object, 2, ["a 4", "b 19"]).keys, [[0, 0, 0, 0], [1, 0, 0, 0]], "a partitioner object");
});

test("a partition out of range or not an integer fails the call naming the node", () => {
  for (const [partitioner, message] of [
    [(key, n) => n, "node 2 'Partition Custom': the partitioner returned partition 2, but the next operator has 2 subtasks"],
    [() => -1, "the partitioner returned partition -1"],
    [() => "0", 'the partitioner returned string "0", not an integer partition (0 to 1)'],
    [() => 0.5, "the partitioner returned number 0.5, not an integer partition"],
  ]) {
    assert.throws(
      () => partitionLines(partitioner, 2, ["a 4"]),
      (e) => e.payload.tag === "user" && e.payload.val.includes(message),
      message,
    );
  }
  assert.throws(
    () => partitionLines((key, n) => key % n, 0, ["a 4"]),
    (e) => e.payload.tag === "invalid-plan" && e.payload.val.includes("no partitions to pick among"),
  );
});
