"""A Python job of several inputs for the runtime tests, the twin of
``tests/guests/multi-input``. The input files ``--a`` and ``--b`` have
lines ``key,timestamp_ms,amount``; ``--output DIR`` writes to files
instead of printing. Modes (``--mode``):

- ``union``: both merged, then a running sum of the amounts per key,
  ``(key,sum)`` after each record.
- ``co-map``: ``A key amount`` for each record of ``a``, ``B key amount``
  for each of ``b``.
- ``co-flat-map``: each record of ``a`` becomes as many ``A key i`` lines
  as its amount modulo 3; each of ``b`` one ``B key``.
- ``co-process``: amounts of ``a`` above 50 go to the side output ``big``
  (``BIG key amount``, written to ``DIR/big``), the others print
  ``A key amount``; records of ``b`` (with event timestamps) print
  ``B key timestamp``.
- ``keyed``: both inputs get event time (2 s of out-of-orderness) and
  are keyed by ``key``; a KeyedCoProcessFunction keeps, per key and 10 s
  window, the sum of ``a``'s amounts and the count of ``b``'s records in
  one map state, and prints ``key,window_end,sum_a,count_b`` when the
  window's event timer fires (``LATE key timestamp`` for a late record).
- ``sum``, ``min``, ``max``, ``min-by``, ``max-by``: on ``a`` alone, read,
  parsed and keyed at parallelism 1 (so each key's records come in file
  order), the host's keyed aggregation of the amount (field 2), printing
  ``key,timestamp,amount`` after each record; ``sum-named`` and
  ``max-by-named`` the same on dicts (field ``"amount"``); ``sum-missing``
  sums field 3, which the records lack, and fails.
- ``broadcast``: ``b``, read at parallelism 1, is broadcast with the map
  state ``limits`` (key -> amount) to a BroadcastProcessFunction on ``a``:
  each record of ``b`` sets its key's limit and prints, in every subtask,
  ``B key amount size=N`` (N: the state's entries after it); each record
  of ``a`` prints ``A key amount limit=L``, L its key's limit as that
  subtask knew it (``none`` before any).
- ``enrich``: clicks ``timestamp,user,page`` (``--clicks``) keyed by
  user, connected to profile updates ``timestamp,user,tier``
  (``--profiles``) broadcast
  with the map state ``profiles`` (user -> versions); a
  KeyedBroadcastProcessFunction holds each click in keyed state until the
  watermark passes it (event timer), then prints
  ``timestamp,user,page,tier`` with the tier valid at the click's
  timestamp (``unknown`` before the user's first profile): the twin of
  guest-examples/click-enrichment.
- ``window-join``: both inputs with event time (2 s of out-of-orderness),
  ``a`` joined with ``b`` on key in ``--assigner`` windows (``tumbling``
  10 s, ``sliding`` 10 s every 5 s, ``session`` with a 3 s gap), printing
  ``key,a_ts,b_ts,a_amount,b_amount`` per pair and window.
- ``count-sum``: ``a`` keyed at parallelism 1 (file order per key), a
  tumbling count window of ``--size`` records reduced to the sum of the
  amounts (the other fields of the window's first record), printing
  ``key,timestamp,amount``.
- ``count-slide``: a sliding count window of ``--size`` records every
  ``--slide``, printing ``key:amount;amount;...`` (oldest first).
- ``window-all``: ``a`` with event time (2 s of out-of-orderness), a 10 s
  tumbling ``window_all`` printing ``window_end,count,sum`` per window.
- ``key-mismatch``: ``a`` keyed by a ``str`` key function connected to
  ``b`` keyed by an ``int`` one: refused when the job is submitted.
- ``join-without-window``: ``a`` joined with ``b`` on key, but no window:
  refused when the job is submitted.
- ``apply-keyed``: ``a`` keyed by key, connected to the lines of a socket
  source at 127.0.0.1:``--port`` (same line format, parallelism 1)
  broadcast with the map state ``commands`` (unused). Each record of ``a``
  adds its amount to its key's value state ``sum`` and prints
  ``A key amount``. A broadcast line with key ``double`` doubles every
  key's sum through ``apply_to_keyed_state`` and prints, once per subtask,
  ``DOUBLED n=K`` (K: the keys visited); one with key ``flush`` prints
  ``FLUSH key sum`` for every key and clears it, then ``FLUSHED n=K``.
- ``partition``: the lines of ``a``, read at parallelism ``--up N`` (1),
  travel by ``--strategy`` (``rebalance``, ``rescale``, ``shuffle``,
  ``broadcast``, ``global``, ``forward``, ``custom`` or
  ``custom-out-of-range``) to a map at the job's parallelism, which passes
  them on unchanged. ``custom`` is a ``partition_custom`` sending key
  ``kN`` to subtask ``N mod parallelism``; ``custom-out-of-range`` picks
  partition ``parallelism``, one too many.
"""

