"""The batch fast paths of wflink.msgpack write and read exactly the bytes
of the per-value encoder, on random batches of strings, (str, int) pairs
and mixed values. Run with pytest (``sdk/python/.venv/bin/pytest`` in
sdk/python), or alone with ``python3 sdk/python/tests/test_msgpack.py``
(tests/polyglot.rs does)."""

import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from wflink.msgpack import pack_into, pack_keyed, pack_values, unpack_from, unpack_values  # noqa: E402


def random_str(rng):
    # ASCII (the Latin-1 text paths) or not (the UTF-8 bytes paths), with
    # fixstr, str8 and str16 lengths.
    chars = "ab\u00e9\u4e2dxyz" if rng.random() < 0.3 else "abcxyz019 ,."
    return "".join(rng.choice(chars) for _ in range(rng.choice([0, 1, 5, 20, 31, 32, 40, 200, 255, 256, 300])))


def random_int(rng):
    return rng.choice([0, 1, 127, 128, 255, 256, 65535, 65536, 2**32, -1, -32, -33, -129, -(2**40)])


def random_batch(rng):
    kind = rng.choice(["str", "pair", "mixed"])
    out = []
    for _ in range(rng.randint(1, 6)):
        if kind == "str":
            out.append(random_str(rng))
        elif kind == "pair":
            out.append((random_str(rng), random_int(rng)))
        else:
            out.append(rng.choice([random_str(rng), (random_str(rng), random_int(rng)), (1, 2), None, 3.5, [random_str(rng)], (True, 1)]))
    return out


def packed_both_ways(records):
    """Packs ``records`` with the batch fast paths and value by value,
    asserts the two agree, and returns the value-by-value one (buffer, ends)."""
    fast, fast_ends = bytearray(b"x"), []
    pack_values(fast, fast_ends, records)
    slow, slow_ends = bytearray(b"x"), []
    for r in records:
        pack_into(slow, r)
        slow_ends.append(len(slow))
    assert (fast, fast_ends) == (slow, slow_ends), records
    return slow, slow_ends


def test_fast_paths_match_the_per_value_codec():
    rng = random.Random(5)
    for _ in range(3000):
        records = random_batch(rng)
        slow, slow_ends = packed_both_ways(records)
        data, ends = bytes(slow[1:]), [e - 1 for e in slow_ends]
        expected, start = [], 0
        for end in ends:
            value, stop = unpack_from(data, start)
            assert stop == end
            expected.append(value)
            start = end
        assert unpack_values(data, ends) == expected, records
        # Keyed output: the fused (str, int) path writes what the per-value
        # encoder writes for the keys and the values, whatever the key is.
        for key_fn in (lambda r: r[0] if type(r) is tuple else r, lambda r: "k", lambda r: r):
            k, k_ends, v, v_ends = bytearray(b"y"), [], bytearray(b"x"), []
            try:
                pack_keyed(k, k_ends, v, v_ends, records, key_fn)
            except (IndexError, TypeError):
                continue
            slow_keys, slow_key_ends = bytearray(b"y"), []
            for r in records:
                pack_into(slow_keys, key_fn(r))
                slow_key_ends.append(len(slow_keys))
            assert (k, k_ends, v, v_ends) == (slow_keys, slow_key_ends, slow, slow_ends), records


def test_word_count_pairs_and_what_follows_them_encode_as_the_per_value_codec_does():
    words = [("w" * n, c) for n in (0, 1, 31, 32, 255) for c in (0, 1, 127, 128, -1, 2**40)]
    edges = [("\u00e9", 1), ("\u20ac", 1), ("w" * 300, 1), ("w", True), ("w", 1.0), ["w", 1], ("w", 1, 2), ("w",), (1, "w")]
    for batch in [words] + [words + [edge] for edge in edges] + [[edge] + words for edge in edges]:
        packed_both_ways(batch)


if __name__ == "__main__":
    test_fast_paths_match_the_per_value_codec()
    print("msgpack fast paths: ok")
