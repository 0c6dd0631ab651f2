"""The DataStream API: a build function records the job's dataflow with it.

A build function only *records* the plan; it runs again in every task to
find its functions, so it must have no side effects. Each operation appends
a node, so node ids are creation order and the plan is topologically
sorted by construction (the same rules as the Rust SDK's ``builder.rs``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, Union

from .errors import InvalidArguments, InvalidPlan
from .keys import check_same_key_types, key_type_of
from .partition import PartitionMethods
from .process import OutputTag
from .state import take_declared
from .time import WatermarkStrategy

if TYPE_CHECKING:
    from .args import Args
    from .broadcast import BroadcastStream, MapStateDescriptor
    from .connected import ConnectedStreams
    from .process import Context, KeyedProcessFunction, ProcessFunction
    from .join import IntervalJoin
    from .all_window import AllWindowedStream
    from .count_window import CountWindowedStream
    from .window import WindowAssigner, WindowedStream
    from .window_join import JoinedStreams

#: A job's build function, ``build(env, args)``: records the dataflow on
#: ``env``. It runs in every task too (to find the functions), so it must
#: have no side effects.
BuildFunction = Callable[["StreamExecutionEnvironment", "Args"], None]

#: Job name when the build function sets none.
DEFAULT_JOB_NAME = "wflink job"

#: The uid prefix of each node kind (as the Rust SDK names them).
_SLUGS = {"assign-timestamps": "timestamps", "key-by-field": "key-by"}

#: The partitioning of an edge leaving a node of these kinds, unless the
#: stream asked for another; forward for the others.
_DEFAULT_EDGES = {"key-by": "hash", "key-by-field": "hash", "partition-custom": "custom"}


def _check_position(method, field):
    """Refuses a negative field position, naming the method ``method``."""
    if isinstance(field, int) and field < 0:
        raise ValueError(f"{method} takes a field position from 0, not {field}")


class Node:
    """One node of the StreamGraph (WIT ``node``), plus its user function."""

    __slots__ = ("id", "name", "uid", "kind", "connector", "parallelism", "inputs", "fn", "consumers", "spec")

    def __init__(self, id, kind, name, connector=None, fn=None, spec=None):
        self.id = id
        self.kind = kind
        self.name = name
        #: Kind-specific settings: the WatermarkStrategy of an
        #: assign-timestamps node, ``{"states", "window"}`` of a
        #: keyed-process node, the OutputTag of a side-output node.
        self.spec = spec
        if connector:
            slug = f"{kind}-{connector[0]}"
        elif kind == "keyed-process" and spec["window"] is not None:
            slug = "window"
        elif kind == "side-output":
            slug = f"side-output-{spec.name}"
        else:
            slug = _SLUGS.get(kind, kind)
        self.uid = f"{slug}-{id}"
        #: ``(name, [(key, value), ...])`` for sources and sinks.
        self.connector = connector
        self.parallelism = None
        #: ``[(source id, partitioning)]``, the WIT partitioning names
        #: (``"forward"``, ``"hash"``, ``"rebalance"``, ``"custom"``, ...).
        self.inputs = []
        self.fn = fn
        self.consumers = 0

    def label(self):
        return f"node {self.id} '{self.name}'"


class Plan:
    """The plan under construction, shared by every stream of one build run."""

    def __init__(self):
        self.nodes = []
        self.job_name = None
        self.parallelism = None
        self.error = None
        #: Joins begun (``a.join(b)``) and not yet finished with
        #: ``window(..).apply(..)``, by id: the message naming each.
        self.open_joins = {}
        #: The partitioning a stream asked for (``rebalance()`` and the
        #: like), by the id of the node producing it: its edge to the next
        #: node carries it (a stream feeds one operation).
        self.partitionings = {}

    def add(self, kind, name, input=None, connector=None, fn=None, spec=None, more_inputs=(), partitioning=None):
        """Appends a node reading ``input`` and then ``more_inputs``;
        ``partitioning`` maps an input's position to the partitioning its
        edge asks for (``{1: "broadcast"}``), overriding the rule below."""
        node = Node(len(self.nodes), kind, name, connector, fn, spec)
        asked = partitioning or {}
        for position, source in enumerate(([] if input is None else [input]) + list(more_inputs)):
            upstream = self.nodes[source]
            upstream.consumers += 1
            # Side outputs are no fan-out: they leave inside the same task.
            main = sum(1 for n in self.nodes if n.kind != "side-output" and any(s == source for s, _ in n.inputs))
            if kind != "side-output" and (main >= 1 or any(s == source for s, _ in node.inputs)):
                self.fail(InvalidPlan(f"the stream of {upstream.label()} feeds two operations; fan-out is not supported yet"))
            # The rule of edges: what the node asked for, else what the stream asked for; else leaving a
            # key-by is hash, leaving a partition-custom custom, all else forward.
            default = self.partitionings.get(source) or _DEFAULT_EDGES.get(upstream.kind, "forward")
            node.inputs.append((source, asked.get(position, default)))
        self.nodes.append(node)
        return node.id

    def set_parallelism(self, id, parallelism):
        if not isinstance(parallelism, int) or parallelism < 1:
            what = self.nodes[id].label() if id is not None else "the job"
            self.fail(InvalidPlan(f"parallelism of {what} must be at least 1"))
        elif id is None:
            self.parallelism = parallelism
        else:
            self.nodes[id].parallelism = parallelism

    def fail(self, error):
        if self.error is None:
            self.error = error

    def finish(self):
        """Checks the plan (a sink, no dangling stream, unique uids)."""
        if self.error is not None:
            raise self.error
        for message in self.open_joins.values():
            raise InvalidPlan(message)
        if not any(n.kind == "sink" for n in self.nodes):
            raise InvalidPlan("the job defines no sink: end a stream with print(), write_as_text(..) or discard()")
        for n in self.nodes:
            if n.consumers == 0 and n.kind != "sink":
                raise InvalidPlan(
                    f"the stream of {n.label()} goes nowhere: end it with print(), write_as_text(..) or discard()"
                )
        uids = {}
        for n in self.nodes:
            if n.uid in uids:
                raise InvalidPlan(f"uid '{n.uid}' is used by nodes {uids[n.uid]} and {n.id}; uids must be unique")
            uids[n.uid] = n.id
        if self.job_name is None:
            self.job_name = DEFAULT_JOB_NAME
        return self


def _options(settings: dict, extra: Optional[dict]) -> list:
    """Connector options as ``[(key, value)]`` strings, ``extra`` last."""
    merged = dict(settings)
    merged.update(extra or {})
    return [(str(k), "true" if v is True else "false" if v is False else str(v)) for k, v in merged.items()]


class StreamExecutionEnvironment:
    """What a build function receives: create sources here, set the job
    name and default parallelism."""

    def __init__(self):
        self._plan = Plan()

    def set_job_name(self, name: str) -> StreamExecutionEnvironment:
        """Names the job (shown by ``wflink list`` and the dashboard)."""
        self._plan.job_name = str(name)
        return self

    def set_parallelism(self, parallelism: int) -> StreamExecutionEnvironment:
        """Sets the parallelism of every node that sets none itself."""
        self._plan.set_parallelism(None, parallelism)
        return self

    def read_text_file(self, path: str) -> DataStream:
        """Reads the text file (or directory) at ``path``, one ``str`` per line."""
        return self._source("file", [("path", str(path))], "Source: file")

    def socket_text_stream(self, hostname: str, port: int) -> DataStream:
        """Reads lines from a TCP server at ``hostname:port``."""
        return self._source("socket", [("hostname", str(hostname)), ("port", str(port))], "Source: socket")

    def datagen(self, rate: int, count: int) -> DataStream:
        """Generates the ints ``0 .. count``, ``rate`` per second (0: unthrottled)."""
        return self._source("datagen", [("rate", str(rate)), ("count", str(count))], "Source: datagen")

    def read_file(self, path: str, format: str = "raw", options: Optional[dict] = None) -> DataStream:
        """Reads the file (or directory) at ``path`` in ``format``: ``raw``
        (one ``str`` per line), ``json`` (one dict per line) or ``csv`` (a
        list of fields per line, or a dict by column with
        ``{"csv.header": "true"}`` or ``{"csv.columns": "a,b"}``);
        ``options`` adds connector options such as ``{"bad-records": "skip"}``."""
        return self._source("file", _options({"path": path, "format": format}, options), "Source: file")

    def from_kafka(
        self,
        bootstrap_servers: str,
        topic: str,
        *,
        format: str = "raw",
        group_id: Optional[str] = None,
        starting_offsets: Optional[str] = None,
        bounded: bool = False,
        metadata: bool = False,
        options: Optional[dict] = None,
    ) -> DataStream:
        """Reads Kafka ``topic`` (comma-separated for several) from
        ``bootstrap_servers``. Values are read by ``format`` (``raw``: a
        ``str``; ``json``: a dict; ``csv``: a list or dict); ``metadata``
        gives a dict with ``topic``, ``partition``, ``offset``,
        ``timestamp``, ``key``, ``value`` and ``headers`` instead.
        ``starting_offsets``: ``earliest`` (default), ``latest``,
        ``committed`` or ``timestamp:<ms>``; ``bounded`` stops at the end
        the topic has at start. ``options`` adds any option of the README's
        table, e.g. ``{"properties.fetch.min.bytes": "1"}``."""
        settings = {"bootstrap.servers": bootstrap_servers, "topic": topic, "format": format}
        if group_id is not None:
            settings["group.id"] = group_id
        if starting_offsets is not None:
            settings["starting-offsets"] = starting_offsets
        if bounded:
            settings["bounded"] = "true"
        if metadata:
            settings["metadata"] = "true"
        return self._source("kafka", _options(settings, options), "Source: kafka")

    def read_text_input(self, args: Args) -> DataStream:
        """The text source the usual example arguments name: ``--input PATH``
        (a file or directory) or ``--hostname HOST --port PORT`` (a socket)."""
        if "input" in args:
            return self.read_text_file(args.required("input"))
        if "hostname" in args:
            return self.socket_text_stream(args.required("hostname"), args.required_int("port"))
        raise InvalidArguments("the job needs --input PATH or --hostname HOST --port PORT")

    def _source(self, name, options, label):
        return DataStream(self._plan, self._plan.add("source", label, connector=(name, options)))


class DataStream(PartitionMethods):
    """A stream of records in the plan being built. Each operation returns
    the next stream; a stream feeds exactly one operation. Its explicit
    partitionings (``rebalance``, ``partition_custom``, ...) are in
    :mod:`wflink.partition`."""

    def __init__(self, plan, node):
        self._plan = plan
        self._node = node

    def name(self, name: str) -> DataStream:
        """Names the node that produces this stream."""
        self._plan.nodes[self._node].name = str(name)
        return self

    def uid(self, uid: str) -> DataStream:
        """Sets the stable id of the node that produces this stream."""
        self._plan.nodes[self._node].uid = str(uid)
        return self

    def set_parallelism(self, parallelism: int) -> DataStream:
        """Sets the parallelism of the node that produces this stream."""
        self._plan.set_parallelism(self._node, parallelism)
        return self

    def _then(self, kind, name, fn, cls=None, spec=None):
        return (cls or DataStream)(self._plan, self._plan.add(kind, name, self._node, fn=fn, spec=spec))

    def map(self, fn: Callable[[Any], Any]) -> DataStream:
        """Turns each record into exactly one record: ``fn(record) -> record``."""
        return self._then("map", "Map", fn)

    def flat_map(self, fn: Callable[[Any], Iterable[Any]]) -> DataStream:
        """Turns each record into zero or more: ``fn(record)`` returns an
        iterable (a list, or a generator that ``yield``\\ s)."""
        return self._then("flat-map", "Flat Map", fn)

    def filter(self, fn: Callable[[Any], object]) -> DataStream:
        """Keeps the records for which ``fn(record)`` is true."""
        return self._then("filter", "Filter", fn)

    def assign_timestamps_and_watermarks(
        self, strategy: WatermarkStrategy, timestamp_fn: Callable[[Any], int]
    ) -> DataStream:
        """Sets each record's event timestamp (ms since the epoch, an int) to
        ``timestamp_fn(record)``, and lets the host make watermarks by
        ``strategy`` (a :class:`~wflink.WatermarkStrategy`) after this node."""
        if not isinstance(strategy, WatermarkStrategy):
            raise TypeError("assign_timestamps_and_watermarks takes a WatermarkStrategy first")
        return self._then("assign-timestamps", "Timestamps/Watermarks", timestamp_fn, spec=strategy)

    def process(self, fn: Union[ProcessFunction, Callable[[Any, Context], Optional[Iterable[Any]]]]) -> DataStream:
        """Runs a process function on each record: a
        :class:`~wflink.ProcessFunction` or a plain ``fn(value, ctx)``. It
        may emit any number of records (``ctx.collect`` or ``yield``), send
        records to side outputs (``ctx.output(tag, value)``) and read the
        record's timestamp and the watermark."""
        return self._then("process", "Process", getattr(fn, "process_element", fn))

    def get_side_output(self, tag: OutputTag) -> DataStream:
        """The records the node producing this stream sent to the side
        output ``tag`` (an :class:`~wflink.OutputTag`). A side output may go
        through ``map``, ``flat_map`` and ``filter`` and must end in a sink."""
        if not isinstance(tag, OutputTag):
            raise TypeError("get_side_output takes an OutputTag")
        return self._then("side-output", f"Side Output: {tag.name}", None, spec=tag)

    def union(self, *others: DataStream) -> DataStream:
        """Merges this stream with ``others`` (streams of the same records)
        into one, as Flink's ``union``; no function runs. The node reading
        the union starts a new task chain."""
        for other in others:
            if not isinstance(other, DataStream) or other._plan is not self._plan:
                raise TypeError("union takes streams of the same job (DataStream objects)")
        if not others:
            return self
        more = [other._node for other in others]
        return DataStream(self._plan, self._plan.add("union", "Union", self._node, more_inputs=more))

    def connect(self, other: Union[DataStream, BroadcastStream]) -> ConnectedStreams:
        """Pairs this stream with ``other`` (of any records) for a function
        of two inputs: ``map``, ``flat_map`` or ``process`` on the
        :class:`~wflink.ConnectedStreams`; two keyed streams give
        :class:`~wflink.KeyedConnectedStreams` for a
        :class:`~wflink.KeyedCoProcessFunction` (refused at submit when
        their key types are known and differ). With a
        :class:`~wflink.BroadcastStream` (see :meth:`broadcast`): a
        :class:`~wflink.BroadcastConnectedStream`, or for a keyed stream a
        :class:`~wflink.KeyedBroadcastConnectedStream`."""
        from .broadcast import BroadcastStream
        from .connected import ConnectedStreams

        if isinstance(other, BroadcastStream):
            return other._connect_to(self)  # type: ignore[return-value]
        if not isinstance(other, DataStream) or other._plan is not self._plan:
            raise TypeError("connect takes a stream of the same job (a DataStream or a BroadcastStream)")
        keyed = (isinstance(self, KeyedStream), isinstance(other, KeyedStream))
        if keyed == (True, True):
            from .connected import KeyedConnectedStreams

            check_same_key_types("connect", self._key_type, other._key_type)  # type: ignore[attr-defined]
            return KeyedConnectedStreams(self, other)  # type: ignore[return-value]
        if any(keyed):
            raise InvalidPlan(
                "connect pairs two keyed streams or two non-keyed ones; key the other stream too (key_by), "
                "or connect both unkeyed and key them with ConnectedStreams.key_by(key1, key2)"
            )
        return ConnectedStreams(self, other)

    def broadcast(self, *descriptors: MapStateDescriptor) -> Union[DataStream, BroadcastStream]:
        """Without arguments: sends each record to every subtask of the next
        node (Flink's ``broadcast()``). With the broadcast map states
        ``descriptors`` (Flink's ``broadcast(descriptor)``): a
        :class:`~wflink.BroadcastStream` to connect to another stream; every
        record goes to every subtask of the operator, whose
        ``process_broadcast_element`` writes the states."""
        from .broadcast import BroadcastStream, MapStateDescriptor

        if not descriptors:
            return self._partitioned("broadcast", "broadcast")
        if not all(isinstance(d, MapStateDescriptor) for d in descriptors):
            raise TypeError("broadcast takes MapStateDescriptors, e.g. broadcast(MapStateDescriptor('rules')), or nothing")
        return BroadcastStream(self, list(descriptors))

    def join(self, other: DataStream) -> JoinedStreams:
        """Joins this stream with ``other`` on a key and a window (Flink's
        ``join``): ``a.join(b).where(key_a).equal_to(key_b).window(assigner).apply(fn)``
        (see :mod:`wflink.window_join`). A join left without its window is
        refused at submit."""
        from .window_join import JoinedStreams

        if not isinstance(other, DataStream) or other._plan is not self._plan:
            raise TypeError("join takes a stream of the same job (a DataStream)")
        return JoinedStreams(self, other)

    def window_all(self, assigner: WindowAssigner) -> AllWindowedStream:
        """Cuts the whole stream into windows by ``assigner`` (Flink's
        ``window_all``): every record goes to one window operator at
        parallelism 1; finish with ``reduce``, ``aggregate`` or ``process``
        on the result. Use it where the stream is small or pre-aggregated:
        a keyed window scales, this does not."""
        from .all_window import AllWindowedStream

        return AllWindowedStream(self.key_by(lambda _: None), assigner)

    def key_by(self, fn: Union[Callable[[Any], Any], int, str, None] = None, key_type: Any = None) -> KeyedStream:
        """Partitions the stream by ``fn(record)``: records whose keys encode
        equally (MessagePack) meet in one subtask. ``key_type`` (e.g.
        ``str``), or ``fn``'s return annotation, names the key type, so
        connecting or joining streams keyed by different types is refused
        when the job is submitted.

        ``fn`` may instead name a field, as Flink's ``key_by(0)``: an int
        is the position of an element of tuple (or list) records, a str the
        key of dict records. The host then reads each record's key out of
        the record itself, with no Python call and no key to encode per
        record, and the key is what ``lambda r: r[0]`` (or
        ``lambda r: r["name"]``) would give, so the state of a job is the
        same either way. A record without that field fails the job. Without
        ``fn`` (or with None) each record is its own key, as
        ``lambda r: r`` gives, also read by the host."""
        if fn is None or isinstance(fn, (int, str)) and not isinstance(fn, bool):
            _check_position("key_by", fn)
            name = "Key By" if fn is None else f"Key By: {fn}"
            keyed = self._then("key-by-field", name, None, KeyedStream, spec=fn)
            keyed._key_type = key_type_of(None, key_type)
            return keyed
        keyed = self._then("key-by", "Key By", fn, KeyedStream)
        keyed._key_type = key_type_of(fn, key_type)
        return keyed

    def _sink(self, name, options, label):
        return DataStream(self._plan, self._plan.add("sink", label, self._node, connector=(name, options)))

    def print(self) -> DataStream:
        """Prints every record to the TaskManager's stdout (tuples as ``(a,b)``)."""
        return self._sink("print", [], "Sink: Print")

    def write_as_text(self, path: str) -> DataStream:
        """Writes every record as a line of text to files under the directory ``path``."""
        return self._sink("file", [("path", str(path))], "Sink: File")

    def write_as(self, path: str, format: str, options: Optional[dict] = None) -> DataStream:
        """Writes every record to files under ``path`` in ``format``
        (``raw``, ``json`` or ``csv``; ``{"csv.header": "true"}`` starts
        each part file with the keys of the first dict)."""
        return self._sink("file", _options({"path": path, "format": format}, options), "Sink: File")

    def sink_to_kafka(
        self,
        bootstrap_servers: str,
        topic: str,
        *,
        format: str = "raw",
        delivery: str = "at-least-once",
        transactional_id_prefix: Optional[str] = None,
        metadata: bool = False,
        options: Optional[dict] = None,
    ) -> DataStream:
        """Writes every record to Kafka ``topic``, by ``format``.
        ``delivery``: ``none``, ``at-least-once`` (default) or
        ``exactly-once`` (Kafka transactions; needs
        ``transactional_id_prefix`` and a broker with transactions). With
        ``metadata`` each record is a dict with ``value`` and, optionally,
        ``key``, ``topic``, ``partition``, ``timestamp`` and ``headers``."""
        settings = {"bootstrap.servers": bootstrap_servers, "topic": topic, "format": format, "delivery": delivery}
        if transactional_id_prefix is not None:
            settings["transactional-id-prefix"] = transactional_id_prefix
        if metadata:
            settings["metadata"] = "true"
        return self._sink("kafka", _options(settings, options), "Sink: kafka")

    def print_or_write(self, directory: Optional[str]) -> DataStream:
        """Writes to files under ``directory`` when it is given, else prints:
        the usual ``--output DIR`` switch of the examples."""
        return self.print() if directory is None else self.write_as_text(directory)

    def discard(self) -> DataStream:
        """Drops every record (for benchmarks)."""
        return self._sink("discard", [], "Sink: Discard")


