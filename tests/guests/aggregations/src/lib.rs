//! A test job of Flink's keyed aggregations and count and all-windows.
//! The input file `--input` has lines `key,timestamp_ms,amount`; `--output
//! DIR` writes to files instead of printing. The source and the key-by run
//! at parallelism 1, so each key's records arrive in file order at the
//! job's parallelism (count windows and running aggregations depend on
//! it). Modes (`--mode`), each printing `key,timestamp,amount` records:
//!
//! - `min`, `max`: the running minimum or maximum of the amount per key
//!   (`min(field)`: the other fields keep the key's first record's).
//! - `min-by`, `max-by`: the running record with the least or greatest
//!   amount per key (the earlier one on ties).
//! - `count-sum`: a tumbling count window of `--size` records per key,
//!   reduced to the sum of the amounts (the other fields of the window's
//!   first record).
//! - `count-slide`: a sliding count window of `--size` records every
//!   `--slide` per key, printing `key:amount;amount;...` (oldest first).
//! - `window-all`: the source at the job's parallelism, event time with
//!   2 s of out-of-orderness, a 10 s tumbling `window_all` printing
//!   `window_end,count,sum` per window.

use std::time::Duration;

use wflink_sdk::prelude::*;

type Rec = (String, i64, i64);

fn parse(line: String, out: &mut Collector<'_, Rec>) {
    let mut fields = line.split(',');
    if let (Some(key), Some(Ok(ts)), Some(Ok(amount))) =
        (fields.next(), fields.next().map(str::parse), fields.next().map(str::parse))
    {
        out.collect((key.to_owned(), ts, amount));
    }
}

fn line(r: Rec) -> String {
    format!("{},{},{}", r.0, r.1, r.2)
}

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("aggregations");
    let output = args.get("output").map(str::to_owned);
    let mode = args.required("mode")?;
    let records = env.read_text_file(args.required("input")?);
    if mode == "window-all" {
        let strategy = WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_secs(2));
        records
            .flat_map(parse)
            .assign_timestamps_and_watermarks(strategy, |r: &Rec| r.1)
            .window_all(TumblingEventTimeWindows::of(Duration::from_secs(10)))
            .process(|w: &TimeWindow, rs: Vec<Rec>, out: &mut Collector<'_, String>| {
                out.collect(format!("{},{},{}", w.max_timestamp(), rs.len(), rs.iter().map(|r| r.2).sum::<i64>()))
            })
            .print_or_write(output);
        return Ok(());
    }
    let keyed = records
        .set_parallelism(1)
        .flat_map(parse)
        .set_parallelism(1)
        .key_by(|r: &Rec| r.0.clone())
        .set_parallelism(1);
    let size = args.get_parsed::<u64>("size")?.unwrap_or(3);
    let out = match mode {
        "min" => keyed.min(|r| &mut r.2).map(line),
        "max" => keyed.max(|r| &mut r.2).map(line),
        "min-by" => keyed.min_by(|r| r.2).map(line),
        "max-by" => keyed.max_by(|r| r.2).map(line),
        "count-sum" => keyed.count_window(size).reduce(|a, b| (a.0, a.1, a.2 + b.2)).map(line),
        "count-slide" => {
            let slide = args.get_parsed::<u64>("slide")?.unwrap_or(1);
            keyed.count_window_sliding(size, slide).process(|key: &String, rs: Vec<Rec>, out| {
                let amounts: Vec<String> = rs.iter().map(|r| r.2.to_string()).collect();
                out.collect(format!("{key}:{}", amounts.join(";")))
            })
        }
        other => return Err(JobError::InvalidArguments(format!("unknown mode {other}"))),
    };
    out.print_or_write(output);
    Ok(())
}

wflink_sdk::export_job!(build);
