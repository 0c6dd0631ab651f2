//! End-to-end fault tolerance on real processes: checkpoints, recovery from
//! a killed TaskManager and from a trapping guest with exact results through
//! the exactly-once file sink, savepoints restored at another parallelism,
//! and a corrupted checkpoint refused in favour of the previous one.

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use crate::common::cluster::{DEADLINE, TestCluster, wait_for};
use crate::common::*;
use serde_json::Value;

/// The scratch directory [`TestCluster::start`] makes for `name`, so
/// settings can point into it before it exists.
fn cluster_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("wflink-test-{name}-{}", std::process::id()))
}

/// The committed lines of a file sink directory: its `part-*` files, not
/// the hidden in-progress or pending ones.
pub(crate) fn committed(dir: &Path) -> String {
    let mut names: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default();
    names.retain(|p| p.file_name().unwrap().to_string_lossy().starts_with("part-"));
    names.sort();
    names.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
}

/// Hidden (in-progress or pending) files left in a sink directory.
fn leftovers(dir: &Path) -> Vec<String> {
    let names = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned());
    names.filter(|n| n.starts_with('.')).collect()
}

/// Asserts word counts written as running `(word, count)` updates are
/// exact: every word's final count, and one update per occurrence (none
/// missing, none twice).
pub(crate) fn assert_exact(lines: &str, expected: &HashMap<String, u64>) {
    let (counts, updates) = final_counts(lines);
    assert_eq!(counts.len(), expected.len(), "distinct words");
    assert_eq!(&counts, expected, "final counts");
    assert_eq!(updates as u64, expected.values().sum::<u64>(), "one committed update per word occurrence");
}

/// Submits detached with `wflink run -d`; returns the job id.
pub(crate) fn submit(cluster: &TestCluster, args: &[&str]) -> String {
    let mut command = wflink();
    command.args(["run", "-d", "-m", &cluster.rest]).args(args);
    let output = run_with_limit(command, DEADLINE);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "submit failed: {stdout} {}", String::from_utf8_lossy(&output.stderr));
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("Job has been submitted with JobID "))
        .expect("a job id")
        .trim()
        .to_string()
}

fn checkpoints(cluster: &TestCluster, job: &str) -> Value {
    cluster.get(&format!("/jobs/{job}/checkpoints"))
}

fn jobmanager_log(cluster: &TestCluster) -> String {
    std::fs::read_to_string(cluster.dir.join("jobmanager.log")).unwrap_or_default()
}

/// Wordcount at p=2 on two TaskManagers with the exactly-once file sink and
/// checkpoints every 500 ms; TaskManager 0 is killed with SIGKILL once
/// `ready` says so (after a completed checkpoint, or while one is in
/// progress), and a replacement starts. The job restores from the latest
/// completed checkpoint on the new TaskManager and the committed output
/// has every update exactly once.
fn kill_a_taskmanager(name: &str, ready: impl Fn(&Value) -> bool) {
    let mut cluster = TestCluster::start_fault_tolerant(name, 2, "500 ms");
    let text = generate_text(4_000_000, 7);
    let (input, output) = (cluster.dir.join("input.txt"), cluster.dir.join("out"));
    std::fs::write(&input, &text).unwrap();
    let wasm = wordcount_wasm();
    let job = submit(
        &cluster,
        &["-p", "2", wasm.to_str().unwrap(), "--input", input.to_str().unwrap(), "--output", output.to_str().unwrap()],
    );

    wait_for("the moment to kill a TaskManager", || {
        assert_eq!(cluster.job_status(&job), "RUNNING", "the job must still run when the TaskManager is killed");
        ready(&checkpoints(&cluster, &job)).then_some(())
    });
    cluster.kill_taskmanager(0);
    cluster.add_taskmanager(&[]);
    cluster.wait_for_status(&job, "FINISHED");

    let stats = checkpoints(&cluster, &job);
    assert!(stats["counts"]["restored"].as_u64().unwrap() >= 1, "{stats}");
    assert!(stats["latest"]["restored"]["external_path"].as_str().unwrap().contains("chk-"), "{stats}");
    assert_exact(&committed(&output), &expected_counts(&text));
    assert_eq!(leftovers(&output), Vec::<String>::new(), "no in-progress or pending file is left");
}

#[test]
fn a_killed_taskmanager_loses_and_duplicates_nothing() {
    kill_a_taskmanager("ft-kill", |stats| stats["counts"]["completed"].as_u64().unwrap_or(0) >= 1);
}

