//! End-to-end: the Rust wordcount example, built to a component, run by
//! the real `wflink` binary, counts words exactly at parallelism 1 and 2.

use std::time::Duration;

use crate::common::*;

const LIMIT: Duration = Duration::from_secs(120);

/// At parallelism 1 every count is exact and each word yields one update.
#[test]
fn counts_are_exact_at_parallelism_1() {
    assert_wordcount_is_exact(&wordcount_wasm(), 1, 50_000, LIMIT);
}

/// At parallelism 2 the key-by splits words over two subtasks and the
/// counts are still exact.
#[test]
fn counts_are_exact_at_parallelism_2() {
    assert_wordcount_is_exact(&wordcount_wasm(), 2, 50_000, LIMIT);
}

/// The print sink writes Flink's format: `N> (word,count)` with the
/// 1-based subtask at parallelism 2, no prefix at parallelism 1.
#[test]
fn print_sink_uses_flinks_format() {
    let dir = scratch("print");
    let input = dir.join("input.txt");
    std::fs::write(&input, "b a B\nc, a!\n").unwrap();
    for (parallelism, prefixed) in [(1, false), (2, true)] {
        let mut command = wflink();
        command.args(["run", "--local", "-p", &parallelism.to_string()]).arg(wordcount_wasm());
        command.arg("--input").arg(&input);
        let result = run_with_limit(command, LIMIT);
        assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
        let stdout = String::from_utf8(result.stdout).unwrap();
        for line in stdout.lines() {
            let has_prefix = line.starts_with("1> ") || line.starts_with("2> ");
            assert_eq!(has_prefix, prefixed, "p={parallelism}: {line:?}");
        }
        let (counts, updates) = final_counts(&stdout);
        assert_eq!(updates, 5);
        assert_eq!(counts, expected_counts("b a B\nc, a!\n"));
    }
}

/// `wflink info` prints the StreamGraph and the chained JobGraph.
#[test]
fn info_prints_the_chained_plan() {
    let mut command = wflink();
    command.args(["info", "-p", "2"]).arg(wordcount_wasm()).args(["--input", "/dev/null"]);
    let result = run_with_limit(command, LIMIT);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(plan["slotsNeeded"], 2);
    let vertices = plan["jobGraph"]["vertices"].as_array().unwrap();
    assert_eq!(vertices.len(), 2, "{plan:#}");
    assert_eq!(plan["jobGraph"]["edges"][0]["partitioning"], "HASH");
    assert_eq!(plan["streamGraph"]["job_name"], "wordcount");
    // `sum(1)` is the host's aggregation: the chain after the key-by runs no guest.
    let count = &plan["streamGraph"]["nodes"][3];
    assert_eq!((&count["kind"]["type"], &count["kind"]["function"]), (&"aggregate".into(), &"sum".into()), "{count}");
    assert_eq!(count["kind"]["field"]["position"], 1, "{count}");
    assert_eq!(vertices[1]["aggregation"]["aggregation"]["function"], "sum", "{plan:#}");
    assert_eq!(vertices[1]["user_nodes"], serde_json::json!([]), "{plan:#}");
}
