"""The batch functions of the nodes inside a chain, and the encoders that
end it.

Python pays per function call, so a chain runs node by node over the whole
batch: each stage takes the batch's records as a list (and their event
timestamps as a parallel list, or None when the records have none) and
returns the next lists.
"""

import traceback

from .errors import JobError, UserError
from .msgpack import pack_keyed, pack_values, unpack_values
from .process import Context


def describe_exception(node, error):
    """The message of a user function's exception: where, what, and the
    Python traceback (without the SDK's own frames)."""
    frames = traceback.extract_tb(error.__traceback__)
    user = [f for f in frames if "/wflink/" not in f.filename.replace("\\", "/")] or frames
    trace = "".join(traceback.format_list(user))
    kind = type(error).__name__
    return f"{node.label()} raised {kind}: {error}\nTraceback (most recent call last):\n{trace}".rstrip()


def guarded(node, f, *args):
    """Runs ``f(*args)``; a user function's exception becomes a UserError
    naming ``node`` with its traceback."""
    try:
        return f(*args)
    except JobError as e:
        label = node.label()
        if e.case == "user" and not str(e).startswith(label):
            raise UserError(f"{label}: {e}") from None
        raise
    except Exception as e:
        raise UserError(describe_exception(node, e)) from None


def decode_values(buf, ends, label):
    """Decodes each value of a flat buffer; a value that does not decode
    fails the call naming the node ``label``."""
    try:
        return unpack_values(buf, ends)
    except Exception as e:
        raise UserError(f"{label} could not decode its input: {e}") from None


def stage(node, sides):
    """The batch function ``(values, stamps) -> (values, stamps)`` of a node
    that is not first in its chain (or is first and stateless)."""
    fn = node.fn
    kind = node.kind
    if kind == "map":
        return lambda values, stamps: (list(map(fn, values)), stamps)
    if kind == "filter":

        def filter_(values, stamps):
            if stamps is None:
                return list(filter(fn, values)), None
            kept = [(r, t) for r, t in zip(values, stamps) if fn(r)]
            return [r for r, _ in kept], [t for _, t in kept]

        return filter_
    if kind == "flat-map":

        def flat_map(values, stamps):
            out = []
            extend = out.extend
            if stamps is None:
                for r in values:
                    extend(fn(r))
                return out, None
            out_stamps = []
            for r, t in zip(values, stamps):
                before = len(out)
                extend(fn(r))
                out_stamps.extend([t] * (len(out) - before))
            return out, out_stamps

        return flat_map
    if kind == "assign-timestamps":

        def assign(values, stamps):
            stamps = list(map(fn, values))
            for t in stamps:
                if type(t) is not int:
                    raise TypeError(f"the timestamp function returned a {type(t).__name__}; return an int of ms")
            return values, stamps

        return assign
    if kind == "process":
        ctx = Context(sides)

        def process(values, stamps):
            out_values = []
            out_stamps = None if stamps is None else []
            ctx._bind(out_values, out_stamps)
            emit_all = ctx._emit_all
            for i, r in enumerate(values):
                ctx._timestamp = None if stamps is None else stamps[i]
                emit_all(fn(r, ctx))
            return out_values, out_stamps

        return process
    raise JobError(f"{node.label()} is a {kind}, which cannot run inside a chain here")


class Output:
    """The flat buffers of one call's output records."""

    def __init__(self):
        self.values = bytearray()
        self.value_ends = []
        self.keys = bytearray()
        self.key_ends = []
        self.timestamps = []

    def add(self, values, stamps, key_by, last, partitions=0):
        """Encodes the records ``values`` (with ``stamps`` if not None),
        keyed by the key-by (or partition-custom, picking among
        ``partitions``) node ``key_by`` if any; ``last`` names the node
        that produced them in errors."""
        if key_by is not None and key_by.kind == "partition-custom":
            self._encode_partitioned(values, key_by, partitions)
        elif key_by is not None:
            self._encode_keyed(values, key_by)
        else:
            self._encode(values, last)
        if stamps is not None:
            self.timestamps.extend(stamps)

    def _encode(self, records, last):
        try:
            pack_values(self.values, self.value_ends, records)
        except Exception as e:
            raise UserError(f"{last.label()} produced a record that cannot be encoded: {e}") from None

    def _encode_keyed(self, records, key_by):
        try:
            pack_keyed(self.keys, self.key_ends, self.values, self.value_ends, records, key_by.fn)
        except JobError:
            raise
        except Exception as e:
            raise UserError(describe_exception(key_by, e)) from None


    def _encode_partitioned(self, records, node, partitions):
        """Keys each record with the subtask ``node``'s partitioner picks
        for its key, as 4 bytes little-endian (what the host's custom
        channel reads)."""
        key, partition = node.fn, node.spec
        try:
            picks = [partition(key(r), partitions) for r in records]
        except Exception as e:
            raise UserError(describe_exception(node, e)) from None
        for p in picks:
            if type(p) is not int:
                raise UserError(
                    f"{node.label()}: the partitioner returned {type(p).__name__} {p!r}, not an int partition "
                    f"(0 to {partitions - 1})"
                )
            if not 0 <= p < partitions:
                raise UserError(
                    f"{node.label()}: the partitioner returned partition {p}, but the next operator has {partitions} "
                    f"subtasks (partitions 0 to {partitions - 1})"
                )
        start = len(self.keys)
        self.keys += b"".join(p.to_bytes(4, "little") for p in picks)
        self.key_ends.extend(range(start + 4, len(self.keys) + 1, 4))
        self._encode(records, node)


class SideOutput:
    """The side records of one call, with their tags (WIT ``side-records``)."""

    def __init__(self):
        self.values = bytearray()
        self.value_ends = []
        self.tags = []

    def add(self, tag, values, last):
        try:
            pack_values(self.values, self.value_ends, values)
        except Exception as e:
            raise UserError(f"{last.label()} produced a side record that cannot be encoded: {e}") from None
        self.tags.extend([tag] * len(values))
