//! `wflink bench-windows`: the keyed-window benchmark. The sensor-alerts
//! example in windows-only mode (parse, timestamps and watermarks, key-by
//! sensor, 10 s tumbling event-time windows with max and count) at
//! parallelism 1 and 2, against a plain single-threaded Rust loop doing
//! the same parsing and aggregation, in one run so the ratios are fair.

use std::collections::HashMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use crate::config::Configuration;
use crate::guest_build::{build_guest, repo};
use crate::minicluster::run_job_locally;
use crate::protocol::JobStatus;
use crate::wasm::WasmEngine;

#[derive(clap::Args, Debug)]
pub(super) struct BenchWindowsArgs {
    /// Number of readings in the generated input.
    #[arg(long, default_value_t = 10_000_000)]
    readings: u64,
    /// Number of sensors (keys).
    #[arg(long, default_value_t = 10_000)]
    sensors: u64,
    /// Where to write the generated input (default: a temporary file).
    #[arg(long)]
    input: Option<PathBuf>,
    /// How many times each runs (the plain loop, then wflink at p=1 and
    /// p=2, round after round): each line reports the best run, so a
    /// moment of load on a shared machine does not decide the ratio.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    rounds: u32,
}

pub(super) fn bench_windows(args: BenchWindowsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.sensors > 0, "--sensors must be at least 1");
    let default = format!("wflink-bench-readings-{}-{}.csv", args.readings, args.sensors);
    let input = args.input.unwrap_or_else(|| std::env::temp_dir().join(default));
    if !input.exists() {
        eprintln!("Generating {} readings of {} sensors into {} ...", args.readings, args.sensors, input.display());
        generate(&input, args.readings, args.sensors)?;
    }
    let wasm = build_guest(&repo::example("sensor-alerts"), Some(&repo::guest_target_dir()))?;
    let bytes = std::fs::read(&wasm)?;
    let engine = WasmEngine::new()?;

    let job_args = ["--input", &input.display().to_string(), "--no-alerts", "--discard"].map(String::from).to_vec();
    let (mut plain, mut rates, mut windows) = (0.0f64, [0.0f64; 2], 0);
    for _ in 0..args.rounds {
        let started = Instant::now();
        windows = plain_loop(&input)?;
        plain = plain.max(args.readings as f64 / started.elapsed().as_secs_f64());
        for (rate, parallelism) in rates.iter_mut().zip([1, 2]) {
            let started = Instant::now();
            let details =
                run_job_locally(engine.clone(), &bytes, &job_args, Some(parallelism), Configuration::default())?;
            let elapsed = started.elapsed().as_secs_f64();
            anyhow::ensure!(details.status == JobStatus::Finished, "the p={parallelism} run ended {}", details.status);
            let results: u64 = details.vertices.last().map(|v| v.metrics.write_records).unwrap_or(0);
            anyhow::ensure!(results == windows, "wflink p={parallelism} emitted {results} windows, expected {windows}");
            *rate = rate.max(args.readings as f64 / elapsed);
        }
    }
    println!(
        "input: {} ({} readings, {} sensors, {windows} windows); best of {} rounds",
        input.display(),
        args.readings,
        args.sensors,
        args.rounds
    );
    println!("plain Rust loop   : {:>6.2} M readings/s", plain / 1e6);
    println!(
        "wflink p=1        : {:>6.2} M readings/s  ({:.0}% of the plain loop)",
        rates[0] / 1e6,
        100.0 * rates[0] / plain
    );
    println!("wflink p=2        : {:>6.2} M readings/s  ({:.2}x p=1)", rates[1] / 1e6, rates[1] / rates[0]);
    Ok(())
}

/// Writes readings `sensor-N,timestamp,temperature`: 100 readings per
/// millisecond, up to 0.5 s out of order (never late under the job's 2 s
/// bound), temperatures with one decimal.
fn generate(path: &Path, readings: u64, sensors: u64) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    for i in 0..readings {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let ts = 1_700_000_000_000 + (i / 100) as i64 + (seed % 500) as i64;
        let tenths = 100 + (seed >> 16) % 300;
        writeln!(out, "sensor-{},{ts},{}.{}", (seed >> 32) % sensors, tenths / 10, tenths % 10)?;
    }
    out.flush()?;
    Ok(())
}

/// The baseline: the same parsing and per (sensor, 10 s window) max and
/// count in hash maps (by sensor, then window start), one thread,
/// allocating only for new sensors and windows; returns the number of windows.
fn plain_loop(path: &Path) -> anyhow::Result<u64> {
    let file = std::fs::File::open(path)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut sensors: HashMap<String, HashMap<i64, (f64, String, u64)>> = HashMap::new();
    let mut line = String::new();
    while reader.read_line(&mut line)? > 0 {
        let mut fields = line.trim_end().split(',');
        if let (Some(sensor), Some(ts), Some(text)) = (fields.next(), fields.next(), fields.next())
            && let (Ok(ts), Ok(temp)) = (ts.parse::<i64>(), text.parse::<f64>())
        {
            let start = ts - ts.rem_euclid(10_000);
            let windows = match sensors.get_mut(sensor) {
                Some(windows) => windows,
                None => sensors.entry(sensor.to_owned()).or_default(),
            };
            let w = windows.entry(start).or_insert_with(|| (f64::NEG_INFINITY, String::new(), 0));
            if temp > w.0 {
                w.0 = temp;
                w.1.clear();
                w.1.push_str(text);
            }
            w.2 += 1;
        }
        line.clear();
    }
    Ok(sensors.values().map(|w| w.len() as u64).sum())
}
