"""The public API of the ``wflink`` package: every public item is
documented and its type hints resolve, plans are recorded by the Rust
SDK's rules, and arguments parse as the other SDKs parse them."""

import importlib
import inspect
import pkgutil
import typing
from datetime import timedelta

import pytest

import wflink
from wflink import Args, InvalidArguments, InvalidPlan, TumblingEventTimeWindows, WatermarkStrategy
from wflink.stream import record


def public_items():
    """Every name in ``wflink.__all__``, and the public methods of its classes."""
    for name in wflink.__all__:
        item = getattr(wflink, name)
        yield name, item
        if inspect.isclass(item):
            for attr, member in vars(item).items():
                if not attr.startswith("_") and (inspect.isfunction(member) or isinstance(member, staticmethod)):
                    yield f"{name}.{attr}", getattr(item, attr)


def is_alias(item):
    """Type aliases (``Duration``, ``BuildFunction``) carry no docstring of their own."""
    return typing.get_origin(item) is not None


@pytest.mark.parametrize("name,item", list(public_items()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_item_is_documented(name, item):
    if is_alias(item):
        return
    assert inspect.getdoc(item), f"{name} has no docstring"


@pytest.mark.parametrize("name,item", list(public_items()), ids=lambda v: v if isinstance(v, str) else "")
def test_type_hints_of_public_items_resolve(name, item):
    if is_alias(item) or not callable(item):
        return
    target = item.__init__ if inspect.isclass(item) else item
    typing.get_type_hints(target, globalns=NAMESPACE)


def library_namespace():
    """The names of every module of the library (hints may name classes
    imported only for type checking), but the component glue, which needs
    the bindings of a component."""
    namespace = {}
    for module in pkgutil.iter_modules(wflink.__path__):
        if module.name != "component":
            namespace.update(vars(importlib.import_module(f"wflink.{module.name}")))
    return namespace


NAMESPACE = library_namespace()


def wordcount(env, args):
    (
        env.set_job_name("wordcount")
        .read_text_input(args)
        .flat_map(str.split)
        .map(lambda w: (w, 1))
        .key_by(lambda p: p[0])
        .sum(1)
        .name("counts")
        .print()
    )


def test_a_plan_is_recorded_in_creation_order_with_hash_edges_after_key_by():
    plan = record(wordcount, ["--input", "in.txt"])
    assert plan.job_name == "wordcount"
    assert [n.kind for n in plan.nodes] == ["source", "flat-map", "map", "key-by", "aggregate", "sink"]
    assert [n.inputs for n in plan.nodes] == [[], [(0, "forward")], [(1, "forward")], [(2, "forward")], [(3, "hash")], [(4, "forward")]]
    assert plan.nodes[4].name == "counts"
    assert [n.uid for n in plan.nodes][:2] == ["source-file-0", "flat-map-1"]


def test_a_stream_that_goes_nowhere_is_an_invalid_plan():
    def build(env, args):
        env.read_text_file("in").print()
        env.read_text_file("other").map(str.upper)

    with pytest.raises(InvalidPlan, match="goes nowhere"):
        record(build, [])


def test_windows_and_watermarks_take_timedeltas_or_ms():
    assert TumblingEventTimeWindows.of(timedelta(seconds=10)).size == 10_000
    assert TumblingEventTimeWindows.of(250).size == 250
    assert WatermarkStrategy.for_bounded_out_of_orderness(timedelta(milliseconds=5)).with_idleness(0).idle_timeout_ms == 1
    with pytest.raises(TypeError, match="timedelta or an int"):
        TumblingEventTimeWindows.of(1.5)


def test_arguments_parse_by_the_rust_sdk_rules():
    args = Args(["pos", "--input", "in.txt", "--n=3", "--strict", "--port", "80", "--port", "81"])
    assert args.required("input") == "in.txt"
    assert args.get_int("n") == 3
    assert args.flag("strict")
    assert args.required_int("port") == 81
    assert args.positional == ["pos"]
    assert "output" not in args and args.get("output", "out") == "out"
    with pytest.raises(InvalidArguments, match="--missing"):
        args.required("missing")


def test_kafka_and_formatted_file_connectors_record_their_options():
    def build(env, args):
        clicks = env.from_kafka("b:9092", "clicks", format="json", group_id="g", bounded=True, options={"bad-records": "skip"})
        clicks.sink_to_kafka("b:9092", "totals", format="json", delivery="exactly-once", transactional_id_prefix="t")
        env.read_file("in.csv", "csv", {"csv.header": True}).write_as("out", "json")

    plan = record(build, [])
    assert plan.nodes[0].connector == (
        "kafka",
        [("bootstrap.servers", "b:9092"), ("topic", "clicks"), ("format", "json"), ("group.id", "g"), ("bounded", "true"), ("bad-records", "skip")],
    )
    assert plan.nodes[1].connector[0] == "kafka"
    assert ("transactional-id-prefix", "t") in plan.nodes[1].connector[1]
    assert plan.nodes[2].connector == ("file", [("path", "in.csv"), ("format", "csv"), ("csv.header", "true")])
    assert plan.nodes[3].connector == ("file", [("path", "out"), ("format", "json")])


def test_a_union_is_one_node_reading_every_input_and_a_stream_feeds_one_union():
    def build(env, args):
        a, b, c = (env.read_text_file(p) for p in ("a", "b", "c"))
        a.union(b.key_by(len), c).map(str.upper).print()

    plan = record(build, [])
    union = plan.nodes[4]
    assert union.kind == "union"
    assert union.inputs == [(0, "forward"), (3, "hash"), (2, "forward")]

    def twice(env, args):
        a = env.read_text_file("a")
        a.union(a).print()

    with pytest.raises(InvalidPlan, match="feeds two operations"):
        record(twice, [])


def test_connect_records_a_co_process_node_of_two_inputs():
    from wflink import CoProcessFunction

    class Both(CoProcessFunction):
        def process_element1(self, value, ctx):
            yield value

        def process_element2(self, value, ctx):
            yield value

    def build(env, args):
        a, b = env.read_text_file("a"), env.read_text_file("b").map(str.strip)
        a.connect(env.read_text_file("c")).map(str.upper, str.lower).print()
        env.read_text_file("d").connect(b).process(Both()).print()

    plan = record(build, [])
    co_map, co_process = plan.nodes[4], plan.nodes[7]
    assert (co_map.kind, co_map.name, co_map.inputs) == ("co-process", "Co-Map", [(0, "forward"), (3, "forward")])
    assert (co_process.kind, co_process.inputs) == ("co-process", [(6, "forward"), (2, "forward")])
    assert co_map.fn.run(1, ["X"], None, None) == (["x"], None)

    def keyed(env, args):
        env.read_text_file("a").connect(env.read_text_file("b").key_by(len)).map(str, str).print()

    with pytest.raises(InvalidPlan, match="connect pairs two keyed streams or two non-keyed ones"):
        record(keyed, [])


def test_two_keyed_streams_connect_for_a_keyed_co_process_function_with_its_states():
    from wflink import KeyedCoProcessFunction, ValueState

    class Totals(KeyedCoProcessFunction):
        def __init__(self):
            self.total = ValueState("total")

    def build(env, args):
        a, b = env.read_text_file("a").key_by(len), env.read_text_file("b")
        a.connect(b.key_by(len)).process(Totals()).print()

    node = record(build, []).nodes[4]
    assert (node.kind, node.inputs) == ("keyed-co-process", [(1, "hash"), (3, "hash")])
    assert [name for _, name, _ in node.spec["states"]] == ["total"]


def test_key_by_a_field_is_the_hosts_key_by_with_a_hash_edge():
    def build(field):
        def job(env, args):
            env.read_text_file("in").map(lambda w: (w, 1)).key_by(field).sum(1).print()

        return record(job, [])

    for field in [0, "word", None]:
        plan = build(field)
        n = plan.nodes[2]
        name = "Key By" if field is None else f"Key By: {field}"
        assert (n.kind, n.spec, n.fn, n.uid, n.name) == ("key-by-field", field, None, "key-by-2", name)
        assert plan.nodes[3].inputs == [(2, "hash")]

    def counted(env, args):
        env.read_text_file("in").key_by().count().print()

    plan = record(counted, [])
    assert [(n.kind, n.spec, n.name) for n in plan.nodes[1:3]] == [
        ("key-by-field", None, "Key By"),
        ("aggregate", ("count", None), "Keyed Aggregation: COUNT()"),
    ]
    for bad, error in [(-1, ValueError)]:
        with pytest.raises(error):
            build(bad)

    def rebalanced(env, args):
        env.read_text_file("in").key_by(0).rebalance().print()

    with pytest.raises(InvalidPlan, match="travels by its key"):
        record(rebalanced, [])


def test_sum_min_max_min_by_and_max_by_are_the_hosts_aggregations():
    from wflink.stream import KeyedStream

    def node(method, field):
        def build(env, args):
            getattr(env.read_text_file("in").key_by(len), method)(field).print()

        return record(build, []).nodes[2]

    for method, function in [("sum", "sum"), ("min", "min"), ("max", "max"), ("min_by", "min-by"), ("max_by", "max-by")]:
        for field in [1, "price", None]:
            n = node(method, field)
            assert (n.kind, n.spec, n.fn, n.uid) == ("aggregate", (function, field), None, "aggregate-2")
    assert node("sum", 1).name == "Keyed Aggregation: SUM(1)"
    assert node("max_by", "price").name == "Keyed Aggregation: MAX_BY(price)"
    for bad, error in [(-1, ValueError), (1.5, TypeError), (True, TypeError)]:
        with pytest.raises(error):
            node("sum", bad)
    assert KeyedStream.min.__doc__


def interval_join(env, args):
    def keyed(path):
        lines = env.read_text_file(path).map(lambda line: line.split(","))
        timed = lines.assign_timestamps_and_watermarks(WatermarkStrategy.for_monotonous_timestamps(), lambda r: int(r[1]))
        return timed.key_by(lambda r: r[0])

    lower, upper = int(args.required("lower")), int(args.required("upper"))
    joined = keyed("/a").interval_join(keyed("/b")).between(lower, upper).process(lambda a, b, ctx: [(a, b)])
    joined.print()


def test_an_interval_join_is_a_keyed_co_process_node_reading_both_key_bys():
    plan = record(interval_join, ["--lower", "-5", "--upper", "10"])
    join = plan.nodes[-2]
    assert (join.kind, join.name) == ("keyed-co-process", "Interval Join")
    key_bys = [n.id for n in plan.nodes if n.kind == "key-by"]
    assert join.inputs == [(key_bys[0], "hash"), (key_bys[1], "hash")]
    assert sorted(name for _, name, _ in join.spec["states"]) == ["interval-join-left", "interval-join-right"]


def test_an_interval_join_with_its_lower_bound_above_the_upper_is_an_invalid_plan():
    with pytest.raises(InvalidPlan, match="lower bound 10 ms is above the upper bound 5 ms"):
        record(interval_join, ["--lower", "10", "--upper", "5"])
