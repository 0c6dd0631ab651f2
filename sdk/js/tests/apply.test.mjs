// `ctx.applyToKeyedState` of a keyed broadcast process function, run in
// Node through the component's own exports against the host of host.mjs,
// which stands in for the host's `state` import (the keys of a state page
// by page, a key's entries page by page) over the entries it stores, and
// hands each call its batch's keys' entries and stores what it wrote.
// End to end: tests/js_inputs.rs.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  BroadcastProcessFunction,
  KeyedBroadcastProcessFunction,
  ListState,
  MapState,
  MapStateDescriptor,
  StateError,
  ValueState,
} from "wflink";
import { PAGES } from "../wflink/host_state.js";
import { packb, unpackb } from "../wflink/msgpack.js";
import { stateId } from "../wflink/state.js";
import { open } from "./host.mjs";

const COMMANDS = new MapStateDescriptor("commands");
const [SUM, AMOUNTS, BY_AMOUNT] = ["sum", "amounts", "by-amount"].map(stateId);

// Pages of 2 keys and 2 entries, so that every walk takes several.
const pages = { ...PAGES };
before(() => Object.assign(PAGES, { keys: 2, entries: 2 }));
after(() => Object.assign(PAGES, pages));

/** Per key: the sum of the amounts (`sum`), the amounts (`amounts`) and
 * how often each came (`by-amount`). A broadcast command (or several,
 * `;`-separated) walks every key's state. */
class Totals extends KeyedBroadcastProcessFunction {
  constructor() {
    super();
    this.sum = new ValueState("sum");
    this.amounts = new ListState("amounts");
    this.byAmount = new MapState("by-amount");
  }

  processElement(r) {
    this.sum.update(this.sum.value(0) + r[1]);
    this.amounts.add(r[1]);
    this.byAmount.put(r[1], this.byAmount.get(r[1], 0) + 1);
  }

  processBroadcastElement(commands, ctx, out) {
    for (const command of commands.split(";")) {
      const visited = [];
      const walks = {
        double: [this.sum, (key, total) => void (visited.push(key), total.update(total.value() * 2))],
        flush: [
          this.sum,
          (key, total) => {
            visited.push(key);
            out.collect(`FLUSH ${key} ${total.value()}`);
            total.clear();
          },
        ],
        // A generator: what it yields is emitted.
        "drop-ones": [
          this.byAmount,
          function* (key, counts) {
            visited.push(key);
            yield `${key} ${JSON.stringify(counts.entries().sort((a, b) => a[0] - b[0]))}`;
            counts.remove(1);
          },
        ],
        trim: [this.amounts, (key, amounts) => void (visited.push(key), amounts.update(amounts.get().slice(0, 1)))],
      };
      const [state, fn] = walks[command];
      ctx.applyToKeyedState(state, fn);
      let after = "a key is set";
      try {
        this.sum.value();
      } catch (e) {
        if (e instanceof StateError) after = "no key";
      }
      out.collect(`${command} n=${visited.length} keys=${visited.sort().join(",")} ${after}`);
    }
  }
}

function job(env) {
  const a = env.readTextFile("a").map((line) => [line, 1]).keyBy((r) => r[0]);
  a.connect(env.readTextFile("b").broadcast(COMMANDS)).process(new Totals()).name("totals").print();
}

const KEYS = Array.from({ length: 9 }, (_, i) => `k${i}`);
/** Key `kI`'s amounts: 1, then 1 to I + 1. */
const amounts = (i) => [1, ...Array.from({ length: i + 1 }, (_, j) => j + 1)];
const total = (i) => amounts(i).reduce((a, b) => a + b, 0);

/** The totals chain on the stand-in host, every key's records sent. */
function filled() {
  const { host } = open(job, "totals");
  assert.equal(host.kept, false, "the host holds a keyed broadcast chain's state");
  KEYS.forEach((key, i) => host.send(amounts(i).map((a) => [key, [key, a], 0])));
  return host;
}

