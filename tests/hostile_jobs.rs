//! One tenant cannot take the cluster down: a job that prints, panics,
//! sleeps, loops, allocates or exits, in its describe step or in its
//! operators, fails alone and quickly, with a message that says what it
//! did, while the JobManager goes on answering and other jobs keep running
//! and stay cancellable. Every test uses `tests/guests/hostile-job`, whose
//! `--mode` picks the misbehaviour.

use std::time::{Duration, Instant};

use crate::common::cluster::{TestCluster, wait_for};
use crate::common::*;
use serde_json::{Value, json};

fn hostile_job() -> Vec<u8> {
    std::fs::read(test_guest("hostile-job")).unwrap()
}

/// `wflink run --local` of the hostile job in `mode` with extra arguments;
/// returns its output (the run may not take a minute).
fn run_locally(mode: &str, settings: &[&str], args: &[&str]) -> std::process::Output {
    let mut command = wflink();
    command.args(["run", "--local"]);
    for setting in settings {
        command.args(["-D", setting]);
    }
    command.arg(test_guest("hostile-job")).args(["--mode", mode]).args(args);
    run_with_limit(command, Duration::from_secs(60))
}

/// `POST /jars/:id/run` with `--mode mode`: the status and the answer.
fn submit(cluster: &TestCluster, jar: &str, mode: &str) -> (u16, Value) {
    let body = json!({ "programArgsList": ["--mode", mode] });
    cluster.raw("POST", &format!("/jars/{jar}/run"), "application/json", body.to_string().as_bytes())
}

/// [`submit`] on a thread of its own, for requests that must overlap.
fn submit_in_background(cluster: &TestCluster, jar: &str, mode: &str) -> std::thread::JoinHandle<(u16, Value)> {
    let (rest, jar, mode) = (cluster.rest.clone(), jar.to_string(), mode.to_string());
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let body = json!({ "programArgsList": ["--mode", mode] }).to_string();
        let mut answer = agent.post(&format!("http://{rest}/jars/{jar}/run")).send(body).unwrap();
        let text = answer.body_mut().read_to_string().unwrap_or_default();
        (answer.status().as_u16(), serde_json::from_str(&text).unwrap_or(Value::String(text)))
    })
}

