//! The Python library's broadcast state, window joins, count windows and
//! `window_all` (`tests/guests/multi-input-python`, twin of the Rust
//! guests `multi-input`, `joins` and `aggregations`), end to end at
//! parallelism 1 and 2 on generated, out-of-order input, each checked
//! against the plain loops of the Rust guests' tests; its broadcast state
//! through a killed TaskManager and rescaled savepoints; and the plans the
//! library refuses at submit: two keyed streams of different key types
//! connected, and a join without a window; and `apply_to_keyed_state`
//! driven by commands on a socket.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::aggregations::{count_windows, line, window_all_totals};
use crate::broadcast_state::{
    assert_broadcast_process_function, assert_restores_across_rescales, assert_survives_a_killed_taskmanager, clicks,
    enriched, updates, write_lines,
};
use crate::common::*;
use crate::joins::{fixed_window_join, inputs, session_join};
use crate::multi_input::{records, write_input};

/// Compiling a Python component takes seconds.
const LIMIT: Duration = Duration::from_secs(180);

const GUEST: &str = "multi-input-python";

/// The command running the guest in `mode` at parallelism `p` on `a` and `b`.
fn command(mode: &str, p: u32, a: &Path, b: &Path, extra: &[&str]) -> std::process::Command {
    let mut command = wflink();
    command.args(["run", "--local", "-p", &p.to_string()]).arg(test_guest(GUEST)).args(["--mode", mode]);
    command.arg("--a").arg(a).arg("--b").arg(b).args(extra);
    command
}

