// The host's logging and metrics imports.

import { log as hostLog } from "wflink:job/logging@0.6.0";
import { counterAdd as hostCounterAdd } from "wflink:job/metrics@0.6.0";

/** Writes `message` to the task's log; `level` is one of "trace",
 * "debug", "info", "warn", "error".
 * @param {"trace" | "debug" | "info" | "warn" | "error"} level
 * @param {unknown} message (made a string) */
export function log(level, message) {
  hostLog(level, String(message));
}

/** Adds `delta` to the task's user counter `name`; call it per batch or
 * rarely, not per record.
 * @param {string} name
 * @param {number | bigint} delta a non-negative integer */
export function counterAdd(name, delta) {
  hostCounterAdd(String(name), BigInt(delta));
}
