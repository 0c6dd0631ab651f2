//! `wflink bench-kafka`: Kafka → word count (key-by, running count) →
//! Kafka through one broker, in one run with its ceilings so the ratios are
//! fair on a noisy machine:
//!
//! - the broker's own rates: a plain producer writing the input, a plain
//!   consumer reading it back;
//! - the same word count as one plain Rust loop over the same client
//!   (`plain`), the best a single thread does through this broker;
//! - `guest-examples/kafka-wordcount` at p=1 and p=2 (`run --local`,
//!   bounded, at-least-once, start-up included);
//! - end-to-end latency at a fixed rate (`latency`): of the broker alone
//!   (producer to consumer), of the plain loop and of wflink p=1.
//!
//! Without `--brokers` the bench starts its own broker (`broker`).

mod broker;
mod latency;
mod plain;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use broker::Broker;
use latency::Latencies;
use plain::PlainWordCount;

use super::bench::load_average;
use crate::config::Configuration;
use crate::guest_build::{build_guest, repo};
use crate::minicluster::run_job_locally;
use crate::protocol::JobStatus;
use crate::wasm::WasmEngine;

#[derive(clap::Args, Debug)]
pub(in crate::cli) struct BenchKafkaArgs {
    /// The Kafka cluster (bootstrap.servers); default: start tansu
    /// (`$WFLINK_TANSU` or target/tools/bin/tansu) in memory on a free port.
    #[arg(long)]
    brokers: Option<String>,
    /// Lines of ten words written to the input topic.
    #[arg(long, default_value_t = 100_000)]
    lines: u64,
    /// Partitions of the input topic.
    #[arg(long, default_value_t = 4)]
    partitions: i32,
    /// Lines per second sent in the latency runs.
    #[arg(long, default_value_t = 500)]
    rate: u64,
    /// Seconds each latency run sends lines for.
    #[arg(long, default_value_t = 10)]
    latency_seconds: u64,
    /// Longest wait of every consumer's fetch for new records
    /// (`fetch.wait.max.ms`; librdkafka's default is 500): a broker that
    /// holds a fetch that long even when records arrive (tansu 0.6.0 does)
    /// adds it to each hop's latency.
    #[arg(long, default_value_t = 10)]
    fetch_wait_ms: u64,
}

/// Partitions of every output topic.
const OUTPUT_PARTITIONS: i32 = 3;

pub(in crate::cli) fn bench_kafka(args: BenchKafkaArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.lines > 0 && args.partitions > 0 && args.rate > 0,
        "--lines, --partitions and --rate must be above 0"
    );
    let load_before = load_average();
    let broker = Broker::connect_or_start(args.brokers, args.fetch_wait_ms)?;
    let run = std::process::id();
    let topic = |name: &str| format!("bench-{run}-{name}");
    let (lines, words) = generate_lines(args.lines)?;
    let wasm = build_guest(&repo::example("kafka-wordcount"), Some(&repo::guest_target_dir()))?;
    let bytes = std::fs::read(&wasm)?;
    let engine = WasmEngine::new()?;
    // Compile once before timing, as a cluster does at upload.
    engine.load(&bytes)?;

    let input = topic("lines");
    broker.create_topic(&input, args.partitions)?;
    eprintln!("Writing {} lines ({words} words) into {input} at {} ...", args.lines, broker.address);
    let produced = broker.produce(&input, args.partitions, &lines)?;
    // The input ends with one empty line per partition (see `Broker::produce`).
    let records = args.lines + args.partitions as u64;
    let consumed = plain::consume(&broker, &input, args.partitions, records)?;

    let plain_output = topic("counts-plain");
    broker.create_topic(&plain_output, OUTPUT_PARTITIONS)?;
    let mut plain = PlainWordCount::new(&broker, &input, args.partitions, &plain_output)?;
    let started = Instant::now();
    plain.run(records, &AtomicBool::new(false))?;
    let plain_took = started.elapsed();
    anyhow::ensure!(plain.words == words, "the plain word count counted {} words, expected {words}", plain.words);

    let mut wflink = Vec::new();
    for parallelism in [1u32, 2] {
        let output = topic(&format!("counts-p{parallelism}"));
        broker.create_topic(&output, OUTPUT_PARTITIONS)?;
        let job_args = job_args(&broker, &input, &output, &format!("bench-{run}-p{parallelism}"), true);
        let started = Instant::now();
        let details = run_job_locally(engine.clone(), &bytes, &job_args, Some(parallelism), Configuration::default())?;
        let took = started.elapsed();
        anyhow::ensure!(details.status == JobStatus::Finished, "the p={parallelism} run ended {}", details.status);
        let counted: u64 = details.vertices.last().map(|v| v.metrics.read_records).unwrap_or(0);
        anyhow::ensure!(counted == words, "wflink p={parallelism} counted {counted} words, expected {words}");
        wflink.push((parallelism, took));
    }

    let latency = Duration::from_secs(args.latency_seconds);
    eprintln!(
        "Measuring latency at {} lines/s for {latency:?}: the broker alone, the plain loop, wflink p=1 ...",
        args.rate
    );
    let floor = {
        let lines = topic("lat-broker");
        broker.create_topic(&lines, args.partitions)?;
        latency::measure(&broker, &lines, args.partitions, &lines, args.partitions, args.rate, latency)?
    };
    let plain_latency = plain_latency(&broker, &topic("lat-plain"), args.partitions, args.rate, latency)?;
    let wflink_latency = wflink_latency(&broker, &wasm, &topic("lat-wflink"), args.partitions, args.rate, latency)?;

    let rate = |took: Duration| args.lines as f64 / took.as_secs_f64();
    let plain_rate = rate(plain_took);
    let (producer_rate, consumer_rate) = (rate(produced), rate(consumed));
    let kind = if broker.is_own() { "tansu started by the bench, in memory" } else { "given with --brokers" };
    println!("broker: {} ({kind})", broker.address);
    println!("input: {} lines of 10 words ({words} words), {} partitions", args.lines, args.partitions);
    println!("machine load (1/5/15 min): {load_before} before, {} after", load_average());
    println!("every consumer's fetch.wait.max.ms: {}", args.fetch_wait_ms);
    println!("broker, plain producer : {:>8.1} k lines/s", producer_rate / 1e3);
    println!("broker, plain consumer : {:>8.1} k lines/s", consumer_rate / 1e3);
    println!(
        "plain Rust word count  : {:>8.1} k lines/s ({:.0} k counts/s written; {:.2}x the plain consumer)",
        plain_rate / 1e3,
        words as f64 / plain_took.as_secs_f64() / 1e3,
        plain_rate / consumer_rate
    );
    for (p, took) in &wflink {
        let r = rate(*took);
        println!(
            "wflink p={p}             : {:>8.1} k lines/s ({:.0} k counts/s; {:.2}x the plain word count, {:.2}x the plain consumer; {:.2} s with start-up)",
            r / 1e3,
            words as f64 / took.as_secs_f64() / 1e3,
            r / plain_rate,
            r / consumer_rate,
            took.as_secs_f64()
        );
    }
    let measured =
        [("broker alone", &floor), ("plain Rust word count", &plain_latency), ("wflink p=1", &wflink_latency)];
    for (name, l) in measured {
        print_latency(name, l, args.rate);
    }
    Ok(())
}

