"""Running a chain: the user nodes of one task, fed one batch per call.

The first node decides how a batch enters the chain: a ``reduce`` (keyed
running reduce, with its state in the call), a keyed process function or
a window (keyed, with named state and timers in the call's context), or a
stateless node (decode the values and go). The other nodes run as batch
stages (see ``stages``); a ``key-by`` ends the chain, since the edge
leaving it is hash-partitioned. Side outputs of the chain's nodes run
their own stages (map, flat_map, filter) inside the chain and leave as
the call's side records.
"""

from .context import CALL, EVENT_TIME, PROCESSING_TIME, check_entries, slices
from .errors import InvalidPlan, JobError, UserError
from .msgpack import pack_values, unpack_values
from .process import Context
from .stages import Output, SideOutput, decode_values, describe_exception, guarded, stage
from .window import WindowOperator

_MISSING = object()
_DOMAINS = (EVENT_TIME, PROCESSING_TIME)
#: Nodes that read a key-by and so must start their chain.
_KEYED = ("reduce", "keyed-process", "keyed-co-process")
#: Non-keyed nodes of two inputs, which start their chain too.
_TWO_INPUTS = ("co-process", "broadcast-process")
#: Nodes whose output edge needs a key on each record, which end their
#: chain: the key-by's key, or the subtask a partition-custom picked.
_ENDINGS = ("key-by", "partition-custom")


def _domains(timers):
    """The time domain of each timer, as the library names them."""
    return [_DOMAINS[d.value] if hasattr(d, "value") else d for d in timers.domains]


class CallResult:
    """What a contextual call produced besides its main records."""

    def __init__(self, state, registered, deleted, sides):
        #: ``(id, key, namespace, user key, value bytes)``; empty value deletes.
        self.state = state
        #: ``(domain, timestamp, key, namespace)`` each.
        self.registered = registered
        self.deleted = deleted
        #: A :class:`~wflink.stages.SideOutput`.
        self.sides = sides


