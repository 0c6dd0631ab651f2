//! `wflink bench-latency`: emit-to-sink latency at a fixed rate. The job
//! (`guest-examples/latency`): the datagen source at `--rate` records/s,
//! each record stamped with the wall clock when it is emitted → key-by →
//! map → the latency sink, which records each record's time since its
//! stamp in a histogram. wflink runs it with its default buffer timeout and
//! with `execution.buffer-timeout.interval: 0`, then Apache Flink 2.3 runs
//! the same job with its default buffer timeout and with 0 (see
//! `bench_flink`), all in one run so the ratios are fair on a noisy machine.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::bench::load_average;
use super::bench_flink::{FlinkLatency, run_flink_latency};
use crate::config::Configuration;
use crate::connectors::sinks::read_latency_histograms;
use crate::guest_build::{build_guest, repo};
use crate::minicluster::run_job_locally;
use crate::protocol::JobStatus;
use crate::wasm::WasmEngine;

#[derive(clap::Args, Debug)]
pub(super) struct BenchLatencyArgs {
    /// Records per second the source emits.
    #[arg(long, default_value_t = 100_000)]
    rate: u64,
    /// Seconds each run is measured for, after its warm-up.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Seconds at the start of each run that are not measured (start-up, JIT).
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Distinct keys of the key-by.
    #[arg(long, default_value_t = 1000)]
    keys: u64,
    /// Measure this latency component instead of building the example.
    #[arg(long)]
    component: Option<PathBuf>,
    /// Skip Apache Flink (it is installed from PyPI on first use, ~400 MB,
    /// and needs a JDK 17+).
    #[arg(long)]
    no_flink: bool,
}

/// The percentiles printed, as fractions.
const QUANTILES: [f64; 4] = [0.5, 0.99, 0.999, 1.0];

/// One measured run.
struct Measured {
    /// What it was: system and buffer timeout.
    label: String,
    /// p50, p99, p99.9 and the maximum, in µs.
    micros: [f64; 4],
    /// Records measured.
    records: u64,
    /// The machine's load averages after it.
    load_after: String,
}

