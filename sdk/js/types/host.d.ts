// What the library takes from its surroundings, typed for `tsc --checkJs`:
// the host's WIT imports (wit/host.wit), which componentize-js provides as
// modules, and the encoding globals StarlingMonkey (and Node) provide.

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