class KeyedStream(DataStream):
    """A stream partitioned by key; its operations keep one state value per
    key, held by the host and handed to the function with each batch."""

    #: The name of the key type when the job declared it (see :mod:`wflink.keys`).
    _key_type: Optional[str] = None

    def count_window(self, size: int, slide: Optional[int] = None) -> CountWindowedStream:
        """Count windows per key (Flink's ``count_window``): a window fires
        every ``slide`` records of a key (``size`` when no slide is given)
        with the key's last ``size`` records; finish with ``reduce``,
        ``aggregate`` or ``process`` on the result."""
        from .count_window import CountWindowedStream

        return CountWindowedStream(self, size, size if slide is None else slide)

    def reduce(self, fn: Callable[[Any, Any], Any]) -> DataStream:
        """A running reduce per key: the key's first record is its state, each
        later one becomes ``fn(state, record)`` (return a new value, don't
        mutate). Emits the new state after every record."""
        return self._then("reduce", "Reduce", fn, DataStream)

    def sum(self, field: Union[int, str, None]) -> DataStream:
        """A running sum per key of ``field``, as Flink's ``sum``: after
        every record, emits the key's first record with ``field`` replaced
        by the sum so far. ``field`` is a position of tuple or list records,
        a key of dict records, or None to sum records that are numbers.

        The host runs it natively, not the interpreter: ints add as 64-bit
        integers (an overflow fails the job, naming the key), floats as
        floats, and an int plus a float is a float. A record without the
        field, or whose field is not a number, fails the job."""
        return self._aggregate("sum", field)

    def min(self, field: Union[int, str, None] = None) -> DataStream:
        """A running minimum per key of ``field`` (as for :meth:`sum`), as
        Flink's ``min``: only that field changes, the others keep the key's
        first record's values (use :meth:`min_by` for the whole record).
        Emits the running record after every record; run by the host."""
        return self._aggregate("min", field)

    def max(self, field: Union[int, str, None] = None) -> DataStream:
        """A running maximum per key of ``field``, as :meth:`min`."""
        return self._aggregate("max", field)

    def min_by(self, field: Union[int, str, None] = None) -> DataStream:
        """Per key, the whole record with the least ``field`` so far (as
        for :meth:`sum`), as Flink's ``min_by``: on ties the earlier record
        stays. Run by the host."""
        return self._aggregate("min-by", field)

    def max_by(self, field: Union[int, str, None] = None) -> DataStream:
        """Per key, the whole record with the greatest ``field`` so far, as
        :meth:`min_by`."""
        return self._aggregate("max-by", field)

    def count(self) -> DataStream:
        """A running count per key: after every record, emits the pair of
        the key's first record and the number of its records so far, as
        ``(record, count)`` (keyed by the record itself, ``key_by()``, the
        word count: ``words.key_by().count()`` gives ``("flink", 3)`` for
        the third ``"flink"``). Run by the host, as :meth:`sum`."""
        return self._aggregate("count", None)

    def _aggregate(self, function, field):
        """A built-in aggregation node: no function of the job, the host
        runs it (``spec`` is ``(function, field)``)."""
        if isinstance(field, bool) or not (field is None or isinstance(field, (int, str))):
            raise TypeError(f"{function} takes a field position (int), a dict key (str) or None, not {field!r}")
        _check_position(function, field)
        name = f"Keyed Aggregation: {function.upper().replace('-', '_')}({'' if field is None else field})"
        return self._then("aggregate", name, None, DataStream, spec=(function, field))

    def process(self, fn: KeyedProcessFunction) -> DataStream:  # type: ignore[override]
        """Runs a :class:`~wflink.KeyedProcessFunction` on each record with
        its key's state (the state handles it created in ``__init__``),
        timers and side outputs."""
        if not hasattr(fn, "process_element"):
            raise TypeError("KeyedStream.process takes a KeyedProcessFunction (an object with process_element)")
        states = take_declared()
        return self._keyed_process(fn, "Keyed Process", {"states": states, "window": None})

    def window(self, assigner: WindowAssigner) -> WindowedStream:
        """Cuts each key's records into windows by ``assigner`` (e.g.
        ``TumblingEventTimeWindows.of(timedelta(seconds=10))``); finish with
        ``reduce``, ``aggregate`` or ``process`` on the result."""
        from .window import WindowedStream

        return WindowedStream(self, assigner)

    def _keyed_process(self, fn, name, spec):
        return self._then("keyed-process", name, fn, DataStream, spec)

    def interval_join(self, other: KeyedStream) -> IntervalJoin:
        """Joins this keyed stream with ``other`` on an interval of event
        time: finish with ``between(lower_ms, upper_ms)`` and ``process(fn)``
        (see :mod:`wflink.join`). Both streams need event timestamps."""
        from .join import IntervalJoin

        if not isinstance(other, KeyedStream):
            raise TypeError("interval_join takes a KeyedStream (call key_by on the other stream first)")
        check_same_key_types("interval_join", self._key_type, other._key_type)
        return IntervalJoin(self, other)

    def _two_inputs(self, other, kind, name, fn, spec):
        """A node reading this stream as input 0 and ``other`` as input 1."""
        return DataStream(self._plan, self._plan.add(kind, name, self._node, fn=fn, spec=spec, more_inputs=[other._node]))


def record(build: BuildFunction, args: Iterable[str]) -> Plan:
    """Runs ``build`` on ``args`` and returns the checked plan."""
    from .args import Args

    env = StreamExecutionEnvironment()
    take_declared()
    build(env, Args(args))
    return env._plan.finish()
