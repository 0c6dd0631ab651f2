"""MessagePack, the encoding of every value, key and state that crosses the
boundary (the Rust SDK writes the same bytes with rmp-serde).

Pure Python, because the component bundles CPython without C extensions.
Mapping: None, bool, int, float (as float 64), str, bytes, tuple/list (as
arrays; decoded as tuples, as Rust tuples and structs are arrays), dict (as
maps). Integers use the shortest encoding, as rmp-serde does, so equal keys
encode equally whichever language wrote them.
"""

from functools import lru_cache
from operator import itemgetter
from struct import pack as _pack, unpack_from as _unpack_from

_second = itemgetter(1)

__all__ = ["packb", "pack_into", "pack_keyed", "pack_values", "unpackb", "unpack_from", "unpack_values"]


def packb(value):
    """Returns the MessagePack encoding of ``value`` as bytes."""
    buf = bytearray()
    pack_into(buf, value)
    return bytes(buf)


def pack_into(buf, value):
    """Appends the MessagePack encoding of ``value`` to the bytearray ``buf``."""
    t = type(value)
    if t is str:
        data = value.encode()
        n = len(data)
        if n < 32:
            buf.append(0xA0 | n)
        elif n < 0x100:
            buf += b"\xd9" + bytes((n,))
        elif n < 0x10000:
            buf += b"\xda" + _pack(">H", n)
        else:
            buf += b"\xdb" + _pack(">I", n)
        buf += data
    elif t is int:
        _pack_int(buf, value)
    elif t is tuple or t is list:
        n = len(value)
        if n < 16:
            buf.append(0x90 | n)
        elif n < 0x10000:
            buf += b"\xdc" + _pack(">H", n)
        else:
            buf += b"\xdd" + _pack(">I", n)
        for item in value:
            pack_into(buf, item)
    elif value is None:
        buf.append(0xC0)
    elif t is bool:
        buf.append(0xC3 if value else 0xC2)
    elif t is float:
        buf += b"\xcb" + _pack(">d", value)
    elif t is bytes or t is bytearray or t is memoryview:
        n = len(value)
        if n < 0x100:
            buf += b"\xc4" + bytes((n,))
        elif n < 0x10000:
            buf += b"\xc5" + _pack(">H", n)
        else:
            buf += b"\xc6" + _pack(">I", n)
        buf += value
    elif t is dict:
        n = len(value)
        if n < 16:
            buf.append(0x80 | n)
        elif n < 0x10000:
            buf += b"\xde" + _pack(">H", n)
        else:
            buf += b"\xdf" + _pack(">I", n)
        for k, v in value.items():
            pack_into(buf, k)
            pack_into(buf, v)
    elif isinstance(value, int):  # bool was handled above; int subclasses (IntEnum)
        _pack_int(buf, int(value))
    elif isinstance(value, str):
        pack_into(buf, str(value))
    elif isinstance(value, (tuple, list)):  # namedtuples
        pack_into(buf, tuple(value))
    else:
        raise TypeError(
            f"cannot encode a {t.__name__} as MessagePack: use None, bool, int, "
            "float, str, bytes, tuple, list or dict"
        )


def _pack_int(buf, n):
    if 0 <= n < 0x80:
        buf.append(n)
    elif -32 <= n < 0:
        buf.append(n & 0xFF)
    elif n >= 0:
        if n < 0x100:
            buf += b"\xcc" + bytes((n,))
        elif n < 0x10000:
            buf += b"\xcd" + _pack(">H", n)
        elif n < 0x100000000:
            buf += b"\xce" + _pack(">I", n)
        elif n < 0x10000000000000000:
            buf += b"\xcf" + _pack(">Q", n)
        else:
            raise OverflowError(f"integer {n} does not fit in 64 bits")
    elif n >= -0x80:
        buf += b"\xd0" + _pack(">b", n)
    elif n >= -0x8000:
        buf += b"\xd1" + _pack(">h", n)
    elif n >= -0x80000000:
        buf += b"\xd2" + _pack(">i", n)
    elif n >= -0x8000000000000000:
        buf += b"\xd3" + _pack(">q", n)
    else:
        raise OverflowError(f"integer {n} does not fit in 64 bits")


