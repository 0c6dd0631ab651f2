//! Sensor alerts (IoT): readings `sensor_id,timestamp_ms,temperature`;
//! per sensor, 10 s tumbling event-time windows with the maximum
//! temperature and the count, and an alert when the temperature rises on
//! 3 consecutive readings within 5 s. See README.md for the exact rules.
//!
//! ```text
//! --input PATH | --hostname HOST --port PORT   where readings come from
//! --output DIR                                 windows/, alerts/, late/, malformed/ under DIR (default: print)
//! --strict                                     fail on the first malformed line
//! --no-alerts                                  windows only (the keyed-window benchmark)
//! --discard                                    drop the windows' output (benchmarks)
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};
use wflink_sdk::prelude::*;

/// One parsed reading. It keeps its original line (for the late side
/// output); the sensor id and the temperature's text are slices of that
/// line, so a reading carries one string, not three.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Reading {
    line: String,
    /// Byte range of the sensor id in `line`.
    sensor: (u32, u32),
    timestamp: i64,
    temperature: f64,
    /// Byte range of the temperature exactly as written in `line`.
    text: (u32, u32),
}

impl Reading {
    fn sensor(&self) -> &str {
        &self.line[self.sensor.0 as usize..self.sensor.1 as usize]
    }

    /// The temperature exactly as written in the input.
    fn text(&self) -> &str {
        &self.line[self.text.0 as usize..self.text.1 as usize]
    }
}

/// Parses `sensor_id,timestamp_ms,temperature`; gives the line back when
/// it is malformed.
fn parse(line: String) -> Result<Reading, String> {
    match fields(&line) {
        Some((sensor, timestamp, temperature, text)) => Ok(Reading { line, sensor, timestamp, temperature, text }),
        None => Err(line),
    }
}

/// The sensor's byte range, the timestamp, the temperature and its text's
/// byte range of a well-formed line (surrounding ASCII spaces ignored).
///
/// It scans bytes: commas and ASCII spaces are single bytes, so every
/// position found is a character boundary of `line`. This runs once per
/// reading and is most of the parse step's time, hence no `char` searches
/// or Unicode trims.
fn fields(line: &str) -> Option<((u32, u32), i64, f64, (u32, u32))> {
    let bytes = line.as_bytes();
    let start = bytes.len() - bytes.trim_ascii_start().len();
    let end = bytes.trim_ascii_end().len().max(start);
    let comma = |from: usize| bytes[from..end].iter().position(|&b| b == b',').map(|i| from + i);
    let first = comma(start)?;
    let second = comma(first + 1)?;
    if first == start || comma(second + 1).is_some() {
        return None;
    }
    let trimmed = |from: usize, to: usize| {
        let field = &bytes[from..to];
        let from = from + (field.len() - field.trim_ascii_start().len());
        (from, from + field.trim_ascii().len())
    };
    let (ts_start, ts_end) = trimmed(first + 1, second);
    let (text_start, text_end) = trimmed(second + 1, end);
    let temperature: f64 = line[text_start..text_end].parse().ok().filter(|t: &f64| t.is_finite())?;
    let timestamp = line[ts_start..ts_end].parse().ok()?;
    Some(((start as u32, first as u32), timestamp, temperature, (text_start as u32, text_end as u32)))
}

/// Max temperature (with its text) and count of a window.
struct MaxAndCount;

impl AggregateFunction for MaxAndCount {
    type In = Reading;
    /// (max temperature, its text, count)
    type Acc = (f64, String, u64);
    type Out = (String, u64);

    fn create_accumulator(&mut self) -> Self::Acc {
        (f64::NEG_INFINITY, String::new(), 0)
    }

    fn add(&mut self, r: Reading, mut acc: Self::Acc) -> Self::Acc {
        if second_is_higher((acc.0, &acc.1), (r.temperature, r.text())) {
            acc.0 = r.temperature;
            acc.1.clear();
            acc.1.push_str(r.text());
        }
        acc.2 += 1;
        acc
    }

    fn get_result(&mut self, acc: Self::Acc) -> Self::Out {
        (acc.1, acc.2)
    }

    fn merge(&mut self, a: Self::Acc, b: Self::Acc) -> Self::Acc {
        let (max, text) = higher((a.0, a.1), (b.0, b.1));
        (max, text, a.2 + b.2)
    }
}

/// The higher temperature; on a tie the smaller text, so the result does
/// not depend on arrival order.
fn higher(a: (f64, String), b: (f64, String)) -> (f64, String) {
    if second_is_higher((a.0, &a.1), (b.0, &b.1)) { b } else { a }
}

/// Whether `b` wins over `a` by the rule of [`higher`].
fn second_is_higher(a: (f64, &str), b: (f64, &str)) -> bool {
    match a.0.partial_cmp(&b.0) {
        Some(std::cmp::Ordering::Greater) => false,
        Some(std::cmp::Ordering::Less) => true,
        _ if b.1 < a.1 && !b.1.is_empty() => true,
        _ => a.1.is_empty(),
    }
}