from datetime import timedelta

from wflink import (
    BroadcastProcessFunction,
    CoProcessFunction,
    EventTimeSessionWindows,
    InvalidArguments,
    KeyedBroadcastProcessFunction,
    KeyedCoProcessFunction,
    MapState,
    MapStateDescriptor,
    OutputTag,
    SlidingEventTimeWindows,
    TumblingEventTimeWindows,
    ValueState,
    WatermarkStrategy,
    export_job,
)

WINDOW_MS = 10_000


def parse(line):
    key, ts, amount = line.split(",")
    return (key, int(ts), int(amount))


class Router(CoProcessFunction):
    """Routes big amounts of ``a`` to a side output."""

    def __init__(self, big):
        self.big = big

    def process_element1(self, r, ctx):
        if r[2] > 50:
            ctx.output(self.big, f"BIG {r[0]} {r[2]}")
        else:
            ctx.collect(f"A {r[0]} {r[2]}")

    def process_element2(self, r, ctx):
        yield f"B {r[0]} {ctx.timestamp()}"


class WindowTotals(KeyedCoProcessFunction):
    """Sums ``a`` and counts ``b`` per key and window; both inputs share the state."""

    def __init__(self):
        self.totals = MapState("totals")

    def add(self, r, amount, count, ctx):
        if r[1] <= ctx.current_watermark():
            ctx.collect(f"LATE {r[0]} {r[1]}")
            return
        end = r[1] - r[1] % WINDOW_MS + WINDOW_MS - 1
        s, c = self.totals.get(end, (0, 0))
        self.totals.put(end, (s + amount, c + count))
        ctx.register_event_time_timer(end)

    def process_element1(self, r, ctx):
        self.add(r, r[2], 0, ctx)

    def process_element2(self, r, ctx):
        self.add(r, 0, 1, ctx)

    def on_timer(self, timestamp, ctx):
        total = self.totals.get(timestamp)
        if total is not None:
            self.totals.remove(timestamp)
            yield f"{ctx.current_key()},{timestamp},{total[0]},{total[1]}"


class Limits(BroadcastProcessFunction):
    """Keeps the latest amount of each key of ``b`` in broadcast state; ``a`` reads it."""

    def __init__(self, limits):
        self.limits = limits

    def process_element(self, r, ctx):
        limit = ctx.broadcast_state(self.limits).get(r[0])
        yield f"A {r[0]} {r[2]} limit={'none' if limit is None else limit}"

    def process_broadcast_element(self, r, ctx):
        limits = ctx.broadcast_state(self.limits)
        limits.put(r[0], r[2])
        yield f"B {r[0]} {r[2]} size={len(limits)}"


class Enrich(KeyedBroadcastProcessFunction):
    """Enriches clicks with the tier valid at their timestamp. A click waits
    in keyed state until the watermark passes it: by then every profile
    update from before it has arrived, whichever input ran ahead."""

    def __init__(self, profiles):
        self.profiles = profiles
        self.pending = MapState("pending-clicks")

    def process_element(self, click, ctx):
        ts, _, page = click
        self.pending.put(ts, [*self.pending.get(ts, ()), page])
        ctx.register_event_time_timer(ts)

    def process_broadcast_element(self, update, ctx):
        ts, user, tier = update
        state = ctx.broadcast_state(self.profiles)
        versions = sorted([*state.get(user, ()), (ts, tier)])
        state.put(user, versions)

    def on_timer(self, timestamp, ctx):
        user = ctx.current_key()
        pages = self.pending.get(timestamp)
        if pages is None:
            return
        self.pending.remove(timestamp)
        versions = ctx.broadcast_state(self.profiles).get(user, ())
        tier = next((t for start, t in reversed(versions) if start <= timestamp), "unknown")
        for page in pages:
            yield f"{timestamp},{user},{page},{tier}"


