//! Flink's keyed aggregations and the windows that are not per key and
//! time (`tests/guests/aggregations`), end to end at parallelism 1 and 2
//! on generated input (out of order in time), each checked against a
//! plain loop here: `sum`, `min`, `max`, `min_by`, `max_by` (run by the
//! host, and by the job's closures), a field that is not there, tumbling and sliding
//! count windows, and `window_all`, which runs at parallelism 1; and keyed
//! state with a time to live (values and list elements), fed through a
//! socket, and left out of savepoints once expired.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::*;
use crate::multi_input::{Rec, records, write_input};
use crate::socket_source::accept_within;

const LIMIT: Duration = Duration::from_secs(60);

/// Runs `--mode mode` locally at parallelism `p` on `input` with the
/// extra arguments `extra`, writing files beside it; returns every line
/// written, sorted.
fn run(mode: &str, p: u32, input: &Path, extra: &[&str]) -> Vec<String> {
    let out = input.with_file_name(format!("out-{mode}-{p}"));
    let mut command = wflink();
    command.args(["run", "--local", "-p", &p.to_string()]).arg(test_guest("aggregations"));
    command.args(["--mode", mode]).arg("--input").arg(input).args(extra).arg("--output").arg(&out);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{mode} at p={p} failed: {}", String::from_utf8_lossy(&output.stderr));
    let mut lines = String::new();
    for file in std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()) {
        if file.file_name().unwrap().to_string_lossy().starts_with("part-") {
            lines.push_str(&std::fs::read_to_string(file).unwrap());
        }
    }
    std::fs::remove_dir_all(&out).unwrap();
    sorted_lines(&lines)
}

pub(crate) fn line(r: &Rec) -> String {
    format!("{},{},{}", r.0, r.1, r.2)
}

/// A running fold per key in input order, one output line per record.
pub(crate) fn running(recs: &[Rec], mut f: impl FnMut(Rec, &Rec) -> Rec) -> Vec<String> {
    let mut current: HashMap<String, Rec> = HashMap::new();
    let mut lines: Vec<String> = recs
        .iter()
        .map(|r| {
            let next = match current.remove(&r.0) {
                Some(acc) => f(acc, r),
                None => r.clone(),
            };
            let out = line(&next);
            current.insert(r.0.clone(), next);
            out
        })
        .collect();
    lines.sort();
    lines
}

