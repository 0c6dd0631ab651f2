//! A test job of joins. Both input files (`--a`, `--b`) have lines
//! `key,timestamp_ms,amount`; both get event time with a bounded
//! out-of-orderness of 2 s. `--output DIR` writes to files instead of
//! printing. Modes (`--mode`):
//!
//! - `interval`: `a` keyed by key, interval-joined with `b` keyed by key,
//!   `between(--lower, --upper)` (ms), with `--lower-exclusive` and
//!   `--upper-exclusive`; prints `key,a_ts,b_ts,a_amount,b_amount` per
//!   pair, and each record of `a` that met none as `UNMATCHED key,a_ts`
//!   (with `--output DIR`, in `DIR/unmatched`).
//! - `window`: `a` joined with `b` on key in `--assigner` windows:
//!   `tumbling` (10 s), `sliding` (10 s every 5 s) or `session` (gap 3 s);
//!   prints `key,a_ts,b_ts,a_amount,b_amount` per pair and window.
//! - `interval-socket`: `a` from the socket `127.0.0.1:--port-a`, `b`
//!   from `127.0.0.1:--port-b` (timestamps never going back),
//!   interval-joined between -1000 and 2000 ms; the pairs are dropped. It
//!   runs until cancelled, for the test that its state stays bounded.

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

fn pair(a: Rec, b: Rec) -> String {
    format!("{},{},{},{},{}", a.0, a.1, b.1, a.2, b.2)
}

/// The endless interval join of `interval-socket`.
fn socket_join(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    let strategy = WatermarkStrategy::for_monotonous_timestamps();
    let mut side = |port: &str| -> Result<KeyedStream<Rec, String>, JobError> {
        let lines = env.socket_text_stream("127.0.0.1", args.required_parsed(port)?);
        let records = lines.flat_map(parse).assign_timestamps_and_watermarks(strategy, |r: &Rec| r.1);
        Ok(records.key_by(|r: &Rec| r.0.clone()))
    };
    let (a, b) = (side("port-a")?, side("port-b")?);
    a.interval_join(b).between(-1000, 2000)?.process(|_: Rec, _: Rec, _: &mut Context<'_, ()>| Ok(())).discard();
    Ok(())
}

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("joins");
    if args.required("mode")? == "interval-socket" {
        return socket_join(env, args);
    }
    let output = args.get("output").map(str::to_owned);
    let strategy = WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_secs(2));
    let a = env.read_text_file(args.required("a")?).flat_map(parse);
    let b = env.read_text_file(args.required("b")?).flat_map(parse);
    let a = a.assign_timestamps_and_watermarks(strategy, |r: &Rec| r.1);
    let b = b.assign_timestamps_and_watermarks(strategy, |r: &Rec| r.1);
    match args.required("mode")? {
        "interval" => {
            let unmatched = OutputTag::<Rec>::new("unmatched");
            let mut join = a
                .key_by(|r: &Rec| r.0.clone())
                .interval_join(b.key_by(|r: &Rec| r.0.clone()))
                .between(args.required_parsed("lower")?, args.required_parsed("upper")?)?
                .side_output_left_unmatched(&unmatched);
            if args.flag("lower-exclusive") {
                join = join.lower_bound_exclusive();
            }
            if args.flag("upper-exclusive") {
                join = join.upper_bound_exclusive();
            }
            let joined = join.process(|a: Rec, b: Rec, ctx: &mut Context<'_, String>| {
                ctx.collect(pair(a, b));
                Ok(())
            });
            let dir = output.as_ref().map(|dir| format!("{dir}/unmatched"));
            joined.get_side_output(&unmatched).map(|r: Rec| format!("UNMATCHED {},{}", r.0, r.1)).print_or_write(dir);
            joined.print_or_write(output);
        }
        "window" => {
            let assigner = match args.required("assigner")? {
                "tumbling" => TumblingEventTimeWindows::of(Duration::from_secs(10)),
                "sliding" => SlidingEventTimeWindows::of(Duration::from_secs(10), Duration::from_secs(5)),
                "session" => EventTimeSessionWindows::with_gap(Duration::from_secs(3)),
                other => return Err(JobError::InvalidArguments(format!("unknown assigner {other}"))),
            };
            a.join(b)
                .where_(|r: &Rec| r.0.clone())
                .equal_to(|r: &Rec| r.0.clone())
                .window(assigner)
                .apply(pair)
                .print_or_write(output);
        }
        other => return Err(JobError::InvalidArguments(format!("unknown mode {other}"))),
    }
    Ok(())
}

wflink_sdk::export_job!(build);
