//! Operators of several inputs end to end (`tests/guests/multi-input`):
//! union, CoMap, CoFlatMap, CoProcessFunction and KeyedCoProcessFunction
//! on generated, out-of-order input, each checked against a plain loop
//! here at parallelism 1 and 2; the keyed co-process state survives a
//! TaskManager killed with SIGKILL; and the plan shows both inputs.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::cluster::{TestCluster, wait_for};
use crate::common::*;

const LIMIT: Duration = Duration::from_secs(60);

/// One input record: key, event timestamp in ms, amount.
pub(crate) type Rec = (String, i64, i64);

/// `n` records over `keys` keys, timestamps rising by ~`step` ms but up
/// to 1.5 s out of order, deterministic for `seed`.
pub(crate) fn records(n: usize, keys: u64, step: i64, seed: u64) -> Vec<Rec> {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    (0..n)
        .map(|i| {
            let key = format!("k{}", next() % keys);
            let ts = i as i64 * step + (next() % 1500) as i64;
            (key, ts, (next() % 100) as i64)
        })
        .collect()
}

pub(crate) fn write_input(dir: &Path, name: &str, records: &[Rec]) -> PathBuf {
    let path = dir.join(format!("{name}.txt"));
    let text: String = records.iter().map(|(k, ts, amount)| format!("{k},{ts},{amount}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn multi_input() -> PathBuf {
    test_guest("multi-input")
}

/// Runs `--mode mode` locally at parallelism `p` on the inputs `a`, `b`
/// and `c`, writing files beside them (the output is larger than a pipe
/// holds); returns every line written, sorted.
fn run(mode: &str, p: u32, inputs: [&Path; 3]) -> Vec<String> {
    let out = inputs[0].with_file_name(format!("out-{mode}-{p}"));
    let mut command = wflink();
    command.args(["run", "--local", "-p", &p.to_string()]).arg(multi_input()).args(["--mode", mode]);
    for (flag, path) in ["--a", "--b", "--c"].into_iter().zip(inputs) {
        command.arg(flag).arg(path);
    }
    command.arg("--output").arg(&out);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{mode} at p={p} failed: {}", String::from_utf8_lossy(&output.stderr));
    let mut lines = String::new();
    for dir in [out.clone(), out.join("big")] {
        let files = std::fs::read_dir(&dir).into_iter().flatten().map(|e| e.unwrap().path());
        for file in files.filter(|f| f.file_name().unwrap().to_string_lossy().starts_with("part-")) {
            lines.push_str(&std::fs::read_to_string(file).unwrap());
        }
    }
    sorted_lines(&lines)
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

/// Three inputs of different sizes, written to a scratch directory.
fn inputs(name: &str) -> (PathBuf, [Vec<Rec>; 3], [PathBuf; 3]) {
    let dir = scratch(name);
    let recs = [records(3000, 25, 37, 11), records(2000, 25, 55, 12), records(700, 25, 160, 13)];
    let paths = [write_input(&dir, "a", &recs[0]), write_input(&dir, "b", &recs[1]), write_input(&dir, "c", &recs[2])];
    (dir, recs, paths)
}

#[test]
fn a_union_of_three_sources_sums_every_record_once() {
    let (dir, recs, paths) = inputs("union");
    let mut expected: HashMap<String, u64> = HashMap::new();
    for (key, _, amount) in recs.iter().flatten() {
        *expected.entry(key.clone()).or_default() += *amount as u64;
    }
    for p in [1, 2] {
        let lines = run("union", p, [&paths[0], &paths[1], &paths[2]]);
        let (sums, updates) = final_counts(&lines.join("\n"));
        assert_eq!(sums, expected, "final sums at p={p}");
        assert_eq!(updates, recs.iter().map(Vec::len).sum::<usize>(), "one update per record at p={p}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn co_map_and_co_flat_map_apply_each_inputs_own_function() {
    let (dir, [a, b, _], paths) = inputs("co-map");
    let map = sorted(
        a.iter().map(|(k, _, n)| format!("A {k} {n}")).chain(b.iter().map(|(k, _, n)| format!("B {k} {n}"))).collect(),
    );
    let flat = sorted(
        a.iter()
            .flat_map(|(k, _, n)| (0..n % 3).map(move |i| format!("A {k} {i}")))
            .chain(b.iter().map(|(k, _, _)| format!("B {k}")))
            .collect(),
    );
    let inputs = [paths[0].as_path(), paths[1].as_path(), paths[2].as_path()];
    for p in [1, 2] {
        assert_eq!(run("co-map", p, inputs), map, "co-map at p={p}");
        assert_eq!(run("co-flat-map", p, inputs), flat, "co-flat-map at p={p}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_co_process_function_routes_side_outputs_and_sees_timestamps() {
    let (dir, [a, b, _], paths) = inputs("co-process");
    let mut expected: Vec<String> =
        a.iter().map(|(k, _, n)| if *n > 50 { format!("BIG {k} {n}") } else { format!("A {k} {n}") }).collect();
    expected.extend(b.iter().map(|(k, ts, _)| format!("B {k} {ts}")));
    let expected = sorted(expected);
    for p in [1, 2] {
        assert_eq!(run("co-process", p, [&paths[0], &paths[1], &paths[2]]), expected, "at p={p}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// What `--mode keyed` prints, computed by a plain loop: per key and
/// 10 s window, the sum of `a`'s amounts and the count of `b`'s records.
pub(crate) fn window_totals(a: &[Rec], b: &[Rec]) -> Vec<String> {
    let mut totals: BTreeMap<(String, i64), (i64, i64)> = BTreeMap::new();
    let end = |ts: i64| ts - ts.rem_euclid(10_000) + 9_999;
    for (k, ts, n) in a {
        totals.entry((k.clone(), end(*ts))).or_default().0 += n;
    }
    for (k, ts, _) in b {
        totals.entry((k.clone(), end(*ts))).or_default().1 += 1;
    }
    sorted(totals.into_iter().map(|((k, end), (sum, count))| format!("{k},{end},{sum},{count}")).collect())
}

/// Both inputs of a key share its state and timers, and timers fire by
/// the watermark of both inputs: were it either input's alone, records of
/// the other would come late (printed as `LATE`) and windows twice.
#[test]
fn a_keyed_co_process_function_shares_state_and_timers_between_inputs() {
    let (dir, [a, b, _], paths) = inputs("keyed-co-process");
    let expected = window_totals(&a, &b);
    for p in [1, 2] {
        assert_eq!(run("keyed", p, [&paths[0], &paths[1], &paths[2]]), expected, "at p={p}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// The keyed co-process job at p=2 on two TaskManagers, checkpoints every
/// 300 ms, the exactly-once file sink; TaskManager 0 is killed with
/// SIGKILL after a completed checkpoint. The job restores the shared
/// keyed state and timers of both inputs and every window total is
/// committed exactly once.
#[test]
fn keyed_co_process_state_survives_a_killed_taskmanager() {
    let name = "keyed-co-process-kill";
    let mut cluster = TestCluster::start_fault_tolerant(name, 2, "300 ms");
    let (a, b) = (records(400_000, 500, 3, 21), records(300_000, 500, 4, 22));
    let (a_path, b_path) = (write_input(&cluster.dir, "a", &a), write_input(&cluster.dir, "b", &b));
    let output = cluster.dir.join("out");
    let wasm = multi_input();
    let mut command = wflink();
    command.args(["run", "-d", "-m", &cluster.rest, "-p", "2"]).arg(&wasm).args(["--mode", "keyed"]);
    command.arg("--a").arg(&a_path).arg("--b").arg(&b_path).arg("--output").arg(&output);
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
    let mut parts: Vec<PathBuf> = std::fs::read_dir(&output).unwrap().map(|e| e.unwrap().path()).collect();
    parts.retain(|p| p.file_name().unwrap().to_string_lossy().starts_with("part-"));
    let committed: String = parts.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    assert_eq!(sorted_lines(&committed), window_totals(&a, &b));
}

/// `wflink info` shows the connected operator as one vertex of two input
/// edges, numbered 0 and 1, both HASH.
#[test]
fn the_plan_shows_both_inputs_of_a_connected_operator() {
    let (dir, _, paths) = inputs("multi-input-plan");
    let mut command = wflink();
    command.arg("info").arg(multi_input()).args(["--mode", "keyed", "--a"]).arg(&paths[0]).arg("--b").arg(&paths[1]);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let edges = plan["jobGraph"]["edges"].as_array().unwrap();
    let into_process: Vec<_> = edges.iter().filter(|e| e["target"] == 2).collect();
    assert_eq!(into_process.len(), 2, "{plan}");
    for (input, edge) in into_process.iter().enumerate() {
        assert_eq!(edge["input"], input as u64, "{plan}");
        assert_eq!(edge["partitioning"], "HASH", "{plan}");
    }
    let vertex = &plan["jobGraph"]["vertices"][2];
    assert!(vertex["name"].as_str().unwrap().starts_with("Keyed Co-Process"), "{plan}");
    assert_eq!(vertex["keyed"], true, "{plan}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Runs `guest` (the Rust test job or its Python or JavaScript twin) in
/// `--mode partition` with `strategy` from 2 source subtasks to a map and
/// file sink at parallelism `p`, within `limit`; returns the lines of each
/// part file (by subtask), or the failed run's output.
fn partition_with(
    guest: &Path,
    limit: Duration,
    dir: &Path,
    input: &Path,
    strategy: &str,
    p: u32,
) -> Result<Vec<Vec<String>>, std::process::Output> {
    let out = dir.join(format!("out-{strategy}-{p}"));
    let mut command = wflink();
    command.args(["run", "--local", "-p", &p.to_string()]).arg(guest);
    command.args(partition_args(input, strategy)).arg("--output").arg(&out);
    let output = run_with_limit(command, limit);
    if !output.status.success() {
        return Err(output);
    }
    Ok(parts_by_subtask(&out, p))
}

/// The job arguments of `--mode partition` from 2 source subtasks.
fn partition_args(input: &Path, strategy: &str) -> Vec<String> {
    let args = ["--mode", "partition", "--up", "2", "--strategy", strategy, "--a", &input.to_string_lossy()];
    args.map(str::to_owned).to_vec()
}

/// The lines of the part files of subtasks `0..p` under `out`, each sorted.
fn parts_by_subtask(out: &Path, p: u32) -> Vec<Vec<String>> {
    let parts = (0..p).map(|subtask| {
        let files = std::fs::read_dir(out).unwrap().map(|e| e.unwrap().path());
        let mine = files.filter(|f| f.file_name().unwrap().to_string_lossy().starts_with(&format!("part-{subtask}-")));
        sorted(
            mine.flat_map(|f| std::fs::read_to_string(f).unwrap().lines().map(str::to_owned).collect::<Vec<_>>())
                .collect(),
        )
    });
    parts.collect()
}

/// Each explicit partitioning from 2 subtasks to 3: every record arrives
/// once (rebalance, rescale, shuffle: spread over several subtasks;
/// global: all on the first), or once on every subtask (broadcast); and
/// `forward()` between parallelisms 2 and 3 is refused with one clear line.
#[test]
fn explicit_partitionings_deliver_as_flink_does_and_forward_needs_equal_parallelism() {
    assert_explicit_partitionings("partitioning", &multi_input(), LIMIT, 30_000);
}

/// The test above with `guest` (a twin of the Rust one), within `limit`
/// per run, on `n` records.
pub(crate) fn assert_explicit_partitionings(name: &str, guest: &Path, limit: Duration, n: usize) {
    let dir = scratch(name);
    let recs = records(n, 25, 3, 31);
    let input = write_input(&dir, "a", &recs);
    let all = sorted(recs.iter().map(|(k, ts, n)| format!("{k},{ts},{n}")).collect());
    let partition =
        |dir: &Path, input: &Path, strategy: &str, p: u32| partition_with(guest, limit, dir, input, strategy, p);
    for strategy in ["rebalance", "rescale", "shuffle", "global"] {
        let parts = partition(&dir, &input, strategy, 3).unwrap_or_else(|o| panic!("{strategy}: {o:?}"));
        assert_eq!(sorted(parts.concat()), all, "{strategy}: every record once");
        let used = parts.iter().filter(|p| !p.is_empty()).count();
        match strategy {
            "global" => assert!(parts[1].is_empty() && parts[2].is_empty(), "global: only the first subtask"),
            _ => assert!(used >= 2, "{strategy} spreads records: {:?}", parts.iter().map(Vec::len).collect::<Vec<_>>()),
        }
    }
    let parts = partition(&dir, &input, "broadcast", 3).unwrap_or_else(|o| panic!("broadcast: {o:?}"));
    assert!(parts.iter().all(|p| *p == all), "broadcast: every record on every subtask");
    let refused = partition(&dir, &input, "forward", 3).expect_err("forward between 2 and 3 subtasks is refused");
    assert_clean_failure(&refused, "parallelisms differ (2 and 3)");
    std::fs::remove_dir_all(dir).unwrap();
}

/// The records of `recs` whose key `kN` a partitioner sending `N mod p`
/// puts on `subtask`, as their lines, sorted.
fn custom_share(recs: &[Rec], p: usize, subtask: usize) -> Vec<String> {
    let mine = recs.iter().filter(|(k, ..)| k[1..].parse::<usize>().unwrap() % p == subtask);
    sorted(mine.map(|(k, ts, n)| format!("{k},{ts},{n}")).collect())
}

/// `partition_custom` from 2 source subtasks to 2 and to 3: every record
/// lands on the subtask its partitioner picked (key `kN` on subtask
/// `N mod p`, told by the part file it is in); `wflink info` and the REST
/// plan of a job run on a cluster name the edge CUSTOM; a partition out of
/// range fails the job with one line naming the partition_custom node.
#[test]
fn partition_custom_sends_each_record_to_the_subtask_its_partitioner_picks() {
    let (dir, recs, input) = assert_partition_custom("partition-custom", &multi_input(), LIMIT, 30_000);

    let mut command = wflink();
    command.arg("info").arg(multi_input()).args(partition_args(&input, "custom"));
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let edges = plan["jobGraph"]["edges"].as_array().unwrap();
    let custom: Vec<_> = edges.iter().filter(|e| e["partitioning"] == "CUSTOM").collect();
    assert_eq!(custom.len(), 1, "one CUSTOM edge: {plan}");
    let source = &plan["jobGraph"]["vertices"][custom[0]["source"].as_u64().unwrap() as usize];
    assert!(source["name"].as_str().unwrap().ends_with("-> Partition Custom"), "{plan}");

    let mut cluster = TestCluster::start("partition-custom-rest", 0, &[]);
    cluster.add_taskmanager(&["taskmanager.numberOfTaskSlots=3"]);
    cluster.wait_for_taskmanagers(1);
    let out = dir.join("out-cluster");
    let mut command = wflink();
    command.args(["run", "-m", &cluster.rest, "-p", "3"]).arg(multi_input());
    command.args(partition_args(&input, "custom")).arg("--output").arg(&out);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "on a cluster: {}", String::from_utf8_lossy(&output.stderr));
    let job = cluster.get("/jobs")["jobs"][0]["id"].as_str().unwrap().to_string();
    let plan = cluster.get(&format!("/jobs/{job}/plan"));
    let strategies: Vec<_> = plan["plan"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|n| n["inputs"].as_array().into_iter().flatten().map(|i| i["ship_strategy"].clone()))
        .collect();
    assert_eq!(strategies, ["CUSTOM"], "{plan}");
    for (subtask, lines) in parts_by_subtask(&out, 3).iter().enumerate() {
        assert_eq!(*lines, custom_share(&recs, 3, subtask), "on a cluster: the records of subtask {subtask}");
    }

    std::fs::remove_dir_all(dir).unwrap();
}

/// `partition_custom` of `guest` (a twin of the Rust one) from 2 source
/// subtasks to 2 and to 3, within `limit` per run, on `n` records: every
/// record lands on the subtask its partitioner picked, and a partition
/// out of range fails the job with one line naming the node. Returns the
/// scratch directory, the records and their input file.
pub(crate) fn assert_partition_custom(
    name: &str,
    guest: &Path,
    limit: Duration,
    n: usize,
) -> (PathBuf, Vec<Rec>, PathBuf) {
    let dir = scratch(name);
    let recs = records(n, 25, 3, 41);
    let input = write_input(&dir, "a", &recs);
    for p in [2, 3] {
        let parts = partition_with(guest, limit, &dir, &input, "custom", p);
        let parts = parts.unwrap_or_else(|o| panic!("custom at p={p}: {o:?}"));
        for (subtask, lines) in parts.iter().enumerate() {
            assert_eq!(*lines, custom_share(&recs, p as usize, subtask), "p={p}: the records of subtask {subtask}");
        }
    }
    let refused = partition_with(guest, limit, &dir, &input, "custom-out-of-range", 2);
    let refused = refused.expect_err("partition 2 of 2 fails the job");
    assert_clean_failure(&refused, "'Partition Custom': the partitioner returned partition 2");
    (dir, recs, input)
}

/// A bounded source that ended before a savepoint is not read again after
/// a restore from it, as Flink keeps finished operators in later
/// checkpoints. `--mode union-socket` at p=2, without periodic
/// checkpoints, sums file `a` and a socket per key; once both subtasks of
/// the file source FINISHED, the job is cancelled with a savepoint, and the
/// run restored from it reads the socket's records and ends when the socket
/// closes. The committed sums count `a` once: final sums and one update
/// per record, as a plain loop counts.
#[test]
fn a_source_that_finished_before_a_savepoint_is_not_read_again_after_a_restore() {
    let mut cluster = TestCluster::start("finished-source-savepoint", 0, &[]);
    cluster.add_taskmanager(&["taskmanager.numberOfTaskSlots=2"]);
    cluster.wait_for_taskmanagers(1);
    let (a, socket) = (records(4000, 25, 3, 71), records(300, 25, 3, 72));
    let input = write_input(&cluster.dir, "a", &a);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let out = cluster.dir.join("out");
    let (wasm, input_arg, out_arg) = (multi_input(), input.to_string_lossy(), out.to_string_lossy());
    let job_args = [&*wasm.to_string_lossy(), "--mode", "union-socket", "--port", &port, "--a", &input_arg];
    let submit = |savepoint: Option<&str>| {
        let mut args = vec!["-p", "2"];
        args.extend(savepoint.map(|s| ["-s", s]).into_iter().flatten());
        args.extend(job_args);
        args.extend(["--output", &out_arg]);
        crate::fault_tolerance::submit(&cluster, &args)
    };

    let job = submit(None);
    let first = accept_within(&listener, LIMIT);
    wait_for("the file source to finish", || {
        let vertices = cluster.get(&format!("/jobs/{job}"))["vertices"].clone();
        let reads_file = |v: &&serde_json::Value| v["name"].as_str().is_some_and(|n| n.starts_with("Source: file"));
        let file = vertices.as_array()?.iter().find(reads_file)?.clone();
        (file["status"] == "FINISHED").then_some(())
    });
    let savepoint = cluster.cancel_with_savepoint(&job, &cluster.dir.join("savepoints"));
    cluster.wait_for_status(&job, "CANCELED");
    drop(first);

    let restored = submit(Some(&savepoint));
    let mut second = accept_within(&listener, LIMIT);
    let text: String = socket.iter().map(|(k, ts, n)| format!("{k},{ts},{n}\n")).collect();
    std::io::Write::write_all(&mut second, text.as_bytes()).unwrap();
    drop(second);
    cluster.wait_for_status(&restored, "FINISHED");

    let mut expected: HashMap<String, u64> = HashMap::new();
    for (key, _, amount) in a.iter().chain(&socket) {
        *expected.entry(key.clone()).or_default() += *amount as u64;
    }
    let (sums, updates) = final_counts(&crate::fault_tolerance::committed(&out));
    assert_eq!(sums, expected, "final sums: the file's records counted once");
    assert_eq!(updates, a.len() + socket.len(), "one committed update per record");
}