pub(super) fn bench_latency(args: BenchLatencyArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.rate > 0 && args.seconds > 0 && args.keys > 0, "--rate, --seconds and --keys must be above 0");
    let load_before = load_average();
    let wasm = match args.component {
        Some(path) => path,
        None => build_guest(&repo::example("latency"), Some(&repo::guest_target_dir()))?,
    };
    let bytes = std::fs::read(&wasm)?;
    let engine = WasmEngine::new()?;
    // Compile once before the runs, as a cluster does at upload.
    engine.load(&bytes)?;
    let (warmup, measure) = (Duration::from_secs(args.warmup), Duration::from_secs(args.seconds));
    let count = args.rate * (args.warmup + args.seconds);

    let default_timeout = Configuration::default().duration(BUFFER_TIMEOUT)?;
    let mut runs = Vec::new();
    for (label, overrides) in [
        (format!("wflink, buffer timeout {} (default)", millis(default_timeout)), vec![]),
        ("wflink, buffer timeout 0".to_string(), vec![format!("{BUFFER_TIMEOUT}=0 ms")]),
    ] {
        eprintln!("Running {label}: {} records/s for {} s ...", args.rate, args.warmup + args.seconds);
        let output = std::env::temp_dir().join(format!("wflink-bench-latency-{}-{}", std::process::id(), runs.len()));
        let _ = std::fs::remove_dir_all(&output);
        let job_args: Vec<String> =
            [("--rate", args.rate), ("--count", count), ("--warmup-ms", args.warmup * 1000), ("--keys", args.keys)]
                .iter()
                .flat_map(|(name, value)| [name.to_string(), value.to_string()])
                .chain(["--output".to_string(), output.display().to_string()])
                .collect();
        let config = Configuration::default().with_overrides(&overrides)?;
        let started = Instant::now();
        let details = run_job_locally(engine.clone(), &bytes, &job_args, Some(1), config)?;
        let took = started.elapsed();
        anyhow::ensure!(details.status == JobStatus::Finished, "{label}: the job ended {}", details.status);
        let arrived: u64 = details.vertices.last().map_or(0, |v| v.metrics.read_records);
        anyhow::ensure!(arrived == count, "{label}: {arrived} records reached the sink, expected {count}");
        let histogram = read_latency_histograms(&output)?;
        let _ = std::fs::remove_dir_all(&output);
        eprintln!("  took {:.1} s for {:.1} s of records", took.as_secs_f64(), (warmup + measure).as_secs_f64());
        runs.push(Measured {
            label,
            micros: QUANTILES.map(|q| quantile_micros(&histogram, q)),
            records: histogram.len(),
            load_after: load_average(),
        });
    }

    let flink = match args.no_flink {
        true => Err("skipped (--no-flink)".to_owned()),
        false => {
            eprintln!("Running the same job on Apache Flink 2.3 (installed into target/flink-bench on first use) ...");
            run_flink_latency(args.rate, warmup, measure, args.keys, &["default", "0"])
        }
    };
    let flink_load = load_average();

    println!(
        "job: datagen at {} records/s, each stamped at emit -> key-by ({} keys) -> map -> sink, p=1; \
         {} s warm-up, then {} s measured per run",
        args.rate, args.keys, args.warmup, args.seconds
    );
    println!("machine load (1/5/15 min): {load_before} before");
    println!("emit-to-sink latency (µs)                    p50        p99       p999        max   records");
    for run in &runs {
        print_row(&run.label, &run.micros, run.records, &format!("load after: {}", run.load_after));
    }
    let flink_runs: Vec<Measured> = match &flink {
        Ok(flink) => flink.iter().map(|f| flink_row(f, &flink_load)).collect(),
        Err(why) => {
            println!("Flink 2.3: not run: {why}");
            Vec::new()
        }
    };
    for run in &flink_runs {
        print_row(&run.label, &run.micros, run.records, &format!("load after: {}", run.load_after));
    }
    if let [flink_default, flink_zero] = &flink_runs[..] {
        println!("Flink's over wflink's (above 1: wflink's is lower)");
        for (name, ours, theirs) in [("defaults", &runs[0], flink_default), ("buffer timeout 0", &runs[1], flink_zero)]
        {
            let ratios: Vec<String> = ["p50", "p99", "p999"]
                .iter()
                .enumerate()
                .map(|(i, q)| format!("{q} {:.2}x", theirs.micros[i] / ours.micros[i]))
                .collect();
            println!("  {name:<17}: {}", ratios.join(", "));
        }
    }
    Ok(())
}

/// wflink's configuration key of the buffer timeout (Flink 2.x's name).
const BUFFER_TIMEOUT: &str = "execution.buffer-timeout.interval";

fn millis(duration: Duration) -> String {
    format!("{} ms", duration.as_secs_f64() * 1e3)
}

/// The `q` quantile of a histogram of nanoseconds, in µs.
fn quantile_micros(histogram: &Histogram<u64>, q: f64) -> f64 {
    if histogram.is_empty() {
        return f64::NAN;
    }
    histogram.value_at_quantile(q) as f64 / 1e3
}

fn flink_row(run: &FlinkLatency, load_after: &str) -> Measured {
    let label = match run.asked.as_str() {
        "default" => format!("Flink 2.3, buffer timeout {} ms (default)", run.buffer_timeout_ms),
        _ => format!("Flink 2.3, buffer timeout {}", run.buffer_timeout_ms),
    };
    Measured { label, micros: run.micros, records: run.measured, load_after: load_after.to_string() }
}

fn print_row(label: &str, micros: &[f64; 4], records: u64, note: &str) {
    let [p50, p99, p999, max] = micros;
    println!("{label:<42} {p50:>10.1} {p99:>10.1} {p999:>10.1} {max:>10.1} {records:>9}  ({note})");
}
