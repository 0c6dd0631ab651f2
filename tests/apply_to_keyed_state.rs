//! `apply_to_keyed_state` end to end (`--mode apply-keyed` of the test
//! guests `multi-input`, `multi-input-python` and `multi-input-js`): a
//! keyed broadcast process function sums a file's amounts per key, and
//! commands sent on a socket, broadcast to every subtask, rewrite
//! (`double`) and then print and clear (`flush`) every key's sum. The test
//! sends each command only once the job has shown it is done with what
//! came before, so the output is exact at p=2: each key flushed once, by
//! the subtask holding it, with twice its total.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::broadcast_state::rng;
use crate::common::*;

#[test]
fn apply_to_keyed_state_rewrites_and_clears_every_keys_state_from_a_broadcast_command() {
    assert_apply_to_keyed_state("multi-input");
}

/// How long the job may take to start (compiling the component) or to
/// print what one step of [`assert_apply_to_keyed_state`] expects.
const APPLY_STEP: Duration = Duration::from_secs(180);

/// The check of `--mode apply-keyed` of the test guest `guest` at p=2: a
/// file of 500 records over 20 keys summed per key, then commands on the
/// socket source, each sent once the job has printed all it expects of
/// the one before. The Rust, Python and JavaScript guests share it.
pub(crate) fn assert_apply_to_keyed_state(guest: &str) {
    const RECORDS: usize = 500;
    const KEYS: u64 = 20;
    let dir = scratch(&format!("apply-keyed-{guest}"));
    let mut next = rng(29);
    let records: Vec<(String, i64)> =
        (0..RECORDS).map(|_| (format!("key{}", next() % KEYS), (next() % 1000) as i64)).collect();
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    let mut file = String::new();
    for (i, (key, amount)) in records.iter().enumerate() {
        *totals.entry(key.clone()).or_default() += amount;
        file.push_str(&format!("{key},{},{amount}\n", 1_000 * i));
    }
    assert_eq!(totals.len(), KEYS as usize, "every key has records");
    let a = dir.join("a.csv");
    std::fs::write(&a, file).unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut child = wflink()
        .args(["run", "--local", "-p", "2"])
        .arg(test_guest(guest))
        .args(["--mode", "apply-keyed", "--port", &port, "--a"])
        .arg(&a)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut socket = crate::socket_source::accept_within(&listener, APPLY_STEP, &mut child);
    let mut job = Printing::of(child);
    let mut send = |line: &str| socket.write_all(line.as_bytes()).unwrap();

    let summed = job.until("an A line per record", |lines| starting(lines, "A ").len() == RECORDS);
    let mut expected: Vec<String> = records.iter().map(|(key, amount)| format!("A {key} {amount}")).collect();
    let mut printed: Vec<String> = starting(&summed, "A ").into_iter().map(str::to_owned).collect();
    expected.sort();
    printed.sort();
    assert_eq!(printed, expected, "each record of a printed once");

    send("double,0,0\n");
    let doubled = job.until("DOUBLED from both subtasks", |lines| starting(lines, "DOUBLED ").len() == 2);
    assert_eq!(visited(&doubled, "DOUBLED n="), totals.len(), "every key doubled once: {doubled:?}");
    assert_eq!(doubled.len(), 2, "double prints nothing per key: {doubled:?}");

    send("flush,0,0\n");
    let flushed = job.until("FLUSHED from both subtasks", |lines| starting(lines, "FLUSHED ").len() == 2);
    assert_eq!(visited(&flushed, "FLUSHED n="), totals.len(), "{flushed:?}");
    let mut sums = BTreeMap::new();
    for line in starting(&flushed, "FLUSH ") {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 3, "{line}");
        let sum: i64 = fields[2].parse().unwrap_or_else(|_| panic!("a sum in {line}"));
        assert!(sums.insert(fields[1].to_owned(), sum).is_none(), "a key flushed twice: {line}");
    }
    let twice: BTreeMap<String, i64> = totals.iter().map(|(key, total)| (key.clone(), 2 * total)).collect();
    assert_eq!(sums, twice, "each key flushed once with twice its total from the file");

    send("flush,0,0\n");
    let again = job.until("FLUSHED from both subtasks again", |lines| starting(lines, "FLUSHED ").len() == 2);
    assert_eq!(again, ["FLUSHED n=0", "FLUSHED n=0"], "a cleared state has no keys left");

    drop(socket);
    job.finishes();
    std::fs::remove_dir_all(dir).unwrap();
}

/// A running `wflink run` whose print sink's lines arrive on a channel
/// without their `N> ` subtask prefix, and whose stderr is kept (read on
/// a thread, so a chatty job never blocks on a full pipe).
struct Printing {
    child: Child,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// The thread reading stderr, which ends when the job's pipe closes.
    stderr_reader: Option<std::thread::JoinHandle<()>>,
}

impl Printing {
    fn of(mut child: Child) -> Printing {
        let (tx, lines) = channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let line = match line.split_once("> ") {
                    Some((n, rest)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => rest.to_owned(),
                    _ => line,
                };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let (mut from, into) = (child.stderr.take().unwrap(), stderr.clone());
        let stderr_reader = std::thread::spawn(move || {
            let mut chunk = [0; 4096];
            while let Ok(n @ 1..) = from.read(&mut chunk) {
                into.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        Printing { child, lines, stderr, stderr_reader: Some(stderr_reader) }
    }

    /// The lines printed from now until `done` holds for them, polled
    /// with a deadline of [`APPLY_STEP`].
    fn until(&mut self, what: &str, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + APPLY_STEP;
        let mut seen = Vec::new();
        while !done(&seen) {
            match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => seen.push(line),
                Err(_) => {
                    let _ = self.child.kill();
                    let stderr = self.stderr.lock().unwrap().clone();
                    panic!("expected {what} within {APPLY_STEP:?}; printed {seen:?}; stderr: {stderr}");
                }
            }
        }
        seen
    }

    /// Waits for the job to end successfully (its socket closed).
    fn finishes(mut self) {
        let deadline = Instant::now() + APPLY_STEP;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the job did not finish within {APPLY_STEP:?} of its socket closing");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join(); // all of stderr, for the message below
        }
        assert!(status.success(), "the job failed: {}", self.stderr.lock().unwrap());
    }
}

impl Drop for Printing {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The lines starting with `prefix`.
fn starting<'a>(lines: &'a [String], prefix: &str) -> Vec<&'a str> {
    lines.iter().map(String::as_str).filter(|l| l.starts_with(prefix)).collect()
}

/// The sum of the counts after `prefix` in the lines starting with it.
fn visited(lines: &[String], prefix: &str) -> usize {
    lines.iter().filter_map(|l| l.strip_prefix(prefix)).map(|n| n.parse::<usize>().unwrap()).sum()
}
