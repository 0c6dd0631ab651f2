//! The event-time examples (sensor-alerts, fraud-detection, click-counts)
//! run through the real `wflink run --local` on real files, with outputs
//! checked line by line against hand-checked expectations and, for a
//! generated input, against an independent computation in this file.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(120);

/// Runs an example on `input` at parallelism `p` and returns its printed
/// lines, sorted and without the subtask prefix.
fn run_example(name: &str, input: &Path, p: u32, extra: &[&str]) -> Vec<String> {
    let mut command = wflink();
    command.args(["run", "--local", "-p", &p.to_string()]).arg(example_wasm(name)).arg("--input").arg(input).args(extra);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{name} failed: {}", String::from_utf8_lossy(&output.stderr));
    sorted_lines(&String::from_utf8_lossy(&output.stdout))
}

fn sorted(lines: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Out-of-order readings (within the 2 s bound), a malformed line, a tie
/// on the maximum, two rising runs: exact windows and alerts at p=1 and 2.
#[test]
fn sensor_alerts_hand_checked_at_parallelism_1_and_2() {
    let dir = scratch("sensor-hand");
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
    let expected = sorted(&[
        "MALFORMED s2,4000,bad",
        "ALERT s1 3000",
        "ALERT s1 12000",
        "s1,0,10000,22.0,4",
        "s2,0,10000,18.0,1",
        "s1,10000,20000,23.00,2",
        "s2,10000,20000,18.5,3",
    ]);
    assert_eq!(run_example("sensor-alerts", &input, 1, &[]), expected);
    assert_eq!(run_example("sensor-alerts", &input, 2, &[]), expected);
}

/// `--strict` turns a malformed line into a clean job failure naming it.
#[test]
fn sensor_alerts_strict_mode_fails_on_a_malformed_line() {
    let dir = scratch("sensor-strict");
    let input = dir.join("readings.csv");
    std::fs::write(&input, "s1,1000,20.0\ns1,notatime,21\n").unwrap();
    let mut command = wflink();
    command.args(["run", "--local"]).arg(example_wasm("sensor-alerts")).arg("--input").arg(&input).arg("--strict");
    assert_clean_failure(&run_with_limit(command, LIMIT), "malformed reading 's1,notatime,21'");
}

/// A generated input (30 sensors, 6000 readings over many batches, at most
/// 1.5 s out of order) written to `--output DIR` at p=2 matches windows
/// and alerts computed here without wflink.
#[test]
fn sensor_alerts_match_an_independent_computation() {
    let dir = scratch("sensor-generated");
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
    command.args(["run", "--local", "-p", "2"]).arg(example_wasm("sensor-alerts")).arg("--input").arg(&input);
    command.arg("--output").arg(&out);
    let output = run_with_limit(command, LIMIT);
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

/// Small then large within 60 s (inclusive) is fraud; 60.001 s, exactly
/// 500.00, or large before small are not.
#[test]
fn fraud_detection_hand_checked_at_parallelism_1_and_2() {
    let dir = scratch("fraud");
    let input = dir.join("transactions.csv");
    std::fs::write(
        &input,
        "a1,1000,0.50\na1,30000,600.00\na2,1000,0.99\na2,62000,501.00\nb1,5000,700.00\nb1,6000,0.10\n\
         b1,66000,500.00\nb1,66001,999.99\nc1,10000,0.01\nc1,9000,800\nbad line\nc1,70000,500.01\n\
         d1,2000,1.00\nd1,3000,900\n",
    )
    .unwrap();
    let expected = sorted(&["FRAUD a1 30000", "FRAUD c1 70000", "MALFORMED bad line"]);
    assert_eq!(run_example("fraud-detection", &input, 1, &[]), expected);
    assert_eq!(run_example("fraud-detection", &input, 2, &[]), expected);
}

/// Sliding 60 s windows every 10 s, top 2 pages (ties by name).
#[test]
fn click_counts_hand_checked_at_parallelism_1_and_2() {
    let dir = scratch("clicks");
    let input = dir.join("views.csv");
    std::fs::write(
        &input,
        "u1,/home,1000\nu2,/home,5000\nu1,/cart,12000\nu3,/cart,15000\nu2,/cart,61000\nu4,/about,30000\nnope\nu1,/home,65000\n",
    )
    .unwrap();
    let expected = sorted(&[
        "-50000,10000,/home=2",
        "-40000,20000,/cart=2 /home=2",
        "-30000,30000,/cart=2 /home=2",
        "-20000,40000,/cart=2 /home=2",
        "-10000,50000,/cart=2 /home=2",
        "0,60000,/cart=2 /home=2",
        "10000,70000,/cart=3 /about=1",
        "20000,80000,/about=1 /cart=1",
        "30000,90000,/about=1 /cart=1",
        "40000,100000,/cart=1 /home=1",
        "50000,110000,/cart=1 /home=1",
        "60000,120000,/cart=1 /home=1",
        "MALFORMED nope",
    ]);
    assert_eq!(run_example("click-counts", &input, 1, &["--top", "2"]), expected);
    assert_eq!(run_example("click-counts", &input, 2, &["--top", "2"]), expected);
}
