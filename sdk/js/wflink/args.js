// Command-line arguments of a job (everything after the `.wasm` path).

import { InvalidArguments } from "./errors.js";

/**
 * The job's arguments, parsed as `--key value`, `--key=value` and bare
 * `--flag`, with the Rust SDK's rules: a `--name` followed by a token that
 * does not start with `--` takes it as its value; other tokens are
 * positional; the last occurrence of a name wins.
 */
export class Args {
  /** Parses `raw` (the library makes one per build run).
   * @param {Iterable<string>} raw the job's arguments */
  constructor(raw) {
    /** The arguments exactly as given. */
    this.raw = [...raw];
    /** Tokens that are neither a `--key` nor its value. */
    /** @type {string[]} */
    this.positional = [];
    /** `--name` to its value (`null` when given bare).
     * @type {Map<string, string | null>} */
    this.named = new Map();
    for (let i = 0; i < this.raw.length; ) {
      const token = this.raw[i++];
      const name = token.startsWith("--") ? token.slice(2) : "";
      if (!name) {
        this.positional.push(token);
      } else if (name.includes("=")) {
        const at = name.indexOf("=");
        this.named.set(name.slice(0, at), name.slice(at + 1));
      } else if (i < this.raw.length && !this.raw[i].startsWith("--")) {
        this.named.set(name, this.raw[i++]);
      } else {
        this.named.set(name, null);
      }
    }
  }

  /** The value of `--name`, or `fallback` when absent or bare.
   * @template [T=undefined]
   * @param {string} name
   * @param {T} [fallback]
   * @returns {string | T} */
  get(name, fallback = undefined) {
    const value = this.named.get(name);
    return value == null ? fallback : value;
  }

  /** Whether `--name` was given at all.
   * @param {string} name
   * @returns {boolean} */
  has(name) {
    return this.named.has(name);
  }

  /** Whether `--name` was given bare, or as `--name true`.
   * @param {string} name
   * @returns {boolean} */
  flag(name) {
    if (!this.named.has(name)) return false;
    const value = this.named.get(name);
    return value === null || value === "true";
  }

  /** The value of `--name`; throws InvalidArguments when missing.
   * @param {string} name
   * @returns {string} */
  required(name) {
    const value = this.named.get(name);
    if (value == null) throw new InvalidArguments(`missing required argument --${name}`);
    return value;
  }

  /** The value of `--name` as an integer (or `fallback` when absent);
   * throws InvalidArguments when it does not parse.
   * @template [T=undefined]
   * @param {string} name
   * @param {T} [fallback]
   * @returns {number | T} */
  getInt(name, fallback = undefined) {
    const value = this.named.get(name);
    if (value == null) return fallback;
    if (!/^-?\d+$/.test(value)) throw new InvalidArguments(`argument --${name}: cannot read '${value}' as an integer`);
    return Number(value);
  }

  /** Like getInt, but a missing argument is an error too.
   * @param {string} name
   * @returns {number} */
  requiredInt(name) {
    this.required(name);
    return this.getInt(name);
  }
}
