//! `wflink bench-languages`: the wordcount example in each guest language
//! (Rust, C, Python, JavaScript), side by side: component size, compile
//! time, load time of the cached artifact, instantiation time, and word
//! count throughput at parallelism 1. Prints a Markdown table (BENCHMARKS.md),
//! then Bytewax's word count on the same input in one worker and the ratios
//! the targets are about: Python against Bytewax, JavaScript against
//! Python.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Configuration;
use crate::guest_build::{build_guest, repo};
use crate::minicluster::run_job_locally;
use crate::protocol::JobStatus;
use crate::wasm::{GuestInstance, InstanceSettings, SlotMemory, WasmEngine};

#[derive(clap::Args, Debug)]
pub(super) struct BenchLanguagesArgs {
    /// Number of words in the generated input.
    #[arg(long, default_value_t = 2_000_000)]
    words: u64,
    /// Where to write the generated input (default: a temporary file).
    #[arg(long)]
    input: Option<PathBuf>,
    /// Languages to measure (examples `wordcount`, `wordcount-c`, ...).
    #[arg(long, value_delimiter = ',', default_value = "rust,c,python,javascript")]
    languages: Vec<String>,
    /// Skip Bytewax (by default it runs beside Python, installed from PyPI on first use).
    #[arg(long)]
    no_bytewax: bool,
    /// A prebuilt wordcount component to measure too, as `LABEL=PATH`
    /// (repeatable), e.g. `python-before=old.wasm`: builds of one guest
    /// with two versions of its library, side by side in one run. Rows
    /// labelled `python...` are compared with Bytewax, `javascript...`
    /// with the first Python row.
    #[arg(long = "component", value_name = "LABEL=PATH", value_parser = parse_component)]
    components: Vec<(String, PathBuf)>,
}

/// A `LABEL=PATH` of `--component`.
fn parse_component(arg: &str) -> Result<(String, PathBuf), String> {
    match arg.split_once('=') {
        Some((label, path)) if !label.is_empty() && !path.is_empty() => Ok((label.to_string(), PathBuf::from(path))),
        _ => Err(format!("'{arg}' is not LABEL=PATH (e.g. python-before=old.wasm)")),
    }
}

/// The example folder of each language.
const EXAMPLES: &[(&str, &str)] =
    &[("rust", "wordcount"), ("c", "wordcount-c"), ("python", "wordcount-python"), ("javascript", "wordcount-js")];

pub(super) fn bench_languages(args: BenchLanguagesArgs) -> anyhow::Result<()> {
    let input =
        args.input.unwrap_or_else(|| std::env::temp_dir().join(format!("wflink-bench-zipf-{}.txt", args.words)));
    if !input.exists() {
        eprintln!("Generating {} words into {} ...", args.words, input.display());
        super::bench::generate(&input, args.words)?;
    }
    println!(
        "| language | component size | compile | cached load | instantiate (first / later) | words/s (p=1) | CPU s |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for language in &args.languages {
        let Some((_, example)) = EXAMPLES.iter().find(|(l, _)| l == language) else {
            anyhow::bail!("unknown language '{language}': expected one of rust, c, python, javascript");
        };
        rows.push((language.clone(), build_guest(&repo::example(example), Some(&repo::guest_target_dir()))?));
    }
    rows.extend(args.components.iter().cloned());
    let mut rates = Vec::new();
    for (label, wasm) in &rows {
        let bytes = std::fs::read(wasm).with_context(|| format!("cannot read the component '{}'", wasm.display()))?;
        let (rate, cpu) = measure(label, &bytes, &input, args.words)?;
        rates.push((label.as_str(), rate, cpu));
    }
    println!("\ninput: {} ({} words, Zipf-distributed)", input.display(), args.words);
    let pythons: Vec<_> = rates.iter().filter(|(l, _, _)| l.starts_with("python")).collect();
    if !pythons.is_empty() && !args.no_bytewax {
        bytewax_beside(&input, args.words, &pythons)?;
    }
    if let Some((python_label, python, python_cpu)) = pythons.first() {
        for (label, js, js_cpu) in rates.iter().filter(|(l, _, _)| l.starts_with("javascript")) {
            println!(
                "{label} / {python_label}: {:.2}x by rate, {:.2}x by CPU per word",
                js / python,
                python_cpu / js_cpu
            );
        }
    }
    Ok(())
}

