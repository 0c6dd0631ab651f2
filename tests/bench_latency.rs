//! `wflink bench-latency` stays runnable: a short run without Flink prints
//! one well-formed row per wflink run (no timing is asserted; the figures
//! belong in BENCHMARKS.md, measured in release on a quiet machine).

use std::time::Duration;

use crate::common::*;

/// The four latencies (µs) and the record count of the row starting with `label`.
fn row(stdout: &str, label: &str) -> ([f64; 4], u64) {
    let line = stdout.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("no row {label:?} in\n{stdout}"));
    let fields: Vec<&str> = line[label.len()..].split_whitespace().take(5).collect();
    let micros: Vec<f64> = fields[..4].iter().map(|f| f.parse().unwrap_or_else(|_| panic!("{line}"))).collect();
    (micros.try_into().unwrap(), fields[4].parse().unwrap_or_else(|_| panic!("{line}")))
}

#[test]
fn a_short_run_without_flink_prints_both_wflink_rows() {
    let mut command = wflink();
    command.args(["bench-latency", "--rate", "1000", "--warmup", "1", "--seconds", "1", "--no-flink"]);
    command.arg("--component").arg(example_wasm("latency"));
    let output = run_with_limit(command, Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("datagen at 1000 records/s"), "{stdout}");
    for label in ["wflink, buffer timeout 1 ms (default)", "wflink, buffer timeout 0"] {
        let ([p50, p99, p999, max], records) = row(&stdout, label);
        assert!(0.0 < p50 && p50 <= p99 && p99 <= p999 && p999 <= max, "{label}: {stdout}");
        assert!(records > 0, "{label}: {stdout}");
    }
    assert!(stdout.contains("Flink 2.3: not run: skipped (--no-flink)"), "{stdout}");
}
