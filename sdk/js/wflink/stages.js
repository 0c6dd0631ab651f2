// The batch functions of the stateless nodes inside a chain (map, filter,
// flatMap, timestamps, process functions): an array of records in, an
// array out, with an array carried beside them. Both ways of running a
// chain (chain.js, timed.js) use them.

import { JobError } from "./errors.js";
import { Context } from "./process.js";

/** Most arrays one `concat` call takes (the engines limit a call's arguments). */
const CONCAT_MAX = 16384;

/** The records `fn` makes of each of `values`, in order: each call's
 * array kept as it is, then all of them flattened by native `concat`
 * calls (an interpreted push per record costs more than the user's own
 * function returning it). An iterable that is not an array is read into one.
 * @param {(record: any) => any} fn
 * @param {any[]} values
 * @returns {any[]} */
function flatMapAll(fn, values) {
  const n = values.length;
  const parts = new Array(n);
  for (let i = 0; i < n; i++) {
    const produced = fn(values[i]);
    parts[i] = Array.isArray(produced) ? produced : [...produced];
  }
  if (n <= CONCAT_MAX) return EMPTY.concat(...parts);
  let out = [];
  for (let i = 0; i < n; i += CONCAT_MAX) out = out.concat(...parts.slice(i, i + CONCAT_MAX));
  return out;
}

/** Never changed: `concat`'s receiver (its result is a new array). */
const EMPTY = Object.freeze([]);

/** The batch function `(values, along) => [values, along]` of a node
 * that is not a keyed first node: `along` is an array carried beside the
 * records (their event timestamps, or the index of the input record each
 * came from), undefined when there is none; `sides` holds the chain's side
 * output buffers (for a process function). Plain indexed loops: the engine
 * interprets them with the fewest steps per record (no callback per
 * record as `map` and `forEach` make, no iterator protocol for arrays).
 * @param {any} node
 * @param {Map<number, any[]> | undefined} sides
 * @returns {(values: any[], along: any[] | undefined) => [any[], any[] | undefined]} */
export function stage(node, sides) {
  const fn = node.fn;
  switch (node.kind) {
    case "map":
      return (values, stamps) => {
        const out = new Array(values.length);
        for (let i = 0; i < values.length; i++) out[i] = fn(values[i]);
        return [out, stamps];
      };
    case "filter":
      return (values, stamps) => {
        const out = [];
        const outStamps = stamps === undefined ? undefined : [];
        for (let i = 0; i < values.length; i++) {
          const r = values[i];
          if (fn(r)) {
            out.push(r);
            if (outStamps !== undefined) outStamps.push(stamps[i]);
          }
        }
        return [out, outStamps];
      };
    case "flat-map":
      return (values, stamps) => {
        if (stamps === undefined) return [flatMapAll(fn, values), undefined];
        const out = [];
        const outStamps = stamps === undefined ? undefined : [];
        for (let i = 0; i < values.length; i++) {
          const produced = fn(values[i]);
          const before = out.length;
          if (Array.isArray(produced)) {
            for (let j = 0; j < produced.length; j++) out.push(produced[j]);
          } else {
            for (const p of produced) out.push(p);
          }
          if (outStamps !== undefined) for (let j = before; j < out.length; j++) outStamps.push(stamps[i]);
        }
        return [out, outStamps];
      };
    case "assign-timestamps":
      return (values) => {
        const outStamps = new Array(values.length);
        for (let i = 0; i < values.length; i++) {
          const t = fn(values[i]);
          if (typeof t === "bigint") outStamps[i] = Number(t);
          else if (Number.isSafeInteger(t)) outStamps[i] = t;
          else throw new TypeError(`the timestamp function returned ${String(t)}; return an integer of ms`);
        }
        return [values, outStamps];
      };
    case "process": {
      const ctx = new Context(sides);
      return (values, stamps) => {
        const out = [];
        const outStamps = stamps === undefined ? undefined : [];
        ctx.bind(out, outStamps);
        for (let i = 0; i < values.length; i++) {
          ctx.at(stamps === undefined ? undefined : stamps[i]);
          ctx.emitAll(fn(values[i], ctx, ctx.out));
        }
        return [out, outStamps];
      };
    }
    default:
      throw new JobError(`${node.label()} is a ${node.kind}, which cannot run inside a chain here`);
  }
}