def unpackb(data):
    """Decodes one value that fills ``data`` exactly."""
    value, end = unpack_from(data, 0)
    if end != len(data):
        raise ValueError(f"{len(data) - end} bytes left after a MessagePack value")
    return value


def unpack_from(data, pos):
    """Decodes the value starting at ``data[pos]``; returns it and the
    offset just past it."""
    b = data[pos]
    pos += 1
    if b < 0x80:
        return b, pos
    if 0xA0 <= b <= 0xBF:
        end = pos + (b & 0x1F)
        return data[pos:end].decode(), end
    if 0x90 <= b <= 0x9F:
        return _array(data, pos, b & 0x0F)
    if b >= 0xE0:
        return b - 0x100, pos
    if 0x80 <= b <= 0x8F:
        return _map(data, pos, b & 0x0F)
    if b == 0xC0:
        return None, pos
    if b == 0xC2:
        return False, pos
    if b == 0xC3:
        return True, pos
    if b == 0xCC:
        return data[pos], pos + 1
    if b == 0xCD:
        return _unpack_from(">H", data, pos)[0], pos + 2
    if b == 0xCE:
        return _unpack_from(">I", data, pos)[0], pos + 4
    if b == 0xCF:
        return _unpack_from(">Q", data, pos)[0], pos + 8
    if b == 0xD0:
        return _unpack_from(">b", data, pos)[0], pos + 1
    if b == 0xD1:
        return _unpack_from(">h", data, pos)[0], pos + 2
    if b == 0xD2:
        return _unpack_from(">i", data, pos)[0], pos + 4
    if b == 0xD3:
        return _unpack_from(">q", data, pos)[0], pos + 8
    if b == 0xCA:
        return _unpack_from(">f", data, pos)[0], pos + 4
    if b == 0xCB:
        return _unpack_from(">d", data, pos)[0], pos + 8
    if b in (0xD9, 0xDA, 0xDB, 0xC4, 0xC5, 0xC6):
        size = (1, 2, 4)[(b - 0xD9) if b >= 0xD9 else (b - 0xC4)]
        n = int.from_bytes(data[pos : pos + size], "big")
        pos += size
        raw = data[pos : pos + n]
        if len(raw) != n:
            raise ValueError("truncated MessagePack string or binary")
        return (raw.decode() if b >= 0xD9 else bytes(raw)), pos + n
    if b == 0xDC:
        return _array(data, pos + 2, _unpack_from(">H", data, pos)[0])
    if b == 0xDD:
        return _array(data, pos + 4, _unpack_from(">I", data, pos)[0])
    if b == 0xDE:
        return _map(data, pos + 2, _unpack_from(">H", data, pos)[0])
    if b == 0xDF:
        return _map(data, pos + 4, _unpack_from(">I", data, pos)[0])
    raise ValueError(f"unsupported MessagePack type byte 0x{b:02x}")


def _array(data, pos, n):
    items = []
    for _ in range(n):
        item, pos = unpack_from(data, pos)
        items.append(item)
    return tuple(items), pos


def _map(data, pos, n):
    out = {}
    for _ in range(n):
        k, pos = unpack_from(data, pos)
        v, pos = unpack_from(data, pos)
        out[k] = v
    return out, pos


# Batch-level fast paths. Most records are strings (text lines, words,
# keys) or (str, int) pairs (counts). A batch made only of those is encoded
# and decoded by one loop of a few bytecodes per record over lookup
# tables, writing and reading the same bytes as the per-value codec; any
# other batch takes the per-value path. Inside the component (CPython in
# WebAssembly) such a loop costs a fraction of what a chain of C-level
# passes over the batch does (map, accumulate: a call through a slot
# wrapper per item and a list of the batch's size per pass).
#
# Text goes through Latin-1, where a character is one byte: a batch's
# encoding is built as one str (headers as characters 0x80-0xFF) and
# encoded by one call, and an input buffer is decoded by one call and cut
# into records by slicing. A non-ASCII string is written as its UTF-8
# bytes read as Latin-1, so the same loops serve every batch.


def _str_header(n):
    """The header of a MessagePack str of n < 256 bytes, as Latin-1 text."""
    return chr(0xA0 | n) if n < 32 else "\xd9" + chr(n)


