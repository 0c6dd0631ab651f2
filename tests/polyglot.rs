//! End-to-end: jobs in Python, JavaScript and C, built by `wflink build`'s
//! helper with their real toolchains and run by the real binary, count
//! exactly as the Rust wordcount does; a Python or JS exception fails the
//! job with its message and traceback; a component built against another
//! WIT version is refused, naming both versions; compiled components are
//! cached on disk. The Python and JavaScript ports of sensor-alerts print
//! exactly what the Rust example prints (common/sensors.rs holds the
//! shared checks).

use std::time::Duration;

use crate::common::*;
use wflink::guest_build::repo;

/// Generous: the first run of a Python or JS component compiles it (tens
/// of seconds on a busy 2-core machine); later runs load the cached artifact.
const LIMIT: Duration = Duration::from_secs(300);

/// Fewer words than the Rust test: the interpreters are slower, and the
/// point here is exactness.
const WORDS: usize = 20_000;

fn example(name: &str) -> std::path::PathBuf {
    guest(repo::example(name))
}

/// The Python wordcount counts exactly at parallelism 1.
#[test]
fn python_counts_are_exact_at_parallelism_1() {
    assert_wordcount_is_exact(&example("wordcount-python"), 1, WORDS, LIMIT);
}

/// The Python wordcount counts exactly at parallelism 2 (state split by key).
#[test]
fn python_counts_are_exact_at_parallelism_2() {
    assert_wordcount_is_exact(&example("wordcount-python"), 2, WORDS, LIMIT);
}

/// The JavaScript wordcount counts exactly at parallelism 1.
#[test]
fn javascript_counts_are_exact_at_parallelism_1() {
    assert_wordcount_is_exact(&example("wordcount-js"), 1, WORDS, LIMIT);
}

/// The JavaScript wordcount counts exactly at parallelism 2.
#[test]
fn javascript_counts_are_exact_at_parallelism_2() {
    assert_wordcount_is_exact(&example("wordcount-js"), 2, WORDS, LIMIT);
}

/// The C wordcount counts exactly at parallelism 1.
#[test]
fn c_counts_are_exact_at_parallelism_1() {
    assert_wordcount_is_exact(&example("wordcount-c"), 1, WORDS, LIMIT);
}

/// The C wordcount counts exactly at parallelism 2.
#[test]
fn c_counts_are_exact_at_parallelism_2() {
    assert_wordcount_is_exact(&example("wordcount-c"), 2, WORDS, LIMIT);
}

/// The Python sensor alerts (keyed state, timers, event-time windows,
/// side outputs) print exactly what the Rust example prints, at p=1 and 2.
#[test]
fn python_sensor_alerts_match_the_rust_example_at_parallelism_1_and_2() {
    sensors::assert_hand_checked_sensors(&example("sensor-alerts-python"), "python-sensor-hand", LIMIT);
}

/// On a generated input (many batches, out of order) the Python sensor
/// alerts match an independent computation, as the Rust example does.
#[test]
fn python_sensor_alerts_match_an_independent_computation() {
    sensors::assert_sensors_match_an_independent_computation(
        &example("sensor-alerts-python"),
        "python-sensor-generated",
        LIMIT,
    );
}

/// `--strict` fails the Python job cleanly, naming the malformed line.
#[test]
fn python_sensor_alerts_strict_mode_fails_on_a_malformed_line() {
    sensors::assert_strict_sensors_fail(&example("sensor-alerts-python"), "python-sensor-strict", LIMIT);
}

/// The JavaScript sensor alerts (keyed state, timers, event-time windows,
/// side outputs) print exactly what the Rust example prints, at p=1 and 2.
#[test]
fn javascript_sensor_alerts_match_the_rust_example_at_parallelism_1_and_2() {
    sensors::assert_hand_checked_sensors(&example("sensor-alerts-js"), "js-sensor-hand", LIMIT);
}

/// On a generated input (many batches, out of order) the JavaScript sensor
/// alerts match an independent computation, as the Rust example does.
#[test]
fn javascript_sensor_alerts_match_an_independent_computation() {
    sensors::assert_sensors_match_an_independent_computation(
        &example("sensor-alerts-js"),
        "js-sensor-generated",
        LIMIT,
    );
}

/// `--strict` makes the JavaScript parse function (a process function)
/// throw an `Error`: the job fails naming the node, the line, and the
/// function's stack.
#[test]
fn javascript_exception_in_a_process_function_fails_the_job_with_its_stack() {
    let wasm = example("sensor-alerts-js");
    let dir = scratch("js-sensor-strict");
    let input = dir.join("readings.csv");
    std::fs::write(&input, "s1,1000,20.0\ns1,notatime,21\n").unwrap();
    let mut command = wflink();
    command.args(["run", "--local"]).arg(wasm).arg("--input").arg(&input).arg("--strict");
    let output = run_with_limit(command, LIMIT);
    assert_clean_failure(&output, "node 1 'parse' threw Error: malformed reading 's1,notatime,21'");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("parseLine@") && stderr.contains("app.js:"), "has the stack: {stderr}");
}

