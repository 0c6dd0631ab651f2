//! A test job of Flink's keyed aggregations and count and all-windows.
//! The input file `--input` has lines `key,timestamp_ms,amount`; `--output
//! DIR` writes to files instead of printing. The source and the key-by run
//! at parallelism 1, so each key's records arrive in file order at the
//! job's parallelism (count windows and running aggregations depend on
//! it). Modes (`--mode`), each printing `key,timestamp,amount` records:
//!
//! - `sum`, `min`, `max`: the running sum, minimum or maximum of the
//!   amount per key (the other fields keep the key's first record's), by
//!   the host's built-in aggregations, then a map in the job.
//! - `min-by`, `max-by`: the running record with the least or greatest
//!   amount per key (the earlier one on ties), by the host.
//! - `sum-raw`: `sum` straight into the sink (no function of the job after
//!   the host's aggregation), printing `(key,timestamp,amount)`.
//! - `sum-with`, `min-with`, `max-with`, `min-by-key`, `max-by-key`: the
//!   same as `sum` … `max-by`, by the job's own closures (`sum_by` …).
//! - `sum-missing`, `sum-text`: `sum` of a field the records lack (3) or
//!   that is not a number (0): the job fails.
//! - `count-sum`: a tumbling count window of `--size` records per key,
//!   reduced to the sum of the amounts (the other fields of the window's
//!   first record).
//! - `count-slide`: a sliding count window of `--size` records every
//!   `--slide` per key, printing `key:amount;amount;...` (oldest first).
//! - `window-all`: the source at the job's parallelism, event time with
//!   2 s of out-of-orderness, a 10 s tumbling `window_all` printing
//!   `window_end,count,sum` per window.
//! - `ttl`: words from a socket (`--port`), keyed by word; a count per
//!   word in a `ValueState` with a time to live of `--ttl-ms` (on create
//!   and write, or with `--update read` on read and write too), printing
//!   `word,count` per word: the count starts again at 1 once it expired.
//! - `ttl-list`: as `ttl`, but each word appends to a `ListState` whose
//!   elements each live `--ttl-ms` from their add, printing
//!   `word,elements` (the elements not expired, this one included).

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

/// Counts each word in a value state that expires.
struct ExpiringCount {
    count: ValueState<i64>,
}

impl KeyedProcessFunction<String, String> for ExpiringCount {
    fn process_element(&mut self, word: String, ctx: &mut Context<'_, String>) -> Result<(), JobError> {
        let count = self.count.value()?.unwrap_or(0) + 1;
        self.count.update(&count)?;
        ctx.collect(format!("{word},{count}"));
        Ok(())
    }
}

/// Keeps each word's arrivals in a list state whose elements expire.
struct ExpiringList {
    arrivals: ListState<i64>,
}

impl KeyedProcessFunction<String, String> for ExpiringList {
    fn process_element(&mut self, word: String, ctx: &mut Context<'_, String>) -> Result<(), JobError> {
        self.arrivals.add(&ctx.current_processing_time())?;
        ctx.collect(format!("{word},{}", self.arrivals.get()?.len()));
        Ok(())
    }
}

fn expiring_counts(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<DataStream<String>, JobError> {
    let ttl = Duration::from_millis(args.required_parsed("ttl-ms")?);
    if args.get("mode") == Some("ttl-list") {
        let arrivals = ListState::new("arrivals").with_ttl(StateTtlConfig::new(ttl));
        let words = env.socket_text_stream("127.0.0.1", args.required_parsed("port")?);
        return Ok(words.key_by(|w: &String| w.clone()).process(ExpiringList { arrivals }));
    }
    let update = match args.get("update").unwrap_or("write") {
        "write" => UpdateType::OnCreateAndWrite,
        "read" => UpdateType::OnReadAndWrite,
        other => return Err(JobError::InvalidArguments(format!("--update is write or read, not {other}"))),
    };
    let count = ValueState::new("count").with_ttl(StateTtlConfig::new(ttl).update_type(update));
    let words = env.socket_text_stream("127.0.0.1", args.required_parsed("port")?);
    Ok(words.key_by(|w: &String| w.clone()).process(ExpiringCount { count }))
}

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("aggregations");
    let output = args.get("output").map(str::to_owned);
    let mode = args.required("mode")?;
    if mode == "ttl" || mode == "ttl-list" {
        expiring_counts(env, args)?.print_or_write(output);
        return Ok(());
    }
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
        "sum" => keyed.sum(2).map(line),
        "min" => keyed.min(2).map(line),
        "max" => keyed.max(2).map(line),
        "min-by" => keyed.min_by(2).map(line),
        "max-by" => keyed.max_by(2).map(line),
        "sum-raw" => {
            keyed.sum(2).print_or_write(output);
            return Ok(());
        }
        "sum-with" => keyed.sum_by(|r| &mut r.2).map(line),
        "min-with" => keyed.min_with(|r| &mut r.2).map(line),
        "max-with" => keyed.max_with(|r| &mut r.2).map(line),
        "min-by-key" => keyed.min_by_key(|r| r.2).map(line),
        "max-by-key" => keyed.max_by_key(|r| r.2).map(line),
        "sum-missing" => keyed.sum(3).map(line),
        "sum-text" => keyed.sum(0).map(line),
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
