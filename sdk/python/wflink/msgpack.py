"""MessagePack, the encoding of every value, key and state that crosses the
boundary (the Rust SDK writes the same bytes with rmp-serde).

Pure Python, because the component bundles CPython without C extensions.
Mapping: None, bool, int, float (as float 64), str, bytes, tuple/list (as
arrays; decoded as tuples, as Rust tuples and structs are arrays), dict (as
maps). Integers use the shortest encoding, as rmp-serde does, so equal keys
encode equally whichever language wrote them.
"""

from functools import lru_cache
from itertools import accumulate, islice
from operator import add, is_, itemgetter, sub
from struct import pack as _pack, unpack_from as _unpack_from

_first = itemgetter(0)
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


# Batch-level fast paths. Most records are short strings (text lines,
# words, keys) or (str, int) pairs (counts). A batch made only of those is
# encoded and decoded with C-level iteration (map, join, accumulate)
# instead of one generic call per value, writing and reading the same
# bytes; any other batch takes the per-value path.

#: The header byte of a fixstr of n bytes, as a 1-byte bytes.
_FIXSTR = [bytes((0xA0 | n,)) for n in range(32)]
#: The two header bytes of a 2-array whose first item is a fixstr of n bytes.
_PAIR_FIXSTR = [bytes((0x92, 0xA0 | n)) for n in range(32)]
#: The encoding of each positive fixint.
_FIXINT = [bytes((n,)) for n in range(0x80)]
#: Maps a fixstr header byte to its length; other bytes to 0xFF.
_FIXSTR_LEN = bytes((b & 0x1F) if 0xA0 <= b <= 0xBF else 0xFF for b in range(256))


@lru_cache(maxsize=4096)
def _int_bytes(n):
    if 0 <= n < 0x80:
        return _FIXINT[n]
    buf = bytearray()
    _pack_int(buf, n)
    return bytes(buf)


def _append_parts(buf, ends, parts):
    """Appends the encoded records ``parts`` and their end offsets."""
    ends.extend(islice(accumulate(map(len, parts), initial=len(buf)), 1, None))
    buf += b"".join(parts)


def _pack_strs(buf, ends, records):
    data = list(map(str.encode, records))
    lens = list(map(len, data))
    if max(lens) >= 32:
        return False
    _append_parts(buf, ends, list(map(b"".join, zip(map(_FIXSTR.__getitem__, lens), data))))
    return True


def _short_str_int_pairs(records, key_list=None):
    """The parts of a batch of ``(str, int)`` pairs whose strings encode to
    fewer than 32 bytes (the word count's shape): the encoded strings,
    their lengths and the encoded ints; with ``key_list``, only when each
    pair is keyed by its own string. None for any other batch."""
    if set(map(len, records)) != {2}:
        return None
    firsts = list(map(_first, records))
    if key_list is not None and not all(map(is_, key_list, firsts)):
        return None
    seconds = list(map(_second, records))
    if set(map(type, firsts)) != {str} or set(map(type, seconds)) != {int}:
        return None
    data = list(map(str.encode, firsts))
    lens = list(map(len, data))
    if max(lens) >= 32:
        return None
    if min(seconds) >= 0 and max(seconds) < 0x80:
        ints = map(_FIXINT.__getitem__, seconds)
    else:
        ints = map(_int_bytes, seconds)
    return data, lens, ints


def _pack_pairs(buf, ends, records):
    parts = _short_str_int_pairs(records)
    if parts is None:
        return False
    data, lens, ints = parts
    _append_parts(buf, ends, list(map(b"".join, zip(map(_PAIR_FIXSTR.__getitem__, lens), data, ints))))
    return True


def pack_values(buf, ends, records):
    """Appends each record's encoding to ``buf`` and its end offset to ``ends``."""
    if not records:
        return
    kinds = set(map(type, records))
    if kinds == {str} and _pack_strs(buf, ends, records):
        return
    if kinds == {tuple} and _pack_pairs(buf, ends, records):
        return
    append_end = ends.append
    for r in records:
        pack_into(buf, r)
        append_end(len(buf))


def _pack_pairs_keyed_by_first(keys, key_ends, values, value_ends, records, key_list):
    """:func:`pack_keyed` of ``(str, int)`` pairs keyed by their own first
    item (the word count's shape): each string is encoded once, for both
    the key and the value. False (nothing written) for any other batch."""
    parts = _short_str_int_pairs(records, key_list)
    if parts is None:
        return False
    data, lens, ints = parts
    _append_parts(keys, key_ends, list(map(b"".join, zip(map(_FIXSTR.__getitem__, lens), data))))
    _append_parts(values, value_ends, list(map(b"".join, zip(map(_PAIR_FIXSTR.__getitem__, lens), data, ints))))
    return True


def pack_keyed(keys, key_ends, values, value_ends, records, key_fn):
    """Like :func:`pack_values` for a keyed output: also appends the
    encoding of each record's key, ``key_fn(record)``, to ``keys``."""
    key_list = list(map(key_fn, records))
    if key_list and type(records[0]) is tuple and _pack_pairs_keyed_by_first(keys, key_ends, values, value_ends, records, key_list):
        return
    pack_values(keys, key_ends, key_list)
    pack_values(values, value_ends, records)


def _unpack_strs(buf, starts, ends, heads):
    lens = heads.translate(_FIXSTR_LEN)
    if max(lens) == 0xFF or list(map(sub, ends, starts)) != [n + 1 for n in lens]:
        return None
    return list(map(bytes.decode, map(buf.__getitem__, map(slice, map((1).__add__, starts), ends))))


def _unpack_pairs(buf, starts, ends, heads):
    if heads.count(0x92) != len(heads):
        return None
    str_starts = list(map((2).__add__, starts))
    lens = bytes(map(buf.__getitem__, map((1).__add__, starts))).translate(_FIXSTR_LEN)
    if max(lens) == 0xFF:
        return None
    int_at = list(map(add, str_starts, lens))
    strs = map(bytes.decode, map(buf.__getitem__, map(slice, str_starts, int_at)))
    ints = list(bytes(map(buf.__getitem__, int_at)))
    if max(ints) >= 0x80 or list(map((1).__add__, int_at)) != ends:
        # Some counts are not fixints: decode those one by one.
        for i, (c, at, end) in enumerate(zip(ints, int_at, ends)):
            if c >= 0x80 or at + 1 != end:
                ints[i], stop = unpack_from(buf, at)
                if stop != end:
                    raise ValueError(f"{end - stop} bytes left after the value")
    return list(zip(strs, ints))


def unpack_values(buf, ends):
    """Decodes each value of a flat buffer (``buf`` sliced by ``ends``);
    raises ValueError when a value does not fill its slice exactly."""
    if not ends:
        return []
    starts = [0, *ends[:-1]]
    if min(map(sub, ends, starts)) > 0:
        heads = bytes(map(buf.__getitem__, starts))
        fast = _unpack_strs(buf, starts, ends, heads)
        if fast is None and len(buf) >= ends[-1]:
            fast = _unpack_pairs(buf, starts, ends, heads)
        if fast is not None:
            return fast
    out = []
    append = out.append
    for start, end in zip(starts, ends):
        value, stop = unpack_from(buf, start)
        if stop != end:
            raise ValueError(f"{end - stop} bytes left after the value")
        append(value)
    return out

