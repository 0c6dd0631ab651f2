//! Broadcast state end to end, with the click-enrichment example
//! (`guest-examples/click-enrichment`): a keyed stream of clicks connected
//! to a broadcast stream of profile updates, each click enriched with the
//! tier valid at its timestamp. Its guide's exact output at p=1 and p=2; a
//! generated, out-of-order input checked against a plain loop here; and
//! the broadcast state restored after a TaskManager is killed with
//! SIGKILL and from savepoints rescaled from p=2 to p=1 and from p=1 to p=2.
//! A non-keyed BroadcastProcessFunction runs in `tests/guests/multi-input`.
//!
//! The profile updates are few and read long before the first checkpoint,
//! while the clicks go on: every click enriched after a restore reads the
//! broadcast state restored from the snapshot, so a lost or wrongly
//! distributed copy shows as `unknown` or stale tiers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::cluster::{DEADLINE, TestCluster, wait_for};
use crate::common::*;
use crate::fault_tolerance::{committed, copy_tree, submit};

const LIMIT: Duration = Duration::from_secs(120);

const TIERS: [&str; 4] = ["free", "silver", "gold", "premium"];

/// A click (timestamp, user, page) or a profile update (timestamp, user, tier).
pub(crate) type Line = (i64, String, String);

/// A xorshift generator, deterministic for `seed`.
pub(crate) fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed | 1;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    }
}

/// `n` clicks of `users` users, timestamps rising by `step` ms but up to
/// 1.5 s out of order (the example allows 2 s).
pub(crate) fn clicks(n: usize, users: u64, step: i64, seed: u64) -> Vec<Line> {
    let mut next = rng(seed);
    (0..n)
        .map(|i| {
            let ts = i as i64 * step + (next() % 1500) as i64;
            (ts, format!("u{}", next() % users), format!("/p{}", next() % 20))
        })
        .collect()
}

/// `n` profile updates spread over `span` ms, up to 1.5 s out of order;
/// no user gets two updates with one timestamp (their order would be
/// arbitrary).
pub(crate) fn updates(n: usize, users: u64, span: i64, seed: u64) -> Vec<Line> {
    let mut next = rng(seed);
    let step = span / n as i64;
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for i in 0..n {
        let ts = i as i64 * step + (next() % 1500) as i64;
        let user = format!("u{}", next() % users);
        let tier = TIERS[(next() % 4) as usize].to_string();
        if seen.insert((user.clone(), ts)) {
            out.push((ts, user, tier));
        }
    }
    out
}

pub(crate) fn write_lines(dir: &Path, name: &str, lines: &[Line]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.iter().map(|(ts, a, b)| format!("{ts},{a},{b}\n")).collect::<String>()).unwrap();
    path
}

/// The enriched clicks, by a plain loop: each click with the tier of the
/// user's latest update at or before its timestamp.
pub(crate) fn enriched(clicks: &[Line], updates: &[Line]) -> Vec<String> {
    let mut versions: HashMap<&str, Vec<(i64, &str)>> = HashMap::new();
    for (ts, user, tier) in updates {
        versions.entry(user).or_default().push((*ts, tier));
    }
    versions.values_mut().for_each(|v| v.sort());
    let mut lines: Vec<String> = clicks
        .iter()
        .map(|(ts, user, page)| {
            let tier = versions
                .get(user.as_str())
                .and_then(|v| v.iter().rev().find(|(from, _)| from <= ts))
                .map_or("unknown", |(_, tier)| tier);
            format!("{ts},{user},{page},{tier}")
        })
        .collect();
    lines.sort();
    lines
}

fn example() -> PathBuf {
    example_wasm("click-enrichment")
}

/// Runs the example locally at parallelism `p`, writing files beside the
/// clicks (the output is larger than a pipe holds); returns its lines sorted.
fn run_local(clicks: &Path, profiles: &Path, p: u32) -> Vec<String> {
    let out = clicks.with_file_name(format!("out-p{p}"));
    let mut command = wflink();
    command.args(["run", "--local", "-p", &p.to_string()]).arg(example());
    command.arg("--clicks").arg(clicks).arg("--profiles").arg(profiles).arg("--output").arg(&out);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "p={p}: {}", String::from_utf8_lossy(&output.stderr));
    sorted_committed(&out)
}

