//! `wflink bench`: word count throughput of wflink at parallelism 1 and 2
//! against a plain single-threaded Rust loop doing the same tokenising and
//! counting, and against Apache Flink 2.3 at parallelism 1 and 2 on the same
//! file (see `bench_flink`), all in one run so the ratios are fair on a
//! noisy machine.

use std::collections::HashMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use super::bench_flink::run_flink;
use crate::config::Configuration;
use crate::guest_build::{build_guest, repo};
use crate::minicluster::run_job_locally;
use crate::protocol::JobStatus;
use crate::wasm::WasmEngine;

#[derive(clap::Args, Debug)]
pub(super) struct BenchArgs {
    /// Number of words in the generated input.
    #[arg(long, default_value_t = 20_000_000)]
    words: u64,
    /// Where to write the generated input (default: a temporary file).
    #[arg(long)]
    input: Option<PathBuf>,
    /// Measure this wordcount component instead of building the example
    /// (to compare two builds of a guest library in one run).
    #[arg(long)]
    component: Option<PathBuf>,
    /// Skip Apache Flink (it is installed from PyPI on first use, ~400 MB,
    /// and needs a JDK 17+).
    #[arg(long)]
    no_flink: bool,
    /// How many times each system runs (the plain loop and wflink in turn,
    /// round after round; Flink as many jobs per parallelism): each line
    /// reports the best run, so a moment of load on a shared machine does
    /// not decide a ratio.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    rounds: u32,
}

/// The parallelisms both systems run at.
const PARALLELISMS: [u32; 2] = [1, 2];

pub(super) fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let input =
        args.input.unwrap_or_else(|| std::env::temp_dir().join(format!("wflink-bench-zipf-{}.txt", args.words)));
    if !input.exists() {
        eprintln!("Generating {} words into {} ...", args.words, input.display());
        generate(&input, args.words)?;
    }
    let wasm = match args.component {
        Some(path) => path,
        None => build_guest(&repo::example("wordcount"), Some(&repo::guest_target_dir()))?,
    };
    let bytes = std::fs::read(&wasm)?;
    let engine = WasmEngine::new()?;
    // Compile once before timing, as a cluster does at upload: the runs
    // below measure processing, not the one-time compile.
    engine.load(&bytes)?;

    let job_args = vec!["--input".into(), input.display().to_string(), "--discard".into()];
    let (mut plain, mut runs) = (0.0f64, vec![(0.0f64, 0.0f64); PARALLELISMS.len()]);
    let (mut words, mut distinct) = (0, 0);
    for _ in 0..args.rounds {
        let started = Instant::now();
        (words, distinct) = plain_loop(&input)?;
        plain = plain.max(words as f64 / started.elapsed().as_secs_f64());
        anyhow::ensure!(words == args.words, "the plain loop counted {words} words, expected {}", args.words);
        for (i, parallelism) in PARALLELISMS.into_iter().enumerate() {
            let started = Instant::now();
            let cpu_before = cpu_seconds();
            let details =
                run_job_locally(engine.clone(), &bytes, &job_args, Some(parallelism), Configuration::default())?;
            let elapsed = started.elapsed().as_secs_f64();
            anyhow::ensure!(details.status == JobStatus::Finished, "the p={parallelism} run ended {}", details.status);
            let counted: u64 = details.vertices.last().map(|v| v.metrics.read_records).unwrap_or(0);
            anyhow::ensure!(counted == words, "wflink p={parallelism} counted {counted} words, expected {words}");
            if words as f64 / elapsed > runs[i].0 {
                runs[i] = (words as f64 / elapsed, cpu_seconds() - cpu_before);
            }
        }
    }
    let (rates, cpu): (Vec<f64>, Vec<f64>) = runs.into_iter().unzip();
    let peak_rss = peak_rss_mb();
    let flink = match args.no_flink {
        true => Err("skipped (--no-flink)".to_owned()),
        false => {
            eprintln!("Running Apache Flink 2.3 on the same file (installed into target/flink-bench on first use) ...");
            let parallelisms: Vec<u32> = (0..args.rounds).flat_map(|_| PARALLELISMS).collect();
            run_flink(&input, &parallelisms)
        }
    };
    println!("input: {} ({words} words, {distinct} distinct); best of {} rounds", input.display(), args.rounds);
    println!("plain Rust loop   : {:>6.2} M words/s", plain / 1e6);
    let flink_rate = |p: u32| -> Option<f64> {
        let took = flink.as_ref().ok()?.runs.iter().find(|r| r.parallelism == p)?.took;
        Some(words as f64 / took.as_secs_f64())
    };
    for (i, p) in PARALLELISMS.into_iter().enumerate() {
        let mut notes = vec![format!("{:.2}x the plain loop", rates[i] / plain)];
        if i > 0 {
            notes.push(format!("{:.2}x p=1", rates[i] / rates[0]));
        }
        if let Some(f) = flink_rate(p) {
            notes.push(format!("{:.2}x Flink p={p}", rates[i] / f));
        }
        notes.push(format!("{:.1} CPU s", cpu[i]));
        println!("wflink p={p}        : {:>6.2} M words/s  ({})", rates[i] / 1e6, notes.join(", "));
    }
    match &flink {
        Ok(flink) => {
            for run in &flink.runs {
                let (p, took, cpu) = (run.parallelism, run.took.as_secs_f64(), run.cpu.as_secs_f64());
                let rate = words as f64 / took / 1e6;
                println!(
                    "Flink 2.3 p={p}     : {rate:>6.2} M words/s  (job {took:.2} s, warm TaskManager; {cpu:.1} CPU s)"
                );
            }
        }
        Err(why) => println!("Flink 2.3         : not run: {why}"),
    }
    if let Some(mb) = peak_rss {
        println!("wflink peak RSS   : {mb:.0} MB (this whole process: plain loop and every run)");
    }
    if let Some(mb) = flink.as_ref().ok().and_then(|f| f.tm_peak_rss_mb) {
        println!("Flink peak RSS    : {mb:.0} MB (its TaskManager alone, over every job)");
    }
    Ok(())
}

