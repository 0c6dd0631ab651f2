//! Apache Flink 2.3 beside `wflink bench` and `wflink bench-latency`: runs
//! the project's Flink harness (`runtime/benches/flink/`, which installs
//! Flink from PyPI on first use): the word count on the same input, read by
//! Flink's own job durations, and the latency job at the same rate, read by
//! the percentiles its sink measured, so both systems are measured in the
//! same run.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::guest_build::repo;

/// One Flink job as the script measured it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct FlinkRun {
    /// The job's parallelism.
    pub parallelism: u32,
    /// Flink's own job duration.
    pub took: Duration,
    /// CPU time (user and system) the TaskManager process used meanwhile.
    pub cpu: Duration,
}

/// What Flink's word count measured.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FlinkWordCount {
    /// The best job (shortest duration) at each parallelism.
    pub runs: Vec<FlinkRun>,
    /// The TaskManager's peak resident set over all the jobs, in MB, where
    /// /proc has it.
    pub tm_peak_rss_mb: Option<f64>,
}

/// Flink's word count on `input` at each parallelism of `parallelisms` (a
/// parallelism given n times runs n jobs), or one line saying why Flink
/// could not be run.
pub(super) fn run_flink(input: &Path, parallelisms: &[u32]) -> Result<FlinkWordCount, String> {
    let mut args = vec![input.display().to_string()];
    args.extend(parallelisms.iter().map(u32::to_string));
    let stdout = run_script("flink/wordcount.sh", &args)?;
    let runs = parse(&stdout);
    let tm_peak_rss_mb = stdout
        .lines()
        .find_map(|l| l.strip_prefix("tm_peak_rss_kb "))
        .and_then(|kb| kb.trim().parse::<f64>().ok())
        .filter(|kb| *kb > 0.0)
        .map(|kb| kb / 1024.0);
    match parallelisms.iter().all(|p| runs.iter().any(|r| r.parallelism == *p)) {
        true => Ok(FlinkWordCount { runs, tm_peak_rss_mb }),
        false => Err(format!("the Flink script printed no job time for some parallelism: {runs:?}")),
    }
}

/// Runs the peer harness `runtime/benches/SCRIPT` (e.g. `flink/latency.sh`)
/// with `args` and returns its standard output, or the last line of its
/// standard error.
pub(super) fn run_script(script: &str, args: &[String]) -> Result<String, String> {
    let script = repo::root().join("runtime").join("benches").join(script);
    let output = Command::new("bash")
        .arg(&script)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let why = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
        return Err(format!("{} ({})", why.trim(), output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// What Flink's latency job measured at one buffer timeout.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FlinkLatency {
    /// The buffer timeout asked for: `default` or milliseconds.
    pub asked: String,
    /// The buffer timeout the job ran with, in ms.
    pub buffer_timeout_ms: i64,
    /// Emit-to-sink latency percentiles p50, p99, p99.9 and the maximum, in µs.
    pub micros: [f64; 4],
    /// Records measured (after the warm-up).
    pub measured: u64,
}

/// The latency job (`latency.sh`: a source at `rate` records/s, key-by over `keys` keys, map, sink) once per
/// buffer timeout of `buffer_timeouts` (`default` or ms), each measured for `measure` after `warmup`.
pub(super) fn run_flink_latency(
    rate: u64,
    warmup: Duration,
    measure: Duration,
    keys: u64,
    buffer_timeouts: &[&str],
) -> Result<Vec<FlinkLatency>, String> {
    let mut args: Vec<String> =
        [rate, warmup.as_millis() as u64, measure.as_millis() as u64, keys].iter().map(u64::to_string).collect();
    args.extend(buffer_timeouts.iter().map(|b| b.to_string()));
    let stdout = run_script("flink/latency.sh", &args)?;
    let runs: Vec<FlinkLatency> = stdout.lines().filter_map(parse_latency).collect();
    match buffer_timeouts.iter().all(|b| runs.iter().any(|r| r.asked == *b)) {
        true => Ok(runs),
        false => Err(format!("the Flink script printed no latency for some buffer timeout: {stdout}")),
    }
}

/// One line `BUFFER_TIMEOUT LATENCY p50_us=.. p99_us=.. p999_us=.. max_us=.. measured=N ... buffer_timeout_ms=N`.
fn parse_latency(line: &str) -> Option<FlinkLatency> {
    let mut words = line.split_whitespace();
    let asked = words.next()?.to_string();
    if words.next()? != "LATENCY" {
        return None;
    }
    let fields: Vec<(&str, &str)> = words.filter_map(|w| w.split_once('=')).collect();
    let field = |name: &str| fields.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let micros = |name: &str| field(name)?.parse::<f64>().ok();
    Some(FlinkLatency {
        asked,
        buffer_timeout_ms: field("buffer_timeout_ms")?.parse().ok()?,
        micros: [micros("p50_us")?, micros("p99_us")?, micros("p999_us")?, micros("max_us")?],
        measured: field("measured")?.parse().ok()?,
    })
}

/// The best (shortest) run per parallelism from the script's
/// `job_ms P MS CPU_MS` lines, in the order they first appear.
fn parse(stdout: &str) -> Vec<FlinkRun> {
    let mut best: Vec<FlinkRun> = Vec::new();
    for line in stdout.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let ["job_ms", p, ms, cpu_ms] = fields[..] else { continue };
        let (Ok(parallelism), Ok(ms), Ok(cpu_ms)) = (p.parse::<u32>(), ms.parse::<u64>(), cpu_ms.parse::<u64>()) else {
            continue;
        };
        let run = FlinkRun { parallelism, took: Duration::from_millis(ms), cpu: Duration::from_millis(cpu_ms) };
        match best.iter_mut().find(|r| r.parallelism == parallelism) {
            Some(known) if known.took <= run.took => {}
            Some(known) => *known = run,
            None => best.push(run),
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_job_per_parallelism() {
        let stdout = "job_ms 1 900 1500\nnoise\njob_ms 2 700 1400\njob_ms 1 800 1600\njob_ms x 5 5\n";
        let run = |parallelism, ms, cpu_ms| FlinkRun {
            parallelism,
            took: Duration::from_millis(ms),
            cpu: Duration::from_millis(cpu_ms),
        };
        assert_eq!(parse(stdout), vec![run(1, 800, 1600), run(2, 700, 1400)]);
    }

    #[test]
    fn reads_the_latency_line_of_each_buffer_timeout() {
        let stdout = "noise\ndefault LATENCY p50_us=9000.5 p99_us=19000.0 p999_us=21000.0 max_us=30000.0 \
                      measured=2000000 emitted=2500000 buffer_timeout_ms=100\n0 LATENCY p50_us=20 oops\n";
        let runs: Vec<_> = stdout.lines().filter_map(parse_latency).collect();
        let expected = FlinkLatency {
            asked: "default".into(),
            buffer_timeout_ms: 100,
            micros: [9000.5, 19000.0, 21000.0, 30000.0],
            measured: 2_000_000,
        };
        assert_eq!(runs, vec![expected]);
    }
}
