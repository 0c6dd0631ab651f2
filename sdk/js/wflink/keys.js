// Key types: what a key function returns, so that streams keyed by
// different types are not connected or joined (their keys could never
// meet). The Rust SDK refuses such a job at compile time; here the job may
// declare the key type (`keyBy(fn, Types.STRING)`, as Flink's `keyBy(selector,
// typeInfo)`), and connecting streams of two declared types is refused at
// submit. Keys of undeclared type are checked when they arrive: the first
// batch whose keys differ in kind from the other input's fails the job.

import { InvalidPlan } from "./errors.js";

/** Names of key types for `keyBy(fn, keyType)` and the joins' key
 * functions (Flink's `Types`). A tuple key is `Types.TUPLE(Types.STRING,
 * Types.INT)`; any other string names a type of your own. */
export class Types {
  /** A string key. */
  static STRING = "string";
  /** An integer key (a Number or a BigInt). */
  static INT = "int";
  /** A number key that may have a fraction. */
  static FLOAT = "float";
  /** A boolean key. */
  static BOOLEAN = "boolean";
  /** A byte-array key (Uint8Array). */
  static BYTES = "bytes";

  /** A tuple key (an array) of `types`, field by field.
   * @param {...string} types
   * @returns {string} */
  static TUPLE(...types) {
    return `(${types.map((t) => checkKeyType(t, "Types.TUPLE")).join(", ")})`;
  }
}

/** `keyType` if it is undefined or a non-empty string; throws otherwise.
 * @param {any} keyType
 * @param {string} what the operation, for the error
 * @returns {string | undefined} */
export function checkKeyType(keyType, what) {
  if (keyType === undefined) return undefined;
  if (typeof keyType !== "string" || keyType === "") {
    throw new TypeError(`${what}: a key type is a non-empty string, e.g. Types.STRING`);
  }
  return keyType;
}

/** Fails the plan when both keyed streams declare key types and they differ.
 * @param {any} first a KeyedStream
 * @param {any} second a KeyedStream
 * @param {string} what the operation, for the error */
export function sameKeyType(first, second, what) {
  const [a, b] = [first.keyType(), second.keyType()];
  if (a !== undefined && b !== undefined && a !== b) {
    first.plan.fail(new InvalidPlan(`${what}: the keyed streams have different key types (${a} and ${b}); key both by the same type`));
  }
}

/** The kind of an encoded key by its first MessagePack byte: numbers
 * (integers and floats alike, as JavaScript's numbers), strings, and so on.
 * @param {Uint8Array} key
 * @returns {string} */
export function encodedKind(key) {
  const b = key[0];
  if (b <= 0x7f || b >= 0xe0 || (b >= 0xca && b <= 0xd3)) return "number";
  if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb)) return "string";
  if ((b >= 0x90 && b <= 0x9f) || b === 0xdc || b === 0xdd) return "array";
  if ((b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf) return "map";
  if (b === 0xc2 || b === 0xc3) return "boolean";
  if (b >= 0xc4 && b <= 0xc6) return "bytes";
  if (b === 0xc0) return "null";
  return "extension";
}

/** The kind of a key value before encoding, as `encodedKind` names it.
 * @param {any} key
 * @returns {string} */
export function valueKind(key) {
  if (key === null || key === undefined) return "null";
  if (typeof key === "number" || typeof key === "bigint") return "number";
  if (typeof key === "string" || typeof key === "boolean") return typeof key;
  if (key instanceof Uint8Array) return "bytes";
  if (Array.isArray(key)) return "array";
  return "map";
}

/** Remembers the kind of key each input of a two-input keyed operator
 * brought, and refuses a batch whose keys differ from the other input's. */
export class KeyKinds {
  constructor() {
    /** @type {(string | undefined)[]} */
    this.kinds = [undefined, undefined];
  }

  /** Checks the kind `kind` of a key of input `input` (0 or 1); the
   * returned message is undefined when it agrees.
   * @param {number} input
   * @param {string} kind
   * @returns {string | undefined} */
  check(input, kind) {
    if (this.kinds[input] === undefined) this.kinds[input] = kind;
    const other = this.kinds[1 - input];
    if (other === undefined || other === kind) return undefined;
    const [k0, k1] = input === 0 ? [kind, other] : [other, kind];
    return `connects keyed streams with different key types: input 0 has ${k0} keys, input 1 ${k1} keys; key both by the same type`;
  }
}
