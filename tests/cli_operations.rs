//! The CLI's operations on a running job beyond run, list and cancel: `wflink checkpoint` and `wflink savepoint`
//! with `-d`, in the words of Flink's CLI.

use std::path::Path;

use crate::cluster::endless_socket;
use crate::common::cluster::{DEADLINE, TestCluster};
use crate::common::*;

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
