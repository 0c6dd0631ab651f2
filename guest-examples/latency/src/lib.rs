//! Latency: numbers at a fixed rate, each stamped with the wall clock when
//! the source emitted it, go through a key-by and a map to a sink that
//! records how long each took to arrive (the job `wflink bench-latency`
//! runs, and the one Flink runs beside it).
//!
//! ```text
//! --rate N        records per second (default 100000)
//! --count N       records in all (default 25 s at the rate)
//! --warmup-ms N   records emitted in the first N ms are not measured (default 5000)
//! --keys N        distinct keys (default 1000)
//! --output DIR    where the sink writes its histograms (required)
//! ```

use std::time::Duration;

use wflink_sdk::prelude::*;

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("latency");
    let rate: u64 = args.get_parsed("rate")?.unwrap_or(100_000);
    let count: u64 = args.get_parsed("count")?.unwrap_or(rate * 25);
    let warmup: u64 = args.get_parsed("warmup-ms")?.unwrap_or(5_000);
    let keys: u64 = args.get_parsed("keys")?.unwrap_or(1_000);
    if keys == 0 {
        return Err(JobError::invalid_arguments("--keys must be at least 1"));
    }
    let output = args.required("output")?;
    env.datagen_with_emit_time(rate, count)
        .key_by(move |(n, _): &(u64, u64)| n % keys)
        .map(|record: (u64, u64)| record)
        .name("pass")
        .sink_to_latency(output, Duration::from_millis(warmup));
    Ok(())
}

wflink_sdk::export_job!(build);
