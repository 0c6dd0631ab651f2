// A small in-memory host for the library's tests: it runs the component's
// own exports (`job`, `operator`) and keeps state entries and timers the
// way wflink's host does.

import assert from "node:assert/strict";
import { exportJob } from "wflink";
import { packb, unpackb } from "../wflink/msgpack.js";

export const MIN = -(2n ** 63n);

/** Flat buffers of encoded values. */
export function flat(parts) {
  const ends = [];
  let n = 0;
  for (const p of parts) ends.push((n += p.length));
  const bytes = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return [bytes, Uint32Array.from(ends)];
}

export function cut(bytes, ends) {
  const out = [];
  let start = 0;
  for (const end of ends) {
    out.push(bytes.slice(start, end));
    start = end;
  }
  return out;
}

const hex = (b) => Buffer.from(b).toString("hex");

/** The stand-in's key group of a key's bytes (of 16). */
export function keyGroup(key) {
  let h = 0x811c9dc5;
  for (const b of key) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h % 16;
}

/** One keyed operator's host side: stored state entries and timers. */
export class Host {
  constructor(operator) {
    this.operator = operator;
    /** `id|key|ns|user` (hex) -> `[id, key, ns, user, value]`. */
    this.state = new Map();
    /** `domain|ts|key|ns` -> `[domain, ts, key, ns]`. */
    this.timers = new Map();
    this.watermark = MIN;
    this.now = 0n;
    this.out = [];
    this.sides = [];
    /** Whether the chain keeps its state (`keep-state`): it then gets each
     * entry once and hands back no changes. */
    this.kept = operator.keepState();
    /** Addresses already sent to a chain that keeps its state. */
    this.sent = new Set();
    /** The `state` import's calls during the last operator call:
     * `["keys", fromGroup]` or `["scan", key, after]`. */
    this.importCalls = [];
  }

  // The `state` import (tests/hooks.mjs calls these while an operator
  // call runs), over the entries stored before the call, as the host's.

  /** The keys holding an entry of `stateId` from key group `fromGroup`
   * on, whole groups until `limit` keys are reached. */
  keys(stateId, fromGroup, limit) {
    assert.ok(stateId < 2 ** 31 && stateId >= -(2 ** 31), "the import takes the id's bits as an s32");
    stateId >>>= 0;
    this.importCalls.push(["keys", fromGroup]);
    const held = new Map();
    for (const [id, key] of this.state.values()) if (id === stateId && keyGroup(key) >= fromGroup) held.set(hex(key), key);
    const sorted = [...held.values()].map((k) => [keyGroup(k), k]).sort((a, b) => a[0] - b[0] || Buffer.compare(a[1], b[1]));
    const page = [];
    let last;
    let nextGroup;
    for (const [g, k] of sorted) {
      if (page.length >= limit && g !== last) {
        nextGroup = g;
        break;
      }
      page.push(k);
      last = g;
    }
    const [keys, keyEnds] = flat(page);
    return { keys, keyEnds, nextGroup };
  }

  /** Up to `limit` entries of (`stateId`, `key`, `namespace`) after the user key `after`. */
  scan(stateId, key, namespace, after, limit) {
    assert.ok(stateId < 2 ** 31 && stateId >= -(2 ** 31), "the import takes the id's bits as an s32");
    stateId >>>= 0;
    this.importCalls.push(["scan", key.slice(), after && after.slice()]);
    const found = [...this.state.values()]
      .filter(([id, k, n, u]) => id === stateId && hex(k) === hex(key) && hex(n) === hex(namespace) && (after === undefined || Buffer.compare(u, after) > 0))
      .sort((a, b) => Buffer.compare(a[3], b[3]))
      .slice(0, limit);
    const [u, ue] = flat(found.map((e) => e[3]));
    const [v, ve] = flat(found.map((e) => e[4]));
    const none = new Uint8Array(0);
    const ends = new Uint32Array(found.length);
    return { stateIds: Uint32Array.from(found, (e) => e[0]), keys: none, keyEnds: ends, namespaces: none, namespaceEnds: ends, userKeys: u, userKeyEnds: ue, values: v, valueEnds: ve };
  }

  /** The value stored at one address, or undefined. */
  get(stateId, key, namespace, userKey) {
    return this.state.get(`${stateId}|${hex(key)}|${hex(namespace)}|${hex(userKey)}`)?.[4];
  }

  /** Runs one operator call `f` with this host as the `state` import's. */
  call(f) {
    this.importCalls = [];
    globalThis.wflinkStateHost = this;
    try {
      return f();
    } finally {
      globalThis.wflinkStateHost = undefined;
    }
  }

  /** Every stored entry `[id, key, ns, user, value]`: the host's, or what
   * a chain that keeps its state would hand over at a checkpoint. */
  stored() {
    if (!this.kept) return [...this.state.values()];
    const s = this.operator.snapshotState();
    const [keys, nss, users, values] = [cut(s.keys, s.keyEnds), cut(s.namespaces, s.namespaceEnds), cut(s.userKeys, s.userKeyEnds), cut(s.values, s.valueEnds)];
    return [...s.stateIds].map((id, i) => [id, keys[i], nss[i], users[i], values[i]]).filter((e) => e[1].length > 0);
  }