class Chain:
    """An opened chain of the user nodes ``node_ids`` of ``plan``."""

    def __init__(self, plan, node_ids, custom_partitions=0):
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
            if (node.kind in _KEYED or node.kind in _TWO_INPUTS) and position > 0:
                raise InvalidPlan(f"{node.label()} is a {node.kind}, which must start its chain")
            if node.kind in _ENDINGS and position < len(node_ids) - 1:
                raise InvalidPlan(f"{node.label()} is a {node.kind}, which must end its chain")
            nodes.append(node)
        #: Side output buffers of this chain's nodes, by tag id (filled by
        #: process functions and windows during a call).
        self.sides = {}
        self.side_chains = self._side_chains(plan, set(node_ids))
        self.first = nodes[0]
        #: The keyed first node, if any: reduce, keyed process or window.
        self.keyed = self.first if self.first.kind in _KEYED else None
        #: The co-process first node, if any (a function of two inputs).
        self.co = self.first if self.first.kind == "co-process" else None
        if self.co is not None:
            self.co_ctx = Context(self.sides)
        #: The broadcast process first node, if any (keyed or not).
        self.broadcast = self.first if self.first.kind == "broadcast-process" else None
        if self.broadcast is not None:
            self.broadcast.fn.bind(self.sides)
        #: The key-by or partition-custom node ending the chain, if any.
        self.key_by = nodes[-1] if nodes[-1].kind in _ENDINGS else None
        #: The number of subtasks a partition-custom ending the chain picks among.
        self.partitions = custom_partitions
        if nodes[-1].kind == "partition-custom" and custom_partitions < 1:
            raise InvalidPlan(
                f"{nodes[-1].label()} is a partition_custom, but the host gave its chain no partitions to pick among"
            )
        starts = 1 if self.keyed or self.co or self.broadcast else 0
        middle = nodes[starts : len(nodes) - (1 if self.key_by else 0)]
        self.stages = [(stage(n, self.sides), n) for n in middle]
        self.last = middle[-1] if middle else self.first
        if self.keyed is not None and self.keyed.kind != "reduce" and not isinstance(self.keyed.fn, WindowOperator):
            self.ctx = Context(self.sides)

    def _side_chains(self, plan, ids):
        """For each side output read from a node of the chain: its tag and the
        stages of the nodes between it and its sink."""
        chains = []
        for side in plan.nodes:
            if side.kind != "side-output" or side.inputs[0][0] not in ids:
                continue
            stages = []
            at = side
            while True:
                after = [n for n in plan.nodes if n.inputs[:1] and n.inputs[0][0] == at.id]
                if len(after) == 1 and after[0].kind == "sink":
                    break
                if len(after) != 1 or after[0].kind not in ("map", "flat-map", "filter"):
                    raise InvalidPlan(
                        f"side output '{side.spec.name}' must pass through map, flat_map or filter only and end in one sink"
                    )
                at = after[0]
                stages.append((stage(at, self.sides), at))
            self.sides[side.spec.id] = []
            chains.append((side.spec.id, stages, at))
        return chains

    def process(self, batch, state):
        """Runs one batch (WIT ``process``); returns ``(Output, changed)``
        where the changed reduce state is ``(keys, values buffer, value
        ends)``, or None."""
        changed = None
        stamps = list(batch.timestamps) if batch.timestamps else None
        if self.first.kind == "reduce":
            values, stamps, changed = self._reduce(batch, state, stamps)
        elif self.keyed is not None or self.co is not None or self.broadcast is not None:
            raise JobError(f"{self.first.label()} needs process-with-context (a host bug)")
        else:
            values = decode_values(batch.values, batch.value_ends, self.first.label())
        return self._finish(values, stamps), changed

    def process_with_context(self, batch, entries, watermark, processing_time, input=0):
        """Runs one batch of input ``input`` (0 or 1, for a co-process) with
        its keys' named state and the time (WIT ``process-with-context``);
        returns ``(Output, CallResult)``."""
        return self._contextual(entries, watermark, processing_time, lambda: self._run_batch(batch, input))

    def on_timers(self, timers, entries, watermark, processing_time):
        """Fires ``timers`` (WIT ``timers``) with their keys' named state;
        returns ``(Output, CallResult)``."""
        return self._contextual(entries, watermark, processing_time, lambda: self._run_timers(timers))

    def _contextual(self, entries, watermark, processing_time, run):
        check_entries(entries)
        CALL.begin(entries, watermark, processing_time)
        try:
            out = run()
            sides = SideOutput()
            for tag, stages, last in self.side_chains:
                values = self.sides[tag]
                if values:
                    stamps = None
                    for f, node in stages:
                        values, stamps = guarded(node, f, values, stamps)
                    sides.add(tag, values, last)
            return out, CallResult(CALL.changes(), CALL.registered.items, CALL.deleted.items, sides)
        finally:
            CALL.end()
            for buffer in self.sides.values():
                buffer.clear()

    def _run_batch(self, batch, input=0):
        stamps = list(batch.timestamps) if batch.timestamps else None
        if self.co is not None:
            co = self.co
            if input not in (0, 1):
                raise JobError(f"{co.label()} has two inputs; a batch came from input {input} (a host bug)")
            values = decode_values(batch.values, batch.value_ends, co.label())
            return self._finish(*guarded(co, co.fn.run, input, values, stamps, self.co_ctx))
        if self.broadcast is not None:
            return self._run_broadcast(batch, input, stamps)
        keyed = self.keyed
        if keyed is None:
            return self._finish(decode_values(batch.values, batch.value_ends, self.first.label()), stamps)
        if keyed.kind == "reduce":
            raise JobError(f"{keyed.label()} is a reduce: the host calls process for it, not process-with-context")
        if batch.value_ends and not batch.key_ends:
            raise JobError(f"{keyed.label()} received records without keys (a host bug)")
        values = decode_values(batch.values, batch.value_ends, keyed.label())
        keys = list(slices(batch.keys, batch.key_ends))
        if isinstance(keyed.fn, WindowOperator):
            out = ([], [])
            guarded(keyed, keyed.fn.process, keys, values, stamps, self.sides, keyed.label(), out)
            return self._finish(*out)
        out_values = []
        out_stamps = None if stamps is None else []
        ctx = self.ctx
        ctx._bind(out_values, out_stamps)
        ctx._domain = None
        if keyed.kind == "keyed-co-process":
            if input not in (0, 1):
                raise JobError(f"{keyed.label()} has two inputs; a batch came from input {input} (a host bug)")
            process_element = keyed.fn.process_element1 if input == 0 else keyed.fn.process_element2
        else:
            process_element = keyed.fn.process_element
        guarded(keyed, self._keyed_elements, process_element, ctx, keys, values, stamps)
        return self._finish(out_values, out_stamps)

    def _run_broadcast(self, batch, input, stamps):
        node = self.broadcast
        values = decode_values(batch.values, batch.value_ends, node.label())
        keys = None
        if node.fn.keyed and input == 0:
            if batch.value_ends and len(batch.key_ends) != len(batch.value_ends):
                raise JobError(f"{node.label()} received records without keys (a host bug)")
            keys = slices(batch.keys, batch.key_ends)
        return self._finish(*guarded(node, node.fn.process, input, keys, values, stamps))

    def snapshot(self):
        """What the chain keeps in its memory for a checkpoint: the
        broadcast states' entries, ``(state id, map key, value)``."""
        return self.broadcast.fn.snapshot() if self.broadcast is not None else []

    @staticmethod
    def _keyed_elements(process_element, ctx, keys, values, stamps):
        set_key = CALL.set_key
        emit_all = ctx._emit_all
        for i, (key, value) in enumerate(zip(keys, values)):
            set_key(key)
            ctx._timestamp = None if stamps is None else stamps[i]
            emit_all(process_element(value, ctx))

    def _run_timers(self, timers):
        if self.broadcast is not None:
            node = self.broadcast
            keys = slices(timers.keys, timers.key_ends)
            return self._finish(*guarded(node, node.fn.on_timers, keys, timers.timestamps, _domains(timers)))
        keyed = self.keyed
        if keyed is None or keyed.kind == "reduce":
            raise JobError("timers fired for a chain that sets none (a host bug)")
        keys = slices(timers.keys, timers.key_ends)
        namespaces = slices(timers.namespaces, timers.namespace_ends)
        if isinstance(keyed.fn, WindowOperator):
            out = ([], [])
            fired = zip(keys, namespaces, timers.timestamps)
            guarded(keyed, keyed.fn.on_timers, fired, keyed.label(), out)
            return self._finish(*out)
        out_values, out_stamps = [], []
        ctx = self.ctx
        ctx._bind(out_values, out_stamps)
        on_timer = getattr(keyed.fn, "on_timer", None)
        if on_timer is not None:
            guarded(keyed, self._fire, on_timer, ctx, keys, namespaces, timers.timestamps, _domains(timers))
        return self._finish(out_values, out_stamps)

    @staticmethod
    def _fire(on_timer, ctx, keys, namespaces, timestamps, domains):
        emit_all = ctx._emit_all
        for key, namespace, timestamp, domain in zip(keys, namespaces, timestamps, domains):
            CALL.set_key(key)
            CALL.namespace = namespace
            ctx._timestamp = timestamp
            ctx._domain = domain
            emit_all(on_timer(timestamp, ctx))

    def _finish(self, values, stamps):
        """Runs the chain's stages on the first node's output and encodes it."""
        for f, node in self.stages:
            values, stamps = guarded(node, f, values, stamps)
        out = Output()
        out.add(values, stamps, self.key_by, self.last, self.partitions)
        return out

    def _reduce(self, batch, state, stamps):
        """The keyed running reduce: takes the state of the batch's keys,
        folds each record into its key's value, emits every new value, and
        returns them, their timestamps and the changed entries as ``(keys,
        values buffer, value ends)``. A keyed step (a count window) emits
        what its step returns instead, with the timestamp of the record
        that made it."""
        node = self.first
        if batch.value_ends and not batch.key_ends:
            raise JobError(f"{node.label()} received records without keys (a host bug)")
        try:
            table = dict(zip(slices(state.keys, state.key_ends), unpack_values(state.values, state.value_ends)))
        except Exception as e:
            raise JobError(f"{node.label()} could not decode its state: {e}") from None
        records = decode_values(batch.values, batch.value_ends, node.label())
        keys = slices(batch.keys, batch.key_ends)
        emitted = []
        emit = emitted.append
        get = table.get
        try:
            if node.spec == ("step", None):
                stamps = self._steps(node.fn.step, table, keys, records, stamps, emitted)
            else:
                fn = node.fn
                for key, record in zip(keys, records):
                    current = get(key, _MISSING)
                    new = record if current is _MISSING else fn(current, record)
                    table[key] = new
                    emit(new)
        except Exception as e:
            raise UserError(describe_exception(node, e)) from None
        changed = list(dict.fromkeys(keys))
        values, value_ends = bytearray(), []
        pack_values(values, value_ends, list(map(table.__getitem__, changed)))
        return emitted, stamps, (changed, values, value_ends)

    @staticmethod
    def _steps(step, table, keys, records, stamps, emitted):
        """Runs a keyed step per record; returns the outputs' timestamps."""
        out_stamps = None if stamps is None else []
        get = table.get
        for i, (key, record) in enumerate(zip(keys, records)):
            table[key], outputs = step(key, get(key), record)
            before = len(emitted)
            emitted.extend(outputs)
            if out_stamps is not None:
                out_stamps.extend([stamps[i]] * (len(emitted) - before))
        return out_stamps