#: The header of a str of n bytes (n < 256), as Latin-1 text.
_STR_HEAD = [_str_header(n) for n in range(256)]
#: The size of that str with its header.
_STR_SIZE = [len(h) + n for n, h in enumerate(_STR_HEAD)]
#: The header of a 2-array whose first item is a str of n bytes, with the str's header.
_PAIR_HEAD = ["\x92" + h for h in _STR_HEAD]
#: The size of that header and str.
_PAIR_SIZE = [len(h) + n for n, h in enumerate(_PAIR_HEAD)]
#: Each positive fixint as Latin-1 text.
_FIXINT_TEXT = [chr(n) for n in range(0x80)]
#: The header size of each type byte of a fixstr (1) or str8 (2); 0 for others.
_STR_HEAD_SIZE = bytes(1 if 0xA0 <= b <= 0xBF else 2 if b == 0xD9 else 0 for b in range(256))


@lru_cache(maxsize=4096)
def _int_text(n):
    """The encoding of the int ``n`` as Latin-1 text."""
    buf = bytearray()
    _pack_int(buf, n)
    return buf.decode("latin-1")


def _as_latin1(s):
    """``s``'s UTF-8 bytes as Latin-1 text (one character a byte)."""
    return s.encode().decode("latin-1")


def _str_parts(strs, base, latin1=False):
    """The encodings of a batch of strings shorter than 256 bytes, as
    Latin-1 text parts, and their end offsets from ``base``; None for any
    other batch. ``latin1``: the strings are UTF-8 read as Latin-1 already."""
    parts = []
    ends = []
    part = parts.append
    end = ends.append
    at = base
    try:
        for s in strs:
            if type(s) is not str:
                return None
            n = len(s)
            part(_STR_HEAD[n])
            part(s)
            at += _STR_SIZE[n]
            end(at)
    except IndexError:  # 256 characters or more
        return None
    if not latin1 and not "".join(parts[1::2]).isascii():
        return _str_parts(list(map(_as_latin1, strs)), base, True)
    return parts, ends


def _pair_parts(records, keys, key_base, value_base, latin1=False):
    """The encodings of a batch of ``(str, int)`` pairs whose strings are
    shorter than 256 bytes, as Latin-1 text parts, and their end offsets
    from ``value_base``; with ``keys``, also those of the keys, from
    ``key_base``, when each pair is keyed by its own string. None for any
    other batch. ``latin1``: the strings are UTF-8 read as Latin-1 already."""
    keyed = keys is not None
    vparts, vends = [], []
    kheads, kends = [], []
    vpart, vend, khead, kend = vparts.append, vends.append, kheads.append, kends.append
    k, v = key_base, value_base
    try:
        for r, key in zip(records, keys if keyed else records):
            if type(r) is not tuple:
                return None
            s, c = r
            if type(s) is not str or type(c) is not int or (keyed and key is not s):
                return None
            n = len(s)
            vpart(_PAIR_HEAD[n])
            vpart(s)
            if 0 <= c < 0x80:
                vpart(_FIXINT_TEXT[c])
                v += _PAIR_SIZE[n] + 1
            else:
                i = _int_text(c)
                vpart(i)
                v += _PAIR_SIZE[n] + len(i)
            vend(v)
            if keyed:
                khead(_STR_HEAD[n])
                k += _STR_SIZE[n]
                kend(k)
    except (ValueError, IndexError, OverflowError):  # not a pair, a str too long, an int too large
        return None
    strs = vparts[1::3]
    if not latin1 and not "".join(strs).isascii():
        strs = list(map(_as_latin1, strs))
        pairs = list(zip(strs, map(_second, records)))
        return _pair_parts(pairs, strs if keyed else None, key_base, value_base, True)
    kparts = None
    if keyed:
        kparts = [None] * (2 * len(strs))
        kparts[0::2] = kheads
        kparts[1::2] = strs
    return kparts, kends, vparts, vends


#: The size of a 2-array of a str of n bytes (n < 256) and a positive fixint.
_PAIR_FIXINT_SIZE = [size + 1 for size in _PAIR_SIZE]


