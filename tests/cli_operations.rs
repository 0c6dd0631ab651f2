//! The CLI's operations on a running job beyond run, list and cancel: `wflink checkpoint`, `wflink savepoint`
//! with `-d` and `wflink stop [--drain]`, in the words of Flink's CLI.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

use crate::cluster::endless_socket;
use crate::common::cluster::{DEADLINE, TestCluster, wait_for};
use crate::common::*;
use crate::fault_tolerance::{committed, submit};

/// `wflink checkpoint JOBID` triggers a checkpoint and prints its id, and `wflink savepoint -d PATH` disposes of a
/// savepoint `wflink savepoint` took, in the words of Flink's CLI; a path that is no savepoint is refused.
#[test]
fn checkpoint_and_savepoint_disposal_through_the_cli() {
    let dir = scratch("cluster-cli-checkpoint");
    let checkpoints = format!("execution.checkpointing.dir={}", dir.join("chk").display());
    let savepoints = format!("execution.checkpointing.savepoint-dir={}", dir.join("sp").display());
    let cluster = TestCluster::start("cluster-cli-checkpoint", 1, &[checkpoints.as_str(), savepoints.as_str()]);
    let (port, socket) = endless_socket("a b c\n");
    let mut command = wflink();
    command.args(["run", "-d", "-m", &cluster.rest]).arg(wordcount_wasm());
    command.args(["--hostname", "127.0.0.1", "--port", &port.to_string()]);
    let output = run_with_limit(command, DEADLINE);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let job = String::from_utf8_lossy(&output.stdout).trim().rsplit(' ').next().unwrap().to_string();
    cluster.wait_for_status(&job, "RUNNING");
    let cli = |args: &[&str]| {
        let mut command = wflink();
        command.args(args).args(["-m", &cluster.rest]);
        let output = run_with_limit(command, DEADLINE);
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(output.status.success(), "{args:?}: {stdout} {}", String::from_utf8_lossy(&output.stderr));
        stdout
    };

    let text = cli(&["checkpoint", &job]);
    let id: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("Checkpoint ")?.strip_suffix(&format!(" for job {job} completed.")))
        .unwrap_or_else(|| panic!("no checkpoint id in {text}"))
        .parse()
        .unwrap();
    let completed = cluster.get(&format!("/jobs/{job}/checkpoints"))["latest"]["completed"]["id"].as_u64();
    assert_eq!(completed, Some(id), "the printed id is the latest completed checkpoint");

    let text = cli(&["savepoint", &job]);
    let path = text.lines().find_map(|l| l.strip_prefix("Savepoint completed. Path: ")).expect("a path").to_string();
    let local = path.strip_prefix("file:").unwrap_or(&path).to_string();
    assert!(Path::new(&local).join("_metadata").is_file(), "{text}");
    let text = cli(&["savepoint", "-d", &path]);
    assert_eq!(text, format!("Disposing savepoint '{path}'.\nWaiting for response...\nSavepoint '{path}' disposed.\n"));
    assert!(!Path::new(&local).exists(), "the savepoint's directory is gone");

    let mut command = wflink();
    command.args(["savepoint", "-d"]).arg(dir.join("chk")).args(["-m", &cluster.rest]);
    assert_clean_failure(&run_with_limit(command, DEADLINE), "_metadata");
    drop(socket);
}

/// A time-probe job (10 s tumbling event-time windows counting per key, written to the exactly-once file sink)
/// reading `k,1000 k,2000 k,15000` from a socket: the window [0,10000) has fired once this returns, the window
/// [10000,20000) holds one reading and stays open. Returns the job id, the open socket and the output directory.
fn windows_job(cluster: &TestCluster, name: &str) -> (String, TcpStream, PathBuf) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let output = cluster.dir.join(name);
    let probe = test_guest("time-probe");
    let args = ["--mode", "windows", "--hostname", "127.0.0.1", "--port", &port, "--output", output.to_str().unwrap()];
    let job = submit(cluster, &[&[probe.to_str().unwrap()][..], &args[..]].concat());
    let mut socket = accept_within(&listener, DEADLINE);
    socket.write_all(b"k,1000\nk,2000\nk,15000\n").unwrap();
    // The window's vertex read all three readings and wrote the first window's count to its sink.
    wait_for("the readings to reach the window and its first count the sink", || {
        let vertices = cluster.get(&format!("/jobs/{job}"))["vertices"].clone();
        let window = &vertices.as_array()?.last()?["metrics"];
        (window["read-records"].as_u64()? >= 3 && window["write-records"].as_u64()? >= 1).then_some(())
    });
    (job, socket, output)
}