/// The arguments of `kafka-wordcount` from `input` to `output`.
fn job_args(broker: &Broker, input: &str, output: &str, group: &str, bounded: bool) -> Vec<String> {
    let mut args = ["--brokers", &broker.address, "--input-topic", input, "--output-topic", output]
        .into_iter()
        .chain(["--delivery", "at-least-once", "--group", group])
        .map(String::from)
        .chain(["--fetch-wait-ms".to_string(), broker.fetch_wait_ms.to_string()])
        .collect::<Vec<_>>();
    if bounded {
        args.push("--bounded".into());
    }
    args
}

fn print_latency(name: &str, l: &Latencies, rate: u64) {
    println!(
        "latency, {name:<21}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} of {} lines at {rate} lines/s)",
        l.quantile_ms(0.5),
        l.quantile_ms(0.99),
        l.quantile_ms(1.0),
        l.micros.len(),
        l.sent
    );
}

/// The plain loop's latency, running on a thread of this process.
fn plain_latency(
    broker: &Broker,
    prefix: &str,
    partitions: i32,
    rate: u64,
    time: Duration,
) -> anyhow::Result<Latencies> {
    let (input, output) = (format!("{prefix}-in"), format!("{prefix}-out"));
    broker.create_topic(&input, partitions)?;
    broker.create_topic(&output, OUTPUT_PARTITIONS)?;
    let stop = AtomicBool::new(false);
    let mut plain = PlainWordCount::new(broker, &input, partitions, &output)?;
    std::thread::scope(|scope| {
        let counting = scope.spawn(|| plain.run(u64::MAX, &stop));
        let measured = latency::measure(broker, &input, partitions, &output, OUTPUT_PARTITIONS, rate, time);
        stop.store(true, Ordering::Relaxed);
        counting.join().map_err(|_| anyhow::anyhow!("the plain word count panicked"))??;
        measured
    })
}

/// wflink p=1's latency: `wflink run --local` of the unbounded job, in a
/// process of its own, stopped when measured.
fn wflink_latency(
    broker: &Broker,
    wasm: &std::path::Path,
    prefix: &str,
    partitions: i32,
    rate: u64,
    time: Duration,
) -> anyhow::Result<Latencies> {
    let (input, output) = (format!("{prefix}-in"), format!("{prefix}-out"));
    broker.create_topic(&input, partitions)?;
    broker.create_topic(&output, OUTPUT_PARTITIONS)?;
    let mut job = Command::new(std::env::current_exe()?)
        .args(["run", "--local", "-p", "1"])
        .arg(wasm)
        .args(job_args(broker, &input, &output, &format!("{prefix}-group"), false))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let measured = latency::measure(broker, &input, partitions, &output, OUTPUT_PARTITIONS, rate, time);
    let _ = job.kill();
    let _ = job.wait();
    measured
}

/// `lines` lines of ten Zipf-distributed words (as `wflink bench` draws them), and their number of words.
fn generate_lines(lines: u64) -> anyhow::Result<(Vec<String>, u64)> {
    let words = lines * 10;
    let path = std::env::temp_dir().join(format!("wflink-bench-zipf-{words}.txt"));
    if !path.exists() {
        super::bench::generate(&path, words)?;
    }
    let text = std::fs::read_to_string(&path)?;
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    Ok((lines, words))
}
