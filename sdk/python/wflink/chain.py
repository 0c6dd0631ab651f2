"""Running a chain: the user nodes of one task, fed one batch per call.

Python pays per function call, so the chain runs node by node over the
whole batch (a list of records in, a list out) rather than record by
record. A ``reduce`` starts its chain (it reads a key-by's hash-partitioned
output) and a ``key-by`` ends it (the edge leaving it is hash-partitioned).
"""

import traceback

from .errors import InvalidPlan, JobError, UserError
from .msgpack import pack_into, unpack_from, unpackb

_MISSING = object()


def _slices(buf, ends):
    start = 0
    for end in ends:
        yield buf[start:end]
        start = end


def _decode_values(buf, ends, label):
    """Decodes each value of a flat buffer; the text sources' one-string
    values take a fast path."""
    out = []
    append = out.append
    start = 0
    try:
        for end in ends:
            b = buf[start]
            if 0xA0 <= b <= 0xBF and end - start == 1 + (b & 0x1F):
                append(buf[start + 1 : end].decode())
            else:
                value, stop = unpack_from(buf, start)
                if stop != end:
                    raise ValueError(f"{end - stop} bytes left after the value")
                append(value)
            start = end
    except Exception as e:
        raise UserError(f"{label} could not decode its input: {e}") from None
    return out


class Output:
    """The flat buffers of one call's output records."""

    def __init__(self):
        self.values = bytearray()
        self.value_ends = []
        self.keys = bytearray()
        self.key_ends = []
        self.timestamps = []


def _stage(node):
    """The batch function of a stateless node: a list in, a list out."""
    fn = node.fn
    if node.kind == "map":
        return lambda records: list(map(fn, records))
    if node.kind == "filter":
        return lambda records: [r for r in records if fn(r)]

    def flat_map(records):
        out = []
        extend = out.extend
        for r in records:
            extend(fn(r))
        return out

    return flat_map


class Chain:
    """An opened chain of the user nodes ``node_ids`` of ``plan``."""

    def __init__(self, plan, node_ids):
        if not node_ids:
            raise InvalidPlan("open needs at least one node id")
        nodes = []
        for position, id in enumerate(node_ids):
            if not 0 <= id < len(plan.nodes):
                raise InvalidPlan(f"the plan has no node {id}")
            node = plan.nodes[id]
            if node.fn is None:
                raise InvalidPlan(f"node {id} '{node.name}' is a host connector, not a user function")
            if position > 0 and node.inputs[:1] != [(node_ids[position - 1], "forward")]:
                raise InvalidPlan(
                    f"{node.label()} does not read node {node_ids[position - 1]} through a forward edge, so they cannot chain"
                )
            if node.kind == "reduce" and position > 0:
                raise InvalidPlan(f"{node.label()} is a reduce, which must start its chain")
            if node.kind == "key-by" and position < len(node_ids) - 1:
                raise InvalidPlan(f"{node.label()} is a key-by, which must end its chain")
            nodes.append(node)
        #: The reduce node starting the chain, if any.
        self.reduce = nodes[0] if nodes[0].kind == "reduce" else None
        #: The key-by node ending the chain, if any.
        self.key_by = nodes[-1] if nodes[-1].kind == "key-by" else None
        middle = nodes[1 if self.reduce else 0 : len(nodes) - (1 if self.key_by else 0)]
        self.stages = [(_stage(n), n) for n in middle]
        self.first = nodes[0]

    def process(self, batch, state):
        """Runs one batch; returns ``(Output, changed state entries)`` where
        the entries are ``(key bytes, value bytes)`` pairs."""
        if batch.timestamps:
            return self._process_timestamped(batch, state)
        out = Output()
        changed = []
        if self.reduce:
            records, changed = self._reduce(batch, state)
        else:
            records = _decode_values(batch.values, batch.value_ends, self.first.label())
        self._run_into(records, out, None)
        return out, changed

    def _process_timestamped(self, batch, state):
        """Keeps each input record's timestamp on the records it produces:
        one record at a time, the slow but simple path."""
        out = Output()
        changed = []
        if self.reduce:
            records, changed = self._reduce(batch, state)
        else:
            records = _decode_values(batch.values, batch.value_ends, self.first.label())
        for record, ts in zip(records, batch.timestamps):
            self._run_into([record], out, ts)
        return out, changed

    def _run_into(self, records, out, timestamp):
        for stage, node in self.stages:
            try:
                records = stage(records)
            except JobError:
                raise
            except Exception as e:
                raise UserError(_describe_exception(node, e)) from None
        before = len(out.value_ends)
        if self.key_by is not None:
            self._encode_keyed(records, out)
        else:
            self._encode(records, out)
        if timestamp is not None:
            out.timestamps.extend([timestamp] * (len(out.value_ends) - before))

    def _encode(self, records, out):
        values, ends = out.values, out.value_ends
        try:
            for r in records:
                pack_into(values, r)
                ends.append(len(values))
        except Exception as e:
            raise UserError(f"{self._last().label()} produced a record that cannot be encoded: {e}") from None

    def _encode_keyed(self, records, out):
        fn = self.key_by.fn
        values, value_ends, keys, key_ends = out.values, out.value_ends, out.keys, out.key_ends
        try:
            for r in records:
                pack_into(keys, fn(r))
                key_ends.append(len(keys))
                pack_into(values, r)
                value_ends.append(len(values))
        except Exception as e:
            raise UserError(_describe_exception(self.key_by, e)) from None

    def _last(self):
        return self.stages[-1][1] if self.stages else self.first

    def _reduce(self, batch, state):
        """The keyed running reduce: takes the state of the batch's keys,
        folds each record into its key's value, emits every new value, and
        returns the changed entries."""
        node = self.reduce
        if batch.value_ends and not batch.key_ends:
            raise JobError(f"{node.label()} received records without keys (a host bug)")
        table = {}
        try:
            for key, value in zip(_slices(state.keys, state.key_ends), _slices(state.values, state.value_ends)):
                table[key] = unpackb(value)
        except Exception as e:
            raise JobError(f"{node.label()} could not decode its state: {e}") from None
        records = _decode_values(batch.values, batch.value_ends, node.label())
        fn = node.fn
        emitted = []
        emit = emitted.append
        get = table.get
        try:
            for key, record in zip(_slices(batch.keys, batch.key_ends), records):
                current = get(key, _MISSING)
                new = record if current is _MISSING else fn(current, record)
                table[key] = new
                emit(new)
        except Exception as e:
            raise UserError(_describe_exception(node, e)) from None
        changed = []
        for key in dict.fromkeys(_slices(batch.keys, batch.key_ends)):
            buf = bytearray()
            pack_into(buf, table[key])
            changed.append((key, buf))
        return emitted, changed


def _describe_exception(node, error):
    """The message of a user function's exception: where, what, and the
    Python traceback (without the SDK's own frames)."""
    frames = traceback.extract_tb(error.__traceback__)
    user = [f for f in frames if "/wflink/" not in f.filename.replace("\\", "/")] or frames
    trace = "".join(traceback.format_list(user))
    kind = type(error).__name__
    return f"{node.label()} raised {kind}: {error}\nTraceback (most recent call last):\n{trace}".rstrip()
