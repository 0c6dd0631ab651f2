"""Order payments (e-commerce) in Python, the twin of
guest-examples/order-payments: orders ``order_id,customer,timestamp_ms,amount``
and payments ``payment_id,order_id,timestamp_ms,amount``, joined on the
order id by an interval join: a payment counts when it comes within 15
minutes of its order. Orders without one leave on a side output once their
15 minutes have passed, and so do payments that met no order. See the Rust
example's README.md for the exact rules.

    --orders PATH      the orders (a file or a directory)
    --payments PATH    the payments (a file or a directory)
"""

import re
from datetime import timedelta

from wflink import OutputTag, WatermarkStrategy, export_job

#: How long after its order a payment still counts.
PAY_WITHIN_MS = 15 * 60 * 1000

#: How far records may come out of timestamp order, per input.
OUT_OF_ORDERNESS = timedelta(minutes=2)

# An integer as Rust's i64 parser reads it: optionally signed ASCII digits.
INTEGER = re.compile(r"[+-]?[0-9]+")


def fields(line):
    """The four comma-separated fields of a line, the third an integer
    timestamp; None when the line is malformed."""
    parts = [p.strip() for p in line.strip().split(",")]
    if len(parts) != 4 or not parts[0] or not parts[1] or not parts[3] or not INTEGER.fullmatch(parts[2]):
        return None
    timestamp = int(parts[2])
    if not -(2**63) <= timestamp < 2**63:
        return None
    return (parts[0], parts[1], timestamp, parts[3])


def read(env, path, what, malformed):
    """The records at ``path`` as ``(id, customer or order, timestamp, amount)``;
    malformed lines go to ``malformed`` as ``MALFORMED <what>: <line>``."""

    def parse(line, ctx):
        record = fields(line)
        if record is None:
            ctx.output(malformed, f"MALFORMED {what}: {line}")
        else:
            ctx.collect(record)

    return env.read_text_file(path).process(parse).name(f"parse {what}")


def paid(order, payment, ctx):
    after = (payment[2] - order[2]) // 1000
    ctx.collect(f"PAID {order[0]} {order[1]} {order[3]} by {payment[0]} after {after} s")


def build(env, args):
    env.set_job_name("order-payments")
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(OUT_OF_ORDERNESS)
    bad_orders = OutputTag("malformed-orders")
    bad_payments = OutputTag("malformed-payments")
    orders = read(env, args.required("orders"), "order", bad_orders)
    payments = read(env, args.required("payments"), "payment", bad_payments)
    orders.get_side_output(bad_orders).print()
    payments.get_side_output(bad_payments).print()
    orders = orders.assign_timestamps_and_watermarks(strategy, lambda o: o[2])
    payments = payments.assign_timestamps_and_watermarks(strategy, lambda p: p[2])

    unpaid = OutputTag("unpaid")
    stray = OutputTag("unmatched-payments")
    joined = (
        orders.key_by(lambda o: o[0])
        .interval_join(payments.key_by(lambda p: p[1]))
        .between(0, PAY_WITHIN_MS)
        .side_output_left_unmatched(unpaid)
        .side_output_right_unmatched(stray)
        .process(paid)
        .uid("pay-within-15-minutes")
    )
    joined.get_side_output(unpaid).map(lambda o: f"UNPAID {o[0]} {o[1]} {o[3]}").print()
    joined.get_side_output(stray).map(lambda p: f"UNMATCHED {p[0]} for {p[1]}").print()
    joined.print()


Job, Operator = export_job(build)