#[test]
fn a_taskmanager_killed_during_a_checkpoint_loses_and_duplicates_nothing() {
    kill_a_taskmanager("ft-kill-during", |stats| {
        stats["counts"]["completed"].as_u64().unwrap_or(0) >= 1
            && stats["counts"]["in_progress"].as_u64().unwrap_or(0) >= 1
    });
}

/// A guest trapping once, at the 100,000th line it sees in the job's first
/// attempt (paced so that checkpoints complete first): the job restarts
/// from its latest checkpoint (fixed-delay) and finishes with exact counts.
#[test]
fn a_guest_that_traps_once_restarts_from_the_checkpoint_with_exact_results() {
    let dir = scratch("ft-trap-once");
    let text = generate_text(1_500_000, 3);
    assert!(text.lines().count() > 150_000, "the input has more lines than the trap needs");
    let (input, output, chk) = (dir.join("input.txt"), dir.join("out"), dir.join("chk"));
    let long_lines = dir.join("long-lines");
    std::fs::write(&input, &text).unwrap();
    let mut command = wflink();
    command
        .env("WFLINK_LOG", "info")
        .args(["run", "--local", "-p", "1", "-D", "execution.checkpointing.interval=100 ms"])
        .args(["-D", "restart-strategy.type=fixed-delay", "-D", "restart-strategy.fixed-delay.delay=100 ms"])
        .arg("-D")
        .arg(format!("state.checkpoints.dir={}", chk.display()))
        .arg(test_guest("trap-once"))
        // Paced (10 ms every 1000 lines, about 1 s to the trap): checkpoints
        // every 100 ms complete before it however fast the machine is.
        .args(["--trap-at", "100000", "--pace-ms", "10", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .arg("--long-lines")
        .arg(&long_lines);
    let run = run_with_limit(command, DEADLINE);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("trap-once: failing on purpose at line 100000"), "the guest trapped: {stderr}");
    assert!(stderr.contains("restarting the job"), "{stderr}");
    assert!(
        stderr.lines().any(|l| l.contains("restoring") && l.contains("chk-")),
        "restored from a checkpoint: {stderr}"
    );
    assert_exact(&committed(&output), &expected_counts(&text));
    // The side output is exactly-once too: each long line once, none lost
    // with the failed attempt, no leftovers.
    let mut expected: Vec<&str> = text.lines().filter(|l| l.len() > 60).collect();
    let side = committed(&long_lines);
    let mut written: Vec<&str> = side.lines().collect();
    assert!(!expected.is_empty(), "the input has long lines");
    expected.sort_unstable();
    written.sort_unstable();
    assert!(written == expected, "{} long lines written, {} expected", written.len(), expected.len());
    assert_eq!(leftovers(&long_lines), Vec::<String>::new(), "no in-progress or pending side file is left");
}

/// A configuration file written with Flink 2.x's key names keeps its
/// checkpoint directory (`execution.checkpointing.dir`, which Flink 1.x
/// called `state.checkpoints.dir`): the trap-once job checkpoints there and
/// restarts from there, with exact counts.
#[test]
fn a_flink_2_configuration_file_checkpoints_where_it_says() {
    let dir = scratch("ft-flink2-config");
    let text = generate_text(1_200_000, 4);
    let (input, output, chk) = (dir.join("input.txt"), dir.join("out"), dir.join("checkpoints-2x"));
    std::fs::write(&input, &text).unwrap();
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "execution:\n  checkpointing:\n    interval: 100 ms\n    dir: {}\n    num-retained: 2\n  \
             buffer-timeout:\n    interval: 5 ms\nrestart-strategy.type: fixed-delay\n\
             restart-strategy.fixed-delay.delay: 100 ms\n",
            chk.display()
        ),
    )
    .unwrap();
    let mut command = wflink();
    command.env("WFLINK_LOG", "info").args(["run", "--local", "-p", "1", "--config"]).arg(&config);
    command.arg(test_guest("trap-once")).args(["--trap-at", "100000", "--pace-ms", "10", "--input"]).arg(&input);
    command.arg("--output").arg(&output).arg("--long-lines").arg(dir.join("long-lines"));
    let run = run_with_limit(command, DEADLINE);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(!stderr.contains("unknown configuration key"), "every 2.x key is known: {stderr}");
    let restored = stderr.lines().find(|l| l.contains("restoring") && l.contains("chk-"));
    let restored = restored.unwrap_or_else(|| panic!("restored from a checkpoint: {stderr}"));
    assert!(restored.contains("checkpoints-2x"), "from the configured directory: {restored}");
    assert_exact(&committed(&output), &expected_counts(&text));
}