  entriesOf(keys) {
    const wanted = new Set(keys.map(hex));
    let picked = [...this.state.values()].filter((e) => wanted.has(hex(e[1])));
    if (this.kept) {
      const at = (e) => `${e[0]}|${hex(e[1])}|${hex(e[2])}|${hex(e[3])}`;
      picked = picked.filter((e) => !this.sent.has(at(e)));
      picked.forEach((e) => this.sent.add(at(e)));
    }
    const [k, ke] = flat(picked.map((e) => e[1]));
    const [n, ne] = flat(picked.map((e) => e[2]));
    const [u, ue] = flat(picked.map((e) => e[3]));
    const [v, ve] = flat(picked.map((e) => e[4]));
    return { stateIds: Uint32Array.from(picked, (e) => e[0]), keys: k, keyEnds: ke, namespaces: n, namespaceEnds: ne, userKeys: u, userKeyEnds: ue, values: v, valueEnds: ve };
  }

  apply(result) {
    const s = result.state;
    if (this.kept) assert.equal(s.stateIds.length, 0, "a chain that keeps its state hands back no changes");
    const keys = cut(s.keys, s.keyEnds);
    const nss = cut(s.namespaces, s.namespaceEnds);
    const users = cut(s.userKeys, s.userKeyEnds);
    const values = cut(s.values, s.valueEnds);
    /** What the last call wrote: `[id, key, ns, user, value]`, an empty value deletes. */
    this.written = [...s.stateIds].map((id, i) => [id, keys[i], nss[i], users[i], values[i]]);
    s.stateIds.forEach((id, i) => {
      const at = `${id}|${hex(keys[i])}|${hex(nss[i])}|${hex(users[i])}`;
      if (values[i].length === 0) this.state.delete(at);
      else this.state.set(at, [id, keys[i], nss[i], users[i], values[i]]);
    });
    for (const [t, add] of [[result.timersRegistered, true], [result.timersDeleted, false]]) {
      const tk = cut(t.keys, t.keyEnds);
      const tn = cut(t.namespaces, t.namespaceEnds);
      t.timestamps.forEach((ts, i) => {
        const at = `${t.domains[i]}|${ts}|${hex(tk[i])}|${hex(tn[i])}`;
        if (add) this.timers.set(at, [t.domains[i], ts, tk[i], tn[i]]);
        else this.timers.delete(at);
      });
    }
    const r = result.records;
    cut(r.values, r.valueEnds).forEach((v, i) => this.out.push([unpackb(v), r.timestamps.length ? Number(r.timestamps[i]) : undefined]));
    const sr = result.sideOutputs;
    cut(sr.records.values, sr.records.valueEnds).forEach((v, i) => this.sides.push([sr.tags[i], unpackb(v)]));
  }

  time(input = 0) {
    return { watermark: this.watermark, processingTime: this.now, input };
  }

  /** Sends `[key, value, timestamp]` records as one keyed batch of input
   * `input` (a key of `undefined` sends the batch without keys). */
  send(records, input = 0) {
    const keys = records[0] && records[0][0] !== undefined ? records.map(([k]) => packb(k)) : [];
    const [kb, ke] = flat(keys);
    const [vb, ve] = flat(records.map(([, v]) => packb(v)));
    const stamps = records[0] && records[0][2] !== undefined ? BigInt64Array.from(records, (r) => BigInt(r[2])) : new BigInt64Array(0);
    const batch = { values: vb, valueEnds: ve, keys: kb, keyEnds: ke, timestamps: stamps };
    this.apply(this.call(() => this.operator.processWithContext(batch, this.entriesOf(keys), this.time(input))));
  }

  /** Sends an empty batch of input 1 with `entries` (WIT state-entries):
   * how the host hands a restored copy of broadcast state over. */
  restore(entries) {
    const empty = { values: new Uint8Array(0), valueEnds: new Uint32Array(0), keys: new Uint8Array(0), keyEnds: new Uint32Array(0), timestamps: new BigInt64Array(0) };
    this.apply(this.call(() => this.operator.processWithContext(empty, entries, this.time(1))));
  }

  /** Moves the watermark (and clock) and fires the due timers, in order. */
  advance(watermark, now = this.now) {
    this.watermark = BigInt(watermark);
    this.now = BigInt(now);
    const due = [...this.timers.entries()]
      .filter(([, [d, ts]]) => (d === "event-time" ? ts <= this.watermark : ts <= this.now))
      .sort((a, b) => (a[1][1] < b[1][1] ? -1 : a[1][1] > b[1][1] ? 1 : 0));
    if (due.length === 0) return;
    for (const [at] of due) this.timers.delete(at);
    const fired = due.map(([, t]) => t);
    const [k, ke] = flat(fired.map((t) => t[2]));
    const [n, ne] = flat(fired.map((t) => t[3]));
    const timers = { keys: k, keyEnds: ke, namespaces: n, namespaceEnds: ne, timestamps: BigInt64Array.from(fired, (t) => t[1]), domains: fired.map((t) => t[0]) };
    this.apply(this.call(() => this.operator.onTimers(timers, this.entriesOf(fired.map((t) => t[2])), this.time())));
  }
}

/** Opens the chain starting at the node named `name` of `build`'s plan. */
export function open(build, name, args = []) {
  const { job, operator } = exportJob(build);
  const plan = job.describe(args);
  const node = plan.nodes.find((n) => n.name === name);
  assert.ok(node, `the plan has a node named ${name}`);
  operator.open(args, Uint32Array.from([node.id]), { index: 0, parallelism: 1, maxParallelism: 128 });
  return { plan, node, host: new Host(operator) };
}

