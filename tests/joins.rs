//! Joins end to end (`tests/guests/joins`, and `joins-python` for the
//! Python library's interval join): the interval join and the
//! window join with tumbling, sliding and session windows, on generated
//! out-of-order input (up to 1.5 s, under the 2 s watermark bound, so no
//! record is late), each checked against a plain loop here at
//! parallelism 1 and 2; and an interval join's state stays bounded on an
//! endless stream, as its checkpoints show.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::common::cluster::{TestCluster, wait_for};
use crate::common::*;
use crate::multi_input::{Rec, records, write_input};

const LIMIT: Duration = Duration::from_secs(90);

/// Two inputs, `a` denser than `b`, over 10 keys and about 90 s of event time.
pub(crate) fn inputs(name: &str) -> ([Vec<Rec>; 2], [PathBuf; 2]) {
    let dir = scratch(name);
    let recs = [records(600, 10, 150, 21), records(400, 10, 225, 22)];
    let paths = [write_input(&dir, "a", &recs[0]), write_input(&dir, "b", &recs[1])];
    (recs, paths)
}

/// Runs the joins guest locally at parallelism `p` with `args`, writing
/// files beside the inputs; returns every line written (also to the
/// `unmatched` side output), sorted.
fn run(p: u32, inputs: &[PathBuf; 2], args: &[&str]) -> Vec<String> {
    run_guest("joins", p, inputs, args)
}

/// Like [`run`], with the test guest `guest`.
fn run_guest(guest: &str, p: u32, inputs: &[PathBuf; 2], args: &[&str]) -> Vec<String> {
    let out = inputs[0].with_file_name(format!("out-{guest}-{}-{p}", args.join("").replace('-', "")));
    let mut command = wflink();
    command.args(["run", "--local", "-p", &p.to_string()]).arg(test_guest(guest));
    command.arg("--a").arg(&inputs[0]).arg("--b").arg(&inputs[1]).args(args).arg("--output").arg(&out);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{args:?} at p={p} failed: {}", String::from_utf8_lossy(&output.stderr));
    sorted_lines(&(parts(&out) + &parts(&out.join("unmatched"))))
}

/// The text of the `part-*` files in `dir` (none if it does not exist).
pub(crate) fn parts(dir: &Path) -> String {
    let files = std::fs::read_dir(dir).into_iter().flatten().map(|e| e.unwrap().path());
    let parts = files.filter(|f| f.file_name().unwrap().to_string_lossy().starts_with("part-"));
    parts.map(|f| std::fs::read_to_string(f).unwrap()).collect()
}