/// Page views in event-time order (7 ms apart), over 200 pages.
fn page_views(n: usize) -> String {
    let mut text = String::with_capacity(n * 24);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for i in 0..n {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        text.push_str(&format!("u{},/p{},{}\n", i % 50, state % 200, i * 7));
    }
    text
}

/// Copies a directory tree (a sink's output, hidden files included).
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// click-counts (sliding event-time windows, keyed process state and
/// timers) stopped with a savepoint at p=2 (`wflink cancel --savepoint`),
/// then restored from it at p=1 and at p=3 (`wflink run -s`): both give the
/// uninterrupted run's windows exactly. A missing savepoint and another
/// job's savepoint are refused by name.
#[test]
fn a_savepoint_at_p2_restores_at_p1_and_p3_with_window_state() {
    let mut cluster = TestCluster::start("ft-savepoint", 0, &[]);
    cluster.add_taskmanager(&["taskmanager.numberOfTaskSlots=3"]);
    cluster.wait_for_taskmanagers(1);
    let views = page_views(300_000);
    let input = cluster.dir.join("views.csv");
    std::fs::write(&input, &views).unwrap();
    let wasm = example_wasm("click-counts");
    let (wasm, input_arg) = (wasm.to_str().unwrap(), input.to_str().unwrap());

    let reference = cluster.dir.join("reference");
    let mut command = wflink();
    command.args(["run", "--local", "-p", "2", wasm, "--input", input_arg, "--output", reference.to_str().unwrap()]);
    let run = run_with_limit(command, DEADLINE);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let expected = sorted_lines(&committed(&reference.join("top")));
    assert!(expected.len() > 100, "windows fired: {}", expected.len());

    let first = cluster.dir.join("out-p2");
    let job = submit(&cluster, &["-p", "2", wasm, "--input", input_arg, "--output", first.to_str().unwrap()]);
    let savepoints = cluster.dir.join("savepoints");
    let location = cluster.cancel_with_savepoint(&job, &savepoints);
    cluster.wait_for_status(&job, "CANCELED");
    assert!(Path::new(&location).join("_metadata").is_file(), "{location}");

    for p in ["1", "3"] {
        let out = cluster.dir.join(format!("out-p{p}"));
        copy_tree(&first, &out);
        let mut command = wflink();
        command
            .args(["run", "-m", &cluster.rest, "-p", p, "-s", &location, wasm, "--input", input_arg, "--output"])
            .arg(&out);
        let run = run_with_limit(command, DEADLINE);
        assert!(run.status.success(), "restore at p={p}: {}", String::from_utf8_lossy(&run.stderr));
        assert_eq!(sorted_lines(&committed(&out.join("top"))), expected, "windows after a restore at p={p}");
    }

    let mut command = wflink();
    command
        .args(["run", "-m", &cluster.rest, "-s"])
        .arg(cluster.dir.join("no-such-savepoint"))
        .arg(wasm)
        .args(["--input", input_arg]);
    assert_clean_failure(&run_with_limit(command, DEADLINE), "no checkpoint or savepoint at");
    let mut command = wflink();
    command.args(["run", "-m", &cluster.rest, "-s", &location]).arg(wordcount_wasm()).args(["--input", input_arg]);
    assert_clean_failure(&run_with_limit(command, DEADLINE), "was taken of job 'click-counts', not of job 'wordcount'");
}

/// Wordcount, whose running counts the guest keeps in its own memory
/// (`keep-state`), stopped with a savepoint at p=2 while it runs, then
/// restored from it at p=1 and at p=3: the restored counts reach the
/// guests once and each run's committed updates are exact.
#[test]
fn a_wordcount_savepoint_at_p2_restores_at_p1_and_p3_with_exact_counts() {
    let mut cluster = TestCluster::start("ft-savepoint-counts", 0, &[]);
    cluster.add_taskmanager(&["taskmanager.numberOfTaskSlots=3"]);
    cluster.wait_for_taskmanagers(1);
    let text = generate_text(4_000_000, 11);
    let input = cluster.dir.join("input.txt");
    std::fs::write(&input, &text).unwrap();
    let wasm = wordcount_wasm();
    let (wasm, input_arg) = (wasm.to_str().unwrap(), input.to_str().unwrap());
    let first = cluster.dir.join("out-p2");
    let job = submit(&cluster, &["-p", "2", wasm, "--input", input_arg, "--output", first.to_str().unwrap()]);
    let savepoints = cluster.dir.join("savepoints");
    let location = cluster.cancel_with_savepoint(&job, &savepoints);
    cluster.wait_for_status(&job, "CANCELED");
    let partial = final_counts(&committed(&first)).1;
    assert!(partial < 4_000_000, "the savepoint was taken before the end ({partial} updates committed)");

    for p in ["1", "3"] {
        let out = cluster.dir.join(format!("out-p{p}"));
        copy_tree(&first, &out);
        let mut command = wflink();
        command
            .args(["run", "-m", &cluster.rest, "-p", p, "-s", &location, wasm, "--input", input_arg, "--output"])
            .arg(&out);
        let run = run_with_limit(command, DEADLINE);
        assert!(run.status.success(), "restore at p={p}: {}", String::from_utf8_lossy(&run.stderr));
        assert_exact(&committed(&out), &expected_counts(&text));
    }
}

