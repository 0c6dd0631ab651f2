//! End-to-end: the host's key-by by field (Python `key_by()`, JavaScript
//! `keyBy()`: each word its own key, as the wordcount examples key their
//! words before the host's `count()`) partitions records by the same key a
//! key function returning the word gives. At parallelism 2 every word's
//! running counts come out of the one subtask that owns the key group of
//! the word's MessagePack encoding (the bytes `key_by(lambda w: w)` would
//! encode), and the counts are exact.

use std::collections::HashMap;
use std::time::Duration;

use crate::common::*;
use wflink::graph::partition::{key_group, subtask_for_key_group};
use wflink::guest_build::repo;

/// The first run compiles the component (tens of seconds on a busy machine).
const LIMIT: Duration = Duration::from_secs(300);
/// `pipeline.max-parallelism`'s default: the number of key groups.
const KEY_GROUPS: u32 = 128;
const PARALLELISM: u32 = 2;

fn assert_words_meet_where_their_key_belongs(example: &str) {
    let wasm = guest(repo::example(example));
    let dir = scratch(&format!("key-by-field-{example}"));
    let text = generate_text(5_000, 41);
    let input = dir.join("input.txt");
    std::fs::write(&input, &text).unwrap();
    let output = dir.join("out");
    let mut command = wflink();
    command.args(["run", "--local", "-p", &PARALLELISM.to_string()]).arg(&wasm);
    command.arg("--input").arg(&input).arg("--output").arg(&output);
    let result = run_with_limit(command, LIMIT);
    assert!(result.status.success(), "{example} failed: {}", String::from_utf8_lossy(&result.stderr));

    let mut all = String::new();
    let mut subtask_of: HashMap<String, u32> = HashMap::new();
    for subtask in 0..PARALLELISM {
        let part = std::fs::read_to_string(output.join(format!("part-{subtask}-0"))).unwrap();
        for word in final_counts(&part).0.into_keys() {
            let key = rmp_serde::to_vec(&word).unwrap();
            let owner = subtask_for_key_group(key_group(&key, KEY_GROUPS), PARALLELISM, KEY_GROUPS);
            assert_eq!(
                subtask, owner,
                "{example}: '{word}' was counted by subtask {subtask}, its key belongs to {owner}"
            );
            assert!(subtask_of.insert(word.clone(), subtask).is_none(), "{example}: '{word}' counted by both subtasks");
        }
        all.push_str(&part);
    }
    assert!(subtask_of.values().any(|&s| s == 0) && subtask_of.values().any(|&s| s == 1), "both subtasks count words");
    let (counts, updates) = final_counts(&all);
    let expected = expected_counts(&text);
    assert_eq!(counts, expected, "{example} at p={PARALLELISM}");
    assert_eq!(updates as u64, expected.values().sum::<u64>(), "one update per word");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Python's `key_by().count()`: each word is counted by the subtask its key's group belongs to.
#[test]
fn python_key_by_field_partitions_by_the_fields_encoding() {
    assert_words_meet_where_their_key_belongs("wordcount-python");
}

/// JavaScript's `keyBy().count()`: as Python's.
#[test]
fn javascript_key_by_field_partitions_by_the_fields_encoding() {
    assert_words_meet_where_their_key_belongs("wordcount-js");
}