/// Runs `wflink stop` with `flags` and checks it prints Flink's lines; returns the savepoint's path.
fn stop(cluster: &TestCluster, job: &str, flags: &[&str], verb: &str) -> String {
    let mut command = wflink();
    command.arg("stop").args(flags).args(["-m", &cluster.rest, job]);
    let output = run_with_limit(command, DEADLINE);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "stop {flags:?}: {stdout} {}", String::from_utf8_lossy(&output.stderr));
    let path = stdout.lines().find_map(|l| l.strip_prefix("Savepoint completed. Path: ")).expect("a path").to_string();
    let expected = format!(
        "{verb} job \"{job}\" with a CANONICAL savepoint.\nTriggering stop-with-savepoint for job {job}.\n\
         Waiting for response...\nSavepoint completed. Path: {path}\n"
    );
    assert_eq!(stdout, expected);
    let local = path.strip_prefix("file:").unwrap_or(&path).to_string();
    assert!(Path::new(&local).join("_metadata").is_file(), "the savepoint is written: {stdout}");
    path
}

/// Runs the time-probe job restored from `location` on a socket that closes at once; returns its committed lines.
fn restore(cluster: &TestCluster, location: &str, name: &str) -> Vec<String> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let output = cluster.dir.join(name);
    let mut command = wflink();
    command.args(["run", "-m", &cluster.rest, "-s", location]).arg(test_guest("time-probe"));
    command.args(["--mode", "windows", "--hostname", "127.0.0.1", "--port", &port, "--output"]).arg(&output);
    let mut restored = Running::start(command);
    drop(accept_within(&listener, DEADLINE));
    restored.wait_success(DEADLINE);
    sorted_lines(&committed(&output))
}

/// `wflink stop` and `wflink stop --drain` on a job with event-time windows, as Flink's CLI: both write a
/// savepoint and the job ends FINISHED. Without `--drain` the open window does not fire (it stays in the
/// savepoint, and a job restored from it fires it at its end); with `--drain` the end-of-time watermark fires it
/// before the savepoint, so its count reaches the sink and the savepoint holds no window.
#[test]
fn stop_with_and_without_drain_through_the_cli() {
    let mut cluster = TestCluster::start("cli-stop", 0, &[]);
    cluster.add_taskmanager(&["taskmanager.numberOfTaskSlots=2"]);
    cluster.wait_for_taskmanagers(1);
    let savepoints = cluster.dir.join("sp");
    let savepoints = savepoints.to_str().unwrap();
    let (suspended, suspended_socket, suspended_out) = windows_job(&cluster, "out-suspended");
    let (drained, drained_socket, drained_out) = windows_job(&cluster, "out-drained");

    let location = stop(&cluster, &suspended, &["-p", savepoints], "Suspending");
    cluster.wait_for_status(&suspended, "FINISHED");
    assert_eq!(sorted_lines(&committed(&suspended_out)), ["k,0,10000,2"], "without --drain the open window waits");

    let drained_location = stop(&cluster, &drained, &["--drain", "-p", savepoints], "Draining");
    cluster.wait_for_status(&drained, "FINISHED");
    assert_eq!(
        sorted_lines(&committed(&drained_out)),
        ["k,0,10000,2", "k,10000,20000,1"],
        "with --drain the end of time fires the open window before the savepoint"
    );
    drop((suspended_socket, drained_socket));

    // The undrained savepoint holds the open window: a job restored from it whose input ends at once fires it.
    assert_eq!(restore(&cluster, &location, "out-restored"), ["k,10000,20000,1"], "the restored job fires the rest");
    // The drained one holds no window: it fired before the savepoint.
    assert_eq!(restore(&cluster, &drained_location, "out-restored-drained"), Vec::<String>::new());

    // A malformed body is refused before anything happens; stopping a job that has ended is refused in one line.
    let (status, answer) =
        cluster.raw("POST", &format!("/jobs/{drained}/stop"), "application/json", br#"{"drain": "yes"}"#);
    assert_eq!(status, 400, "{answer}");
    let mut command = wflink();
    command.args(["stop", "-m", &cluster.rest, &drained]);
    assert_clean_failure(&run_with_limit(command, DEADLINE), "cannot take a savepoint now");
}