/// Measures one component and prints its row: size, compile, cached
/// load, instantiations, and the word count's rate and CPU seconds.
fn measure(label: &str, bytes: &[u8], input: &Path, words: u64) -> anyhow::Result<(f64, f64)> {
    let cache = std::env::temp_dir().join(format!("wflink-bench-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    // A fresh cache: the load compiles (and writes the artifact).
    let started = Instant::now();
    WasmEngine::with_cache_dir(Some(cache.clone()))?.load(bytes)?;
    let compile = started.elapsed();
    // A new engine, as in a new process: the load reads the artifact.
    let engine = WasmEngine::with_cache_dir(Some(cache.clone()))?;
    let started = Instant::now();
    let component = engine.load(bytes)?;
    let cached = started.elapsed();
    let (first, later) = instantiate_twice(&component)?;

    let job_args = vec!["--input".into(), input.display().to_string(), "--discard".into()];
    let (rate, cpu) = throughput(&engine, bytes, &job_args, words)?;
    let _ = std::fs::remove_dir_all(&cache);
    println!(
        "| {label} | {} | {} | {} | {} / {} | {:.3} M | {cpu:.1} |",
        size(bytes.len()),
        millis(compile),
        millis(cached),
        millis(first),
        millis(later),
        rate / 1e6
    );
    Ok((rate, cpu))
}

/// Runs Bytewax on the same input and prints its rate and each Python
/// row's ratio to it, by rate and by CPU per word (which a loaded machine
/// blurs less); a Bytewax that cannot run is reported in one line.
fn bytewax_beside(input: &Path, words: u64, pythons: &[&(&str, f64, f64)]) -> anyhow::Result<()> {
    match super::bench_bytewax::run_bytewax(input) {
        Ok(run) => {
            anyhow::ensure!(run.counts == words, "Bytewax counted {} words, expected {words}", run.counts);
            let rate = words as f64 / run.took.as_secs_f64();
            println!(
                "Bytewax 0.21.1 (one worker): {:.3} M words/s ({} run, {} CPU)",
                rate / 1e6,
                millis(run.took),
                millis(run.cpu)
            );
            for (label, python, python_cpu) in pythons {
                println!(
                    "{label} / Bytewax: {:.2}x by rate, {:.2}x by CPU per word",
                    python / rate,
                    run.cpu.as_secs_f64() / python_cpu
                );
            }
        }
        Err(why) => println!("Bytewax not run: {why}"),
    }
    Ok(())
}

fn instantiate_twice(component: &crate::wasm::JobComponent) -> anyhow::Result<(Duration, Duration)> {
    let settings = InstanceSettings {
        task: "bench".into(),
        memory: SlotMemory::new(1 << 30),
        call_timeout: Duration::from_secs(10),
        attempt: 0,
        cancel: Default::default(),
    };
    let started = Instant::now();
    drop(GuestInstance::new(component, settings.clone())?);
    let first = started.elapsed();
    let started = Instant::now();
    drop(GuestInstance::new(component, settings)?);
    Ok((first, started.elapsed()))
}

/// Words per second of a whole local run at p=1, and the CPU seconds the
/// process used meanwhile.
fn throughput(engine: &Arc<WasmEngine>, bytes: &[u8], job_args: &[String], words: u64) -> anyhow::Result<(f64, f64)> {
    let cpu = super::bench::cpu_seconds();
    let started = Instant::now();
    let details = run_job_locally(engine.clone(), bytes, job_args, Some(1), Configuration::default())?;
    let elapsed = started.elapsed().as_secs_f64();
    anyhow::ensure!(details.status == JobStatus::Finished, "the run ended {}", details.status);
    let counted: u64 = details.vertices.last().map(|v| v.metrics.read_records).unwrap_or(0);
    anyhow::ensure!(counted == words, "counted {counted} words, expected {words}");
    Ok((words as f64 / elapsed, super::bench::cpu_seconds() - cpu))
}

fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 1000.0 {
        format!("{:.1} s", ms / 1e3)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
    } else {
        format!("{} KiB", bytes / 1024)
    }
}
