// MessagePack, the encoding of every value, key and state that crosses the
// boundary (the Rust SDK writes the same bytes with rmp-serde).
//
// Mapping: null/undefined (nil), booleans, numbers (integers in the
// shortest encoding, as rmp-serde writes them; other numbers as float 64),
// BigInt (64-bit integers), strings, Uint8Array (bin), arrays (tuples and
// structs are arrays), plain objects and Maps (maps). Integers beyond
// 2^53 decode as BigInt.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A growable byte buffer that values are appended to. */
export class Writer {
  constructor(capacity = 1024) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
    this.length = 0;
  }

  /** Makes room for `n` more bytes. */
  reserve(n) {
    const needed = this.length + n;
    if (needed <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  /** Appends raw bytes. */
  append(bytes) {
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** The bytes written so far (a copy of exactly that length). */
  finish() {
    return this.bytes.slice(0, this.length);
  }
}

/** Appends the MessagePack encoding of `value` to the Writer `w`. */
export function pack(w, value) {
  // Fast paths for the commonest records, short ASCII strings and
  // [string, integer] pairs: no encoder call, one reserve.
  if (typeof value === "string") {
    if (value.length < 32 && packShortAscii(w, value)) return;
  } else if (Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && value[0].length < 32) {
    const n = value[1];
    if (Number.isSafeInteger(n)) {
      const start = w.length;
      w.reserve(34);
      w.bytes[w.length++] = 0x92;
      if (packShortAscii(w, value[0])) {
        packInt(w, n);
        return;
      }
      w.length = start;
    }
  }
  switch (typeof value) {
    case "string":
      return packString(w, value);
    case "number":
      return Number.isSafeInteger(value) ? packInt(w, value) : packFloat(w, value);
    case "boolean":
      w.reserve(1);
      w.bytes[w.length++] = value ? 0xc3 : 0xc2;
      return;
    case "bigint":
      return packBigInt(w, value);
    case "undefined":
      w.reserve(1);
      w.bytes[w.length++] = 0xc0;
      return;
  }
  if (value === null) {
    w.reserve(1);
    w.bytes[w.length++] = 0xc0;
  } else if (Array.isArray(value)) {
    // An indexed loop: `for...of` runs the iterator protocol per item,
    // which the engine interprets.
    const n = value.length;
    packHeader(w, n, 0x90, 16, 0xdc, 0xdd);
    for (let i = 0; i < n; i++) pack(w, value[i]);
  } else if (value instanceof Uint8Array) {
    packHeader(w, value.length, null, 0, 0xc5, 0xc6, 0xc4);
    w.append(value);
  } else if (value instanceof Map) {
    packHeader(w, value.size, 0x80, 16, 0xde, 0xdf);
    for (const [k, v] of value) {
      pack(w, k);
      pack(w, v);
    }
  } else if (typeof value === "object") {
    const keys = Object.keys(value);
    packHeader(w, keys.length, 0x80, 16, 0xde, 0xdf);
    for (const k of keys) {
      pack(w, k);
      pack(w, value[k]);
    }
  } else {
    throw new TypeError(`cannot encode a ${typeof value} as MessagePack`);
  }
}

function packHeader(w, n, fix, fixLimit, code16, code32, code8) {
  w.reserve(5);
  const b = w.bytes;
  if (n < fixLimit) {
    b[w.length++] = fix | n;
  } else if (code8 !== undefined && n < 0x100) {
    b[w.length++] = code8;
    b[w.length++] = n;
  } else if (n < 0x10000) {
    b[w.length++] = code16;
    w.view.setUint16(w.length, n);
    w.length += 2;
  } else {
    b[w.length++] = code32;
    w.view.setUint32(w.length, n);
    w.length += 4;
  }
}

/** Writes `s` as a fixstr when it is ASCII (and shorter than 32); returns
 * whether it did. */
function packShortAscii(w, s) {
  const n = s.length;
  w.reserve(n + 1);
  const b = w.bytes;
  const start = w.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return false;
    b[start + 1 + i] = c;
  }
  b[start] = 0xa0 | n;
  w.length = start + 1 + n;
  return true;
}

function packString(w, s) {
  // UTF-8 takes at most 3 bytes per UTF-16 unit; write the body first,
  // after room for the longest header, then move it if the header is short.
  const max = s.length * 3;
  w.reserve(5 + max);
  const start = w.length;
  const headerSize = max < 32 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
  const { written } = encoder.encodeInto(s, w.bytes.subarray(start + headerSize));
  const size = written < 32 ? 1 : written < 0x100 ? 2 : written < 0x10000 ? 3 : 5;
  if (size !== headerSize) {
    w.bytes.copyWithin(start + size, start + headerSize, start + headerSize + written);
  }
  const b = w.bytes;
  if (size === 1) b[start] = 0xa0 | written;
  else if (size === 2) {
    b[start] = 0xd9;
    b[start + 1] = written;
  } else if (size === 3) {
    b[start] = 0xda;
    w.view.setUint16(start + 1, written);
  } else {
    b[start] = 0xdb;
    w.view.setUint32(start + 1, written);
  }
  w.length = start + size + written;
}

function packInt(w, n) {
  w.reserve(9);
  const b = w.bytes;
  if (n >= 0) {
    if (n < 0x80) b[w.length++] = n;
    else if (n < 0x100) {
      b[w.length++] = 0xcc;
      b[w.length++] = n;
    } else if (n < 0x10000) {
      b[w.length++] = 0xcd;
      w.view.setUint16(w.length, n);
      w.length += 2;
    } else if (n < 0x100000000) {
      b[w.length++] = 0xce;
      w.view.setUint32(w.length, n);
      w.length += 4;
    } else {
      b[w.length++] = 0xcf;
      w.view.setBigUint64(w.length, BigInt(n));
      w.length += 8;
    }
  } else if (n >= -32) b[w.length++] = n & 0xff;
  else if (n >= -0x80) {
    b[w.length++] = 0xd0;
    w.view.setInt8(w.length++, n);
  } else if (n >= -0x8000) {
    b[w.length++] = 0xd1;
    w.view.setInt16(w.length, n);
    w.length += 2;
  } else if (n >= -0x80000000) {
    b[w.length++] = 0xd2;
    w.view.setInt32(w.length, n);
    w.length += 4;
  } else {
    b[w.length++] = 0xd3;
    w.view.setBigInt64(w.length, BigInt(n));
    w.length += 8;
  }
}

function packBigInt(w, n) {
  if (n >= -(2n ** 53n) && n <= 2n ** 53n) return packInt(w, Number(n));
  if (n >= 2n ** 64n || n < -(2n ** 63n)) throw new RangeError(`integer ${n} does not fit in 64 bits`);
  w.reserve(9);
  w.bytes[w.length++] = n >= 0n ? 0xcf : 0xd3;
  if (n >= 0n) w.view.setBigUint64(w.length, n);
  else w.view.setBigInt64(w.length, n);
  w.length += 8;
}

function packFloat(w, x) {
  w.reserve(9);
  w.bytes[w.length++] = 0xcb;
  w.view.setFloat64(w.length, x);
  w.length += 8;
}

/** The MessagePack encoding of `value` as a Uint8Array. */
export function packb(value) {
  // One scratch buffer for every call (state keys and values are packed
  // per record): only the result is allocated.
  scratch.length = 0;
  pack(scratch, value);
  return scratch.finish();
}

const scratch = new Writer(256);

/** Reads values out of a byte array. */
export class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  /** Decodes the value at the current position and moves past it. */
  read() {
    const b = this.bytes;
    const v = this.view;
    const t = b[this.pos++];
    if (t === undefined) throw new RangeError("truncated MessagePack value");
    if (t < 0x80) return t;
    if (t >= 0xa0 && t <= 0xbf) return this.str(t & 0x1f);
    if (t >= 0x90 && t <= 0x9f) return this.array(t & 0x0f);
    if (t >= 0xe0) return t - 0x100;
    if (t >= 0x80 && t <= 0x8f) return this.map(t & 0x0f);
    let p = this.pos;
    switch (t) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xcc:
        this.pos += 1;
        return b[p];
      case 0xcd:
        this.pos += 2;
        return v.getUint16(p);
      case 0xce:
        this.pos += 4;
        return v.getUint32(p);
      case 0xcf:
        this.pos += 8;
        return small(v.getBigUint64(p));
      case 0xd0:
        this.pos += 1;
        return v.getInt8(p);
      case 0xd1:
        this.pos += 2;
        return v.getInt16(p);
      case 0xd2:
        this.pos += 4;
        return v.getInt32(p);
      case 0xd3:
        this.pos += 8;
        return small(v.getBigInt64(p));
      case 0xca:
        this.pos += 4;
        return v.getFloat32(p);
      case 0xcb:
        this.pos += 8;
        return v.getFloat64(p);
      case 0xd9:
        this.pos += 1;
        return this.str(b[p]);
      case 0xda:
        this.pos += 2;
        return this.str(v.getUint16(p));
      case 0xdb:
        this.pos += 4;
        return this.str(v.getUint32(p));
      case 0xc4:
        this.pos += 1;
        return this.bin(b[p]);
      case 0xc5:
        this.pos += 2;
        return this.bin(v.getUint16(p));
      case 0xc6:
        this.pos += 4;
        return this.bin(v.getUint32(p));
      case 0xdc:
        this.pos += 2;
        return this.array(v.getUint16(p));
      case 0xdd:
        this.pos += 4;
        return this.array(v.getUint32(p));
      case 0xde:
        this.pos += 2;
        return this.map(v.getUint16(p));
      case 0xdf:
        this.pos += 4;
        return this.map(v.getUint32(p));
    }
    throw new TypeError(`unsupported MessagePack type byte 0x${t.toString(16)}`);
  }

  str(n) {
    const start = this.pos;
    const end = start + n;
    this.pos = end;
    if (end > this.bytes.length) throw new RangeError("truncated MessagePack string");
    // Short ASCII text (keys, names, tags) is built without a decoder call.
    if (n <= 16) {
      const b = this.bytes;
      let s = "";
      for (let i = start; i < end; i++) {
        const c = b[i];
        if (c >= 0x80) return decoder.decode(b.subarray(start, end));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return decoder.decode(this.bytes.subarray(start, end));
  }

  bin(n) {
    const start = this.pos;
    this.pos += n;
    return this.bytes.slice(start, this.pos);
  }

  array(n) {
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.read();
    return out;
  }

  map(n) {
    const out = {};
    for (let i = 0; i < n; i++) {
      const k = this.read();
      out[k] = this.read();
    }
    return out;
  }
}

function small(n) {
  return n >= -(2n ** 53n) && n <= 2n ** 53n ? Number(n) : n;
}

/** Decodes the one value that fills `bytes`. */
export function unpackb(bytes) {
  const r = new Reader(bytes);
  const value = r.read();
  if (r.pos !== bytes.length) throw new RangeError(`${bytes.length - r.pos} bytes left after a MessagePack value`);
  return value;
}
