//! Several inputs in the Python and JavaScript libraries
//! (`tests/guests/multi-input-python`, `tests/guests/multi-input-js`,
//! twins of `tests/guests/multi-input`): `union`, then `connect` with a
//! CoMap, a CoFlatMap, a CoProcessFunction (side output, timestamps) and
//! a KeyedCoProcessFunction (keyed state and event timers shared by both
//! inputs), at parallelism 1 and 2 on generated, out-of-order input,
//! checked against plain loops here; and, on one input, the host's keyed
//! aggregations `sum`, `min`, `max`, `min_by`/`minBy` and `max_by`/`maxBy`
//! of a tuple's position and of a dict's or object's key, and the one-line
//! error of a record without the field.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use crate::aggregations::running;
use crate::common::*;
use crate::multi_input::{Rec, records, window_totals, write_input};

/// Compiling a Python or JavaScript component takes seconds.
const LIMIT: Duration = Duration::from_secs(180);

/// Runs `guest` in `mode` at parallelism `p` on `a` and `b`; returns every
/// line written, main and side output, sorted.
fn run(guest: &str, mode: &str, p: u32, a: &Path, b: &Path) -> Vec<String> {
    let out = a.with_file_name(format!("out-{mode}-{p}"));
    let mut command = wflink();
    command.args(["run", "--local", "-p", &p.to_string()]).arg(test_guest(guest)).args(["--mode", mode]);
    command.arg("--a").arg(a).arg("--b").arg(b).arg("--output").arg(&out);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{guest} {mode} at p={p}: {}", String::from_utf8_lossy(&output.stderr));
    let mut lines = String::new();
    for dir in [out.clone(), out.join("big")] {
        let files = std::fs::read_dir(&dir).into_iter().flatten().map(|e| e.unwrap().path());
        for file in files.filter(|f| f.file_name().unwrap().to_string_lossy().starts_with("part-")) {
            lines.push_str(&std::fs::read_to_string(file).unwrap());
        }
    }
    std::fs::remove_dir_all(&out).unwrap();
    sorted_lines(&lines)
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

/// Every mode of `guest` at p=1 and p=2 against what a loop computes.
fn assert_multi_input_modes(guest: &str) {
    let dir = scratch(guest);
    let (a, b): (Vec<Rec>, Vec<Rec>) = (records(1500, 20, 37, 51), records(1000, 20, 55, 52));
    let (a_path, b_path) = (write_input(&dir, "a", &a), write_input(&dir, "b", &b));
    let mut sums: HashMap<String, u64> = HashMap::new();
    for (key, _, amount) in a.iter().chain(&b) {
        *sums.entry(key.clone()).or_default() += *amount as u64;
    }
    let co_map = sorted(
        a.iter().map(|(k, _, n)| format!("A {k} {n}")).chain(b.iter().map(|(k, _, n)| format!("B {k} {n}"))).collect(),
    );
    let co_flat_map = sorted(
        a.iter()
            .flat_map(|(k, _, n)| (0..n % 3).map(move |i| format!("A {k} {i}")))
            .chain(b.iter().map(|(k, _, _)| format!("B {k}")))
            .collect(),
    );
    let routed = a.iter().map(|(k, _, n)| if *n > 50 { format!("BIG {k} {n}") } else { format!("A {k} {n}") });
    let co_process = sorted(routed.chain(b.iter().map(|(k, ts, _)| format!("B {k} {ts}"))).collect());
    let keyed = window_totals(&a, &b);
    let sum = running(&a, |acc, r| (acc.0, acc.1, acc.2 + r.2));
    let max_by = running(&a, |acc, r| if r.2 > acc.2 { r.clone() } else { acc });
    let aggregations = [
        ("sum", sum.clone()),
        ("sum-named", sum),
        ("max-by-named", max_by),
        ("min", running(&a, |acc, r| (acc.0, acc.1, acc.2.min(r.2)))),
        ("max", running(&a, |acc, r| (acc.0, acc.1, acc.2.max(r.2)))),
        ("min-by", running(&a, |acc, r| if r.2 < acc.2 { r.clone() } else { acc })),
        ("max-by", running(&a, |acc, r| if r.2 > acc.2 { r.clone() } else { acc })),
    ];
    for p in [1, 2] {
        let (got, updates) = final_counts(&run(guest, "union", p, &a_path, &b_path).join("\n"));
        assert_eq!(got, sums, "{guest}: union's final sums at p={p}");
        assert_eq!(updates, a.len() + b.len(), "{guest}: one update per record at p={p}");
        assert_eq!(run(guest, "co-map", p, &a_path, &b_path), co_map, "{guest}: co-map at p={p}");
        assert_eq!(run(guest, "co-flat-map", p, &a_path, &b_path), co_flat_map, "{guest}: co-flat-map at p={p}");
        assert_eq!(run(guest, "co-process", p, &a_path, &b_path), co_process, "{guest}: co-process at p={p}");
        assert_eq!(run(guest, "keyed", p, &a_path, &b_path), keyed, "{guest}: keyed co-process at p={p}");
        for (mode, expected) in &aggregations {
            assert_eq!(&run(guest, mode, p, &a_path, &b_path), expected, "{guest}: {mode} at p={p}");
        }
    }
    assert_missing_field_fails(guest, &a_path, &b_path);
    std::fs::remove_dir_all(dir).unwrap();
}

/// `sum(3)` of records with three fields fails the job with one line
/// naming the node, the field and the record.
fn assert_missing_field_fails(guest: &str, a: &Path, b: &Path) {
    let mut command = wflink();
    command.args(["run", "--local", "-p", "2"]).arg(test_guest(guest)).args(["--mode", "sum-missing"]);
    command.arg("--a").arg(a).arg("--b").arg(b).arg("--output").arg(a.with_file_name("out-sum-missing"));
    let output = run_with_limit(command, LIMIT);
    assert_clean_failure(&output, "node 'Keyed Aggregation: SUM(3)' cannot aggregate field 3 of the record (k");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the record has 3 fields"), "{guest}: {stderr}");
}

#[test]
fn python_union_connect_and_keyed_aggregations_match_plain_loops() {
    assert_multi_input_modes("multi-input-python");
}

#[test]
fn javascript_union_connect_and_keyed_aggregations_match_plain_loops() {
    assert_multi_input_modes("multi-input-js");
}