/// Waits for `status` no longer than `limit` (a cancel must take seconds, not minutes).
fn wait_for_status_within(cluster: &TestCluster, job: &str, status: &str, limit: Duration) {
    let started = Instant::now();
    while cluster.job_status(job) != status {
        assert!(started.elapsed() < limit, "job {job} not {status} after {limit:?}: {}", cluster.job_status(job));
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A describe step that misbehaves gets 400 naming what it did, on
/// `/run` and `/plan`; one that prints runs, its lines in the
/// JobManager's log. Meanwhile a running job stays RUNNING, queryable and
/// cancellable, and `/overview` answers while a describe sleeps; past the
/// describe queue, submits get 429 at once.
#[test]
fn a_misbehaving_describe_gets_400_while_the_cluster_keeps_serving() {
    let cluster = TestCluster::start(
        "hostile-describe",
        1,
        &[
            "taskmanager.numberOfTaskSlots=2",
            "wasm.describe.timeout=3s",
            "wasm.describe.memory=64m",
            "wasm.describe.threads=1",
            "wasm.describe.queue=1",
        ],
    );
    let jar = cluster.upload("hostile.wasm", &hostile_job());
    let running = cluster.run_jar(&jar, json!({ "programArgsList": ["--mode", "none", "--rate", "50"] }));
    cluster.wait_for_status(&running, "RUNNING");

    for (mode, expected) in [
        ("describe-panic", "describe panicked on purpose"),
        ("describe-sleep", "wasm.describe.timeout"),
        ("describe-loop", "wasm.describe.timeout"),
        ("describe-alloc", "guest trapped in 'describe'"),
        ("describe-exit", "the job called exit(1) in 'describe'"),
    ] {
        let (status, answer) = submit(&cluster, &jar, mode);
        assert_eq!(status, 400, "{mode}: {answer}");
        assert!(answer["errors"][0].as_str().unwrap().contains(expected), "{mode}: {answer}");
        let (status, answer) = cluster.raw("GET", &format!("/jars/{jar}/plan?programArg=--mode+{mode}"), "", b"");
        assert_eq!(status, 400, "plan {mode}: {answer}");
        assert_eq!(cluster.job_status(&running), "RUNNING", "after {mode}");
    }

    let (status, answer) = submit(&cluster, &jar, "describe-print");
    assert_eq!(status, 200, "a describe that prints runs: {answer}");
    let printing = answer["jobid"].as_str().unwrap().to_string();
    wait_for("the describe's output in the JobManager log", || {
        let log = cluster.jobmanager_log();
        (log.contains("hello from describe 2") && log.contains("a line on stderr from describe")).then_some(())
    });
    cluster.client.patch(&format!("/jobs/{printing}?mode=cancel")).unwrap();
    cluster.wait_for_status(&printing, "CANCELED");

    // One describe sleeps on the only thread: the JobManager answers meanwhile.
    let prepared = cluster.jobmanager_log().matches("preparing a submitted job").count();
    let sleeping = submit_in_background(&cluster, &jar, "describe-sleep");
    wait_for("the sleeping describe to start", || {
        (cluster.jobmanager_log().matches("preparing a submitted job").count() > prepared).then_some(())
    });
    assert_eq!(cluster.get("/overview")["taskmanagers"].as_u64(), Some(1));
    assert!(!sleeping.is_finished(), "/overview waited for the describe");
    // The thread is busy: of three more submits one waits in the queue,
    // the other two are refused at once.
    let more: Vec<_> = (0..3).map(|_| submit_in_background(&cluster, &jar, "describe-loop")).collect();
    let mut statuses: Vec<(u16, Value)> = more.into_iter().map(|s| s.join().unwrap()).collect();
    statuses.sort_by_key(|(status, _)| *status);
    assert_eq!(statuses.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [400, 429, 429], "{statuses:?}");
    assert!(statuses[1].1["errors"][0].as_str().unwrap().contains("wasm.describe.queue"), "{statuses:?}");
    assert_eq!(sleeping.join().unwrap().0, 400);

    assert_eq!(cluster.job_status(&running), "RUNNING");
    cluster.client.patch(&format!("/jobs/{running}?mode=cancel")).unwrap();
    cluster.wait_for_status(&running, "CANCELED");
}

/// Cancel reaches a guest whatever it does: one sleeping for minutes in
/// its map and one looping there (with a call deadline of ten minutes)
/// are both CANCELED within seconds, and their slot is free again.
#[test]
fn cancel_stops_a_sleeping_and_a_looping_guest_within_seconds() {
    let cluster = TestCluster::start("hostile-cancel", 1, &["wasm.call-timeout=10min"]);
    let jar = cluster.upload("hostile.wasm", &hostile_job());
    for (mode, says) in [("map-sleep", "sleeping in map"), ("map-loop", "looping in map")] {
        let job = cluster.run_jar(&jar, json!({ "programArgsList": ["--mode", mode, "--rate", "10"] }));
        cluster.wait_for_status(&job, "RUNNING");
        wait_for(&format!("the guest to say '{says}'"), || cluster.taskmanager_log(0).contains(says).then_some(()));
        cluster.client.patch(&format!("/jobs/{job}?mode=cancel")).unwrap();
        wait_for_status_within(&cluster, &job, "CANCELED", Duration::from_secs(15));
        wait_for("the slot to be free again", || {
            let overview = cluster.get("/overview");
            (overview["slots-available"] == overview["slots-total"]).then_some(())
        });
    }
}

/// A guest sleeping in its map fails at its call deadline, not when it wakes.
#[test]
fn a_sleeping_guest_fails_at_its_call_deadline() {
    test_guest("hostile-job");
    let started = Instant::now();
    let output = run_locally("map-sleep", &["wasm.call-timeout=1s"], &["--count", "1"]);
    assert_clean_failure(&output, "ran longer than the 1s deadline (wasm.call-timeout)");
    assert!(started.elapsed() < Duration::from_secs(45), "took {:?}", started.elapsed());
}

/// `exit(3)` and a stack overflow end the job with a message that says so
/// (WASI 0.2's `exit` carries success or failure only: the code reads 1).
#[test]
fn exit_and_stack_overflow_are_named() {
    let output = run_locally("map-exit", &[], &["--count", "1"]);
    assert_clean_failure(&output, "the job called exit(1) in 'process'");
    let output = run_locally("describe-exit", &[], &[]);
    assert_clean_failure(&output, "the job called exit(1) in 'describe'");
    let output = run_locally("map-recurse", &[], &["--count", "1"]);
    assert_clean_failure(&output, "stack overflow");
}

/// A guest may print more than a buffer holds: its job still finishes.
#[test]
fn a_guest_that_prints_megabytes_still_finishes() {
    let output = run_locally("map-print", &[], &["--count", "8", "--rate", "0"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}
