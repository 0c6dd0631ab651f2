//! Bytewax beside `wflink bench-languages`: runs the project's Bytewax word
//! count harness (`runtime/benches/bytewax/wordcount.sh`, which installs
//! Bytewax 0.21 from PyPI on first use) on the same input in one worker, so
//! wflink's Python word count is compared with a pure-Python dataflow engine
//! in the same run.

use std::path::Path;
use std::time::Duration;

/// Bytewax's run as the script measured it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct BytewaxRun {
    /// The dataflow's run time (the interpreter's start and imports not counted).
    pub took: Duration,
    /// CPU time (user and system) the process used meanwhile.
    pub cpu: Duration,
    /// How many `(word, count)` updates reached the sink.
    pub counts: u64,
}

/// Runs Bytewax's word count on `input`, or says in one line why it could not.
pub(super) fn run_bytewax(input: &Path) -> Result<BytewaxRun, String> {
    let stdout = super::bench_flink::run_script("bytewax/wordcount.sh", &[input.display().to_string()])?;
    parse(&stdout).ok_or_else(|| format!("the Bytewax script printed no `job_ms` line: {:?}", stdout.trim()))
}

/// The script's `job_ms MS CPU_MS COUNTS` line.
fn parse(stdout: &str) -> Option<BytewaxRun> {
    stdout.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let ["job_ms", ms, cpu_ms, counts] = fields[..] else { return None };
        Some(BytewaxRun {
            took: Duration::from_millis(ms.parse().ok()?),
            cpu: Duration::from_millis(cpu_ms.parse().ok()?),
            counts: counts.parse().ok()?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_job_line_and_ignores_the_rest() {
        let run = parse("installing...\njob_ms 6043 3838 1000000\n").unwrap();
        assert_eq!(
            run,
            BytewaxRun { took: Duration::from_millis(6043), cpu: Duration::from_millis(3838), counts: 1_000_000 }
        );
        assert_eq!(parse("job_ms 1 2\n"), None);
        assert_eq!(parse("job_ms x 2 3\n"), None);
    }
}
