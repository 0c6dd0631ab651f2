//! Apache Flink 2.3 beside `wflink bench`: runs the project's Flink word
//! count harness (`runtime/benches/flink/wordcount.sh`, which installs Flink
//! from PyPI on first use) on the same input and reads Flink's own job
//! durations, so both systems are measured in the same run.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::guest_build::repo;

/// Flink's best job duration at each parallelism of `parallelisms` on
/// `input`, or one line saying why Flink could not be run.
pub(super) fn run_flink(input: &Path, parallelisms: &[u32]) -> Result<Vec<(u32, Duration)>, String> {
    let script = repo::root().join("runtime").join("benches").join("flink").join("wordcount.sh");
    let output = Command::new("bash")
        .arg(&script)
        .arg(input)
        .args(parallelisms.iter().map(u32::to_string))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let why = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
        return Err(format!("{} ({})", why.trim(), output.status));
    }
    let durations = parse(&String::from_utf8_lossy(&output.stdout));
    match parallelisms.iter().all(|p| durations.iter().any(|(q, _)| q == p)) {
        true => Ok(durations),
        false => Err(format!("the Flink script printed no job time for some parallelism: {durations:?}")),
    }
}

/// The best (shortest) duration per parallelism from the script's
/// `job_ms P MS` lines, in the order they first appear.
fn parse(stdout: &str) -> Vec<(u32, Duration)> {
    let mut best: Vec<(u32, Duration)> = Vec::new();
    for line in stdout.lines() {
        let mut fields = line.split_whitespace();
        let (Some("job_ms"), Some(p), Some(ms)) = (fields.next(), fields.next(), fields.next()) else { continue };
        let (Ok(p), Ok(ms)) = (p.parse::<u32>(), ms.parse::<u64>()) else { continue };
        let took = Duration::from_millis(ms);
        match best.iter_mut().find(|(q, _)| *q == p) {
            Some((_, d)) => *d = (*d).min(took),
            None => best.push((p, took)),
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_job_time_per_parallelism() {
        let stdout = "job_ms 1 900\nnoise\njob_ms 2 700\njob_ms 1 800\njob_ms x 5\n";
        assert_eq!(parse(stdout), vec![(1, Duration::from_millis(800)), (2, Duration::from_millis(700))]);
    }
}
