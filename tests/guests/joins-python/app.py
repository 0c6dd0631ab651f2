"""The `interval` mode of tests/guests/joins in Python, for the Python
library's interval join. Both input files (``--a``, ``--b``) have lines
``key,timestamp_ms,amount`` and get event time with a bounded
out-of-orderness of 2 s; ``a`` keyed by key is interval-joined with ``b``
``between(--lower, --upper)`` (ms), with ``--lower-exclusive`` and
``--upper-exclusive``. Prints ``key,a_ts,b_ts,a_amount,b_amount`` per pair
and ``UNMATCHED key,a_ts`` for each ``a`` that met none; ``--output DIR``
writes them to files (the unmatched under ``DIR/unmatched``).
"""

from datetime import timedelta

from wflink import OutputTag, WatermarkStrategy, export_job


def parse(line):
    fields = line.split(",")
    if len(fields) == 3:
        yield (fields[0], int(fields[1]), int(fields[2]))


def pair(a, b, ctx):
    ctx.collect(f"{a[0]},{a[1]},{b[1]},{a[2]},{b[2]}")


def build(env, args):
    env.set_job_name("joins-python")
    output = args.get("output")
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(timedelta(seconds=2))

    def keyed(name):
        records = env.read_text_file(args.required(name)).flat_map(parse)
        return records.assign_timestamps_and_watermarks(strategy, lambda r: r[1]).key_by(lambda r: r[0])

    unmatched = OutputTag("unmatched")
    join = (
        keyed("a")
        .interval_join(keyed("b"))
        .between(args.required_int("lower"), args.required_int("upper"))
        .side_output_left_unmatched(unmatched)
    )
    if args.flag("lower-exclusive"):
        join = join.lower_bound_exclusive()
    if args.flag("upper-exclusive"):
        join = join.upper_bound_exclusive()
    joined = join.process(pair)
    side = None if output is None else f"{output}/unmatched"
    joined.get_side_output(unmatched).map(lambda r: f"UNMATCHED {r[0]},{r[1]}").print_or_write(side)
    joined.print_or_write(output)


Job, Operator = export_job(build)
