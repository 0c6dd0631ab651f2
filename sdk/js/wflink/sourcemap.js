// Stack frames pointed back at the job's own files and lines.
//
// `wflink build` bundles a job with esbuild, so the engine's stack frames
// name lines of the bundle. The build appends the bundle's source map as
// `globalThis[Symbol.for("wflink.sourceMap")]`; this module reads it on the
// first error and rewrites `fn@app.js:LINE:COL` frames to the original file,
// line and column. Without a map (the library run by Node) frames stay as
// they are.

/**
 * The compact source map `wflink build` appends to a bundle.
 * @typedef {object} BundleSourceMap
 * @property {string} file The bundle's file name, as stack frames name it.
 * @property {string[]} sources The original files, relative to the project;
 *   the library's are `wflink/FILE`.
 * @property {string} mappings The source map's Base64 VLQ mappings.
 */

/** A decoded mapping: generated column, source index, original line, original column (all from 0).
 * @typedef {[number, number, number, number]} Segment */

const KEY = Symbol.for("wflink.sourceMap");
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** @type {{ map: BundleSourceMap, lines: Segment[][] } | null | undefined} */
let decoded;

/**
 * Decodes Base64 VLQ `mappings` into each generated line's segments, in
 * column order; segments without a source are left out.
 * @param {string} mappings
 * @returns {Segment[][]}
 */
export function decodeMappings(mappings) {
  /** @type {Segment[][]} */
  const lines = [];
  const state = [0, 0, 0, 0];
  for (const line of mappings.split(";")) {
    /** @type {Segment[]} */
    const segments = [];
    state[0] = 0;
    for (const segment of line.split(",")) {
      if (!segment) continue;
      const fields = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = BASE64.indexOf(char);
        if (digit < 0) throw new SyntaxError(`bad source map character '${char}'`);
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
        } else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      for (let i = 0; i < fields.length && i < 4; i++) state[i] += fields[i];
      if (fields.length >= 4) segments.push([state[0], state[1], state[2], state[3]]);
    }
    lines.push(segments);
  }
  return lines;
}

/**
 * The original place of `line`:`column` (from 1, as stack frames count)
 * of the bundle, or `undefined` when the map has none.
 * @param {BundleSourceMap} map
 * @param {Segment[][]} lines the decoded `map.mappings`
 * @param {number} line
 * @param {number} column
 * @returns {{ source: string, line: number, column: number } | undefined}
 */
export function originalPosition(map, lines, line, column) {
  const segments = lines[line - 1];
  if (!segments || segments.length === 0) return undefined;
  let found = segments[0];
  for (const segment of segments) {
    if (segment[0] > column - 1) break;
    found = segment;
  }
  return { source: map.sources[found[1]], line: found[2] + 1, column: found[3] + 1 };
}

/**
 * Rewrites the frames of `stack` (`fn@FILE:LINE:COL`, one a line) that
 * name the bundle to the original file, line and column, using `map`.
 * @param {string} stack
 * @param {BundleSourceMap} map
 * @param {Segment[][]} [lines] the decoded `map.mappings` (decoded here when absent)
 * @returns {string}
 */
export function mapStack(stack, map, lines = decodeMappings(map.mappings)) {
  return stack
    .split("\n")
    .map((frame) => {
      const match = /^(.*)@(.*):(\d+):(\d+)$/.exec(frame);
      if (!match || match[2] !== map.file) return frame;
      const place = originalPosition(map, lines, Number(match[3]), Number(match[4]));
      return place ? `${match[1]}@${place.source}:${place.line}:${place.column}` : frame;
    })
    .join("\n");
}

/**
 * `stack` pointed at the original sources when the running bundle carries
 * a source map; unchanged otherwise (or when the map cannot be read).
 * @param {string} stack
 * @returns {string}
 */
export function originalStack(stack) {
  if (decoded === undefined) {
    /** @type {BundleSourceMap | undefined} */
    const map = /** @type {any} */ (globalThis)[KEY];
    try {
      decoded = map ? { map, lines: decodeMappings(map.mappings) } : null;
    } catch {
      decoded = null;
    }
  }
  return decoded ? mapStack(stack, decoded.map, decoded.lines) : stack;
}
