//! The JavaScript library's joins, broadcast state, count windows and
//! `windowAll` end to end (`tests/guests/multi-input-js`), each on
//! generated, out-of-order input at parallelism 1 and 2, checked against
//! the plain loops of the Rust SDK's tests (`joins.rs`,
//! `broadcast_state.rs`, `aggregations.rs`); the keyed broadcast state
//! restored after a TaskManager is killed with SIGKILL; and the plans
//! refused at submit with one clear line: keyed streams of two declared
//! key types connected, a window join without a window; and
//! `applyToKeyedState` driven by commands on a socket.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::aggregations::{count_windows, line};
use crate::broadcast_state::{clicks, enriched, updates, write_lines};
use crate::common::cluster::{TestCluster, wait_for};
use crate::common::*;
use crate::fault_tolerance::committed;
use crate::joins::{fixed_window_join, interval_join, parts, session_join};
use crate::multi_input::{Rec, records, write_input};

/// Compiling a JavaScript component takes seconds.
const LIMIT: Duration = Duration::from_secs(180);

fn guest() -> PathBuf {
    test_guest("multi-input-js")
}

/// Runs `--mode mode` with `args` locally at parallelism `p`, writing
/// files under `dir`; returns every line written (also to the `unmatched`
/// side output), sorted.
fn run(dir: &Path, mode: &str, p: u32, args: &[&str]) -> Vec<String> {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let out = dir.join(format!("out-{mode}-{p}-{}", RUNS.fetch_add(1, Ordering::Relaxed)));
    let mut command = wflink();
    command.args(["run", "--local", "-p", &p.to_string()]).arg(guest()).args(["--mode", mode]);
    command.args(args).arg("--output").arg(&out);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{mode} {args:?} at p={p}: {}", String::from_utf8_lossy(&output.stderr));
    let lines = sorted_lines(&(parts(&out) + &parts(&out.join("unmatched"))));
    std::fs::remove_dir_all(&out).unwrap();
    lines
}

/// The two join inputs of `joins.rs`: `a` denser than `b`, 10 keys, ~90 s
/// of event time, up to 1.5 s out of order (under the 2 s bound).
fn join_inputs(dir: &Path) -> ([Vec<Rec>; 2], [String; 2]) {
    let recs = [records(600, 10, 150, 21), records(400, 10, 225, 22)];
    let paths = [write_input(dir, "a", &recs[0]), write_input(dir, "b", &recs[1])];
    (recs, paths.map(|p| p.to_str().unwrap().to_owned()))
}