/// Wordcount over a socket the test controls: after the first half of the
/// text is counted and two more checkpoints completed, the newest
/// checkpoint's state file is truncated and a TaskManager killed. Recovery
/// refuses the corrupted checkpoint and restores the one before; the second
/// half of the text, sent after the restart, completes exact final counts.
#[test]
fn a_corrupted_checkpoint_is_refused_and_the_previous_one_used() {
    let name = "ft-corrupted";
    let chk = cluster_dir(name).join("chk");
    let settings = [
        "execution.checkpointing.interval=1 s".to_string(),
        format!("state.checkpoints.dir={}", chk.display()),
        "state.checkpoints.num-retained=2".into(),
        "restart-strategy.type=fixed-delay".into(),
        "restart-strategy.fixed-delay.delay=100 ms".into(),
    ];
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    let mut cluster = TestCluster::start(name, 2, &settings);
    let text = generate_text(200_000, 5);
    let half = text[..text.len() / 2].rfind('\n').unwrap() + 1;
    let (first, second) = (text[..half].to_string(), text[half..].to_string());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let feeder = std::thread::spawn(move || {
        // First attempt: the first half, kept open; the restarted job gets the rest and the end.
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(first.as_bytes()).unwrap();
        let (mut again, _) = listener.accept().unwrap();
        again.write_all(second.as_bytes()).unwrap();
        drop(stream);
    });
    let output = cluster.dir.join("out");
    let wasm = wordcount_wasm();
    let job = submit(
        &cluster,
        &[
            "-p",
            "2",
            wasm.to_str().unwrap(),
            "--hostname",
            "127.0.0.1",
            "--port",
            &port,
            "--output",
            output.to_str().unwrap(),
        ],
    );
    let first_words = expected_counts(&text[..half]).values().sum::<u64>();
    wait_for("the first half to be counted", || {
        let job = cluster.get(&format!("/jobs/{job}"));
        let count = job["vertices"]
            .as_array()?
            .iter()
            .find(|v| v["name"].as_str().is_some_and(|n| n.starts_with("count")))?
            .clone();
        (count["metrics"]["read-records"].as_u64()? == first_words).then_some(())
    });
    let done = checkpoints(&cluster, &job)["counts"]["completed"].as_u64().unwrap();
    // Act right after a checkpoint completed, a second before the next one.
    let latest = wait_for("two more completed checkpoints", || {
        let stats = checkpoints(&cluster, &job);
        (stats["counts"]["completed"].as_u64()? >= done + 2).then(|| stats["latest"]["completed"].clone())
    });
    let (corrupted, dir) = (latest["id"].as_u64().unwrap(), PathBuf::from(latest["external_path"].as_str().unwrap()));
    let state = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "state"));
    let state = state.expect("the checkpoint holds keyed state");
    let length = std::fs::metadata(&state).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&state).unwrap().set_len(length / 2).unwrap();
    cluster.kill_taskmanager(0);
    cluster.add_taskmanager(&[]);
    cluster.wait_for_status(&job, "FINISHED");
    feeder.join().unwrap();

    let stats = checkpoints(&cluster, &job);
    let restored = stats["latest"]["restored"]["id"].as_u64().unwrap();
    assert!(restored < corrupted, "restored {restored}, not the corrupted {corrupted}: {stats}");
    let log = jobmanager_log(&cluster);
    assert!(
        log.contains("checkpoint refused for recovery") && log.contains(state.file_name().unwrap().to_str().unwrap()),
        "{log}"
    );
    // Nothing arrived between the two checkpoints: the older one plus the second half is exact.
    assert_exact(&committed(&output), &expected_counts(&text));
}