/// The guide's input gives the guide's output, line for line, at p=1 and p=2.
#[test]
fn the_click_enrichment_example_prints_its_guides_output_at_p1_and_p2() {
    let data = wflink::guest_build::repo::example("click-enrichment").join("data");
    let guide = std::fs::read_to_string(data.join("expected.txt")).unwrap();
    let mut expected: Vec<String> = guide.lines().map(str::to_owned).collect();
    expected.sort();
    assert_eq!(expected.len(), 15);
    let dir = scratch("broadcast-guide");
    for file in ["clicks.csv", "profiles.csv"] {
        std::fs::copy(data.join(file), dir.join(file)).unwrap();
    }
    for p in [1, 2] {
        assert_eq!(run_local(&dir.join("clicks.csv"), &dir.join("profiles.csv"), p), expected, "p={p}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Generated clicks and profile updates, both out of order: every click
/// gets the tier a plain loop computes, at p=1 and p=2. Were the profile
/// updates not broadcast, a subtask would miss the updates of its users;
/// were the state not versioned by time, tiers would depend on arrival.
#[test]
fn generated_out_of_order_clicks_get_the_tier_a_plain_loop_computes() {
    let dir = scratch("broadcast-generated");
    let clicks = clicks(20_000, 40, 5, 41);
    let updates = updates(600, 40, 100_000, 42);
    let (c, u) = (write_lines(&dir, "clicks.csv", &clicks), write_lines(&dir, "profiles.csv", &updates));
    let expected = enriched(&clicks, &updates);
    assert!(expected.iter().any(|l| l.ends_with(",unknown")) && expected.iter().any(|l| l.ends_with(",gold")));
    for p in [1, 2] {
        assert_eq!(run_local(&c, &u, p), expected, "p={p}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// An input for the fault tolerance tests: `n` clicks of 300 users, 5 ms apart, and 3 000 profile updates over
/// the same time, written to `dir`, with the enriched clicks a plain
/// loop computes.
fn enrichment_input(dir: &Path, n: usize) -> (PathBuf, PathBuf, Vec<String>) {
    let clicks = clicks(n, 300, 5, 51);
    let updates = updates(3_000, 300, n as i64 * 5, 52);
    let expected = enriched(&clicks, &updates);
    (write_lines(dir, "clicks.csv", &clicks), write_lines(dir, "profiles.csv", &updates), expected)
}

fn sorted_committed(dir: &Path) -> Vec<String> {
    let mut lines: Vec<String> = committed(dir).lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

/// The example at p=2 on two TaskManagers, checkpoints every 300 ms, the
/// exactly-once file sink; TaskManager 0 is killed with SIGKILL after a
/// completed checkpoint. Every subtask gets its broadcast state back (the
/// profile updates are not read again) and every click is committed
/// once, with the right tier.
#[test]
fn broadcast_state_survives_a_killed_taskmanager() {
    let wasm = example();
    assert_survives_a_killed_taskmanager("broadcast-kill", &[wasm.to_str().unwrap()], 400_000);
}

/// The check above for `component` (a component and its first arguments)
/// on `clicks` clicks.
pub(crate) fn assert_survives_a_killed_taskmanager(name: &str, component: &[&str], clicks: usize) {
    let mut cluster = TestCluster::start_fault_tolerant(name, 2, "300 ms");
    let (clicks, profiles, expected) = enrichment_input(&cluster.dir, clicks);
    let output = cluster.dir.join("out");
    let args = [&clicks, &profiles, &output].map(|p| p.to_str().unwrap().to_owned());
    let mut submitted = vec!["-p", "2"];
    submitted.extend(component);
    submitted.extend(["--clicks", &args[0], "--profiles", &args[1], "--output", &args[2]]);
    let job = submit(&cluster, &submitted);
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
    assert_eq!(sorted_committed(&output), expected);
}

/// Runs `component` (a component and its first arguments: the example, or a
/// test guest's twin of it) at `from` until a savepoint is taken with
/// cancel, then from the savepoint at `to`, into a copy of the first run's
/// output: the two runs together commit every click once, with the right tier.
fn savepoint_rescale(
    cluster: &TestCluster,
    from: &str,
    to: &str,
    input: &(PathBuf, PathBuf, Vec<String>),
    component: &[&str],
) {
    let (clicks, profiles, expected) = input;
    let first = cluster.dir.join(format!("out-{from}-{to}-first"));
    let paths = [clicks, profiles, &first].map(|p| p.to_str().unwrap().to_owned());
    let mut args = vec!["-p", from];
    args.extend(component);
    args.extend(["--clicks", &paths[0], "--profiles", &paths[1], "--output", &paths[2]]);
    let job = submit(cluster, &args);
    // The savepoint follows the last profile update and a checkpoint
    // after it (which records the ended source's position), so the
    // restored run reads no update again and needs the broadcast state.
    wait_for("the profile updates read to their end", || {
        let vertices = cluster.get(&format!("/jobs/{job}"))["vertices"].clone();
        let reads_profiles = |v: &&serde_json::Value| v["name"].as_str().is_some_and(|n| n.contains("parse-profiles"));
        let profiles = vertices.as_array()?.iter().find(reads_profiles)?.clone();
        (profiles["status"] == "FINISHED").then_some(())
    });
    let completed = || cluster.get(&format!("/jobs/{job}/checkpoints"))["counts"]["completed"].as_u64().unwrap_or(0);
    let before = completed();
    wait_for("a checkpoint after the profile updates ended", || (completed() > before).then_some(()));
    let savepoints = cluster.dir.join(format!("savepoints-{from}-{to}"));
    let location = cluster.cancel_with_savepoint(&job, &savepoints);
    cluster.wait_for_status(&job, "CANCELED");
    let partial = sorted_committed(&first).len();
    assert!(partial < expected.len(), "the savepoint was taken before the end ({partial} clicks committed)");

    let out = cluster.dir.join(format!("out-{from}-{to}"));
    copy_tree(&first, &out);
    let mut command = wflink();
    command.args(["run", "-m", &cluster.rest, "-p", to, "-s", &location]).args(component);
    command.arg("--clicks").arg(clicks).arg("--profiles").arg(profiles).arg("--output").arg(&out);
    let run = run_with_limit(command, DEADLINE);
    assert!(run.status.success(), "restore at p={to}: {}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(sorted_committed(&out), *expected, "savepoint at p={from} restored at p={to}");
}

/// A savepoint taken at p=2 restores at p=1 (one subtask takes old
/// subtask 0's copy), and one taken at p=1 restores at p=2 (both new
/// subtasks take the one copy).
#[test]
fn broadcast_state_restores_from_savepoints_from_p2_to_p1_and_from_p1_to_p2() {
    let wasm = example();
    assert_restores_across_rescales("broadcast-rescale", &[wasm.to_str().unwrap()], 400_000);
}

/// Savepoints of `job` on `clicks` clicks, taken at p=2 and restored at
/// p=1, then taken at p=1 and restored at p=2.
pub(crate) fn assert_restores_across_rescales(name: &str, job: &[&str], clicks: usize) {
    let chk = std::env::temp_dir().join(format!("wflink-test-{name}-{}", std::process::id())).join("chk");
    let settings =
        ["execution.checkpointing.interval=200 ms".to_string(), format!("state.checkpoints.dir={}", chk.display())];
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    let mut cluster = TestCluster::start(name, 0, &settings);
    cluster.add_taskmanager(&["taskmanager.numberOfTaskSlots=2"]);
    cluster.wait_for_taskmanagers(1);
    let input = enrichment_input(&cluster.dir, clicks);
    savepoint_rescale(&cluster, "2", "1", &input, job);
    savepoint_rescale(&cluster, "1", "2", &input, job);
}

/// A non-keyed BroadcastProcessFunction (`tests/guests/multi-input`,
/// `--mode broadcast`) at p=1 and p=2: every record of the broadcast
/// stream reaches every subtask, in order, and each subtask's state grows
/// by it (`size=N` as a plain loop counts); every record of the other
/// stream is processed once, reading a limit its key really had or none.
#[test]
fn a_broadcast_process_function_sees_every_broadcast_record_in_every_subtask() {
    assert_broadcast_process_function("multi-input");
}

/// The check of `--mode broadcast` of the test guest `guest` (the Rust
/// one, or its Python twin) at p=1 and p=2.
pub(crate) fn assert_broadcast_process_function(guest: &str) {
    let dir = scratch(&format!("broadcast-plain-{guest}"));
    let mut next = rng(61);
    let mut recs =
        |n: usize| -> Vec<String> { (0..n).map(|i| format!("k{},{i},{}", next() % 30, next() % 100)).collect() };
    let (a, b) = (recs(5_000), recs(200));
    std::fs::write(dir.join("a.txt"), a.join("\n") + "\n").unwrap();
    std::fs::write(dir.join("b.txt"), b.join("\n") + "\n").unwrap();
    let fields = |line: &str| -> (String, String) {
        let parts: Vec<&str> = line.split(',').collect();
        (parts[0].to_owned(), parts[2].to_owned())
    };
    let mut seen = std::collections::HashSet::new();
    let per_subtask: Vec<String> = b
        .iter()
        .map(|line| {
            let (key, amount) = fields(line);
            seen.insert(key.clone());
            format!("B {key} {amount} size={}", seen.len())
        })
        .collect();
    let mut limits: HashMap<String, Vec<String>> = HashMap::new();
    for line in &b {
        let (key, amount) = fields(line);
        limits.entry(key).or_default().push(amount);
    }
    for p in [1u32, 2] {
        let out = dir.join(format!("out-{p}"));
        let mut command = wflink();
        command.args(["run", "--local", "-p", &p.to_string()]).arg(test_guest(guest));
        command.args(["--mode", "broadcast", "--a"]).arg(dir.join("a.txt")).arg("--b").arg(dir.join("b.txt"));
        command.arg("--output").arg(&out);
        let output = run_with_limit(command, LIMIT);
        assert!(output.status.success(), "p={p}: {}", String::from_utf8_lossy(&output.stderr));
        let mut b_lines = Vec::new();
        let mut a_lines = Vec::new();
        for subtask in 0..p {
            let mine: String = std::fs::read_dir(&out)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|f| f.file_name().unwrap().to_string_lossy().starts_with(&format!("part-{subtask}-")))
                .map(|f| std::fs::read_to_string(f).unwrap())
                .collect();
            let lines: Vec<&str> = mine.lines().collect();
            let own_b: Vec<String> = lines.iter().filter(|l| l.starts_with("B ")).map(|l| l.to_string()).collect();
            assert_eq!(own_b, per_subtask, "subtask {subtask} of {p} saw every broadcast record in order");
            b_lines.extend(own_b);
            a_lines.extend(lines.iter().filter(|l| l.starts_with("A ")).map(|l| l.to_string()));
        }
        assert_eq!(b_lines.len(), b.len() * p as usize);
        let mut got: Vec<String> = Vec::new();
        for line in &a_lines {
            let (record, limit) = line.rsplit_once(" limit=").unwrap();
            let key = record.split(' ').nth(1).unwrap();
            let possible = limits.get(key).is_some_and(|l| l.iter().any(|x| x == limit));
            assert!(limit == "none" || possible, "{line}: {key} never had limit {limit}");
            got.push(record.to_owned());
        }
        got.sort();
        let mut expected: Vec<String> = a.iter().map(|l| fields(l)).map(|(k, n)| format!("A {k} {n}")).collect();
        expected.sort();
        assert_eq!(got, expected, "every record of a once at p={p}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// `wflink info` shows the broadcast process operator as one vertex of two
/// input edges: the keyed clicks (input 0, HASH) and the broadcast
/// profile updates (input 1, BROADCAST).
#[test]
fn the_plan_shows_the_keyed_and_the_broadcast_input() {
    let data = wflink::guest_build::repo::example("click-enrichment").join("data");
    let mut command = wflink();
    command.arg("info").arg(example()).arg("--clicks").arg(data.join("clicks.csv"));
    command.arg("--profiles").arg(data.join("profiles.csv"));
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let vertices = plan["jobGraph"]["vertices"].as_array().unwrap();
    let enrich = vertices.iter().position(|v| v["name"].as_str().unwrap().starts_with("enrich")).unwrap();
    assert_eq!(vertices[enrich]["keyed"], true, "{plan}");
    let edges: Vec<_> =
        plan["jobGraph"]["edges"].as_array().unwrap().iter().filter(|e| e["target"] == enrich as u64).collect();
    assert_eq!(edges.len(), 2, "{plan}");
    for (edge, (input, partitioning)) in edges.iter().zip([(0, "HASH"), (1, "BROADCAST")]) {
        assert_eq!((edge["input"].as_u64().unwrap(), edge["partitioning"].as_str().unwrap()), (input, partitioning));
    }
}
