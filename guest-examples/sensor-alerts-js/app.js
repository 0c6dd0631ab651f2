// Sensor alerts (IoT) in JavaScript, the twin of guest-examples/sensor-alerts
// and sensor-alerts-python: readings `sensor_id,timestamp_ms,temperature`;
// per sensor, 10 s tumbling event-time windows with the maximum
// temperature and the count, and an alert when the temperature rises on 3
// consecutive readings within 5 s. See README.md for the exact rules.
//
//     --input PATH | --hostname HOST --port PORT   where readings come from
//     --output DIR                                 windows/, alerts/, late/, malformed/ under DIR (default: print)
//     --strict                                     fail on the first malformed line
//     --no-alerts                                  windows only (the keyed-window benchmark)
//     --discard                                    drop the windows' output (benchmarks)

import {
  AggregateFunction,
  KeyedProcessFunction,
  MapState,
  OutputTag,
  TumblingEventTimeWindows,
  ValueState,
  WatermarkStrategy,
  counterAdd,
  exportJob,
} from "wflink";

// The Rust example's number rules: an optionally signed ASCII integer; a
// float as Rust's f64 parser reads it (digits, one dot, an exponent, or
// inf/infinity/nan, which are then refused as not finite).
const INTEGER = /^[+-]?[0-9]+$/;
const FLOAT = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;

/** The reading of `sensor_id,timestamp_ms,temperature` as the array
 * `[sensor, timestamp, temperature, text, line]`; undefined when malformed. */
function parse(line) {
  const fields = line.trim().split(",");
  if (fields.length !== 3 || fields[0] === "") return undefined;
  const [sensor, stamp, text] = [fields[0], fields[1].trim(), fields[2].trim()];
  if (!FLOAT.test(text) || !INTEGER.test(stamp)) return undefined;
  const temperature = Number(text);
  const big = BigInt(stamp);
  if (!Number.isFinite(temperature) || big < MIN_I64 || big > MAX_I64) return undefined;
  // Timestamps travel as JS numbers: exact up to 2^53 ms (year 287396).
  const timestamp = Number(big);
  if (!Number.isSafeInteger(timestamp)) return undefined;
  return [sensor, timestamp, temperature, text, line];
}

/** The higher of two `[temperature, text]`; on a tie the smaller text, so
 * the result does not depend on arrival order. */
function higher(a, b) {
  if (a[0] > b[0]) return a;
  if (a[0] < b[0]) return b;
  if (b[1] && b[1] < a[1]) return b;
  return a[1] ? a : b;
}

/** Max temperature (with its text) and count of a window; the accumulator
 * is `[max temperature, its text, count]`. */
class MaxAndCount extends AggregateFunction {
  createAccumulator() {
    return [-Infinity, "", 0];
  }

  add(r, acc) {
    const [temperature, text] = higher(acc, [r[2], r[3]]);
    return [temperature, text, acc[2] + 1];
  }

  getResult(acc) {
    return [acc[1], acc[2]];
  }

  merge(a, b) {
    const [temperature, text] = higher(a, b);
    return [temperature, text, a[2] + b[2]];
  }
}

/** Alerts when a sensor's temperature rises on 3 consecutive readings
 * within 5 s, looking at readings in event-time order: each reading waits
 * in `pending` until the watermark passes its timestamp. */
class RisingTemperature extends KeyedProcessFunction {
  constructor(alerts) {
    super();
    /** Readings not yet checked: timestamp -> [[temperature, text]]. */
    this.pending = new MapState("pending");
    /** The current run of rising readings: [[timestamp, temperature]]. */
    this.run = new ValueState("rising-run");
    this.alerts = alerts;
  }

  processElement(r, ctx, out) {
    const timers = ctx.timerService();
    if (r[1] > timers.currentWatermark()) {
      const at = this.pending.get(r[1], []);
      at.push([r[2], r[3]]);
      this.pending.put(r[1], at);
      timers.registerEventTimeTimer(r[1]);
    }
    out.collect(r);
  }

  onTimer(timestamp, ctx) {
    const readings = this.pending.get(timestamp);
    if (readings === undefined) return;
    this.pending.remove(timestamp);
    let run = this.run.value([]);
    readings.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    for (const [temperature] of readings) {
      if (run.length && temperature > run[run.length - 1][1]) run.push([timestamp, temperature]);
      else run = [[timestamp, temperature]];
      while (run.length > 1 && timestamp - run[0][0] > 5000) run.shift();
      if (run.length >= 3) {
        ctx.output(this.alerts, `ALERT ${ctx.getCurrentKey()} ${timestamp}`);
        run = [[timestamp, temperature]];
      }
    }
    this.run.update(run);
  }
}

function build(env, args) {
  env.setJobName("sensor-alerts");
  const output = args.get("output");
  const to = (sub) => (output === undefined ? undefined : `${output}/${sub}`);
  const strict = args.flag("strict");
  const malformed = new OutputTag("malformed");
  const alerts = new OutputTag("alerts");
  const late = new OutputTag("late");

  function parseLine(line, ctx, out) {
    const reading = parse(line);
    if (reading !== undefined) out.collect(reading);
    else if (strict) throw new Error(`malformed reading '${line}'`);
    else {
      counterAdd("malformed-lines", 1);
      ctx.output(malformed, `MALFORMED ${line}`);
    }
  }

  const readings = env.readTextInput(args).process(parseLine).name("parse");
  readings.getSideOutput(malformed).printOrWrite(to("malformed"));

  const timed = readings.assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness(2000), (r) => r[1]);
  let checked = timed;
  if (!args.flag("no-alerts")) {
    checked = timed
      .keyBy((r) => r[0])
      .process(new RisingTemperature(alerts))
      .name("rising-temperature");
    checked.getSideOutput(alerts).printOrWrite(to("alerts"));
  }

  const windows = checked
    .keyBy((r) => r[0])
    .window(TumblingEventTimeWindows.of(10_000))
    .sideOutputLateData(late)
    .aggregate(new MaxAndCount(), (sensor, window, [maxText, count]) => [
      `${sensor},${window.start},${window.end},${maxText},${count}`,
    ])
    .name("max-per-10s");
  windows
    .getSideOutput(late)
    .map((r) => `LATE ${r[4]}`)
    .printOrWrite(to("late"));
  if (args.flag("discard")) windows.discard();
  else windows.printOrWrite(to("windows"));
}

export const { job, operator } = exportJob(build);
