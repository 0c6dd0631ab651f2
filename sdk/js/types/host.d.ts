// What the library takes from its surroundings, typed for `tsc --checkJs`:
// the host's WIT imports (wit/host.wit, wit/state.wit), which
// componentize-js provides as modules, and the encoding globals
// StarlingMonkey (and Node) provide.

/** wit/host.wit `interface logging`. */
declare module "wflink:job/logging@0.6.0" {
  /** Severity of a log message. */
  export type Level = "trace" | "debug" | "info" | "warn" | "error";
  /** Writes one message to the log of the task that runs this instance. */
  export function log(level: Level, message: string): void;
}

/** wit/host.wit `interface metrics`. */
declare module "wflink:job/metrics@0.6.0" {
  /** Adds `delta` to the counter `name` of the current task. */
  export function counterAdd(name: string, delta: bigint): void;
}

/** wit/state.wit `interface state`: keyed state the host holds, read
 * during a call. A failed call throws an error whose `payload` is the
 * `StateError`. */
declare module "wflink:job/state@0.6.0" {
  /** wit/types.wit `state-error`: why a state import failed. */
  export type StateError =
    | { tag: "no-keyed-context" }
    | { tag: "foreign-key" }
    | { tag: "unknown-state"; val: number }
    | { tag: "other"; val: string };
  /** wit/types.wit `state-entries`: entries as flat buffers. */
  export interface StateEntries {
    stateIds: Uint32Array;
    keys: Uint8Array;
    keyEnds: Uint32Array;
    namespaces: Uint8Array;
    namespaceEnds: Uint32Array;
    userKeys: Uint8Array;
    userKeyEnds: Uint32Array;
    values: Uint8Array;
    valueEnds: Uint32Array;
  }
  /** One page of `keys`: record keys as flat buffers, as in a batch. */
  export interface KeyPage {
    keys: Uint8Array;
    keyEnds: Uint32Array;
    /** The key group the next page starts at; undefined on the last page. */
    nextGroup?: number;
  }
  /** The value stored at one address, or undefined; the store before the current call. */
  export function get(stateId: number, key: Uint8Array, namespace: Uint8Array, userKey: Uint8Array): Uint8Array | undefined;
  /** Up to `limit` entries of (`stateId`, `key`, `namespace`) in user-key
   * order after `after` (from the first when undefined); fewer than
   * `limit` means the end. */
  export function scan(
    stateId: number,
    key: Uint8Array,
    namespace: Uint8Array,
    after: Uint8Array | undefined,
    limit: number,
  ): StateEntries;
  /** The keys of this subtask holding an entry of `stateId`, key group by
   * key group from `fromGroup`, whole groups until `limit` keys. */
  export function keys(stateId: number, fromGroup: number, limit: number): KeyPage;
}

/** The WHATWG encoder: strings to UTF-8 bytes. */
declare class TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}

/** The WHATWG decoder: bytes to strings. */
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
}