/// The host's `sum`/`min`/`max` change only the amount; `min_by`/`max_by`
/// keep the whole record, the earlier one on ties (amounts repeat often
/// here: 100 values over thousands of records per key). The job's own
/// closures (`sum_by`, `min_with`, …) give the same, and `sum` straight
/// into a sink (no function of the job after it) too.
#[test]
fn sum_min_max_min_by_and_max_by_follow_flinks_semantics() {
    let dir = scratch("aggregations-min-max");
    let recs = records(4000, 20, 37, 41);
    let input = write_input(&dir, "in", &recs);
    let sum = running(&recs, |acc, r| (acc.0, acc.1, acc.2 + r.2));
    let min = running(&recs, |acc, r| (acc.0, acc.1, acc.2.min(r.2)));
    let max = running(&recs, |acc, r| (acc.0, acc.1, acc.2.max(r.2)));
    let min_by = running(&recs, |acc, r| if r.2 < acc.2 { r.clone() } else { acc });
    let max_by = running(&recs, |acc, r| if r.2 > acc.2 { r.clone() } else { acc });
    let expected = [
        ("sum", &sum),
        ("min", &min),
        ("max", &max),
        ("min-by", &min_by),
        ("max-by", &max_by),
        ("sum-with", &sum),
        ("min-with", &min),
        ("max-with", &max),
        ("min-by-key", &min_by),
        ("max-by-key", &max_by),
    ];
    let tuples = sorted(sum.iter().map(|l| format!("({l})")).collect());
    for p in [1, 2] {
        for (mode, expected) in expected {
            assert_eq!(&run(mode, p, &input, &[]), expected, "{mode} at p={p}");
        }
        assert_eq!(run("sum-raw", p, &input, &[]), tuples, "sum into the sink at p={p}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A field the records lack, or one that is not a number, fails the job
/// with one line naming the node, the field and the record.
#[test]
fn a_bad_field_fails_the_job_naming_node_field_and_record() {
    let dir = scratch("aggregations-bad-field");
    let input = write_input(&dir, "in", &records(50, 5, 37, 44));
    for (mode, node, reason) in [
        ("sum-missing", "node 'Keyed Aggregation: SUM(3)' cannot aggregate field 3 of the record (k", "has 3 fields"),
        ("sum-text", "node 'Keyed Aggregation: SUM(0)' cannot aggregate field 0 of the record (k", "not a number"),
    ] {
        let mut command = wflink();
        command.args(["run", "--local", "-p", "2"]).arg(test_guest("aggregations")).args(["--mode", mode]);
        command.arg("--input").arg(&input).arg("--output").arg(dir.join("out"));
        let output = run_with_limit(command, LIMIT);
        assert_clean_failure(&output, node);
        assert!(String::from_utf8_lossy(&output.stderr).contains(reason), "{mode}: {output:?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Per key, in input order: every `slide` records, the last `size`.
pub(crate) fn count_windows(recs: &[Rec], size: usize, slide: usize) -> Vec<Vec<Rec>> {
    let mut per_key: HashMap<&str, (Vec<&Rec>, usize)> = HashMap::new();
    let mut windows = Vec::new();
    for r in recs {
        let (seen, since) = per_key.entry(&r.0).or_default();
        seen.push(r);
        *since += 1;
        if *since == slide {
            *since = 0;
            windows.push(seen[seen.len().saturating_sub(size)..].iter().map(|r| (*r).clone()).collect());
        }
    }
    windows
}

/// A tumbling count window reduces each key's records `size` at a time
/// (a key's leftover records never fire); a sliding one fires every
/// `slide` records with the last `size`, fewer at the start.
#[test]
fn count_windows_fire_per_key_every_n_records() {
    let dir = scratch("aggregations-count");
    let recs = records(4000, 20, 37, 42);
    let input = write_input(&dir, "in", &recs);
    let tumbling: Vec<String> = count_windows(&recs, 5, 5)
        .iter()
        .map(|w| line(&(w[0].0.clone(), w[0].1, w.iter().map(|r| r.2).sum())))
        .collect();
    let tumbling = sorted(tumbling);
    assert!(tumbling.len() > 700, "most records fall in a full window: {}", tumbling.len());
    for (size, slide) in [(3, 2), (2, 3), (4, 1)] {
        let expected = sorted(
            count_windows(&recs, size, slide)
                .iter()
                .map(|w| {
                    let amounts: Vec<String> = w.iter().map(|r| r.2.to_string()).collect();
                    format!("{}:{}", w[0].0, amounts.join(";"))
                })
                .collect(),
        );
        let (size, slide) = (size.to_string(), slide.to_string());
        for p in [1, 2] {
            let got = run("count-slide", p, &input, &["--size", &size, "--slide", &slide]);
            assert_eq!(got, expected, "size {size}, slide {slide} at p={p}");
        }
    }
    for p in [1, 2] {
        assert_eq!(run("count-sum", p, &input, &["--size", "5"]), tumbling, "tumbling at p={p}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

/// `window_all` gathers the records of every source subtask into one
/// window operator (parallelism 1 whatever the job's): one line per 10 s
/// window with the count and sum of all keys' records, none late.
#[test]
fn window_all_sees_the_whole_stream_at_parallelism_1() {
    let dir = scratch("aggregations-window-all");
    let recs = records(6000, 20, 23, 43);
    let input = write_input(&dir, "in", &recs);
    let expected = window_all_totals(&recs);
    for p in [1, 2] {
        assert_eq!(run("window-all", p, &input, &[]), expected, "at p={p}");
    }
    let mut command = wflink();
    command.args(["info", "-p", "2"]).arg(test_guest("aggregations"));
    command.args(["--mode", "window-all", "--input"]).arg(&input);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let vertices = plan["jobGraph"]["vertices"].as_array().unwrap();
    let window = vertices.iter().find(|v| v["name"].as_str().unwrap().starts_with("All Window")).expect("{plan}");
    assert_eq!(window["parallelism"], 1, "{plan}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// What the `window-all` modes print, by a plain loop: per 10 s window
/// of all records, `window_end,count,sum`, sorted.
pub(crate) fn window_all_totals(recs: &[Rec]) -> Vec<String> {
    let mut windows: BTreeMap<i64, (usize, i64)> = BTreeMap::new();
    for (_, ts, amount) in recs {
        let w = windows.entry(ts - ts.rem_euclid(10_000) + 9_999).or_default();
        w.0 += 1;
        w.1 += amount;
    }
    sorted(windows.iter().map(|(end, (n, sum))| format!("{end},{n},{sum}")).collect())
}

/// A `--mode` of the aggregations guest that reads words from a socket,
/// run locally: each word sent is answered by the line it prints.
struct WordsJob {
    child: std::process::Child,
    socket: std::net::TcpStream,
    lines: mpsc::Receiver<String>,
    p: u32,
}

impl WordsJob {
    fn start(mode: &str, p: u32, ttl: Duration) -> WordsJob {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let ttl_ms = ttl.as_millis().to_string();
        let mut child = wflink()
            .args(["run", "--local", "-p", &p.to_string()])
            .arg(test_guest("aggregations"))
            .args(["--mode", mode, "--port", &port, "--ttl-ms", &ttl_ms])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let socket = accept_within(&listener, LIMIT, &mut child);
        let (lines_tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if lines_tx.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        WordsJob { child, socket, lines, p }
    }

    /// Sends `word`, checks the line it prints ends with `expected`, and
    /// returns when that line came.
    fn send(&mut self, word: &str, expected: &str) -> Instant {
        self.socket.write_all(format!("{word}\n").as_bytes()).unwrap();
        let line = self.lines.recv_timeout(LIMIT).unwrap_or_else(|_| {
            let _ = self.child.kill();
            panic!("{word} was not counted within {LIMIT:?} at p={}", self.p)
        });
        assert!(line.ends_with(expected), "{line} at p={}, expected {expected}", self.p);
        Instant::now()
    }

    /// Closes the socket and waits for the job to succeed.
    fn finish(self) {
        drop(self.socket);
        let output = self.child.wait_with_output().unwrap();
        assert!(output.status.success(), "at p={}: {}", self.p, String::from_utf8_lossy(&output.stderr));
    }
}

/// Sleeps until `at` (the TTL tests wait out processing time itself).
fn sleep_until(at: Instant) {
    std::thread::sleep(at.saturating_duration_since(Instant::now()));
}

/// A count kept in a `ValueState` with a 3 s time to live (processing
/// time, on create and write): it goes on while a word comes again within
/// the TTL and starts again at 1 once the TTL has passed since the last
/// write, at p=1 and p=2.
#[test]
fn keyed_state_with_a_ttl_expires_by_processing_time() {
    const TTL: Duration = Duration::from_millis(3000);
    for p in [1, 2] {
        let mut job = WordsJob::start("ttl", p, TTL);
        job.send("a", "a,1");
        job.send("b", "b,1");
        job.send("a", "a,2");
        let last_write = job.send("a", "a,3");
        // The count of `a` was written before its line was printed, so it
        // has expired for any call that starts a TTL after the print.
        sleep_until(last_write + TTL + Duration::from_millis(100));
        job.send("a", "a,1");
        job.send("b", "b,1");
        job.send("a", "a,2");
        job.finish();
    }
}

/// Each element of a `ListState` with a 3 s time to live expires 3 s
/// after it was added, as in Flink: a list keeps the elements added
/// since, and one whose every element expired starts empty, at p=1 and p=2.
#[test]
fn each_element_of_a_list_state_with_a_ttl_expires_on_its_own() {
    const TTL: Duration = Duration::from_millis(3000);
    for p in [1, 2] {
        let mut job = WordsJob::start("ttl-list", p, TTL);
        let first = job.send("a", "a,1");
        job.send("b", "b,1");
        // The second `a` is added at least 2 s after the first, so it lives
        // at least until 5 s after the first's print.
        sleep_until(first + TTL * 2 / 3);
        job.send("a", "a,2");
        sleep_until(first + TTL + Duration::from_millis(100));
        job.send("a", "a,2");
        job.send("b", "b,1");
        job.finish();
    }
}

/// The bytes of every file of the savepoint at `path` (as the CLI prints it).
fn savepoint_bytes(path: &str) -> Vec<u8> {
    fn walk(dir: &Path, out: &mut Vec<u8>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            match path.is_dir() {
                true => walk(&path, out),
                false => out.extend(std::fs::read(&path).unwrap()),
            }
        }
    }
    let mut bytes = Vec::new();
    walk(Path::new(path.strip_prefix("file:").unwrap_or(path)), &mut bytes);
    bytes
}

/// Whether `bytes` hold the MessagePack encoding of the key `word`.
fn holds_key(bytes: &[u8], word: &str) -> bool {
    let key = rmp_serde::to_vec(word).unwrap();
    bytes.windows(key.len()).any(|w| w == key)
}

/// A savepoint leaves out keyed state whose time to live has passed
/// (Flink's cleanup in full snapshots): on a cluster, 200 words counted
/// with a 6 s TTL are all in a savepoint taken at once; after the TTL,
/// one more word is counted, and the next savepoint holds that word's
/// state and none of the expired words', which no record came to read.
#[test]
fn a_savepoint_leaves_out_keyed_state_whose_ttl_has_passed() {
    const TTL: Duration = Duration::from_millis(6000);
    let checkpoints = scratch("ttl-savepoint-checkpoints");
    let storage = format!("execution.checkpointing.dir={}", checkpoints.display());
    let mut cluster = crate::common::cluster::TestCluster::start("ttl-savepoint", 0, &[storage.as_str()]);
    cluster.add_taskmanager(&["taskmanager.numberOfTaskSlots=2"]);
    cluster.wait_for_taskmanagers(1);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let ttl_ms = TTL.as_millis().to_string();
    let mut command = wflink();
    command.args(["run", "-d", "-m", &cluster.rest, "-p", "2"]).arg(test_guest("aggregations"));
    command.args(["--mode", "ttl", "--port", &port, "--ttl-ms", &ttl_ms]);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let job = String::from_utf8_lossy(&output.stdout).trim().rsplit(' ').next().unwrap().to_string();
    let mut socket = crate::common::accept_within(&listener, LIMIT);
    let words: Vec<String> = (0..200).map(|i| format!("w-{i}")).collect();
    socket.write_all(words.iter().map(|w| format!("{w}\n")).collect::<String>().as_bytes()).unwrap();
    let printed = |line: &str| cluster.taskmanager_out(0).lines().any(|l| l.ends_with(line));
    let all_printed = || words.iter().all(|w| printed(&format!("{w},1")));
    crate::common::cluster::wait_for("every word counted", || all_printed().then_some(()));
    let last_write = Instant::now();
    let savepoint = |name: &str| {
        let mut command = wflink();
        command.args(["savepoint", "-m", &cluster.rest, &job]).arg(cluster.dir.join(name));
        let output = run_with_limit(command, LIMIT);
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{text} {}", String::from_utf8_lossy(&output.stderr));
        let path = text.lines().find_map(|l| l.strip_prefix("Savepoint completed. Path: ")).expect("a path");
        savepoint_bytes(path)
    };
    let before = savepoint("before");
    assert!(last_write.elapsed() < TTL, "the first savepoint came within the TTL: the test needs a larger one");
    assert!(words.iter().all(|w| holds_key(&before, w)), "every word's count is in the first savepoint");

    sleep_until(last_write + TTL + Duration::from_millis(200));
    socket.write_all(b"fresh\n").unwrap();
    crate::common::cluster::wait_for("the fresh word counted", || printed("fresh,1").then_some(()));
    let after = savepoint("after");
    assert!(holds_key(&after, "fresh"), "the live count is in the savepoint");
    let expired: Vec<&String> = words.iter().filter(|w| holds_key(&after, w)).collect();
    assert!(expired.is_empty(), "expired counts in the savepoint: {expired:?}");
    drop(socket);
    std::fs::remove_dir_all(checkpoints).unwrap();
}
