// A job's arguments parse by the Rust SDK's rules (wflink/args.js).

import assert from "node:assert/strict";
import { test } from "node:test";

import { Args, InvalidArguments } from "wflink";

test("named values, bare flags and positional tokens", () => {
  const args = new Args(["pos", "--input", "in.txt", "--n=3", "--strict", "--port", "80", "--port", "81"]);
  assert.equal(args.required("input"), "in.txt");
  assert.equal(args.getInt("n"), 3);
  assert.equal(args.flag("strict"), true);
  assert.equal(new Args(["--strict", "true"]).flag("strict"), true);
  assert.equal(new Args(["--strict", "no"]).flag("strict"), false);
  assert.equal(args.get("strict", "fallback"), "fallback");
  assert.equal(args.requiredInt("port"), 81, "the last occurrence wins");
  assert.deepEqual(args.positional, ["pos"]);
  assert.equal(args.has("output"), false);
  assert.equal(args.get("output"), undefined);
});

test("missing or malformed values are InvalidArguments", () => {
  const args = new Args(["--n", "three"]);
  assert.throws(() => args.required("input"), (e) => e instanceof InvalidArguments && e.tag === "invalid-arguments");
  assert.throws(() => args.getInt("n"), /cannot read 'three' as an integer/);
});
