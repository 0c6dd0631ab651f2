//! The sensor-alerts checks, shared by the Rust example (tests/examples.rs)
//! and its ports to other languages (tests/polyglot.rs): the same inputs
//! and the same exact expected output for every language.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use super::*;

/// Runs the component `wasm` on `input` at parallelism `p`
/// and returns its printed lines, sorted and without the subtask prefix.
pub fn run_printing(wasm: &Path, input: &Path, p: u32, extra: &[&str], limit: Duration) -> Vec<String> {
    let mut command = wflink();
    command.args(["run", "--local", "-p", &p.to_string()]).arg(wasm).arg("--input").arg(input).args(extra);
    let output = run_with_limit(command, limit);
    assert!(output.status.success(), "{} failed: {}", wasm.display(), String::from_utf8_lossy(&output.stderr));
    sorted_lines(&String::from_utf8_lossy(&output.stdout))
}

/// Out-of-order readings (within the 2 s bound), a malformed line, a tie
/// on the maximum, two rising runs: exact windows and alerts at p=1 and 2.
pub fn assert_hand_checked_sensors(wasm: &Path, scratch_name: &str, limit: Duration) {
    let dir = scratch(scratch_name);
    let input = dir.join("readings.csv");
    std::fs::write(
        &input,
        "s1,1000,20.0\ns1,2000,21.5\ns2,1500,18.0\ns1,3000,22.0\ns2,4000,bad\ns1,9500,19.0\n\
         s2,11000,18.5\ns1,12000,23.00\ns1,10500,22.5\ns2,12500,18.50\ns2,13000,17\n",
    )
    .unwrap();
    // s1 rises 20.0 < 21.5 < 22.0 within 2 s: alert at 3000; then 19.0 (9500),
    // 22.5 (10500), 23.00 (12000) rise within 2.5 s: alert at 12000 (the
    // readings are checked in timestamp order, not arrival order).
    // s2's window [10000,20000) has 18.5 and 18.50 tied: the shorter text wins.
    let mut expected: Vec<String> = [
        "MALFORMED s2,4000,bad",
        "ALERT s1 3000",
        "ALERT s1 12000",
        "s1,0,10000,22.0,4",
        "s2,0,10000,18.0,1",
        "s1,10000,20000,23.00,2",
        "s2,10000,20000,18.5,3",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    expected.sort();
    assert_eq!(run_printing(wasm, &input, 1, &[], limit), expected, "at parallelism 1");
    assert_eq!(run_printing(wasm, &input, 2, &[], limit), expected, "at parallelism 2");
}

/// `--strict` turns a malformed line into a clean job failure naming it.
pub fn assert_strict_sensors_fail(wasm: &Path, scratch_name: &str, limit: Duration) {
    let dir = scratch(scratch_name);
    let input = dir.join("readings.csv");
    std::fs::write(&input, "s1,1000,20.0\ns1,notatime,21\n").unwrap();
    let mut command = wflink();
    command.args(["run", "--local"]).arg(wasm).arg("--input").arg(&input).arg("--strict");
    assert_clean_failure(&run_with_limit(command, limit), "malformed reading 's1,notatime,21'");
}

/// A generated input (30 sensors, 6000 readings over many batches, at most
/// 1.5 s out of order) written to `--output DIR` at p=2 matches windows
/// and alerts computed here without wflink.
pub fn assert_sensors_match_an_independent_computation(wasm: &Path, scratch_name: &str, limit: Duration) {
    let dir = scratch(scratch_name);
    let input = dir.join("readings.csv");
    let mut text = String::new();
    let mut readings = Vec::new();
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..6000i64 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let sensor = format!("sensor-{}", s % 30);
        let ts = 1_700_000_000_000 + i * 100 + ((s >> 8) % 1500) as i64;
        let tenths = 150 + ((s >> 20) % 200) as i64;
        let temp = format!("{}.{}", tenths / 10, tenths % 10);
        text.push_str(&format!("{sensor},{ts},{temp}\n"));
        readings.push((sensor, ts, tenths, temp));
    }
    std::fs::write(&input, text).unwrap();

    // Windows: max (by value, then shorter text) and count per (sensor, 10 s).
    let mut windows: BTreeMap<(String, i64), (i64, String, u64)> = BTreeMap::new();
    for (sensor, ts, tenths, temp) in &readings {
        let start = ts - ts.rem_euclid(10_000);
        let w = windows.entry((sensor.clone(), start)).or_insert((i64::MIN, String::new(), 0));
        if *tenths > w.0 {
            w.0 = *tenths;
            w.1 = temp.clone();
        }
        w.2 += 1;
    }
    let mut expected: BTreeSet<String> =
        windows.iter().map(|((s, start), (_, t, n))| format!("{s},{start},{},{t},{n}", start + 10_000)).collect();
    // Alerts: readings of a sensor in timestamp order (ties by value), three
    // strictly rising within 5 s; the run restarts after an alert.
    let mut by_sensor: BTreeMap<&str, Vec<(i64, i64)>> = BTreeMap::new();
    for (sensor, ts, tenths, _) in &readings {
        by_sensor.entry(sensor).or_default().push((*ts, *tenths));
    }
    for (sensor, mut list) in by_sensor {
        list.sort();
        let mut run: Vec<(i64, i64)> = Vec::new();
        for (ts, t) in list {
            match run.last() {
                Some(&(_, last)) if t > last => run.push((ts, t)),
                _ => run = vec![(ts, t)],
            }
            while run.len() > 1 && ts - run[0].0 > 5_000 {
                run.remove(0);
            }
            if run.len() >= 3 {
                expected.insert(format!("ALERT {sensor} {ts}"));
                run = vec![(ts, t)];
            }
        }
    }
    assert!(expected.iter().any(|l| l.starts_with("ALERT")), "the input should raise alerts");

    let out = dir.join("out");
    let mut command = wflink();
    command.args(["run", "--local", "-p", "2"]).arg(wasm).arg("--input").arg(&input);
    command.arg("--output").arg(&out);
    let output = run_with_limit(command, limit);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut got: BTreeSet<String> = BTreeSet::new();
    for sub in ["windows", "alerts"] {
        for line in read_parts(&out.join(sub)).lines() {
            assert!(got.insert(line.to_string()), "duplicate output line {line}");
        }
    }
    assert_eq!(read_parts(&out.join("late")), "", "no reading is late in this input");
    assert_eq!(got, expected);
}