/** Sends one broadcast record; returns the lines printed. */
function broadcast(host, command) {
  const before = host.out.length;
  host.send([[undefined, command, 0]], 1);
  return host.out.slice(before).map(([v]) => v);
}

/** The last call's written entries of state `id`: `[key, userKey, value or undefined]`. */
function written(host, id) {
  return host.written
    .filter((e) => e[0] === id)
    .map(([, k, n, u, v]) => {
      assert.equal(n.length, 0, "keyed state of a process function has the empty namespace");
      return [unpackb(k), u, v.length ? unpackb(v) : undefined];
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

const stored = (host, id, key, userKey = new Uint8Array(0)) => host.get(id, packb(key), new Uint8Array(0), userKey);
const none = new Uint8Array(0);

test("every key holding the state is visited once, its updates come out as written entries", () => {
  const host = filled();
  assert.deepEqual(broadcast(host, "double"), [`double n=9 keys=${KEYS.join(",")} no key`]);
  assert.deepEqual(written(host, SUM), KEYS.map((k, i) => [k, none, 2 * total(i)]));
  assert.equal(host.written.length, KEYS.length, "only the sums were written");
  assert.deepEqual(KEYS.map((k) => unpackb(stored(host, SUM, k))), KEYS.map((_, i) => 2 * total(i)));
  // Keys page by page from key group 0, each page starting where the last ended.
  const pages = host.importCalls.filter((c) => c[0] === "keys").map((c) => c[1]);
  assert.equal(pages[0], 0);
  assert.ok(pages.length > 2 && pages.every((g, i) => i === 0 || g > pages[i - 1]), `pages from groups ${pages}`);
  // One scan per key: a value state has one entry, fewer than a page.
  const scanned = host.importCalls.filter((c) => c[0] === "scan").map((c) => unpackb(c[1]));
  assert.deepEqual(scanned.sort(), KEYS);
});

test("a cleared state comes out as deletions and its keys are not visited again", () => {
  const host = filled();
  const lines = broadcast(host, "flush");
  assert.deepEqual(lines.slice(0, -1).sort(), KEYS.map((k, i) => `FLUSH ${k} ${total(i)}`).sort());
  assert.equal(lines.at(-1), `flush n=9 keys=${KEYS.join(",")} no key`);
  assert.deepEqual(written(host, SUM), KEYS.map((k) => [k, none, undefined]));
  assert.ok(KEYS.every((k) => stored(host, SUM, k) === undefined));
  assert.deepEqual(broadcast(host, "flush"), ["flush n=0 keys= no key"]);
  assert.deepEqual(host.written, []);
  assert.ok(KEYS.every((k) => stored(host, AMOUNTS, k) !== undefined), "the other states are untouched");
});

test("within one call a walk sees what earlier walks wrote", () => {
  const host = filled();
  const lines = broadcast(host, "double;flush;flush");
  assert.equal(lines[0], `double n=9 keys=${KEYS.join(",")} no key`);
  assert.deepEqual(lines.slice(1, 10).sort(), KEYS.map((k, i) => `FLUSH ${k} ${2 * total(i)}`).sort());
  assert.deepEqual(lines.slice(10), [`flush n=9 keys=${KEYS.join(",")} no key`, "flush n=0 keys= no key"]);
  assert.deepEqual(written(host, SUM), KEYS.map((k) => [k, none, undefined]));
});

test("map and list states are read page by page and only their changes go back", () => {
  const host = filled();
  const lines = broadcast(host, "drop-ones");
  const counts = (i) => {
    const c = new Map();
    for (const a of amounts(i)) c.set(a, (c.get(a) ?? 0) + 1);
    return JSON.stringify([...c].sort((a, b) => a[0] - b[0]));
  };
  assert.deepEqual(lines.slice(0, -1).sort(), KEYS.map((k, i) => `${k} ${counts(i)}`).sort());
  assert.equal(lines.at(-1), `drop-ones n=9 keys=${KEYS.join(",")} no key`);
  assert.deepEqual(written(host, BY_AMOUNT), KEYS.map((k) => [k, packb(1), undefined]));
  // k8's map has 9 entries: 5 pages of 2, each after the last user key.
  const k8 = host.importCalls.filter((c) => c[0] === "scan" && unpackb(c[1]) === "k8").map((c) => c[2] && unpackb(c[2]));
  assert.deepEqual(k8, [undefined, 2, 4, 6, 8]);
  assert.equal(unpackb(stored(host, BY_AMOUNT, "k8", packb(2))), 1);
  assert.equal(stored(host, BY_AMOUNT, "k8", packb(1)), undefined);

  assert.equal(broadcast(host, "trim").at(-1), `trim n=9 keys=${KEYS.join(",")} no key`);
  assert.deepEqual(written(host, AMOUNTS), KEYS.map((k) => [k, none, 1]));
});

test("only the keys holding the state are visited", () => {
  const { host } = open(job, "totals");
  host.send([["a", ["a", 5], 0]]);
  host.state.delete(`${SUM}|${Buffer.from(packb("a")).toString("hex")}||`); // a holds amounts, not a sum
  host.send([["b", ["b", 2], 0]]);
  assert.deepEqual(broadcast(host, "double"), ["double n=1 keys=b no key"]);
});

/** Asserts that `f` fails the call with a user error matching `pattern`. */
function failsWith(f, pattern) {
  assert.throws(f, (e) => e.payload?.tag === "user" && pattern.test(e.payload.val));
}

test("the walk fails outside a keyed broadcast function's broadcast side", () => {
  class Plain extends BroadcastProcessFunction {
    constructor() {
      super();
      this.sum = new ValueState("sum");
    }

    processElement() {}

    processBroadcastElement(r, ctx) {
      ctx.applyToKeyedState(this.sum, () => {});
    }
  }
  const plain = (env) => {
    env.readTextFile("a").connect(env.readTextFile("b").broadcast(COMMANDS)).process(new Plain()).name("plain").print();
  };
  const p = open(plain, "plain").host;
  failsWith(() => p.send([[undefined, "x", 0]], 1), /applyToKeyedState needs keyed state: use a KeyedBroadcastProcessFunction/);

  let ctx;
  let capture;
  class Capture extends Totals {
    processElement(r, c) {
      [ctx, capture] = [c, this];
      c.applyToKeyedState(this.sum, () => {});
    }
  }
  const keyed = (env) => {
    const a = env.readTextFile("a").keyBy((r) => r);
    a.connect(env.readTextFile("b").broadcast(COMMANDS)).process(new Capture()).name("keyed").print();
  };
  const k = open(keyed, "keyed").host;
  failsWith(() => k.send([["x", "x", 0]]), /applyToKeyedState works in processBroadcastElement only/);
  ctx.writable = true;
  assert.throws(() => ctx.applyToKeyedState(COMMANDS, () => {}), /takes a keyed state handle/);
  assert.throws(() => ctx.applyToKeyedState(capture.sum, 7), /takes a function/);
});

test("host errors and a missing host fail clearly", () => {
  const host = filled();
  // SUM is 2^31 or more, so the import gets it as a negative s32; the
  // host answers with the u32 id.
  assert.ok(SUM >= 2 ** 31);
  host.keys = (id) => {
    throw Object.assign(new Error("state-error"), { payload: { tag: "unknown-state", val: id >>> 0 } });
  };
  failsWith(() => broadcast(host, "double"), new RegExp(`listing the keys of a state failed: state id ${SUM} is not declared`));
  host.call = (f) => f(); // no stand-in installed: as outside a component
  failsWith(() => broadcast(host, "double"), /the state import needs the wflink host/);
});
