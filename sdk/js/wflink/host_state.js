// The host's `state` import: the keys of this subtask holding a keyed
// state, and one key's entries of it, page by page.
//
// The state of a batch's keys travels with the batch; these calls are for
// what does not: a keyed broadcast process function's
// `ctx.applyToKeyedState`, which reaches every key of the subtask from a
// broadcast record. Both reflect the host's store as it was before the
// current call. The library's tests resolve the import to a stand-in
// (tests/hooks.mjs).

import { keys as hostKeys, scan as hostScan } from "wflink:job/state@0.6.0";
import { StateError, slices } from "./context.js";

// The import takes a state id's 32 bits as an s32 (`stateId | 0`; see
// wit/state.wit): componentize-js 0.23 passes a u32 argument of 2^31 or
// more to an import wrongly.

/** What one import call asks for: `keys` keys (a page holds whole key
 * groups, so it may hold more) or `entries` entries of a `scan`. */
export const PAGES = { keys: 1024, entries: 1024 };

/** Calls the import `f` for state `stateId`, turning its error (a WIT
 * `state-error`, thrown with it as `payload`) into a StateError. */
function call(what, stateId, f) {
  try {
    return f();
  } catch (e) {
    const error = e?.payload ?? e;
    let message;
    if (error?.tag === "no-keyed-context") message = "the host has no keyed context for this call";
    else if (error?.tag === "foreign-key") message = "the key belongs to another subtask";
    else if (error?.tag === "unknown-state") message = `state id ${error.val} is not declared by this operator`;
    else if (error?.tag === "other") message = String(error.val);
    else message = error instanceof Error ? error.message : String(error);
    throw new StateError(`${what} failed: ${message}`);
  }
}

/** Whether `ends` are offsets into a buffer of `length` bytes, in order. */
function wellFormed(ends, length) {
  let previous = 0;
  for (const end of ends) {
    if (end < previous || end > length) return false;
    previous = end;
  }
  return true;
}

/** Every key (MessagePack bytes, as in a keyed batch) of this subtask
 * holding an entry of `stateId`, key group by key group.
 * @param {number} stateId
 * @returns {Uint8Array[]} */
export function keysOf(stateId) {
  const out = [];
  let group = 0;
  for (;;) {
    const page = call("listing the keys of a state", stateId, () => hostKeys(stateId | 0, group, PAGES.keys));
    if (!wellFormed(page.keyEnds, page.keys.length)) throw new StateError("the host returned a malformed key page (a host bug)");
    for (const key of slices(page.keys, page.keyEnds)) out.push(key);
    const next = page.nextGroup;
    if (next === undefined || next === null) return out;
    if (next <= group) throw new StateError("the host's key pages do not move forward (a host bug)");
    group = next;
  }
}

/** `[userKey, value]` of every entry of `stateId` stored for `key` and
 * `namespace`, in user-key order.
 * @param {number} stateId
 * @param {Uint8Array} key
 * @param {Uint8Array} namespace
 * @returns {[Uint8Array, Uint8Array][]} */
export function entriesOf(stateId, key, namespace) {
  const out = [];
  let after;
  for (;;) {
    const page = call("reading a key's state", stateId, () => hostScan(stateId | 0, key, namespace, after, PAGES.entries));
    if (
      page.userKeyEnds.length !== page.valueEnds.length ||
      !wellFormed(page.userKeyEnds, page.userKeys.length) ||
      !wellFormed(page.valueEnds, page.values.length)
    ) {
      throw new StateError("the host returned malformed state entries (a host bug)");
    }
    const userKeys = slices(page.userKeys, page.userKeyEnds);
    const values = slices(page.values, page.valueEnds);
    for (let i = 0; i < userKeys.length; i++) out.push(/** @type {[Uint8Array, Uint8Array]} */ ([userKeys[i], values[i]]));
    if (userKeys.length < PAGES.entries) return out;
    after = userKeys[userKeys.length - 1];
  }
}
