"""MessagePack, the encoding of every value, key and state that crosses the
boundary (the Rust SDK writes the same bytes with rmp-serde).

Pure Python, because the component bundles CPython without C extensions.
Mapping: None, bool, int, float (as float 64), str, bytes, tuple/list (as
arrays; decoded as tuples, as Rust tuples and structs are arrays), dict (as
maps). Integers use the shortest encoding, as rmp-serde does, so equal keys
encode equally whichever language wrote them.
"""

from struct import pack as _pack, unpack_from as _unpack_from

__all__ = ["packb", "pack_into", "unpackb", "unpack_from"]


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
