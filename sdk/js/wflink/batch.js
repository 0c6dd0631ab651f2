// The flat batches that cross the boundary: records decoded from, and
// encoded into, one buffer of MessagePack values cut by end offsets.
//
// The engine interprets this code (no JIT inside WebAssembly), so every
// bytecode per record counts. The common shapes take paths with little
// work per record and none per byte:
// - decoding: a batch of strings (the text sources' lines) and of
//   [short string, small integer] pairs (counts) is cut out of one Latin-1
//   decoding of the whole buffer when its text is ASCII, with no decoder
//   call per record;
// - encoding: the ASCII strings of a batch (keys, words, lines, pairs'
//   first items) are joined and written by one `encodeInto`, and only the
//   headers are written byte by byte; any other record goes through `pack`.

import { UserError } from "./errors.js";
import { Reader, pack } from "./msgpack.js";

const utf8Encoder = new TextEncoder();

/** A decoder giving one distinct character per byte, if the engine has one. */
export const latin1 = (() => {
  try {
    const d = new TextDecoder("latin1");
    const all = new Uint8Array(256);
    for (let i = 0; i < 256; i++) all[i] = i;
    const text = d.decode(all);
    return text.length === 256 && new Set(text).size === 256 ? d : undefined;
  } catch {
    return undefined;
  }
})();

/** Room for the UTF-8 encoding of a batch's text, which tells how many of
 * its characters are not ASCII (grown as needed, kept between calls). */
let scratch = new Uint8Array(0);

/** How many characters of `text` are not ASCII: its UTF-8 encoding (one
 * native pass, where a regular expression runs interpreted) is one byte
 * longer for each of them, as long as they are below U+0800 (Latin-1 text
 * is). */
function nonAscii(text) {
  if (scratch.length < 2 * text.length) scratch = new Uint8Array(2 * text.length);
  return utf8Encoder.encodeInto(text, scratch).written - text.length;
}

/** Decodes each value of a flat buffer; a value that does not decode fails
 * the call naming the node `label`. */
export function decodeValues(values, ends, label) {
  try {
    return decodeAsciiBatch(values, ends) ?? decodeEach(values, ends);
  } catch (e) {
    throw new UserError(`${label} could not decode its input: ${e.message}`);
  }
}

/** The values of a batch made only of strings (fixstr, str8) and
 * [fixstr, fixint] pairs whose text is ASCII, cut out of one Latin-1
 * decoding of the buffer; undefined for any other batch. */
function decodeAsciiBatch(values, ends) {
  const n = ends.length;
  if (latin1 === undefined || n === 0 || ends[n - 1] > values.length) return undefined;
  const text = latin1.decode(values.subarray(0, ends[n - 1]));
  const out = new Array(n);
  // Header bytes of 0x80 and above: if the buffer has no others, every
  // string is ASCII and its Latin-1 text is its text.
  let headers = 0;
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = ends[i];
    const t = values[start];
    if (t >= 0xa0 && t <= 0xbf) {
      if (start + 1 + (t & 0x1f) !== end) return undefined;
      out[i] = text.substring(start + 1, end);
      headers++;
    } else if (t === 0xd9) {
      const size = values[start + 1];
      if (start + 2 + size !== end) return undefined;
      out[i] = text.substring(start + 2, end);
      headers += size >= 0x80 ? 2 : 1;
    } else if (t === 0x92) {
      const s = values[start + 1];
      const at = start + 2 + (s & 0x1f);
      if (s < 0xa0 || s > 0xbf || at + 1 !== end || values[at] >= 0x80) return undefined;
      out[i] = [text.substring(start + 2, at), values[at]];
      headers += 2;
    } else {
      return undefined;
    }
    start = end;
  }
  return nonAscii(text) === headers ? out : undefined;
}

/** Decodes the values one by one. */
function decodeEach(values, ends) {
  const out = new Array(ends.length);
  const reader = new Reader(values);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i];
    reader.pos = start;
    out[i] = reader.read();
    if (reader.pos !== end) throw new RangeError(`${end - reader.pos} bytes left after the value`);
    start = end;
  }
  return out;
}

/** Encodes `records` into `out.values`/`out.valueEnds` and, with a key
 * function, each record's key into `out.keys`/`out.keyEnds` (`out` as an
 * Output has them). Throws what the key function throws, or a TypeError
 * for a record or key that cannot be encoded. */