/// Alerts when a sensor's temperature rises on 3 consecutive readings
/// within 5 s, looking at readings in event-time order: each reading
/// waits in `pending` until the watermark passes its timestamp.
struct RisingTemperature {
    /// Readings not yet checked, by timestamp.
    pending: MapState<i64, Vec<(f64, String)>>,
    /// The current run of rising readings: (timestamp, temperature).
    run: ValueState<Vec<(i64, f64)>>,
    alerts: OutputTag<String>,
}

impl KeyedProcessFunction<Reading, Reading> for RisingTemperature {
    fn process_element(&mut self, r: Reading, ctx: &mut Context<'_, Reading>) -> Result<(), JobError> {
        if r.timestamp > ctx.current_watermark() {
            let mut at = self.pending.get(&r.timestamp)?.unwrap_or_default();
            at.push((r.temperature, r.text().to_owned()));
            self.pending.put(&r.timestamp, &at)?;
            ctx.register_event_time_timer(r.timestamp)?;
        }
        ctx.collect(r);
        Ok(())
    }

    fn on_timer(&mut self, timestamp: i64, ctx: &mut Context<'_, Reading>) -> Result<(), JobError> {
        let Some(mut readings) = self.pending.get(&timestamp)? else { return Ok(()) };
        self.pending.remove(&timestamp)?;
        readings.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        let mut run = self.run.value()?.unwrap_or_default();
        for (temperature, _) in readings {
            match run.last() {
                Some(&(_, last)) if temperature > last => run.push((timestamp, temperature)),
                _ => run = vec![(timestamp, temperature)],
            }
            while run.len() > 1 && timestamp - run[0].0 > 5_000 {
                run.remove(0);
            }
            if run.len() >= 3 {
                let sensor: String = ctx.current_key()?;
                ctx.output(&self.alerts, format!("ALERT {sensor} {timestamp}"));
                run = vec![(timestamp, temperature)];
            }
        }
        self.run.update(&run)?;
        Ok(())
    }
}

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("sensor-alerts");
    let output = args.get("output").map(str::to_owned);
    let to = |sub: &str| output.as_ref().map(|dir| format!("{dir}/{sub}"));
    let strict = args.flag("strict");
    let malformed = OutputTag::<String>::new("malformed");
    let alerts = OutputTag::<String>::new("alerts");
    let late = OutputTag::<Reading>::new("late");

    let tag = malformed.clone();
    let readings = env
        .read_text_input(args)?
        .process(move |line: String, ctx: &mut Context<'_, Reading>| {
            match parse(line) {
                Ok(reading) => ctx.collect(reading),
                Err(line) if strict => return Err(JobError::user(format!("malformed reading '{line}'"))),
                Err(line) => {
                    wflink_sdk::metrics::counter_add("malformed-lines", 1);
                    ctx.output(&tag, format!("MALFORMED {line}"));
                }
            }
            Ok(())
        })
        .name("parse");
    readings.get_side_output(&malformed).print_or_write(to("malformed"));

    let timed = readings.assign_timestamps_and_watermarks(
        WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_secs(2)),
        |r: &Reading| r.timestamp,
    );
    let checked = if args.flag("no-alerts") {
        timed
    } else {
        let checked = timed
            .key_by_ref(|r: &Reading| r.sensor())
            .process(RisingTemperature {
                pending: MapState::new("pending"),
                run: ValueState::new("rising-run"),
                alerts: alerts.clone(),
            })
            .name("rising-temperature");
        checked.get_side_output(&alerts).print_or_write(to("alerts"));
        checked
    };

    let windows = checked
        .key_by_ref(|r: &Reading| r.sensor())
        .window(TumblingEventTimeWindows::of(Duration::from_secs(10)))
        .side_output_late_data(&late)
        .aggregate_with(MaxAndCount, |sensor: &String, w: &TimeWindow, (max, count), out: &mut Collector<'_, String>| {
            out.collect(format!("{sensor},{},{},{max},{count}", w.start, w.end));
        })
        .name("max-per-10s");
    windows
        .get_side_output(&late)
        .map(|r: Reading| format!("LATE {}", r.line))
        .print_or_write(to("late"));
    if args.flag("discard") {
        windows.discard();
    } else {
        windows.print_or_write(to("windows"));
    }
    Ok(())
}

wflink_sdk::export_job!(build);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_readings_and_refuses_malformed_lines() {
        let r = parse("s1,1000,20.50".into()).unwrap();
        assert_eq!((r.sensor(), r.timestamp, r.text()), ("s1", 1000, "20.50"));
        let r = parse("  s1 , 1000 , 20.5 \n".into()).unwrap();
        assert_eq!((r.sensor(), r.timestamp, r.text(), r.line.as_str()), ("s1 ", 1000, "20.5", "  s1 , 1000 , 20.5 \n"));
        assert!(parse("s1,abc,20".into()).is_err());
        assert!(parse("s1,1000".into()).is_err());
        assert!(parse("s1,1000,20,4".into()).is_err());
        assert!(parse("s1,1000,hot".into()).is_err());
        assert!(parse(",1000,20".into()).is_err());
    }

    #[test]
    fn ties_keep_the_smaller_text() {
        assert_eq!(higher((20.5, "20.50".into()), (20.5, "20.5".into())).1, "20.5");
        assert_eq!(higher((f64::NEG_INFINITY, String::new()), (3.0, "3".into())).1, "3");
    }
}
