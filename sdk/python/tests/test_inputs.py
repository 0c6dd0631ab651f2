"""Broadcast state, window joins, count windows, ``window_all`` and the
key-type check: the plans they record (by the Rust SDK's rules) and their
operators run on batches as the host hands them over."""

from types import SimpleNamespace

import pytest

from wflink import (
    BroadcastProcessFunction,
    EventTimeSessionWindows,
    InvalidPlan,
    KeyedBroadcastProcessFunction,
    MapStateDescriptor,
    TumblingEventTimeWindows,
    UserError,
    ValueState,
    WatermarkStrategy,
)
from wflink.chain import Chain
from wflink.count_window import CountWindowStep
from wflink.msgpack import pack_values, packb, unpackb, unpack_values
from wflink.stream import record
from wflink.window import _Process, _Reduce


def batch(values, keys=None, stamps=None):
    """A WIT ``batch`` as the host sends it."""
    buf, ends = bytearray(), []
    pack_values(buf, ends, values)
    key_buf, key_ends = bytearray(), []
    for k in keys or []:
        key_buf += packb(k)
        key_ends.append(len(key_buf))
    return SimpleNamespace(values=bytes(buf), value_ends=ends, keys=bytes(key_buf), key_ends=key_ends, timestamps=stamps or [])


def entries(items=()):
    """WIT ``state-entries`` of ``(id, key, namespace, user key, value)``."""
    bufs, ends, ids = [bytearray() for _ in range(4)], [[] for _ in range(4)], []
    for id, *fields in items:
        ids.append(id)
        for buf, end, field in zip(bufs, ends, fields):
            buf += field
            end.append(len(buf))
    names = ("keys", "namespaces", "user_keys", "values")
    fields = {n: bytes(b) for n, b in zip(names, bufs)}
    fields.update({n[:-1] + "_ends": e for n, e in zip(names, ends)})
    return SimpleNamespace(state_ids=ids, **fields)


def out_values(out):
    return list(unpack_values(bytes(out.values), out.value_ends))


LIMITS = MapStateDescriptor("limits")


class Limits(BroadcastProcessFunction):
    def process_element(self, r, ctx):
        yield f"{r[0]} limit={ctx.broadcast_state(LIMITS).get(r[0], 'none')}"

    def process_broadcast_element(self, r, ctx):
        state = ctx.broadcast_state(LIMITS)
        state.put(r[0], r[1])
        yield f"size={len(state)}"


def broadcast_job(env, args):
    a = env.read_text_file("a").map(str.split)
    b = env.read_text_file("b").map(str.split)
    a.connect(b.broadcast(LIMITS)).process(Limits()).print()


def test_a_broadcast_process_node_reads_its_broadcast_input_through_a_broadcast_edge():
    plan = record(broadcast_job, [])
    node = plan.nodes[4]
    assert (node.kind, node.name, node.inputs) == ("broadcast-process", "Broadcast-Process", [(1, "forward"), (3, "broadcast")])
    assert [d.name for d in node.spec["broadcast"]] == ["limits"] and node.spec["states"] is None


def test_broadcast_elements_write_the_state_that_elements_read_and_snapshots_restore_it():
    plan = record(broadcast_job, [])
    chain = Chain(plan, [4])
    out, _ = chain.process_with_context(batch([("k", 5), ("j", 7)]), entries(), 0, 0, input=1)
    assert out_values(out) == ["size=1", "size=2"]
    out, _ = chain.process_with_context(batch([("k", 1), ("x", 2)]), entries(), 0, 0, input=0)
    assert out_values(out) == ["k limit=5", "x limit=none"]
    held = chain.snapshot()
    assert held == sorted(held) and [(packb("j"), packb(7)), (packb("k"), packb(5))] == [(k, v) for _, k, v in held]

    # A new instance gets the copy back in a call with an empty batch, before any record.
    restored = Chain(record(broadcast_job, []), [4])
    copy = entries([(id, b"", b"", k, v) for id, k, v in held])
    restored.process_with_context(batch([]), copy, 0, 0, input=1)
    out, _ = restored.process_with_context(batch([("j", 0)]), entries(), 0, 0, input=0)
    assert out_values(out) == ["j limit=7"]