class ApplyKeyed(KeyedBroadcastProcessFunction):
    """Sums amounts per key; broadcast commands walk every key's sum."""

    def __init__(self):
        self.sum = ValueState("sum")

    def process_element(self, r, ctx):
        self.sum.update(self.sum.value(0) + r[2])
        yield f"A {r[0]} {r[2]}"

    def process_broadcast_element(self, r, ctx):
        visited = []

        def double(key, total):
            visited.append(key)
            total.update(total.value() * 2)

        def flush(key, total):
            visited.append(key)
            ctx.collect(f"FLUSH {key} {total.value()}")
            total.clear()

        if r[0] == "double":
            ctx.apply_to_keyed_state(self.sum, double)
            yield f"DOUBLED n={len(visited)}"
        elif r[0] == "flush":
            ctx.apply_to_keyed_state(self.sum, flush)
            yield f"FLUSHED n={len(visited)}"


def text_fields(line):
    ts, a, b = line.split(",")
    return (int(ts), a, b)


def str_key(r) -> str:
    return r[0]


def int_key(r) -> int:
    return r[2]


def join_line(a, b):
    return f"{a[0]},{a[1]},{b[1]},{a[2]},{b[2]}"


ASSIGNERS = {
    "tumbling": lambda: TumblingEventTimeWindows.of(timedelta(seconds=10)),
    "sliding": lambda: SlidingEventTimeWindows.of(timedelta(seconds=10), timedelta(seconds=5)),
    "session": lambda: EventTimeSessionWindows.with_gap(timedelta(seconds=3)),
}


def single_input(env, args, mode, output):
    """The modes on ``a`` alone."""
    records = env.read_text_file(args.required("a")).set_parallelism(1).map(parse).set_parallelism(1)
    if mode == "window-all":
        strategy = WatermarkStrategy.for_bounded_out_of_orderness(timedelta(seconds=2))
        timed = records.assign_timestamps_and_watermarks(strategy, lambda r: r[1])
        windows = timed.window_all(TumblingEventTimeWindows.of(timedelta(seconds=10)))
        totals = windows.process(lambda w, rs: [f"{w.max_timestamp()},{len(rs)},{sum(r[2] for r in rs)}"])
        totals.print_or_write(output)
        return
    if mode.endswith("-named"):
        dicts = records.map(lambda r: {"key": r[0], "ts": r[1], "amount": r[2]}).set_parallelism(1)
        keyed = dicts.key_by(lambda d: d["key"]).set_parallelism(1)
        running = getattr(keyed, mode.removesuffix("-named").replace("-", "_"))("amount")
        running.map(lambda d: f"{d['key']},{d['ts']},{d['amount']}").print_or_write(output)
        return
    keyed = records.key_by(lambda r: r[0]).set_parallelism(1)
    size = args.get_int("size", 3)
    if mode == "count-sum":
        sums = keyed.count_window(size).reduce(lambda a, b: (a[0], a[1], a[2] + b[2]))
        sums.map(lambda r: f"{r[0]},{r[1]},{r[2]}").print_or_write(output)
    elif mode == "count-slide":
        windows = keyed.count_window(size, args.get_int("slide", 1))
        windows.process(lambda key, rs: [f"{key}:{';'.join(str(r[2]) for r in rs)}"]).print_or_write(output)
    else:
        field = 3 if mode == "sum-missing" else 2
        running = getattr(keyed, mode.removesuffix("-missing").replace("-", "_"))(field)
        running.map(lambda r: f"{r[0]},{r[1]},{r[2]}").print_or_write(output)


def broadcast_modes(env, args, mode, output):
    """The modes with broadcast state."""
    if mode == "apply-keyed":
        commands = MapStateDescriptor("commands")
        lines = env.socket_text_stream("127.0.0.1", args.required_int("port")).set_parallelism(1)
        b = lines.map(parse).set_parallelism(1)
        a = env.read_text_file(args.required("a")).map(parse).key_by(lambda r: r[0])
        a.connect(b.broadcast(commands)).process(ApplyKeyed()).print_or_write(output)
        return
    if mode == "broadcast":
        limits = MapStateDescriptor("limits")
        b = env.read_text_file(args.required("b")).set_parallelism(1).map(parse).set_parallelism(1)
        a = env.read_text_file(args.required("a")).map(parse)
        a.connect(b.broadcast(limits)).process(Limits(limits)).print_or_write(output)
        return
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(timedelta(seconds=2))
    clicks = env.read_text_file(args.required("clicks")).map(text_fields).name("parse-clicks")
    clicks = clicks.assign_timestamps_and_watermarks(strategy, lambda c: c[0])
    updates = env.read_text_file(args.required("profiles")).map(text_fields).name("parse-profiles")
    updates = updates.assign_timestamps_and_watermarks(strategy, lambda u: u[0])
    profiles = MapStateDescriptor("profiles")
    enriched = clicks.key_by(lambda c: c[1]).connect(updates.broadcast(profiles)).process(Enrich(profiles))
    enriched.name("enrich").uid("enrich").print_or_write(output)


