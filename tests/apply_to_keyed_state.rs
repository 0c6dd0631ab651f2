//! `apply_to_keyed_state` end to end (`tests/guests/multi-input`, `--mode
//! apply-keyed`): a keyed broadcast process function sums a file's
//! amounts per key, and commands sent on a socket, broadcast to every
//! subtask, rewrite (`double`) and then print and clear (`flush`) every
//! key's sum. The test sends each command only once the job has shown it
//! is done with what came before, so the output is exact at p=2: each key
//! flushed once, by the subtask holding it, with twice its total.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use crate::broadcast_state::rng;
use crate::common::*;
use crate::socket_source::accept_within;

/// How long the job may take to print what a step expects.
const STEP: Duration = Duration::from_secs(60);

#[test]
fn apply_to_keyed_state_rewrites_and_clears_every_keys_state_from_a_broadcast_command() {
    assert_apply_to_keyed_state("multi-input");
}

/// The check of `--mode apply-keyed` of the test guest `guest` at p=2.
pub(crate) fn assert_apply_to_keyed_state(guest: &str) {
    let dir = scratch(&format!("apply-keyed-{guest}"));
    let mut next = rng(17);
    let records: Vec<(String, i64)> = (0..600).map(|_| (format!("k{}", next() % 23), (next() % 100) as i64)).collect();
    let file: String = records.iter().enumerate().map(|(i, (key, amount))| format!("{key},{i},{amount}\n")).collect();
    std::fs::write(dir.join("a.txt"), file).unwrap();
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    for (key, amount) in &records {
        *totals.entry(key.clone()).or_default() += amount;
    }

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut child = wflink()
        .args(["run", "--local", "-p", "2"])
        .arg(test_guest(guest))
        .args(["--mode", "apply-keyed", "--port", &port, "--a"])
        .arg(dir.join("a.txt"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut socket = accept_within(&listener, STEP, &mut child);
    let lines = print_lines(&mut child);
    let mut job = Job { child, lines };

    let summed = job.until("every record summed", |seen| seen.iter().filter(|l| l.starts_with("A ")).count() == 600);
    assert_eq!(summed.iter().filter(|l| l.starts_with("A ")).count(), 600);

    socket.write_all(b"double,0,0\n").unwrap();
    let doubled = job.until("both subtasks doubled", |seen| count(seen, "DOUBLED ") == 2);
    assert_eq!(visited(&doubled, "DOUBLED n="), totals.len(), "double reached every key once: {doubled:?}");

    socket.write_all(b"flush,0,0\n").unwrap();
    let flushed = job.until("both subtasks flushed", |seen| count(seen, "FLUSHED ") == 2);
    assert_eq!(visited(&flushed, "FLUSHED n="), totals.len(), "{flushed:?}");
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    for line in flushed.iter().filter(|l| l.starts_with("FLUSH ")) {
        let mut fields = line.split(' ').skip(1);
        let (key, sum) = (fields.next().unwrap().to_owned(), fields.next().unwrap().parse().unwrap());
        assert!(sums.insert(key, sum).is_none(), "a key flushed twice: {line}");
    }
    let doubled_totals: BTreeMap<String, i64> = totals.iter().map(|(k, v)| (k.clone(), 2 * v)).collect();
    assert_eq!(sums, doubled_totals, "each key flushed once with twice its total");

    socket.write_all(b"flush,0,0\n").unwrap();
    let again = job.until("both subtasks flushed again", |seen| count(seen, "FLUSHED ") == 2);
    assert_eq!(again.iter().filter(|l| l.starts_with("FLUSHED n=0")).count(), 2, "cleared state is gone: {again:?}");
    assert_eq!(count(&again, "FLUSH "), 0, "{again:?}");

    drop(socket);
    job.finishes();
    std::fs::remove_dir_all(dir).unwrap();
}

/// A running job and the lines it prints, without subtask prefixes.
struct Job {
    child: Child,
    lines: Receiver<String>,
}

impl Job {
    /// The lines printed from now until `done` holds for them, failing
    /// (and killing the job) if that takes longer than [`STEP`].
    fn until(&mut self, what: &str, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + STEP;
        let mut seen = Vec::new();
        while !done(&seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => {
                    let _ = self.child.kill();
                    let stderr = self.child.stderr.take().map(std::io::read_to_string);
                    panic!("{what}: not within {STEP:?}; printed {seen:?}; stderr {stderr:?}");
                }
            }
        }
        seen
    }

    /// Waits for the job to end successfully once its socket closed.
    fn finishes(mut self) {
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "the job should finish when the socket closes");
                return;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the job did not finish within {STEP:?} of the socket closing");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Lines of the child's stdout, read on a thread, each without the print
/// sink's `N> ` subtask prefix.
fn print_lines(child: &mut Child) -> Receiver<String> {
    let (tx, rx) = channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let line = match line.split_once("> ") {
                Some((prefix, rest)) if prefix.chars().all(|c| c.is_ascii_digit()) => rest.to_owned(),
                _ => line,
            };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn count(lines: &[String], prefix: &str) -> usize {
    lines.iter().filter(|l| l.starts_with(prefix)).count()
}

/// The sum of the `n=` of the lines starting with `prefix`.
fn visited(lines: &[String], prefix: &str) -> usize {
    lines.iter().filter_map(|l| l.strip_prefix(prefix)).map(|n| n.parse::<usize>().unwrap()).sum()
}
