"""Sensor alerts (IoT) in Python, the twin of guest-examples/sensor-alerts:
readings ``sensor_id,timestamp_ms,temperature``; per sensor, 10 s tumbling
event-time windows with the maximum temperature and the count, and an
alert when the temperature rises on 3 consecutive readings within 5 s.
See README.md for the exact rules.

    --input PATH | --hostname HOST --port PORT   where readings come from
    --output DIR                                 windows/, alerts/, late/, malformed/ under DIR (default: print)
    --strict                                     fail on the first malformed line
    --no-alerts                                  windows only (the keyed-window benchmark)
    --discard                                    drop the windows' output (benchmarks)
"""

import re
from collections import namedtuple
from datetime import timedelta
from math import inf, isfinite

from wflink import (
    AggregateFunction,
    KeyedProcessFunction,
    MapState,
    OutputTag,
    TumblingEventTimeWindows,
    UserError,
    ValueState,
    WatermarkStrategy,
    counter_add,
    export_job,
)

#: One parsed reading, with its original line for the late side output
#: (a namedtuple travels as a MessagePack array and comes back a tuple).
Reading = namedtuple("Reading", "sensor timestamp temperature text line")

# The Rust example's number rules: an optionally signed ASCII integer; a
# float as Rust's f64 parser reads it (digits, one dot, an exponent, or
# inf/infinity/nan, which are then refused as not finite).
INTEGER = re.compile(r"[+-]?[0-9]+")
FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse(line):
    """The reading of ``sensor_id,timestamp_ms,temperature``; None when malformed."""
    fields = line.strip().split(",")
    if len(fields) != 3 or not fields[0]:
        return None
    sensor, timestamp, text = fields[0], fields[1].strip(), fields[2].strip()
    if not FLOAT.fullmatch(text) or not INTEGER.fullmatch(timestamp):
        return None
    temperature = float(text)
    timestamp = int(timestamp)
    if not isfinite(temperature) or not -(2**63) <= timestamp < 2**63:
        return None
    return Reading(sensor, timestamp, temperature, text, line)


def higher(a, b):
    """The higher of two ``(temperature, text)``; on a tie the smaller text,
    so the result does not depend on arrival order."""
    if a[0] > b[0]:
        return a
    if a[0] < b[0]:
        return b
    if b[1] and b[1] < a[1]:
        return b
    return b if not a[1] else a


class MaxAndCount(AggregateFunction):
    """Max temperature (with its text) and count of a window; the
    accumulator is ``(max temperature, its text, count)``."""

    def create_accumulator(self):
        return (-inf, "", 0)

    def add(self, r, acc):
        return (*higher(acc[:2], (r[2], r[3])), acc[2] + 1)

    def get_result(self, acc):
        return acc[1], acc[2]

    def merge(self, a, b):
        return (*higher(a[:2], b[:2]), a[2] + b[2])


class RisingTemperature(KeyedProcessFunction):
    """Alerts when a sensor's temperature rises on 3 consecutive readings
    within 5 s, looking at readings in event-time order: each reading waits
    in ``pending`` until the watermark passes its timestamp."""

    def __init__(self, alerts):
        #: Readings not yet checked: timestamp -> [(temperature, text)].
        self.pending = MapState("pending")
        #: The current run of rising readings: [(timestamp, temperature)].
        self.run = ValueState("rising-run")
        self.alerts = alerts

    def process_element(self, r, ctx):
        if r[1] > ctx.current_watermark():
            at = list(self.pending.get(r[1], ()))
            at.append((r[2], r[3]))
            self.pending.put(r[1], at)
            ctx.register_event_time_timer(r[1])
        yield r

    def on_timer(self, timestamp, ctx):
        readings = self.pending.get(timestamp)
        if readings is None:
            return
        self.pending.remove(timestamp)
        run = list(self.run.value(()))
        for temperature, _ in sorted(readings):
            if run and temperature > run[-1][1]:
                run.append((timestamp, temperature))
            else:
                run = [(timestamp, temperature)]
            while len(run) > 1 and timestamp - run[0][0] > 5000:
                run.pop(0)
            if len(run) >= 3:
                yield self.alerts, f"ALERT {ctx.current_key()} {timestamp}"
                run = [(timestamp, temperature)]
        self.run.update(run)


def build(env, args):
    env.set_job_name("sensor-alerts")
    output = args.get("output")

    def to(sub):
        return None if output is None else f"{output}/{sub}"

    strict = args.flag("strict")
    malformed = OutputTag("malformed")
    alerts = OutputTag("alerts")
    late = OutputTag("late")

    def parse_line(line, ctx):
        reading = parse(line)
        if reading is not None:
            ctx.collect(reading)
        elif strict:
            raise UserError(f"malformed reading '{line}'")
        else:
            counter_add("malformed-lines", 1)
            ctx.output(malformed, f"MALFORMED {line}")

    readings = env.read_text_input(args).process(parse_line).name("parse")
    readings.get_side_output(malformed).print_or_write(to("malformed"))

    timed = readings.assign_timestamps_and_watermarks(
        WatermarkStrategy.for_bounded_out_of_orderness(timedelta(seconds=2)),
        lambda r: r[1],
    )
    if args.flag("no-alerts"):
        checked = timed
    else:
        checked = timed.key_by(lambda r: r[0]).process(RisingTemperature(alerts)).name("rising-temperature")
        checked.get_side_output(alerts).print_or_write(to("alerts"))

    def window_line(sensor, window, result):
        max_text, count = result
        yield f"{sensor},{window.start},{window.end},{max_text},{count}"

    windows = (
        checked.key_by(lambda r: r[0])
        .window(TumblingEventTimeWindows.of(timedelta(seconds=10)))
        .side_output_late_data(late)
        .aggregate(MaxAndCount(), window_line)
        .name("max-per-10s")
    )
    windows.get_side_output(late).map(lambda r: f"LATE {r[4]}").print_or_write(to("late"))
    if args.flag("discard"):
        windows.discard()
    else:
        windows.print_or_write(to("windows"))


Job, Operator = export_job(build)