export function encodeRecords(out, records, keyFn) {
  if (keyFn !== undefined) {
    const n = records.length;
    const keys = new Array(n);
    for (let i = 0; i < n; i++) keys[i] = keyFn(records[i]);
    packAll(out.keys, out.keyEnds, keys);
  }
  packAll(out.values, out.valueEnds, records);
}

/** Appends each record's encoding to the Writer `w` and its end offset to `ends`. */
export function packAll(w, ends, records) {
  const n = records.length;
  if (n === 0) return;
  const first = records[0];
  if (typeof first === "string" ? packStrings(w, ends, records) : Array.isArray(first) && packPairs(w, ends, records)) return;
  for (let i = 0; i < n; i++) {
    pack(w, records[i]);
    ends.push(w.length);
  }
}

/** Writes a batch of ASCII strings shorter than 256 characters: the
 * strings, each after room for its header, in one `encodeInto`, then the
 * headers. False, with nothing written, for any other batch. */
function packStrings(w, ends, strs) {
  if (packShortStrings(w, ends, strs)) return true;
  const n = strs.length;
  let text = "";
  for (let i = 0; i < n; i++) {
    const s = strs[i];
    if (typeof s !== "string" || s.length > 0xff) return false;
    text += s.length < 32 ? "\0" : "\0\0";
    text += s;
  }
  const start = w.length;
  if (!writeAscii(w, text)) return false;
  const b = w.bytes;
  let at = start;
  let e = ends.length;
  for (let i = 0; i < n; i++) {
    const size = strs[i].length;
    if (size < 32) {
      b[at] = 0xa0 | size;
      at += 1 + size;
    } else {
      b[at] = 0xd9;
      b[at + 1] = size;
      at += 2 + size;
    }
    ends[e++] = at;
  }
  return true;
}

/** `packStrings` for a batch of ASCII strings shorter than 32 characters
 * (keys, words), with one native `join` and one loop over the headers. */
function packShortStrings(w, ends, strs) {
  const n = strs.length;
  // "\0" before each string: the room for its one-byte header.
  const text = "\0" + strs.join("\0");
  const start = w.length;
  if (!writeAscii(w, text)) return false;
  const b = w.bytes;
  const e0 = ends.length;
  let at = start;
  let e = e0;
  for (let i = 0; i < n; i++) {
    const s = strs[i];
    // `join` made text of anything: only strings are written this way.
    const size = typeof s === "string" ? s.length : 32;
    if (size >= 32) {
      w.length = start;
      ends.length = e0;
      return false;
    }
    b[at] = 0xa0 | size;
    at += 1 + size;
    ends[e++] = at;
  }
  w.length = at;
  return true;
}

/** Writes a batch of [string, integer] pairs (counts) whose strings are
 * ASCII and shorter than 32 characters and whose integers are 0..127: the
 * strings, joined with room for the headers and integers, in one
 * `encodeInto`, then the headers and integers. False, with nothing
 * written, for any other batch. */
function packPairs(w, ends, records) {
  const n = records.length;
  const strs = new Array(n);
  const ints = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = records[i];
    if (!Array.isArray(r) || r.length !== 2) return false;
    const s = r[0];
    const c = r[1];
    if (typeof s !== "string" || s.length >= 32 || typeof c !== "number" || (c & 0x7f) !== c) return false;
    strs[i] = s;
    ints[i] = c;
  }
  // "\0\0" before each string, room for the array's and the string's
  // headers; "\0" after it, room for the integer.
  const text = "\0\0" + strs.join("\0\0\0") + "\0";
  const start = w.length;
  if (!writeAscii(w, text)) return false;
  const b = w.bytes;
  let at = start;
  let e = ends.length;
  for (let i = 0; i < n; i++) {
    const size = strs[i].length;
    b[at] = 0x92;
    b[at + 1] = 0xa0 | size;
    at += 3 + size;
    b[at - 1] = ints[i];
    ends[e++] = at;
  }
  return true;
}

/** Appends `text` to `w` as UTF-8 if it is ASCII (one byte a character);
 * returns whether it did (false: nothing written). */
function writeAscii(w, text) {
  w.reserve(text.length);
  const { read, written } = utf8Encoder.encodeInto(text, w.bytes.subarray(w.length, w.length + text.length));
  if (read !== text.length || written !== text.length) return false;
  w.length += written;
  return true;
}