def test_process_element_reads_the_broadcast_state_only():
    class Writer(Limits):
        def process_element(self, r, ctx):
            ctx.broadcast_state(LIMITS).put(r[0], 1)

    def build(env, args):
        a, b = env.read_text_file("a"), env.read_text_file("b")
        a.connect(b.broadcast(LIMITS)).process(Writer()).print()

    chain = Chain(record(build, []), [2])
    with pytest.raises(UserError, match="ReadOnlyBroadcastState' object has no attribute 'put'"):
        chain.process_with_context(batch(["x"]), entries(), 0, 0, input=0)


class Enrich(KeyedBroadcastProcessFunction):
    def __init__(self):
        self.seen = ValueState("seen")

    def process_element(self, r, ctx):
        self.seen.update(self.seen.value(0) + 1)
        ctx.register_event_time_timer(10)
        yield f"{ctx.current_key()} seen={self.seen.value()}"

    def process_broadcast_element(self, r, ctx):
        ctx.broadcast_state(LIMITS).put(r[0], r[1])
        self.seen.value()  # no key: keyed state is out of reach

    def on_timer(self, timestamp, ctx):
        yield f"timer {ctx.current_key()} {ctx.broadcast_state(LIMITS).get(ctx.current_key())}"


def keyed_broadcast_job(env, args):
    a = env.read_text_file("a").map(str.split).key_by(lambda r: r[0])
    a.connect(env.read_text_file("b").map(str.split).broadcast(LIMITS)).process(Enrich()).print()


def test_a_keyed_broadcast_process_function_has_keyed_state_and_timers_on_its_keyed_side():
    plan = record(keyed_broadcast_job, [])
    node = plan.nodes[5]
    assert (node.kind, node.name, node.inputs) == ("broadcast-process", "Keyed Broadcast-Process", [(2, "hash"), (4, "broadcast")])
    assert [name for _, name, _ in node.spec["states"]] == ["seen"]
    chain = Chain(plan, [5])
    out, call = chain.process_with_context(batch([("k",), ("k",)], keys=["k", "k"]), entries(), 0, 0, input=0)
    assert out_values(out) == ["k seen=1", "k seen=2"]
    assert [t for _, t, _, _ in call.registered] == [10, 10]
    with pytest.raises(UserError, match="outside a keyed context"):
        chain.process_with_context(batch([("k", 3)]), entries(), 0, 0, input=1)
    timers = SimpleNamespace(keys=packb("k"), key_ends=[len(packb("k"))], namespaces=b"", namespace_ends=[0], timestamps=[10], domains=["event-time"])
    out, _ = chain.on_timers(timers, entries(), 10, 0)
    assert out_values(out) == ["timer k 3"]  # the put before the failure stands


def test_broadcast_takes_map_state_descriptors():
    with pytest.raises(TypeError, match="MapStateDescriptor"):
        record(lambda env, args: env.read_text_file("a").broadcast("limits"), [])


@pytest.mark.parametrize(
    "method, partitioning",
    [
        ("rebalance", "rebalance"),
        ("rescale", "rescale"),
        ("shuffle", "shuffle"),
        ("broadcast", "broadcast"),
        ("global", "global"),
        ("global_", "global"),
        ("forward", "forward-strict"),
    ],
)
def test_an_explicit_partitioning_is_the_edge_to_the_next_node(method, partitioning):
    def build(env, args):
        lines = getattr(env.read_text_file("a"), method)()
        lines.map(str.upper).key_by(lambda line: line[0]).reduce(lambda a, b: b).print()

    plan = record(build, [])
    assert [n.inputs for n in plan.nodes] == [[], [(0, partitioning)], [(1, "forward")], [(2, "hash")], [(3, "forward")]]


def test_partitioning_a_keyed_stream_is_refused():
    with pytest.raises(InvalidPlan, match=r"rebalance\(\) on the keyed stream of node 1 'Key By'.*before key_by"):
        record(lambda env, args: env.read_text_file("a").key_by(lambda line: line[0]).rebalance().print(), [])


