//! The event-time examples (sensor-alerts, fraud-detection, click-counts)
//! run through the real `wflink run --local` on real files, with outputs
//! checked line by line against hand-checked expectations and, for a
//! generated input, against an independent computation (the sensor-alerts
//! checks live in common/sensors.rs, shared with the Python port).

use std::path::Path;
use std::time::Duration;

use crate::common::*;

const LIMIT: Duration = Duration::from_secs(120);

/// Runs an example on `input` at parallelism `p` and returns its printed
/// lines, sorted and without the subtask prefix.
fn run_example(name: &str, input: &Path, p: u32, extra: &[&str]) -> Vec<String> {
    sensors::run_printing(&example_wasm(name), input, p, extra, LIMIT)
}

fn sorted(lines: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Out-of-order readings, a malformed line, a tie on the maximum, two
/// rising runs: exact windows and alerts at p=1 and 2 (common/sensors.rs).
#[test]
fn sensor_alerts_hand_checked_at_parallelism_1_and_2() {
    sensors::assert_hand_checked_sensors(&example_wasm("sensor-alerts"), "sensor-hand", LIMIT);
}

/// `--strict` turns a malformed line into a clean job failure naming it.
#[test]
fn sensor_alerts_strict_mode_fails_on_a_malformed_line() {
    sensors::assert_strict_sensors_fail(&example_wasm("sensor-alerts"), "sensor-strict", LIMIT);
}

/// A generated input at p=2 matches windows and alerts computed without wflink.
#[test]
fn sensor_alerts_match_an_independent_computation() {
    sensors::assert_sensors_match_an_independent_computation(&example_wasm("sensor-alerts"), "sensor-generated", LIMIT);
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
