//! Several inputs in the Python and JavaScript libraries
//! (`tests/guests/union-python`, `tests/guests/union-js`): two files
//! merged with `union`, then a running sum per key, at parallelism 1 and
//! 2, checked against a plain loop here.

use std::collections::HashMap;
use std::time::Duration;

use crate::common::*;
use crate::multi_input::{records, write_input};

/// Compiling a Python or JavaScript component takes seconds.
const LIMIT: Duration = Duration::from_secs(180);

/// Runs the union job `guest` on two generated inputs at p=1 and p=2:
/// every record is summed once (the final sum per key) and each makes
/// one update.
fn assert_union_sums(guest: &str) {
    let dir = scratch(guest);
    let (a, b) = (records(1500, 20, 37, 51), records(1000, 20, 55, 52));
    let (a_path, b_path) = (write_input(&dir, "a", &a), write_input(&dir, "b", &b));
    let mut expected: HashMap<String, u64> = HashMap::new();
    for (key, _, amount) in a.iter().chain(&b) {
        *expected.entry(key.clone()).or_default() += *amount as u64;
    }
    let wasm = test_guest(guest);
    for p in [1, 2] {
        let out = dir.join(format!("out-{p}"));
        let mut command = wflink();
        command.args(["run", "--local", "-p", &p.to_string()]).arg(&wasm);
        command.arg("--a").arg(&a_path).arg("--b").arg(&b_path).arg("--output").arg(&out);
        let output = run_with_limit(command, LIMIT);
        assert!(output.status.success(), "{guest} at p={p}: {}", String::from_utf8_lossy(&output.stderr));
        let (sums, updates) = final_counts(&read_parts(&out));
        assert_eq!(sums, expected, "{guest}: final sums at p={p}");
        assert_eq!(updates, a.len() + b.len(), "{guest}: one update per record at p={p}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_python_union_sums_every_record_of_both_inputs_once() {
    assert_union_sums("union-python");
}

#[test]
fn a_javascript_union_sums_every_record_of_both_inputs_once() {
    assert_union_sums("union-js");
}
