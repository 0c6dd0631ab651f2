//! Bad input gets one clear error line and a non-zero exit, never a panic:
//! a missing input file, a file that is not a component, a core module, a
//! component of the wrong world, a job whose describe fails, parallelism 0.

use std::time::Duration;

use crate::common::*;

const LIMIT: Duration = Duration::from_secs(60);

fn run(args: &[&str], job: &std::path::Path, job_args: &[&str]) -> std::process::Output {
    let mut command = wflink();
    command.args(args).arg(job).args(job_args);
    run_with_limit(command, LIMIT)
}

/// A missing input file is named in the error.
#[test]
fn missing_input_file() {
    let output = run(&["run", "--local"], &wordcount_wasm(), &["--input", "/no/such/input.txt"]);
    assert_clean_failure(&output, "/no/such/input.txt");
}

/// A missing job file is named in the error.
#[test]
fn missing_job_file() {
    let output = run(&["run", "--local"], std::path::Path::new("/no/such/job.wasm"), &[]);
    assert_clean_failure(&output, "/no/such/job.wasm");
}

/// A text file is not a component.
#[test]
fn not_wasm_at_all() {
    let dir = scratch("not-wasm");
    let job = dir.join("job.wasm");
    std::fs::write(&job, "this is not wasm").unwrap();
    assert_clean_failure(&run(&["run", "--local"], &job, &[]), "not a WebAssembly component");
}

/// A core module is refused with the target to build for.
#[test]
fn core_module_instead_of_component() {
    let dir = scratch("core-module");
    let job = dir.join("core.wasm");
    std::fs::write(&job, b"\0asm\x01\0\0\0").unwrap();
    assert_clean_failure(&run(&["run", "--local"], &job, &[]), "core WebAssembly module");
}

/// A valid component of another world (a WASI command) is refused.
#[test]
fn component_of_the_wrong_world() {
    let output = run(&["run", "--local"], &test_guest("not-a-job"), &[]);
    assert_clean_failure(&output, "does not implement the wflink:job");
}

/// The job's own describe error reaches the user.
#[test]
fn describe_returns_an_error() {
    let output = run(&["run", "--local"], &wordcount_wasm(), &[]);
    assert_clean_failure(&output, "invalid job arguments");
}

/// A parallelism of 0 is refused before anything runs.
#[test]
fn parallelism_zero() {
    let output = run(&["run", "--local", "-p", "0"], &wordcount_wasm(), &["--input", "/dev/null"]);
    assert_clean_failure(&output, "parallelism");
}

/// An invalid configuration value names its key.
#[test]
fn invalid_configuration_value() {
    let output =
        run(&["run", "--local", "-D", "execution.buffer-timeout=soon"], &wordcount_wasm(), &["--input", "/dev/null"]);
    assert_clean_failure(&output, "execution.buffer-timeout");
}

/// `wflink info job.wasm | head` ends quietly when its reader goes away, as Unix tools do, instead of panicking
/// on the broken pipe.
#[test]
fn info_into_a_closed_pipe_does_not_panic() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = wflink()
        .args(["info"])
        .arg(wordcount_wasm())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wflink starts");
    // The reader goes away before the plan is printed (describing the job takes longer than this).
    drop(child.stdout.take());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "wflink info panicked on a closed pipe ({status}):\n{stderr}");
}
