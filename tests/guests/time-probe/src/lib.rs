//! A test job probing event time and state rules. Modes (`--mode`):
//!
//! - `windows`: lines `key,timestamp_ms` from `--hostname/--port` (a socket
//!   source at `--sources N` parallelism, one connection per subtask) or
//!   `--input`; 10 s tumbling event-time windows counting per key; prints
//!   `key,start,end,count` (or writes them under `--output DIR`). `--idle-ms N`
//!   marks silent sources idle.
//! - `sessions`: the same lines, session windows with a 5 s gap; prints
//!   `key,start,end,count`.
//! - `misuse`: uses keyed state and the `state` import outside a keyed
//!   context (in a map) and prints the errors the guest gets back.

use std::time::Duration;

use wflink_sdk::prelude::*;

fn parse(line: String, out: &mut Collector<'_, (String, i64)>) {
    if let Some((key, ts)) = line.split_once(',')
        && let Ok(ts) = ts.trim().parse()
    {
        out.collect((key.to_owned(), ts));
    }
}

fn count(key: &String, w: &TimeWindow, records: Vec<(String, i64)>, out: &mut Collector<'_, String>) {
    out.collect(format!("{key},{},{},{}", w.start, w.end, records.len()));
}

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("time-probe");
    match args.required("mode")? {
        "misuse" => {
            let state = ValueState::<i64>::new("never-keyed");
            env.datagen(0, 1)
                .map(move |_: u64| {
                    let sdk = match state.value() {
                        Err(e) => format!("sdk: {e}"),
                        Ok(v) => format!("sdk: unexpectedly read {v:?}"),
                    };
                    let host = wasm_state_get();
                    format!("{sdk} | host: {host}")
                })
                .print();
        }
        mode @ ("windows" | "sessions") => {
            let mut strategy = WatermarkStrategy::for_monotonous_timestamps();
            if let Some(idle) = args.get_parsed::<u64>("idle-ms")? {
                strategy = strategy.with_idleness(Duration::from_millis(idle));
            }
            let mut lines = env.read_text_input(args)?;
            if let Some(n) = args.get_parsed::<u32>("sources")? {
                lines = lines.set_parallelism(n);
            }
            let keyed = lines
                .flat_map(parse)
                .assign_timestamps_and_watermarks(strategy, |r: &(String, i64)| r.1)
                .key_by(|r: &(String, i64)| r.0.clone());
            let assigner = if mode == "windows" {
                TumblingEventTimeWindows::of(Duration::from_secs(10))
            } else {
                EventTimeSessionWindows::with_gap(Duration::from_secs(5))
            };
            let windows = keyed.window(assigner).process(count).set_parallelism(1);
            windows.print_or_write(args.get("output").map(str::to_owned));
        }
        other => return Err(JobError::invalid_arguments(format!("unknown --mode '{other}'"))),
    }
    Ok(())
}

/// Calls the host's `state.get` import directly, outside any keyed call.
fn wasm_state_get() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        use wflink_sdk::__private::bindings::wflink::job::state;
        match state::get(1, &[], &[], &[]) {
            Ok(v) => format!("unexpectedly read {v:?}"),
            Err(e) => format!("{e:?}"),
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    String::new()
}

wflink_sdk::export_job!(build);