fn pair(a: &Rec, b: &Rec) -> String {
    format!("{},{},{},{},{}", a.0, a.1, b.1, a.2, b.2)
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

/// The interval join by a plain loop: every pair with `lo <= b.ts - a.ts <= hi`,
/// and every `a` without one as `UNMATCHED`.
pub(crate) fn interval_join(a: &[Rec], b: &[Rec], lo: i64, hi: i64) -> Vec<String> {
    let mut lines = Vec::new();
    for x in a {
        let before = lines.len();
        lines.extend(b.iter().filter(|y| y.0 == x.0 && (lo..=hi).contains(&(y.1 - x.1))).map(|y| pair(x, y)));
        if lines.len() == before {
            lines.push(format!("UNMATCHED {},{}", x.0, x.1));
        }
    }
    sorted(lines)
}

#[test]
fn an_interval_join_pairs_records_within_the_interval_and_reports_the_unmatched() {
    let (recs, paths) = inputs("interval-join");
    let expected = interval_join(&recs[0], &recs[1], -1000, 2000);
    assert!(expected.iter().filter(|l| l.starts_with("UNMATCHED")).count() > 20, "too few unmatched to test");
    assert!(expected.len() > 700, "too few pairs to test: {}", expected.len());
    for p in [1, 2] {
        let got = run(p, &paths, &["--mode", "interval", "--lower", "-1000", "--upper", "2000"]);
        assert_eq!(got, expected, "interval join at p={p}");
    }
    let exclusive = interval_join(&recs[0], &recs[1], -999, 1999);
    let args = ["--mode", "interval", "--lower", "-1000", "--upper", "2000", "--lower-exclusive", "--upper-exclusive"];
    assert_eq!(run(2, &paths, &args), exclusive, "interval join with exclusive bounds at p=2");
}

/// The Python library's interval join (`tests/guests/joins-python`) gives
/// the same pairs and unmatched records as the plain loop.
#[test]
fn a_python_interval_join_pairs_records_within_the_interval_and_reports_the_unmatched() {
    let (recs, paths) = inputs("python-interval-join");
    let expected = interval_join(&recs[0], &recs[1], -1000, 2000);
    for p in [1, 2] {
        let got = run_guest("joins-python", p, &paths, &["--lower", "-1000", "--upper", "2000"]);
        assert_eq!(got, expected, "Python interval join at p={p}");
    }
    let args = ["--lower", "-1000", "--upper", "2000", "--lower-exclusive", "--upper-exclusive"];
    let exclusive = interval_join(&recs[0], &recs[1], -999, 1999);
    assert_eq!(run_guest("joins-python", 2, &paths, &args), exclusive, "with exclusive bounds at p=2");
}

/// The windows `[start, start + size)` (starts on multiples of `slide`) holding `ts`.
fn windows(ts: i64, size: i64, slide: i64) -> Vec<i64> {
    let last = ts - ts.rem_euclid(slide);
    (0..).map(|i| last - i * slide).take_while(|start| ts < start + size).collect()
}

/// The window join by a plain loop over fixed windows: one line per pair and shared window.
pub(crate) fn fixed_window_join(a: &[Rec], b: &[Rec], size: i64, slide: i64) -> Vec<String> {
    let mut lines = Vec::new();
    for x in a {
        for y in b.iter().filter(|y| y.0 == x.0) {
            let shared = windows(y.1, size, slide);
            let n = windows(x.1, size, slide).iter().filter(|w| shared.contains(w)).count();
            lines.extend(std::iter::repeat_n(pair(x, y), n));
        }
    }
    sorted(lines)
}

/// The window join by a plain loop over sessions: per key, the records of
/// both inputs in time order; a record more than `gap` after the end of
/// the session so far (its last record's time plus `gap`) starts a new one.
pub(crate) fn session_join(a: &[Rec], b: &[Rec], gap: i64) -> Vec<String> {
    let mut by_key: BTreeMap<&str, Vec<(i64, bool, &Rec)>> = BTreeMap::new();
    a.iter().for_each(|r| by_key.entry(&r.0).or_default().push((r.1, true, r)));
    b.iter().for_each(|r| by_key.entry(&r.0).or_default().push((r.1, false, r)));
    let mut lines = Vec::new();
    for mut recs in by_key.into_values() {
        recs.sort_by_key(|r| r.0);
        let mut session: Vec<(i64, bool, &Rec)> = Vec::new();
        let mut flush = |session: &mut Vec<(i64, bool, &Rec)>| {
            for (_, _, x) in session.iter().filter(|r| r.1) {
                lines.extend(session.iter().filter(|r| !r.1).map(|(_, _, y)| pair(x, y)));
            }
            session.clear();
        };
        for r in recs {
            if session.last().is_some_and(|last| r.0 > last.0 + gap) {
                flush(&mut session);
            }
            session.push(r);
        }
        flush(&mut session);
    }
    sorted(lines)
}

fn assert_window_join(assigner: &str, expected: Vec<String>) {
    let (_, paths) = inputs(&format!("window-join-{assigner}"));
    assert!(expected.len() > 500, "too few {assigner} pairs to test: {}", expected.len());
    for p in [1, 2] {
        let got = run(p, &paths, &["--mode", "window", "--assigner", assigner]);
        assert_eq!(got.len(), expected.len(), "{assigner} window join at p={p}: number of pairs");
        assert_eq!(got, expected, "{assigner} window join at p={p}");
    }
}

#[test]
fn a_window_join_pairs_records_of_one_tumbling_window() {
    let (recs, _) = inputs("window-join-expected-tumbling");
    assert_window_join("tumbling", fixed_window_join(&recs[0], &recs[1], 10_000, 10_000));
}

#[test]
fn a_window_join_pairs_records_of_each_sliding_window_they_share() {
    let (recs, _) = inputs("window-join-expected-sliding");
    assert_window_join("sliding", fixed_window_join(&recs[0], &recs[1], 10_000, 5_000));
}

#[test]
fn a_window_join_pairs_records_of_one_session() {
    let (recs, _) = inputs("window-join-expected-session");
    let expected = session_join(&recs[0], &recs[1], 3_000);
    assert!(expected.len() < 600 * 400 / 10 / 2, "sessions too long to test: {}", expected.len());
    assert_window_join("session", expected);
}

/// Feeds `key,timestamp,amount` lines with timestamps rising by 100 ms per
/// line over 10 keys, 50 lines every 10 ms (5000 a second, well below what one subtask joins, so neither input runs ahead of the other), until the connection closes
/// or `stop` is set; counts the lines sent in `sent`.
fn feed(mut socket: TcpStream, offset: i64, sent: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    let mut i = 0i64;
    while !stop.load(Ordering::Relaxed) {
        let chunk: String = (i..i + 50).map(|n| format!("k{},{},{}\n", n % 10, n * 100 + offset, n % 7)).collect();
        if socket.write_all(chunk.as_bytes()).is_err() {
            return;
        }
        i += 50;
        sent.fetch_add(50, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn metric(answer: &serde_json::Value, id: &str) -> Option<f64> {
    answer.as_array()?.iter().find(|m| m["id"] == id)?["value"].as_str()?.parse().ok()
}

/// An endless interval join on a cluster, with checkpoints every 200 ms:
/// its checkpoints (the join's two buffers) after 25000 records are no
/// larger than after 5000, since the watermark drops what can meet
/// nothing more; kept records would grow them with the input. The
/// smallest of three late checkpoints is compared with the largest of
/// three early ones, as the inputs' sockets may run a little apart.
#[test]
fn an_interval_joins_state_stays_bounded_on_an_endless_stream() {
    let cluster = TestCluster::start("interval-join-bounded", 1, &["execution.checkpointing.interval=200 ms"]);
    let listeners = [TcpListener::bind("127.0.0.1:0").unwrap(), TcpListener::bind("127.0.0.1:0").unwrap()];
    let ports = listeners.each_ref().map(|l| l.local_addr().unwrap().port().to_string());
    let wasm = test_guest("joins").display().to_string();
    let args = [wasm.as_str(), "--mode", "interval-socket", "--port-a", &ports[0], "--port-b", &ports[1]];
    let job = crate::fault_tolerance::submit(&cluster, &args);
    let (sent, stop) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
    let sockets = listeners.each_ref().map(|listener| accept_within(listener, LIMIT));
    for (socket, offset) in sockets.into_iter().zip([0, 5]) {
        let (sent, stop) = (sent.clone(), stop.clone());
        std::thread::spawn(move || feed(socket, offset, sent, stop));
    }
    let path = format!("/jobs/{job}/metrics?get=numberOfCompletedCheckpoints,lastCheckpointSize");
    // The sizes of the three checkpoints completed next after `records` were sent.
    let sizes_after = |records: u64| -> Vec<f64> {
        wait_for(&format!("{records} records sent"), || (sent.load(Ordering::Relaxed) >= records).then_some(()));
        let mut done = metric(&cluster.get(&path), "numberOfCompletedCheckpoints").unwrap_or(0.0);
        (0..3)
            .map(|_| {
                wait_for("a checkpoint after them", || {
                    let answer = cluster.get(&path);
                    let completed = metric(&answer, "numberOfCompletedCheckpoints")?;
                    let size = metric(&answer, "lastCheckpointSize").filter(|_| completed > done)?;
                    done = completed;
                    Some(size)
                })
            })
            .collect()
    };
    let early = sizes_after(5_000);
    let late = sizes_after(25_000);
    stop.store(true, Ordering::Relaxed);
    let (early_max, late_min) =
        (early.iter().copied().fold(0.0, f64::max), late.iter().copied().fold(f64::MAX, f64::min));
    assert!(early_max > 0.0, "the join's checkpoints hold its buffers: {early:?}");
    assert!(
        late_min <= early_max,
        "the join's state grew with its input: {early:?} bytes after 5000 records, {late:?} after 25000"
    );
    assert_eq!(cluster.job_status(&job), "RUNNING");
}