def _value_pair_parts(records, base):
    """:func:`_pair_parts` for a batch without keys (the common case since
    the host keys records by field, ``key_by(0)``), with fewer steps per
    pair: no key to walk beside the record, the tables in locals."""
    parts, ends = [], []
    part, end = parts.append, ends.append
    head, size, fixint_size, fixint = _PAIR_HEAD, _PAIR_SIZE, _PAIR_FIXINT_SIZE, _FIXINT_TEXT
    at = base
    try:
        for r in records:
            if type(r) is not tuple:
                return None
            s, c = r
            if type(s) is not str or type(c) is not int:
                return None
            n = len(s)
            part(head[n])
            part(s)
            if 0 <= c < 0x80:
                part(fixint[c])
                at += fixint_size[n]
            else:
                i = _int_text(c)
                part(i)
                at += size[n] + len(i)
            end(at)
    except (ValueError, IndexError, OverflowError):  # not a pair, a str too long, an int too large
        return None
    if not "".join(parts[1::3]).isascii():
        return _pair_parts(records, None, 0, base)
    return None, None, parts, ends


def _append(buf, ends, parts):
    buf += "".join(parts[0]).encode("latin-1")
    ends.extend(parts[1])


def pack_values(buf, ends, records):
    """Appends each record's encoding to ``buf`` and its end offset to ``ends``."""
    if not records:
        return
    first = type(records[0])
    if first is str:
        parts = _str_parts(records, len(buf))
        if parts is not None:
            _append(buf, ends, parts)
            return
    elif first is tuple:
        parts = _value_pair_parts(records, len(buf))
        if parts is not None:
            _append(buf, ends, parts[2:])
            return
    append_end = ends.append
    for r in records:
        pack_into(buf, r)
        append_end(len(buf))


def pack_keyed(keys, key_ends, values, value_ends, records, key_fn):
    """Like :func:`pack_values` for a keyed output: also appends the
    encoding of each record's key, ``key_fn(record)``, to ``keys``. For
    ``(str, int)`` pairs keyed by their own string (the word count's
    shape) one loop prepares both."""
    key_list = list(map(key_fn, records))
    if key_list and type(records[0]) is tuple:
        parts = _pair_parts(records, key_list, len(keys), len(values))
        if parts is not None:
            _append(keys, key_ends, parts[:2])
            _append(values, value_ends, parts[2:])
            return
    pack_values(keys, key_ends, key_list)
    pack_values(values, value_ends, records)


def _unpack_fast(buf, ends):
    """The values of a batch made only of fixstr and str8 strings and of
    ``(fixstr, fixint)`` pairs, cut out of one Latin-1 decoding of the
    buffer; None for any other batch."""
    text = str(buf, "latin-1")
    out = []
    strs = []
    append = out.append
    string = strs.append
    start = 0
    for end in ends:
        size = _STR_HEAD_SIZE[buf[start]]
        if size:
            at = start + size
            if at + (buf[start] & 0x1F if size == 1 else buf[start + 1]) != end:
                return None
            s = text[at:end]
            append(s)
        elif buf[start] == 0x92 and 0xA0 <= buf[start + 1] <= 0xBF:
            at = start + 2 + (buf[start + 1] & 0x1F)
            if at + 1 != end or buf[at] >= 0x80:
                return None
            s = text[start + 2 : at]
            append((s, buf[at]))
        else:
            return None
        string(s)
        start = end
    if not "".join(strs).isascii():
        return list(map(_utf8, out))
    return out


def _utf8(value):
    """A string or pair decoded as Latin-1 by :func:`_unpack_fast`, decoded
    as UTF-8 instead."""
    if type(value) is str:
        return value.encode("latin-1").decode()
    return (value[0].encode("latin-1").decode(), value[1])


def unpack_values(buf, ends):
    """Decodes each value of a flat buffer (``buf`` sliced by ``ends``);
    raises ValueError when a value does not fill its slice exactly."""
    if not ends:
        return []
    if ends[-1] <= len(buf):
        try:
            fast = _unpack_fast(buf, ends)
        except IndexError:
            fast = None
        if fast is not None:
            return fast
    out = []
    append = out.append
    start = 0
    for end in ends:
        value, stop = unpack_from(buf, start)
        if stop != end:
            raise ValueError(f"{end - stop} bytes left after the value")
        append(value)
        start = end
    return out