def key_number(line):
    """The number ``N`` of a line's key ``kN`` (0 if it has none)."""
    digits = line.split(",")[0][1:]
    return int(digits) if digits.isdigit() else 0


def partition(env, args, output):
    """The lines of ``a`` sent to the next node by ``--strategy``."""
    lines = env.read_text_file(args.required("a")).set_parallelism(args.get_int("up", 1))
    strategy = args.required("strategy")
    if strategy == "custom":
        sent = lines.partition_custom(lambda n, partitions: n % partitions, key_number)
    elif strategy == "custom-out-of-range":
        sent = lines.partition_custom(lambda n, partitions: partitions, key_number)
    elif strategy in ("rebalance", "rescale", "shuffle", "broadcast", "global", "forward"):
        sent = getattr(lines, strategy)()
    else:
        raise InvalidArguments(f"unknown strategy {strategy}")
    sent.map(lambda line: line).print_or_write(output)


def build(env, args):
    env.set_job_name("multi-input-python")
    output = args.get("output")
    mode = args.get("mode", "union")
    if mode == "partition":
        partition(env, args, output)
        return
    aggregations = ("sum", "min", "max", "min-by", "max-by", "sum-named", "max-by-named", "sum-missing")
    if mode in aggregations + ("count-sum", "count-slide", "window-all"):
        single_input(env, args, mode, output)
        return
    if mode in ("broadcast", "enrich", "apply-keyed"):
        broadcast_modes(env, args, mode, output)
        return
    a = env.read_text_file(args.required("a")).map(parse)
    b = env.read_text_file(args.required("b")).map(parse)
    if mode == "union":
        a.union(b).map(lambda r: (r[0], r[2])).key_by(lambda r: r[0]).sum(1).print_or_write(output)
    elif mode == "co-map":
        a.connect(b).map(lambda r: f"A {r[0]} {r[2]}", lambda r: f"B {r[0]} {r[2]}").print_or_write(output)
    elif mode == "co-flat-map":
        each_a = lambda r: [f"A {r[0]} {i}" for i in range(r[2] % 3)]  # noqa: E731
        a.connect(b).flat_map(each_a, lambda r: [f"B {r[0]}"]).print_or_write(output)
    elif mode == "co-process":
        big = OutputTag("big")
        b = b.assign_timestamps_and_watermarks(WatermarkStrategy.for_monotonous_timestamps(), lambda r: r[1])
        routed = a.connect(b).process(Router(big))
        routed.get_side_output(big).print_or_write(None if output is None else f"{output}/big")
        routed.print_or_write(output)
    elif mode == "keyed":
        strategy = WatermarkStrategy.for_bounded_out_of_orderness(timedelta(seconds=2))
        a = a.assign_timestamps_and_watermarks(strategy, lambda r: r[1])
        b = b.assign_timestamps_and_watermarks(strategy, lambda r: r[1])
        totals = a.connect(b).key_by(lambda r: r[0], lambda r: r[0]).process(WindowTotals())
        totals.uid("window-totals").print_or_write(output)
    elif mode == "window-join":
        strategy = WatermarkStrategy.for_bounded_out_of_orderness(timedelta(seconds=2))
        a = a.assign_timestamps_and_watermarks(strategy, lambda r: r[1])
        b = b.assign_timestamps_and_watermarks(strategy, lambda r: r[1])
        assigner = ASSIGNERS.get(args.required("assigner"))
        if assigner is None:
            raise InvalidArguments(f"unknown assigner {args.required('assigner')}")
        joined = a.join(b).where(lambda r: r[0]).equal_to(lambda r: r[0]).window(assigner()).apply(join_line)
        joined.print_or_write(output)
    elif mode == "join-without-window":
        a.join(b).where(lambda r: r[0]).equal_to(lambda r: r[0])
    elif mode == "key-mismatch":
        a.key_by(str_key).connect(b.key_by(int_key)).process(WindowTotals()).print_or_write(output)
    else:
        raise InvalidArguments(f"unknown mode {mode}")


Job, Operator = export_job(build)
