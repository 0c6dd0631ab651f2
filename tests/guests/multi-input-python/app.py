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
- ``min``, ``max``, ``min-by``, ``max-by``: on ``a`` alone, read, parsed
  and keyed at parallelism 1 (so each key's records come in file order),
  the keyed aggregation of the amount, printing ``key,timestamp,amount``
  after each record.
"""

from datetime import timedelta

from wflink import (
    CoProcessFunction,
    InvalidArguments,
    KeyedCoProcessFunction,
    MapState,
    OutputTag,
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


def build(env, args):
    env.set_job_name("multi-input-python")
    output = args.get("output")
    mode = args.get("mode", "union")
    if mode in ("min", "max", "min-by", "max-by"):
        records = env.read_text_file(args.required("a")).set_parallelism(1).map(parse).set_parallelism(1)
        keyed = records.key_by(lambda r: r[0]).set_parallelism(1)
        running = getattr(keyed, mode.replace("-", "_"))(2)
        running.map(lambda r: f"{r[0]},{r[1]},{r[2]}").print_or_write(output)
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
    else:
        raise InvalidArguments(f"unknown mode {mode}")


Job, Operator = export_job(build)