#[test]
fn a_javascript_interval_join_pairs_records_within_the_interval_and_reports_the_unmatched() {
    let dir = scratch("js-interval-join");
    let (recs, [a, b]) = join_inputs(&dir);
    let expected = interval_join(&recs[0], &recs[1], -1000, 2000);
    assert!(expected.iter().filter(|l| l.starts_with("UNMATCHED")).count() > 20, "too few unmatched to test");
    let args = ["--a", &a, "--b", &b, "--lower", "-1000", "--upper", "2000"];
    for p in [1, 2] {
        assert_eq!(run(&dir, "interval", p, &args), expected, "interval join at p={p}");
    }
    let exclusive = [&args[..], &["--lower-exclusive", "--upper-exclusive"]].concat();
    let expected = interval_join(&recs[0], &recs[1], -999, 1999);
    assert_eq!(run(&dir, "interval", 2, &exclusive), expected, "with exclusive bounds at p=2");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_javascript_window_join_pairs_records_of_tumbling_sliding_and_session_windows() {
    let dir = scratch("js-window-join");
    let (recs, [a, b]) = join_inputs(&dir);
    let cases = [
        ("tumbling", fixed_window_join(&recs[0], &recs[1], 10_000, 10_000)),
        ("sliding", fixed_window_join(&recs[0], &recs[1], 10_000, 5_000)),
        ("session", session_join(&recs[0], &recs[1], 3_000)),
    ];
    for (assigner, expected) in cases {
        assert!(expected.len() > 500, "too few {assigner} pairs to test: {}", expected.len());
        for p in [1, 2] {
            let got = run(&dir, "window", p, &["--a", &a, "--b", &b, "--assigner", assigner]);
            assert_eq!(got.len(), expected.len(), "{assigner} window join at p={p}: number of pairs");
            assert_eq!(got, expected, "{assigner} window join at p={p}");
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Generated clicks and profile updates, both out of order: every click
/// gets the tier the plain loop of `broadcast_state.rs` computes.
#[test]
fn javascript_keyed_broadcast_state_enriches_clicks_as_a_plain_loop_does() {
    let dir = scratch("js-broadcast-keyed");
    let (clicks, updates) = (clicks(20_000, 40, 5, 41), updates(600, 40, 100_000, 42));
    let (c, u) = (write_lines(&dir, "clicks.csv", &clicks), write_lines(&dir, "profiles.csv", &updates));
    let expected = enriched(&clicks, &updates);
    assert!(expected.iter().any(|l| l.ends_with(",unknown")) && expected.iter().any(|l| l.ends_with(",gold")));
    let args = ["--clicks", c.to_str().unwrap(), "--profiles", u.to_str().unwrap()];
    for p in [1, 2] {
        assert_eq!(run(&dir, "enrich", p, &args), expected, "p={p}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A non-keyed BroadcastProcessFunction at p=1 and p=2: every broadcast
/// record reaches every subtask in order (`size=N` as a loop counts), and
/// every record of the other stream is processed once with a limit its
/// key really had, or none.
#[test]
fn a_javascript_broadcast_process_function_sees_every_broadcast_record_in_every_subtask() {
    let dir = scratch("js-broadcast-plain");
    let (a, b) = (records(5_000, 30, 3, 61), records(200, 30, 3, 62));
    let (a_path, b_path) = (write_input(&dir, "a", &a), write_input(&dir, "b", &b));
    let mut keys = std::collections::HashSet::new();
    let per_subtask: Vec<String> = b
        .iter()
        .map(|(k, _, n)| {
            keys.insert(k.clone());
            format!("B {k} {n} size={}", keys.len())
        })
        .collect();
    let mut limits: HashMap<&str, Vec<String>> = HashMap::new();
    b.iter().for_each(|(k, _, n)| limits.entry(k).or_default().push(n.to_string()));
    let mut expected_a: Vec<String> = a.iter().map(|(k, _, n)| format!("A {k} {n}")).collect();
    expected_a.sort();
    for p in [1u32, 2] {
        let out = dir.join(format!("out-{p}"));
        let mut command = wflink();
        command.args(["run", "--local", "-p", &p.to_string()]).arg(guest()).args(["--mode", "broadcast"]);
        command.arg("--a").arg(&a_path).arg("--b").arg(&b_path).arg("--output").arg(&out);
        let output = run_with_limit(command, LIMIT);
        assert!(output.status.success(), "p={p}: {}", String::from_utf8_lossy(&output.stderr));
        let mut got_a = Vec::new();
        for subtask in 0..p {
            let files = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path());
            let mine =
                files.filter(|f| f.file_name().unwrap().to_string_lossy().starts_with(&format!("part-{subtask}-")));
            let text: String = mine.map(|f| std::fs::read_to_string(f).unwrap()).collect();
            let own_b: Vec<&str> = text.lines().filter(|l| l.starts_with("B ")).collect();
            assert_eq!(own_b, per_subtask, "subtask {subtask} of {p} saw every broadcast record in order");
            for l in text.lines().filter(|l| l.starts_with("A ")) {
                let (record, limit) = l.rsplit_once(" limit=").unwrap();
                let key = record.split(' ').nth(1).unwrap();
                let possible = limits.get(key).is_some_and(|ls| ls.iter().any(|x| x == limit));
                assert!(limit == "none" || possible, "{l}: {key} never had limit {limit}");
                got_a.push(record.to_owned());
            }
        }
        got_a.sort();
        assert_eq!(got_a, expected_a, "every record of a once at p={p}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// The keyed broadcast job at p=2 on two TaskManagers, checkpoints every
/// 300 ms, the exactly-once file sink; TaskManager 0 is killed with
/// SIGKILL after a completed checkpoint. The JavaScript chains hand their
/// broadcast state and the keyed state they keep (the clicks waiting for
/// the watermark) over at every checkpoint and get both back on restore
/// (the profile updates are not read again), so every click is committed
/// once with the right tier.
#[test]
fn javascript_broadcast_state_survives_a_killed_taskmanager() {
    let mut cluster = TestCluster::start_fault_tolerant("js-broadcast-kill", 2, "300 ms");
    // A sixth of the Rust test's clicks (`large_input`): the JavaScript
    // library ships named state with every call, so it runs slower.
    let (clicks, updates) = (clicks(60_000, 300, 5, 51), updates(3_000, 300, 300_000, 52));
    let expected = enriched(&clicks, &updates);
    let (clicks, profiles) =
        (write_lines(&cluster.dir, "clicks.csv", &clicks), write_lines(&cluster.dir, "profiles.csv", &updates));
    let output = cluster.dir.join("out");
    let paths = [&clicks, &profiles, &output].map(|p| p.to_str().unwrap().to_owned());
    let wasm = guest();
    let args = ["-p", "2", wasm.to_str().unwrap(), "--mode", "enrich", "--clicks", &paths[0], "--profiles", &paths[1]];
    // Not `fault_tolerance::submit`: compiling a JavaScript component at
    // upload takes longer than its deadline on a busy machine.
    let mut command = wflink();
    command.args(["run", "-d", "-m", &cluster.rest]).args(args).args(["--output", &paths[2]]);
    let submitted = run_with_limit(command, LIMIT);
    let stdout = String::from_utf8_lossy(&submitted.stdout);
    let job = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Job has been submitted with JobID "))
        .unwrap_or_else(|| panic!("no job id: {stdout} {}", String::from_utf8_lossy(&submitted.stderr)))
        .trim()
        .to_string();
    wait_for("a completed checkpoint", || {
        assert_eq!(cluster.job_status(&job), "RUNNING", "the job must still run when the TaskManager is killed");
        let stats = cluster.get(&format!("/jobs/{job}/checkpoints"));
        (stats["counts"]["completed"].as_u64().unwrap_or(0) >= 1).then_some(())
    });
    cluster.kill_taskmanager(0);
    cluster.add_taskmanager(&[]);
    cluster.wait_for_status(&job, "FINISHED");
    let stats = cluster.get(&format!("/jobs/{job}/checkpoints"));
    assert!(stats["counts"]["restored"].as_u64().unwrap() >= 1, "{stats}");
    assert_eq!(sorted_lines(&committed(&output)), expected);
}

/// Tumbling count windows (`countWindow(5)`, a sum) and sliding ones
/// (`countWindow(size, slide)`, the amounts) per key in file order, and a
/// 10 s tumbling `windowAll` over the whole stream, at p=1 and p=2.
#[test]
fn javascript_count_windows_and_window_all_match_plain_loops() {
    let dir = scratch("js-count-windows");
    let recs = records(4000, 20, 37, 42);
    let input = write_input(&dir, "a", &recs);
    let a = input.to_str().unwrap();
    let mut tumbling: Vec<String> = count_windows(&recs, 5, 5)
        .iter()
        .map(|w| line(&(w[0].0.clone(), w[0].1, w.iter().map(|r| r.2).sum())))
        .collect();
    tumbling.sort();
    let mut windows: BTreeMap<i64, (usize, i64)> = BTreeMap::new();
    for (_, ts, amount) in &recs {
        let w = windows.entry(ts - ts.rem_euclid(10_000) + 9_999).or_default();
        w.0 += 1;
        w.1 += amount;
    }
    let mut all: Vec<String> = windows.iter().map(|(end, (n, sum))| format!("{end},{n},{sum}")).collect();
    all.sort();
    for p in [1, 2] {
        assert_eq!(run(&dir, "count-sum", p, &["--a", a, "--size", "5"]), tumbling, "tumbling count window at p={p}");
        assert_eq!(run(&dir, "window-all", p, &["--a", a]), all, "windowAll at p={p}");
        for (size, slide) in [(3, 2), (2, 3)] {
            let mut expected: Vec<String> = count_windows(&recs, size, slide)
                .iter()
                .map(|w| format!("{}:{}", w[0].0, w.iter().map(|r| r.2.to_string()).collect::<Vec<_>>().join(";")))
                .collect();
            expected.sort();
            let (size, slide) = (size.to_string(), slide.to_string());
            let got = run(&dir, "count-slide", p, &["--a", a, "--size", &size, "--slide", &slide]);
            assert_eq!(got, expected, "count window of {size} every {slide} at p={p}");
        }
    }
    let mut command = wflink();
    command.args(["info", "-p", "2"]).arg(guest()).args(["--mode", "window-all", "--a"]).arg(&input);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let vertices = plan["jobGraph"]["vertices"].as_array().unwrap();
    let window = vertices.iter().find(|v| v["name"].as_str().unwrap().starts_with("All Window")).expect("{plan}");
    assert_eq!(window["parallelism"], 1, "{plan}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Keyed streams of two declared key types connected, and a window join
/// whose `apply` comes without a window, are refused at submit with one
/// clear line and no job run.
#[test]
fn javascript_plans_with_mismatched_key_types_or_a_join_without_a_window_are_refused_at_submit() {
    let dir = scratch("js-refused");
    let input = write_input(&dir, "a", &records(10, 2, 10, 1));
    for (mode, expected) in [
        ("key-types", "connect: the keyed streams have different key types (string and int)"),
        ("join-no-window", "a window join needs a window"),
    ] {
        let mut command = wflink();
        command
            .args(["run", "--local"])
            .arg(guest())
            .args(["--mode", mode])
            .arg("--a")
            .arg(&input)
            .arg("--b")
            .arg(&input);
        let output = run_with_limit(command, LIMIT);
        assert_clean_failure(&output, expected);
        assert!(String::from_utf8_lossy(&output.stderr).contains("invalid job plan"), "{mode}: {output:?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// The JavaScript library's explicit partitionings from 2 source subtasks
/// to 3 (`rebalance`, `rescale`, `shuffle`, `global`, `broadcast`), each
/// delivering as the Rust SDK's do, and `forward` between 2 and 3 refused
/// with one line; `partitionCustom` putting every record on the subtask
/// its partitioner picked, at 2 and 3, and a partition out of range
/// failing the job with one line naming the node.
#[test]
fn javascript_explicit_partitionings_and_partition_custom_deliver_as_the_rust_sdks_do() {
    crate::multi_input::assert_explicit_partitionings("js-partitioning", &guest(), LIMIT, 30_000);
    let (dir, ..) = crate::multi_input::assert_partition_custom("js-partition-custom", &guest(), LIMIT, 30_000);
    std::fs::remove_dir_all(dir).unwrap();
}

/// `applyToKeyedState` in JavaScript: a broadcast `double` reaches every
/// key's sum once, in the subtask holding it; a `flush` prints each key's
/// doubled sum once and clears it, so a second `flush` finds no key (the
/// check the Python guest's test runs).
#[test]
fn js_apply_to_keyed_state_rewrites_and_clears_every_keys_state_from_a_broadcast_command() {
    crate::apply_to_keyed_state::assert_apply_to_keyed_state("multi-input-js");
}