def custom_job(partitioner):
    def build(env, args):
        env.read_text_file("a").map(str.split).partition_custom(partitioner, lambda r: int(r[1])).map(tuple).print()

    return build


def test_partition_custom_ends_its_chain_and_keys_each_record_with_the_partition_picked():
    plan = record(custom_job(lambda key, n: key % n), [])
    node = plan.nodes[2]
    assert (node.kind, node.name, node.uid, node.inputs) == ("partition-custom", "Partition Custom", "partition-custom-2", [(1, "forward")])
    assert plan.nodes[3].inputs == [(2, "custom")]
    with pytest.raises(InvalidPlan, match="must end its chain"):
        Chain(plan, [1, 2, 3], 3)
    with pytest.raises(InvalidPlan, match="no partitions to pick among"):
        Chain(plan, [1, 2])
    out, _ = Chain(plan, [1, 2], 3).process(batch(["a 4", "b 9", "c 2"]), None)
    assert bytes(out.keys) == bytes([1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]) and out.key_ends == [4, 8, 12]
    assert out_values(out) == [("a", "4"), ("b", "9"), ("c", "2")]


class ByKey:
    """A partitioner as PyFlink spells it: an object with ``partition``."""

    def partition(self, key, num_partitions):
        return key // 10


def test_a_partitioner_object_is_called_through_partition():
    out, _ = Chain(record(custom_job(ByKey()), []), [1, 2], 2).process(batch(["a 4", "b 19"]), None)
    assert bytes(out.keys) == bytes([0, 0, 0, 0, 1, 0, 0, 0])


@pytest.mark.parametrize(
    "partitioner, message",
    [
        (lambda key, n: n, "node 2 'Partition Custom': the partitioner returned partition 2, but the next operator has 2 subtasks"),
        (lambda key, n: -1, "the partitioner returned partition -1"),
        (lambda key, n: "0", "the partitioner returned str '0', not an int partition"),
        (lambda key, n: True, "the partitioner returned bool True, not an int partition"),
    ],
)
def test_a_partition_out_of_range_or_not_an_int_fails_naming_the_node(partitioner, message):
    chain = Chain(record(custom_job(partitioner), []), [1, 2], 2)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        chain.process(batch(["a 4"]), None)


def join_job(env, args):
    strategy = WatermarkStrategy.for_monotonous_timestamps()
    a = env.read_text_file("a").map(str.split).assign_timestamps_and_watermarks(strategy, lambda r: int(r[1]))
    b = env.read_text_file("b").map(str.split).assign_timestamps_and_watermarks(strategy, lambda r: int(r[1]))
    joined = a.join(b).where(lambda r: r[0]).equal_to(lambda r: r[0])
    if "window" in args:
        joined = joined.window(EventTimeSessionWindows.with_gap(100)).apply(lambda x, y: (x[1], y[1]))
        joined.print()


def test_a_window_join_is_a_union_of_tagged_inputs_keyed_and_windowed():
    plan = record(join_job, ["--window"])
    kinds = [n.kind for n in plan.nodes]
    assert kinds[-5:] == ["map", "union", "key-by", "keyed-process", "sink"]
    assert [n.name for n in plan.nodes if n.name.startswith("Join")] == ["Join: Left", "Join: Right"]
    window = plan.nodes[-2]
    assert window.name == "Window Join" and window.spec["window"]["assigner"].kind == "session"
    # Every left record of a window meets every right one.
    logic = window.fn.logic
    items = [(0, ("a", 1)), (1, ("a", 2)), (0, ("a", 3)), (1, ("a", 4))]
    assert list(logic.emit("a", None, items)) == [(1, 2), (1, 4), (3, 2), (3, 4)]


def test_a_join_without_a_window_is_refused_at_submit():
    with pytest.raises(InvalidPlan, match="has no window; a window join needs its window"):
        record(join_job, [])

    def apply_without_window(env, args):
        a, b = env.read_text_file("a"), env.read_text_file("b")
        a.join(b).where(len).equal_to(len).apply(lambda x, y: x).print()

    with pytest.raises(InvalidPlan, match="a window join needs its window"):
        record(apply_without_window, [])


def str_key(r) -> str:
    return r[0]


def int_key(r) -> "int":
    return len(r)


