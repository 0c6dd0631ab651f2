// Stack frames of a bundled job point back at the job's own files and
// lines (wflink/sourcemap.js), and the library's frames are left out.

import assert from "node:assert/strict";
import { test } from "node:test";

import { userStack } from "../wflink/chain.js";
import { decodeMappings, mapStack } from "../wflink/sourcemap.js";

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Base64 VLQ of one signed integer, as source maps write them. */
function vlq(n) {
  let value = n < 0 ? (-n << 1) | 1 : n << 1;
  let out = "";
  do {
    let digit = value & 31;
    value >>>= 5;
    if (value) digit |= 32;
    out += BASE64[digit];
  } while (value);
  return out;
}

/** Mappings of `lines` (per generated line, `[column, source, line, column]`
 * segments with absolute values), encoded relative as source maps do. */
function encode(lines) {
  const previous = [0, 0, 0];
  return lines
    .map((segments) => {
      let column = 0;
      return segments
        .map(([c, s, l, o]) => {
          const text = vlq(c - column) + vlq(s - previous[0]) + vlq(l - previous[1]) + vlq(o - previous[2]);
          column = c;
          previous.splice(0, 3, s, l, o);
          return text;
        })
        .join(",");
    })
    .join(";");
}

// Bundle line 1: library code; line 2: nothing; line 3: the app's
// `throw` (app.js line 7), with a second segment further right.
const segments = [[[0, 0, 9, 0]], [], [[0, 1, 6, 2], [20, 1, 6, 30]]];
const map = { file: "app.js", sources: ["wflink/chain.js", "app.js"], mappings: encode(segments) };

test("mappings decode to the segments they encode", () => {
  assert.deepEqual(decodeMappings(map.mappings), segments);
  assert.deepEqual(decodeMappings(encode([[[5, 0, 1000, 70], [9, 0, 3, 0]]])), [[[5, 0, 1000, 70], [9, 0, 3, 0]]]);
});

test("frames of the bundle name the original file, line and column", () => {
  const stack = "check@app.js:3:5\nlater@app.js:3:40\nrun@app.js:1:1\nnoMapping@app.js:2:1\nelsewhere@other.js:3:5";
  assert.equal(
    mapStack(stack, map),
    "check@app.js:7:3\nlater@app.js:7:31\nrun@wflink/chain.js:10:1\nnoMapping@app.js:2:1\nelsewhere@other.js:3:5",
  );
});

test("a user stack leaves out the library's and the bindings' frames", () => {
  globalThis[Symbol.for("wflink.sourceMap")] = map;
  const error = new TypeError("boom");
  error.stack = "check@app.js:3:5\nrun@app.js:1:1\nprocess@initializer.js:12:3\n";
  assert.equal(userStack(error), "\ncheck@app.js:7:3");
  assert.equal(userStack("not an error"), "");
});
