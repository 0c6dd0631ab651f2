// The current `process-with-context` or `on-timers` call: the named keyed
// state that travelled with it, the current key and namespace, the time,
// and the timers the call registers or deletes.
//
// There is one per component instance (an instance runs one chain), kept
// in `CALL`, so state handles can read "the current key's value" without
// a context argument, as in Flink. Outside a keyed call there is no
// current key, and state access throws a StateError.

import { JobError, UserError } from "./errors.js";

/** The watermark before the first one (WIT `time-context.watermark`). */
export const MIN_WATERMARK = -(2 ** 63);

/** The WIT `time-domain` of event-time timers and windows. */
export const EVENT_TIME = "event-time";
/** The WIT `time-domain` of processing-time timers and windows. */
export const PROCESSING_TIME = "processing-time";

/** Keyed state or a timer was used outside a keyed function, or a stored
 * value could not be encoded or decoded. */
export class StateError extends UserError {}

/** The pieces of a flat buffer (WIT `*-ends` convention), as subarrays. */
export function slices(buf, ends) {
  const out = new Array(ends.length);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    out[i] = buf.subarray(start, ends[i]);
    start = ends[i];
  }
  return out;
}

/** A string with one character per byte, to index a Map by bytes. */
export function byteString(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096));
  }
  return s;
}

/** The Map key of a state entry's address. */
function address(id, key, namespace, userKey) {
  return `${id}:${key.length}:${namespace.length}:${key}${namespace}${userKey}`;
}

/** Everything the current call knows and produces besides its main records. */
export class Call {
  constructor() {
    /** Whether the chain keeps its named state here between calls (the
     * host's `keep-state`): the store then outlives the call, the host
     * sends each entry once (restored state) and takes no changes back,
     * and `snapshot` hands every entry over at a checkpoint. */
    this.keep = false;
    this.begin(undefined, MIN_WATERMARK, 0);
  }

  /** Sets whether the chain keeps its state (see `keep`), dropping any
   * state of an earlier chain.
   * @param {boolean} keep */
  keepState(keep) {
    this.keep = keep;
    this.store = undefined;
    this.maps = undefined;
  }

  /** Starts a call with the WIT `state-entries` `raw` and the time (ms). */
  begin(raw, watermark, processingTime) {
    this.keyed = false;
    /** Key of the record or timer being processed (MessagePack bytes). */
    this.key = EMPTY;
    this.keyText = "";
    /** Namespace of the state in use (an encoded window, or empty). */
    this.namespace = EMPTY;
    this.namespaceText = "";
    this.watermark = watermark;
    this.processingTime = processingTime;
    this.raw = raw;
    /** Whether `raw` is in the store yet. */
    this.merged = false;
    if (!this.keep) {
      /** Address -> `{ id, key, namespace, userKey, value }` (value
       * undefined when deleted), built from `raw` on first use. */
      this.store = undefined;
      /** The store's entries by state, key and namespace (see `insert`). */
      this.maps = undefined;
    }
    /** Addresses written by this call. */
    this.dirty = new Set();
    /** Entries written by operators that keep their own tables (windows):
     * `[id, key, namespace, userKey, value]`, an empty value deletes. */
    this.direct = [];
    /** Timers registered by the call: `[domain, timestamp, key, namespace]`. */
    this.registered = [];
    /** Timers deleted by the call, as `registered`. */
    this.deleted = [];
  }

  /** Ends a call: the keyed context closes (state access fails again). */
  end() {
    this.keyed = false;
    this.raw = undefined;
    if (!this.keep) {
      this.store = undefined;
      this.maps = undefined;
    }
  }

  /** Makes `key` (bytes) the current key, with the empty namespace. */
  setKey(key, keyText) {
    this.keyed = true;
    this.key = key;
    this.keyText = keyText;
    this.namespace = EMPTY;
    this.namespaceText = "";
  }

  /** Leaves the current key: keyed state access fails again (as for a
   * broadcast record, which has no key). */
  clearKey() {
    this.keyed = false;
    this.key = EMPTY;
    this.keyText = "";
    this.namespace = EMPTY;
    this.namespaceText = "";
  }

  /** Adds `[userKey, value]` entries of state `id` stored for `key` (empty
   * namespace), read from the host during the call, as clean entries: an
   * address the call already knows (sent with it, loaded before, or
   * written) keeps what the call has. */
  load(id, key, entries) {
    const store = this.loaded();
    const keyText = byteString(key);
    for (const [userKey, value] of entries) {
      const userKeyText = byteString(userKey);
      const at = address(id, keyText, "", userKeyText);
      if (store.has(at)) continue;
      this.insert(at, { id, key, namespace: EMPTY, userKey, userKeyText, keyText, namespaceText: "", value });
    }
  }

  /** The keys (`[bytes, text]`) with an entry of state `id` (empty
   * namespace) in the call's view of the state, each once, in no
   * particular order. */
  keysHolding(id) {
    const out = new Map();
    for (const e of this.loaded().values()) {
      if (e.id === id && e.value !== undefined && e.namespaceText === "" && !out.has(e.keyText)) out.set(e.keyText, e.key);
    }
    return [...out].map(([text, key]) => [key, text]);
  }

  /** Sets the namespace (an encoded window) of the current key. */
  setNamespace(namespace) {
    this.namespace = namespace;
    this.namespaceText = byteString(namespace);
  }

  /** The entries that came with the call, as `[id, key, namespace,
   * userKey, value]` with byte arrays. */
  entries() {
    const raw = this.raw;
    if (raw === undefined) return [];
    const keys = slices(raw.keys, raw.keyEnds);
    const namespaces = slices(raw.namespaces, raw.namespaceEnds);
    const userKeys = slices(raw.userKeys, raw.userKeyEnds);
    const values = slices(raw.values, raw.valueEnds);
    return Array.from(raw.stateIds, (id, i) => [id, keys[i], namespaces[i], userKeys[i], values[i]]);
  }