/// Runs the guest, writing files beside `a`; returns every line written, sorted.
fn run(mode: &str, p: u32, a: &Path, b: &Path, extra: &[&str]) -> Vec<String> {
    let out = a.with_file_name(format!("out-{mode}-{}-{p}", extra.join("").replace('-', "")));
    let mut command = command(mode, p, a, b, extra);
    command.arg("--output").arg(&out);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{mode} {extra:?} at p={p}: {}", String::from_utf8_lossy(&output.stderr));
    let lines = crate::joins::parts(&out);
    std::fs::remove_dir_all(&out).unwrap();
    sorted_lines(&lines)
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

/// The guest, its compiled artifact in the shared cache: a cluster's
/// submit then loads it in milliseconds instead of compiling a Python
/// component (seconds, more on a busy machine) within the submit's deadline.
fn compiled_guest() -> PathBuf {
    let wasm = test_guest(GUEST);
    let empty = scratch("python-compile").join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let mut command = wflink();
    command.arg("info").arg(&wasm).args(["--mode", "enrich", "--clicks"]).arg(&empty).arg("--profiles").arg(&empty);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    wasm
}

/// A non-keyed BroadcastProcessFunction: every broadcast record reaches
/// every subtask, in order; every record of the other input is processed
/// once, reading a limit its key really had or none.
#[test]
fn a_python_broadcast_process_function_sees_every_broadcast_record_in_every_subtask() {
    assert_broadcast_process_function(GUEST);
}

/// A KeyedBroadcastProcessFunction with keyed state, event timers and a
/// broadcast state that changes mid-stream: every generated, out-of-order
/// click gets the tier a plain loop computes, at p=1 and p=2.
#[test]
fn python_keyed_broadcast_state_enriches_out_of_order_clicks_as_a_plain_loop_does() {
    let dir = scratch("python-enrich");
    let clicks = clicks(6_000, 40, 5, 71);
    let updates = updates(250, 40, 30_000, 72);
    let (c, u): (PathBuf, PathBuf) =
        (write_lines(&dir, "clicks.csv", &clicks), write_lines(&dir, "profiles.csv", &updates));
    let expected = enriched(&clicks, &updates);
    assert!(expected.iter().any(|l| l.ends_with(",unknown")) && expected.iter().any(|l| l.ends_with(",gold")));
    let files = ["--clicks", c.to_str().unwrap(), "--profiles", u.to_str().unwrap()];
    for p in [1, 2] {
        assert_eq!(run("enrich", p, &c, &u, &files), expected, "p={p}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// The Python broadcast state in checkpoints: the job at p=2 with one of
/// its two TaskManagers killed with SIGKILL after a completed checkpoint
/// commits every click once, with the tier a plain loop computes.
#[test]
fn python_broadcast_state_survives_a_killed_taskmanager() {
    let wasm = compiled_guest();
    assert_survives_a_killed_taskmanager(
        "python-broadcast-kill",
        &[wasm.to_str().unwrap(), "--mode", "enrich"],
        60_000,
    );
}

/// The Python broadcast state in savepoints: a savepoint taken at p=2
/// restores at p=1 and one taken at p=1 at p=2, each subtask with its
/// copy of the profiles (not read again after the restore), so every
/// click is committed once with the tier a plain loop computes.
#[test]
fn python_broadcast_state_restores_from_savepoints_from_p2_to_p1_and_from_p1_to_p2() {
    let wasm = compiled_guest();
    let job = [wasm.to_str().unwrap(), "--mode", "enrich"];
    assert_restores_across_rescales("python-broadcast-rescale", &job, 150_000);
}

/// The window join with tumbling, sliding and session windows: the pairs
/// of a plain loop, at p=1 and p=2.
#[test]
fn a_python_window_join_pairs_records_of_tumbling_sliding_and_session_windows() {
    let ([a, b], paths) = inputs("python-window-join");
    let expected = [
        ("tumbling", fixed_window_join(&a, &b, 10_000, 10_000)),
        ("sliding", fixed_window_join(&a, &b, 10_000, 5_000)),
        ("session", session_join(&a, &b, 3_000)),
    ];
    for (assigner, expected) in &expected {
        assert!(expected.len() > 500, "too few {assigner} pairs to test: {}", expected.len());
        for p in [1, 2] {
            let got = run("window-join", p, &paths[0], &paths[1], &["--assigner", assigner]);
            assert_eq!(got.len(), expected.len(), "{assigner} window join at p={p}: number of pairs");
            assert_eq!(&got, expected, "{assigner} window join at p={p}");
        }
    }
}

/// Tumbling count windows reduce each key's records `size` at a time;
/// sliding ones fire every `slide` records with the last `size`.
#[test]
fn python_count_windows_fire_per_key_every_n_records() {
    let dir = scratch("python-count-windows");
    let recs = records(3000, 20, 37, 42);
    let input = write_input(&dir, "a", &recs);
    let tumbling: Vec<String> = count_windows(&recs, 5, 5)
        .iter()
        .map(|w| line(&(w[0].0.clone(), w[0].1, w.iter().map(|r| r.2).sum())))
        .collect();
    let tumbling = sorted(tumbling);
    for p in [1, 2] {
        assert_eq!(run("count-sum", p, &input, &input, &["--size", "5"]), tumbling, "tumbling at p={p}");
    }
    for (size, slide) in [(3, 2), (2, 3), (4, 1)] {
        let expected = sorted(
            count_windows(&recs, size, slide)
                .iter()
                .map(|w| {
                    let amounts: Vec<String> = w.iter().map(|r| r.2.to_string()).collect();
                    format!("{}:{}", w[0].0, amounts.join(";"))
                })
                .collect(),
        );
        let (size, slide) = (size.to_string(), slide.to_string());
        for p in [1, 2] {
            let got = run("count-slide", p, &input, &input, &["--size", &size, "--slide", &slide]);
            assert_eq!(got, expected, "size {size}, slide {slide} at p={p}");
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// `window_all` sees the whole stream in one window operator at
/// parallelism 1, whatever the job's: one line per 10 s window.
#[test]
fn python_window_all_sees_the_whole_stream_at_parallelism_1() {
    let dir = scratch("python-window-all");
    let recs = records(4000, 20, 23, 43);
    let input = write_input(&dir, "a", &recs);
    let expected = window_all_totals(&recs);
    for p in [1, 2] {
        assert_eq!(run("window-all", p, &input, &input, &[]), expected, "at p={p}");
    }
    let mut command = wflink();
    command.args(["info", "-p", "2"]).arg(test_guest(GUEST)).args(["--mode", "window-all", "--a"]).arg(&input);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let vertices = plan["jobGraph"]["vertices"].as_array().unwrap();
    let window = vertices.iter().find(|v| v["name"].as_str().unwrap().starts_with("All Window")).expect("{plan}");
    assert_eq!(window["parallelism"], 1, "{plan}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Bad plans fail at submit with one clear line: two streams keyed by
/// functions annotated `-> str` and `-> int` connected, and a join given
/// its keys but no window.
#[test]
fn python_plans_with_mismatched_key_types_or_a_join_without_a_window_are_refused_at_submit() {
    let dir = scratch("python-bad-plans");
    let input = write_input(&dir, "a", &records(10, 2, 100, 44));
    let refused = run_with_limit(command("key-mismatch", 1, &input, &input, &[]), LIMIT);
    assert_clean_failure(&refused, "the first input is keyed by str and the second by int");
    let refused = run_with_limit(command("join-without-window", 1, &input, &input, &[]), LIMIT);
    assert_clean_failure(&refused, "has no window; a window join needs its window");
    std::fs::remove_dir_all(dir).unwrap();
}

/// The Python library's explicit partitionings from 2 source subtasks to
/// 3 (`rebalance`, `rescale`, `shuffle`, `global`, `broadcast`), each
/// delivering as the Rust SDK's do, and `forward` between 2 and 3
/// refused with one line; `partition_custom` putting every record on the
/// subtask its partitioner picked, at 2 and 3, and a partition out of
/// range failing the job with one line naming the node.
#[test]
fn python_explicit_partitionings_and_partition_custom_deliver_as_the_rust_sdks_do() {
    let guest = test_guest(GUEST);
    crate::multi_input::assert_explicit_partitionings("python-partitioning", &guest, LIMIT, 30_000);
    let (dir, ..) = crate::multi_input::assert_partition_custom("python-partition-custom", &guest, LIMIT, 30_000);
    std::fs::remove_dir_all(dir).unwrap();
}

/// `apply_to_keyed_state` in Python: a broadcast `double` reaches every
/// key's sum once, in the subtask holding it; a `flush` prints each key's
/// doubled sum once and clears it, so a second `flush` finds no key.
#[test]
fn python_apply_to_keyed_state_rewrites_and_clears_every_keys_state_from_a_broadcast_command() {
    crate::apply_to_keyed_state::assert_apply_to_keyed_state(GUEST);
}