@pytest.mark.parametrize(
    "connect",
    [
        lambda a, b: a.key_by(str_key).connect(b.key_by(int_key)),
        lambda a, b: a.connect(b).key_by(str_key, int_key),
        lambda a, b: a.key_by(lambda r: r, key_type=str).interval_join(b.key_by(int_key)),
        lambda a, b: a.join(b).where(str_key).equal_to(lambda r: r, key_type=int),
    ],
    ids=["connect", "connected-key-by", "interval-join", "window-join"],
)
def test_inputs_keyed_by_different_known_types_are_refused(connect):
    def build(env, args):
        connect(env.read_text_file("a"), env.read_text_file("b"))

    with pytest.raises(InvalidPlan, match="the first input is keyed by str and the second by int"):
        record(build, [])


def test_keys_of_unknown_or_equal_types_connect():
    from wflink import KeyedCoProcessFunction

    def build(env, args):
        a, b, c = (env.read_text_file(p) for p in "abc")
        a.key_by(str_key).connect(b.key_by(lambda r: r)).process(KeyedCoProcessFunction()).print()
        c.key_by(str_key).connect(env.read_text_file("d").key_by(len, key_type=str)).process(KeyedCoProcessFunction()).print()

    assert [n.kind for n in record(build, []).nodes].count("keyed-co-process") == 2


def steps(size, slide, records):
    """Runs a count window of ``size``/``slide`` printing each window's records."""
    step = CountWindowStep(_Process(lambda key, w, rs: [f"{key}:{list(rs)}"]), size, slide)
    state, out = None, []
    for r in records:
        state, fired = step.step(packb("k"), state, r)
        out.extend(fired)
        state = unpackb(packb(state))  # through MessagePack, as the host stores it
    return out


def test_a_tumbling_count_window_fires_every_size_records():
    assert steps(3, 3, [1, 2, 3, 4, 5, 6, 7]) == ["k:[1, 2, 3]", "k:[4, 5, 6]"]


def test_a_sliding_count_window_fires_every_slide_records_with_the_last_size():
    assert steps(3, 2, [1, 2, 3, 4, 5, 6]) == ["k:[1, 2]", "k:[2, 3, 4]", "k:[4, 5, 6]"]
    assert steps(2, 3, [1, 2, 3, 4, 5, 6]) == ["k:[2, 3]", "k:[5, 6]"]


def test_a_count_window_runs_on_the_reduce_path_and_stamps_outputs_with_the_firing_record():
    def build(env, args):
        env.read_text_file("in").key_by(lambda r: r[0]).count_window(2).reduce(lambda a, b: (a[0], a[1] + b[1])).print()

    plan = record(build, [])
    node = plan.nodes[2]
    assert (node.kind, node.name, node.inputs) == ("reduce", "Count Window (2)", [(1, "hash")])
    chain = Chain(plan, [2])
    empty = SimpleNamespace(keys=b"", key_ends=[], values=b"", value_ends=[])
    out, (keys, values, ends) = chain.process(batch([("a", 1), ("b", 5), ("a", 2)], ["a", "b", "a"], [10, 20, 30]), empty)
    assert out_values(out) == [("a", 3)] and out.timestamps == [30]
    assert keys == [packb("a"), packb("b")]
    with pytest.raises(InvalidPlan, match="at least 1"):
        record(lambda env, args: env.read_text_file("in").key_by(len).count_window(5, 0), [])


def test_window_all_is_one_window_node_at_parallelism_1_after_a_constant_key():
    def build(env, args):
        env.set_parallelism(4)
        timed = env.read_text_file("in").assign_timestamps_and_watermarks(WatermarkStrategy.for_monotonous_timestamps(), len)
        timed.window_all(TumblingEventTimeWindows.of(10)).reduce(max).print()

    plan = record(build, [])
    key_by, window = plan.nodes[2], plan.nodes[3]
    assert key_by.kind == "key-by" and key_by.fn("anything") is None
    assert (window.kind, window.name, window.parallelism, window.inputs) == ("keyed-process", "All Window", 1, [(2, "hash")])
    assert isinstance(window.fn.logic, _Reduce)
