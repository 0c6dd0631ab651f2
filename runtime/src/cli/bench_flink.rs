//! Apache Flink 2.3 beside `wflink bench`: runs the project's Flink word
//! count harness (`runtime/benches/flink/wordcount.sh`, which installs Flink
//! from PyPI on first use) on the same input and reads Flink's own job
//! durations, so both systems are measured in the same run.

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

/// Flink's best job (shortest duration) at each parallelism of
/// `parallelisms` on `input`, or one line saying why Flink could not be run.
pub(super) fn run_flink(input: &Path, parallelisms: &[u32]) -> Result<Vec<FlinkRun>, String> {
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
    match parallelisms.iter().all(|p| durations.iter().any(|r| r.parallelism == *p)) {
        true => Ok(durations),
        false => Err(format!("the Flink script printed no job time for some parallelism: {durations:?}")),
    }
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
}
