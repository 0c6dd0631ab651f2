// The batch fast paths of wflink/batch.js write and read exactly the bytes
// of the per-value codec (msgpack.js), on random batches of strings,
// [string, integer] pairs and mixed values, ASCII or not, short or long.

import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeValues, encodeRecords, packAll } from "../wflink/batch.js";
import { Writer, pack, unpackb } from "../wflink/msgpack.js";
import { stage } from "../wflink/stages.js";

/** A small seeded generator (xorshift), so a failure repeats. */
function rng(seed) {
  let x = seed;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

const LENGTHS = [0, 1, 5, 20, 31, 32, 40, 200, 255, 256, 300];
const INTS = [0, 1, 127, 128, 255, 256, 65535, -1, -32, -33, 2 ** 40, 1.5, 2n, "1", true];

function randomStr(next) {
  const chars = next(3) === 0 ? "ab\u00e9\u4e2dxyz" : "abcxyz019 ,.";
  let s = "";
  for (let i = LENGTHS[next(LENGTHS.length)]; i > 0; i--) s += chars[next(chars.length)];
  return s;
}

function randomBatch(next) {
  const kind = next(3);
  const out = [];
  for (let i = 1 + next(6); i > 0; i--) {
    const pair = () => [randomStr(next), INTS[next(INTS.length)]];
    if (kind === 0) out.push(randomStr(next));
    else if (kind === 1) out.push(pair());
    else out.push([randomStr(next), pair(), [1, 2], null, 3.5, true, 7, "1", ["a", "1"]][next(9)]);
  }
  return out;
}

/** `value` as JSON, BigInts included, for a failure's message. */
function show(value) {
  return JSON.stringify(value, (_, x) => (typeof x === "bigint" ? `${x}n` : x));
}

/** The per-value encoding of `records`, after a first byte already in the buffer. */
function slow(records) {
  const w = new Writer(16);
  w.append(Uint8Array.of(0x78));
  const ends = [];
  for (const r of records) {
    pack(w, r);
    ends.push(w.length);
  }
  return [w.finish(), ends];
}

test("the batch encoders write what the per-value encoder writes", () => {
  const next = rng(5);
  for (let round = 0; round < 3000; round++) {
    const records = randomBatch(next);
    const w = new Writer(16);
    w.append(Uint8Array.of(0x78));
    const ends = [];
    packAll(w, ends, records);
    assert.deepEqual([w.finish(), ends], slow(records), show(records));

    const out = { values: new Writer(8), valueEnds: [], keys: new Writer(8), keyEnds: [] };
    out.values.append(Uint8Array.of(0x78));
    out.keys.append(Uint8Array.of(0x78));
    const key = (r) => (Array.isArray(r) ? r[0] : r);
    encodeRecords(out, records, key);
    assert.deepEqual([out.values.finish(), out.valueEnds], slow(records));
    assert.deepEqual([out.keys.finish(), out.keyEnds], slow(records.map(key)));
  }
});

test("word count pairs and what follows them in a batch encode as the per-value encoder does", () => {
  const words = [];
  for (const size of [0, 1, 2, 31]) for (const c of [0, 1, 9]) words.push(["w".repeat(size), c]);
  words.push(["a,b", 1], [",", 2]);
  const edges = [
    ["w", 10],
    ["w", -1],
    ["w", 1.5],
    ["w", "1"],
    ["w", 2n],
    ["w", true],
    ["w", -0],
    ["w".repeat(32), 1],
    ["\u00e9", 1],
    ["w", 1, 2],
    ["w"],
    [1, 1],
    "w,1",
    new (class {
      toString() {
        return "w,1";
      }
    })(),
    { toString: "x" },
    [["w", 1], 1],
    ["w", 1, "x"],
  ];
  const misaligned = [...words, ["a", 1, "b"], [2]];
  for (const batch of [words, misaligned, ...edges.map((edge) => [...words, edge]), ...edges.map((edge) => [edge, ...words])]) {
    const w = new Writer(16);
    w.append(Uint8Array.of(0x78));
    const ends = [];
    packAll(w, ends, batch);
    assert.deepEqual([w.finish(), ends], slow(batch), show(batch));
  }
  assert.throws(() => packAll(new Writer(16), [], [...words, Symbol("s")]), TypeError);
});

test("the batch decoder reads what the per-value decoder reads", () => {
  const next = rng(7);
  for (let round = 0; round < 3000; round++) {
    const records = randomBatch(next);
    const [bytes, ends] = slow(records);
    const data = bytes.subarray(1);
    const offsets = Uint32Array.from(ends, (e) => e - 1);
    let start = 0;
    const expected = Array.from(offsets, (end) => {
      const value = unpackb(data.subarray(start, end));
      start = end;
      return value;
    });
    assert.deepEqual(decodeValues(data, offsets, "test"), expected, show(records));
  }
});

test("a value that does not fill its slice fails the batch, naming the node", () => {
  const [bytes] = slow(["abc", "de"]);
  const data = bytes.subarray(1);
  assert.throws(() => decodeValues(data, Uint32Array.of(3, 7), "Map (3)"), /Map \(3\) could not decode its input/);
  assert.throws(() => decodeValues(data, Uint32Array.of(5, 7), "Map (3)"), /Map \(3\) could not decode its input/);
});

test("a flatMap's records come out in order, from arrays and other iterables, in batches of any size", () => {
  const fn = (n) => (n % 3 === 0 ? [] : n % 3 === 1 ? [n, [n]] : (function* () { yield n; })());
  const run = stage({ kind: "flat-map", fn }, undefined);
  for (const size of [0, 1, 5, 40000]) {
    const values = Array.from({ length: size }, (_, i) => i);
    const expected = [];
    for (const v of values) for (const r of fn(v)) expected.push(r);
    const [records, along] = run(values, undefined);
    assert.deepEqual(records, expected);
    assert.equal(along, undefined);
  }
  assert.throws(() => stage({ kind: "flat-map", fn: () => 7 }, undefined)([1], undefined), TypeError);
});