/// The Python library's MessagePack batch fast paths give exactly the
/// bytes and values of its per-value codec (run by the host's python3).
#[test]
fn python_msgpack_fast_paths_match_the_generic_codec() {
    let script = repo::root().join("sdk/python/tests/test_msgpack.py");
    let mut command = std::process::Command::new("python3");
    command.arg(&script);
    let output = run_with_limit(command, LIMIT);
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The JavaScript library's state kinds, timers (both clocks, deleted
/// ones), sliding and session windows, lateness and side outputs, run in
/// Node through its component exports against an in-memory host.
#[test]
fn javascript_library_state_timers_and_windows_behave_as_in_flink() {
    let tests = repo::root().join("sdk/js/tests");
    let mut command = std::process::Command::new("node");
    command.arg("--import").arg(tests.join("register.mjs")).arg(tests.join("library.test.mjs"));
    let output = run_with_limit(command, LIMIT);
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn run_failing(guest_dir: &str) -> (std::process::Output, String) {
    let wasm = test_guest(guest_dir);
    let dir = scratch(guest_dir);
    let input = dir.join("input.txt");
    std::fs::write(&input, "fine\nboom\nfine\n").unwrap();
    let mut command = wflink();
    command.args(["run", "--local"]).arg(wasm).arg("--input").arg(&input);
    let output = run_with_limit(command, LIMIT);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stderr)
}

/// A Python exception fails the job with the exception's type, message
/// and traceback (file, line, function) in the error.
#[test]
fn python_exception_fails_the_job_with_its_traceback() {
    let (output, stderr) = run_failing("failing-python");
    assert_clean_failure(&output, "ValueError: failing-python cannot handle 'boom'");
    assert!(stderr.contains("node 1 'check'"), "names the node: {stderr}");
    assert!(stderr.contains("Traceback (most recent call last)"), "{stderr}");
    assert!(stderr.contains("app.py\", line 9, in check"), "points at the raising line: {stderr}");
}

/// A JavaScript exception fails the job with its type, message and stack.
#[test]
fn javascript_exception_fails_the_job_with_its_stack() {
    let (output, stderr) = run_failing("failing-js");
    assert_clean_failure(&output, "TypeError: failing-js cannot handle 'boom'");
    assert!(stderr.contains("node 1 'check'"), "names the node: {stderr}");
    assert!(stderr.contains("check@") && stderr.contains("app.js:7"), "has the stack: {stderr}");
}

/// A component built against wflink:job@0.0.9 is refused at load, with
/// the expected and the found package versions in the error.
#[test]
fn component_of_an_old_wit_version_is_refused() {
    let mut command = wflink();
    command.args(["run", "--local"]).arg(test_guest("old-wit-job")).args(["--input", "/dev/null"]);
    let output = run_with_limit(command, LIMIT);
    assert_clean_failure(&output, "built against wflink:job@0.0.9");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(wflink::wasm::WIT_PACKAGE), "names the expected version: {stderr}");
}

/// The first run writes the compiled component to the cache folder; the
/// next run loads it from there instead of compiling.
#[test]
fn compiled_components_are_cached_on_disk() {
    let cache = scratch("artifact-cache");
    let input = cache.join("input.txt");
    std::fs::write(&input, "a b a\n").unwrap();
    let run = || {
        let mut command = wflink();
        command.env(wflink::wasm::CACHE_DIR_ENV, &cache).env("WFLINK_LOG", "wflink::wasm=debug");
        command.args(["run", "--local"]).arg(wordcount_wasm()).arg("--input").arg(&input);
        let output = run_with_limit(command, LIMIT);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let first = run();
    assert!(first.contains("compiled component"), "{first}");
    let artifacts: Vec<_> = std::fs::read_dir(cache.join("components")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(artifacts.len(), 1, "{artifacts:?}");
    assert!(artifacts[0].extension().is_some_and(|e| e == "cwasm"));
    let second = run();
    assert!(second.contains("loaded the cached artifact of the component"), "{second}");
    assert!(!second.contains("compiled component"), "{second}");

    // A damaged artifact is ignored and replaced, never trusted.
    std::fs::write(&artifacts[0], b"garbage").unwrap();
    let third = run();
    assert!(third.contains("ignoring an unusable cached component"), "{third}");
    assert!(std::fs::metadata(&artifacts[0]).unwrap().len() > 1000, "rewritten");
}
