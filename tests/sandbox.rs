//! The sandbox holds: a guest that traps or loops forever fails its job
//! cleanly, with the guest's message, within seconds; the process never
//! crashes or hangs.

use std::time::{Duration, Instant};

use crate::common::*;

/// A panicking guest fails the job with its panic message.
#[test]
fn a_trapping_guest_fails_the_job_with_its_message() {
    let dir = scratch("trap");
    let input = dir.join("input.txt");
    std::fs::write(&input, (0..1000).map(|i| format!("line {i}\n")).collect::<String>()).unwrap();
    let mut command = wflink();
    command.args(["run", "--local", "-p", "2"]).arg(test_guest("trapping-job"));
    command.arg("--input").arg(&input).args(["--trap-at", "100"]);
    let started = Instant::now();
    let output = run_with_limit(command, Duration::from_secs(60));
    assert_clean_failure(&output, "trapping-job: bad record 100");
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// A guest that never returns is stopped at its call deadline.
#[test]
fn a_looping_guest_is_stopped_at_the_deadline() {
    let dir = scratch("loop");
    let input = dir.join("input.txt");
    std::fs::write(&input, "one line\n").unwrap();
    let mut command = wflink();
    command.args(["run", "--local", "-D", "wasm.call-timeout=500ms"]).arg(test_guest("looping-job"));
    command.arg("--input").arg(&input);
    let started = Instant::now();
    let output = run_with_limit(command, Duration::from_secs(60));
    assert_clean_failure(&output, "deadline");
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
}

/// A guest that allocates without end hits its slot's memory budget and
/// fails the job; the process stays alive to report it.
#[test]
fn a_memory_bomb_fails_the_job_at_the_slot_budget() {
    let dir = scratch("memory-bomb");
    let input = dir.join("input.txt");
    std::fs::write(&input, "one line\n").unwrap();
    let mut command = wflink();
    command.args(["run", "--local", "-D", "taskmanager.memory.flink.size=256m"]).arg(test_guest("memory-bomb"));
    command.arg("--input").arg(&input);
    let output = run_with_limit(command, Duration::from_secs(60));
    assert_clean_failure(&output, "memory allocation");
}