/// CPU time (user and system) this process has used so far, in seconds.
pub(super) fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes the struct it is given and nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// The machine's load averages (1, 5 and 15 minutes), as /proc/loadavg and `uptime` give them.
pub(super) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The process's peak resident set (`VmHWM`), in MB, where /proc has it.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Writes `words` words drawn from a 50,000-word vocabulary by Zipf's law
/// (the word of rank r has weight 1/r), as natural text is distributed,
/// in mixed case, ten to a line.
pub(super) fn generate(path: &Path, words: u64) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let vocabulary: Vec<String> = (0..50_000u32).map(|i| format!("w{}x{}", i % 997, i / 997)).collect();
    // Cumulative weights, searched with a uniform number per word.
    let mut cumulative = Vec::with_capacity(vocabulary.len());
    let mut total = 0.0;
    for rank in 1..=vocabulary.len() {
        total += 1.0 / rank as f64;
        cumulative.push(total);
    }
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    for i in 0..words {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let u = (seed >> 11) as f64 / (1u64 << 53) as f64 * total;
        let rank = cumulative.partition_point(|c| *c < u).min(vocabulary.len() - 1);
        let word = &vocabulary[rank];
        out.write_all(if i % 3 == 0 { word.to_uppercase() } else { word.clone() }.as_bytes())?;
        out.write_all(if i % 10 == 9 { b"\n" } else { b" " })?;
    }
    out.flush()?;
    Ok(())
}

/// The baseline: the same tokenising rule (ASCII lowercase, split on
/// non-alphanumeric bytes) counted into a HashMap, one thread, allocating
/// only for new words.
fn plain_loop(path: &Path) -> anyhow::Result<(u64, usize)> {
    let file = std::fs::File::open(path)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut line = Vec::new();
    let mut word = Vec::new();
    let mut total = 0;
    while reader.read_until(b'\n', &mut line)? > 0 {
        for token in line.split(|b| !b.is_ascii_alphanumeric()).filter(|t| !t.is_empty()) {
            word.clear();
            word.extend(token.iter().map(u8::to_ascii_lowercase));
            total += 1;
            match counts.get_mut(&word) {
                Some(count) => *count += 1,
                None => {
                    counts.insert(word.clone(), 1);
                }
            }
        }
        line.clear();
    }
    Ok((total, counts.len()))
}
