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
"""

from wflink import CoProcessFunction, InvalidArguments, OutputTag, WatermarkStrategy, export_job


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


def build(env, args):
    env.set_job_name("multi-input-python")
    output = args.get("output")
    a = env.read_text_file(args.required("a")).map(parse)
    b = env.read_text_file(args.required("b")).map(parse)
    mode = args.get("mode", "union")
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
    else:
        raise InvalidArguments(f"unknown mode {mode}")


Job, Operator = export_job(build)