  /** Throws unless a keyed function is running. */
  requireKeyed() {
    if (!this.keyed) {
      throw new StateError("keyed state accessed outside a keyed context (use it in a keyed process function or window)");
    }
  }

  loaded() {
    if (this.store === undefined) {
      this.store = new Map();
      this.maps = new Map();
    }
    if (!this.merged) {
      this.merged = true;
      const keep = this.keep;
      for (const [id, key, namespace, userKey, value] of this.entries()) {
        // Broadcast state (empty key) is the broadcast operator's.
        if (keep && key.length === 0) continue;
        const k = byteString(key);
        const n = byteString(namespace);
        const u = byteString(userKey);
        const at = address(id, k, n, u);
        if (keep && this.store.has(at)) continue;
        const entry = keep
          ? { id, key: key.slice(), namespace: namespace.slice(), userKey: userKey.slice(), userKeyText: u, keyText: k, namespaceText: n, value: value.slice() }
          : { id, key, namespace, userKey, userKeyText: u, keyText: k, namespaceText: n, value };
        this.insert(at, entry);
      }
    }
    return this.store;
  }

  /** Every entry a chain that keeps its state holds, for a checkpoint:
   * `[id, key, namespace, userKey, value]`. */
  snapshot() {
    if (!this.keep || this.store === undefined) return [];
    const out = [];
    for (const e of this.store.values()) if (e.value !== undefined) out.push([e.id, e.key, e.namespace, e.userKey, e.value]);
    return out;
  }

  /** Adds a new entry at `at`, indexed by its state, key and namespace
   * (so a map state's scan reads only its own entries). */
  insert(at, entry) {
    this.store.set(at, entry);
    const of = address(entry.id, entry.keyText, entry.namespaceText, "");
    let entries = this.maps.get(of);
    if (entries === undefined) {
      entries = [];
      this.maps.set(of, entries);
    }
    entries.push(entry);
  }

  /** The stored bytes of a state of the current key and namespace, or undefined. */
  get(id, userKey = EMPTY) {
    this.requireKeyed();
    const entry = this.loaded().get(address(id, this.keyText, this.namespaceText, byteString(userKey)));
    return entry === undefined ? undefined : entry.value;
  }

  /** Writes (`undefined`: deletes) a state of the current key and namespace. */
  set(id, userKey, value) {
    this.requireKeyed();
    const u = byteString(userKey);
    const at = address(id, this.keyText, this.namespaceText, u);
    const store = this.loaded();
    const entry = store.get(at);
    if (entry !== undefined) entry.value = value;
    else {
      const { key, keyText, namespace, namespaceText } = this;
      this.insert(at, { id, key, namespace, userKey, userKeyText: u, keyText, namespaceText, value });
    }
    this.dirty.add(at);
  }

  /** `[userKey, value]` bytes of a map state of the current key and
   * namespace, in no particular order. */
  scan(id) {
    this.requireKeyed();
    this.loaded();
    const entries = this.maps.get(address(id, this.keyText, this.namespaceText, "")) || [];
    const out = [];
    for (const e of entries) if (e.value !== undefined) out.push([e.userKey, e.value]);
    return out;
  }


  /** Registers a timer of the current key and namespace. */
  registerTimer(domain, timestamp) {
    this.requireKeyed();
    this.registered.push([domain, checkTime(timestamp), this.key, this.namespace]);
  }

  /** Deletes a timer of the current key and namespace. */
  deleteTimer(domain, timestamp) {
    this.requireKeyed();
    this.deleted.push([domain, checkTime(timestamp), this.key, this.namespace]);
  }

  /** The entries written by the call: `[id, key, namespace, userKey,
   * value]`, an empty value for a deletion. */
  changes() {
    const out = this.direct.slice();
    const store = this.store;
    if (this.keep) {
      // Nothing goes back; deleted entries leave the store and its index.
      for (const at of this.dirty) {
        const e = store.get(at);
        if (e.value !== undefined) continue;
        store.delete(at);
        const of = address(e.id, e.keyText, e.namespaceText, "");
        const list = this.maps.get(of);
        list.splice(list.indexOf(e), 1);
        if (list.length === 0) this.maps.delete(of);
      }
      return out;
    }
    for (const at of this.dirty) {
      const e = store.get(at);
      out.push([e.id, e.key, e.namespace, e.userKey, e.value === undefined ? EMPTY : e.value]);
    }
    return out;
  }
}

const EMPTY = new Uint8Array(0);

/** A timer's time as an integer of ms (a Number or a BigInt). */
function checkTime(timestamp) {
  if (typeof timestamp === "bigint") return Number(timestamp);
  if (!Number.isInteger(timestamp)) throw new TypeError(`a timer needs an integer of ms, got ${timestamp}`);
  return timestamp;
}

/** The call of this instance. */
export const CALL = new Call();

/** Refuses state entries whose offsets disagree (a host bug). */
export function checkEntries(raw) {
  const n = raw.stateIds.length;
  for (const [buf, ends] of [
    [raw.keys, raw.keyEnds],
    [raw.namespaces, raw.namespaceEnds],
    [raw.userKeys, raw.userKeyEnds],
    [raw.values, raw.valueEnds],
  ]) {
    if (ends.length !== n) throw new JobError("malformed state entries: offsets disagree with state ids (a host bug)");
    let previous = 0;
    for (const end of ends) {
      if (end < previous || end > buf.length) throw new JobError("malformed state entries: offset out of bounds (a host bug)");
      previous = end;
    }
  }
}
