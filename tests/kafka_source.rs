//! The Kafka source's features against a real broker (tansu, started per
//! test on a free port of 127.0.0.1): `starting-offsets=committed` with its
//! fallback, `metadata=true` giving the job each record's key, headers,
//! topic, partition, offset and timestamp, and partition discovery while an
//! unbounded job runs.

use std::collections::HashMap;

use crate::common::cluster::{DEADLINE, wait_for};
use crate::common::kafka::{Broker, RecordWithMetadata};
use crate::common::*;
use crate::kafka::{clicks, totals};
use serde_json::{Value, json};

/// A JSON click record of `user`.
fn click(user: &str, clicks: i64) -> String {
    json!({"user": user, "clicks": clicks}).to_string()
}

/// Totals from `pairs`.
fn expected(pairs: &[(&str, i64)]) -> HashMap<String, i64> {
    pairs.iter().map(|(user, clicks)| (user.to_string(), *clicks)).collect()
}

/// A group's committed offsets start a job where the group left off; the
/// partitions it has no offset for start at `committed.fallback`: latest
/// (nothing of partition 1) for a group that committed partition 0 only,
/// earliest (everything) for a group that committed nothing.
#[test]
fn committed_offsets_resume_where_the_group_left_off_and_the_fallback_starts_the_rest() {
    let broker = Broker::start("committed");
    broker.create_topic("clicks", 2);
    let (early, late, other) = (click("early", 1), click("late", 10), click("other", 5));
    let partition_0 = [&early, &early, &early, &late, &late].map(|v| (0, None, v.as_str()));
    let partition_1 = [&other, &other].map(|v| (1, None, v.as_str()));
    broker.produce("clicks", &partition_0);
    broker.produce("clicks", &partition_1);
    broker.commit("resumed", "clicks", &[(0, 3)]);
    assert_eq!(broker.committed("resumed", "clicks")[0].1, Some(3), "the group's offset is stored");
    let cases = [
        ("resumed", "latest", expected(&[("late", 20)])),
        ("fresh", "earliest", expected(&[("early", 3), ("late", 20), ("other", 10)])),
    ];
    for (group, fallback, want) in cases {
        let output = format!("totals-{group}");
        broker.create_topic(&output, 1);
        let run = clicks(&[
            "--brokers",
            &broker.address,
            "--topic",
            "clicks",
            "--start",
            "committed",
            "--group",
            group,
            "--fallback",
            fallback,
            "--output-topic",
            &output,
        ]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "group {group}: {stderr}");
        assert_eq!(totals(&broker, &output), want, "group {group}, fallback {fallback}: {stderr}");
    }
}

/// The records of the metadata test: `(partition, record)`, in the order written.
fn records_with_metadata() -> Vec<(i32, RecordWithMetadata)> {
    let header = |name: &str, value: Option<&str>| (name.to_string(), value.map(str::to_string));
    let record = |key: &str, value: &str, timestamp: i64, headers| RecordWithMetadata {
        key: key.into(),
        value: value.into(),
        timestamp,
        headers,
    };
    vec![
        (0, record("k-a", "first", 1_700_000_000_001, vec![header("trace", Some("t-1")), header("empty", None)])),
        (1, record("k-b", "second", 1_700_000_000_002, vec![header("trace", Some("t-2"))])),
        (0, record("k-c", "third", 1_600_000_000_000, Vec::new())),
    ]
}

/// With `metadata=true` each record reaches the job with its key, value,
/// headers, topic, partition, offset and timestamp, all as written.
#[test]
fn metadata_gives_the_job_each_records_key_headers_topic_partition_offset_and_timestamp() {
    let broker = Broker::start("metadata");
    broker.create_topic("events", 2);
    broker.create_topic("seen", 1);
    let written = records_with_metadata();
    for (partition, record) in &written {
        broker.produce_with_metadata("events", *partition, record);
    }
    let run = clicks(&["--brokers", &broker.address, "--topic", "events", "--metadata", "--output-topic", "seen"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let seen: Vec<Value> = broker
        .values("seen")
        .iter()
        .map(|v| serde_json::from_str(v).unwrap_or_else(|e| panic!("{v:?}: {e}")))
        .collect();
    if seen.len() != written.len() {
        let broker_log = std::fs::read_to_string(&broker.log).unwrap_or_default();
        panic!(
            "one output per record, {} of {}: {seen:?}\njob log:\n{stderr}\nbroker log:\n{broker_log}",
            seen.len(),
            written.len()
        );
    }
    let mut next_offset = HashMap::new();
    for (partition, record) in &written {
        let offset = next_offset.entry(*partition).or_insert(0i64);
        let got = seen.iter().find(|s| s["value"] == record.value.as_str());
        let got = got.unwrap_or_else(|| panic!("no output for {:?}: {seen:?}", record.value));
        assert_eq!(got["key"], record.key.as_str(), "key: {got}");
        assert_eq!(got["topic"], "events", "topic: {got}");
        assert_eq!(got["partition"], *partition, "partition: {got}");
        assert_eq!(got["offset"], *offset, "offset: {got}");
        assert_eq!(got["timestamp"], record.timestamp, "timestamp: {got}");
        let headers: Vec<Value> = record.headers.iter().map(|(name, value)| json!([name, value])).collect();
        assert_eq!(got["headers"], Value::Array(headers), "headers: {got}");
        *offset += 1;
    }
}

/// Waits until the totals in `topic` include `user` with `clicks`.
fn wait_for_total(broker: &Broker, topic: &str, user: &str, clicks: i64, job: &mut Running) {
    wait_for(&format!("{user}'s total {clicks} in {topic} (within {DEADLINE:?})"), || {
        if let Some(status) = job.child.try_wait().unwrap() {
            let stderr = job.child.stderr.take().map(std::io::read_to_string);
            panic!("the unbounded job exited ({status}): {stderr:?}");
        }
        (totals(broker, topic).get(user) == Some(&clicks)).then_some(())
    });
}

/// An unbounded job reading the topics matching a pattern finds, while it
/// runs, a topic created after it started, and reads its records from their
/// start. (tansu 0.6.0 cannot add partitions to a topic: CreatePartitions
/// answers UNSUPPORTED_FEATURE; a new topic's partitions are found by the
/// same discovery.)
#[test]
fn a_topic_created_while_an_unbounded_job_runs_is_read() {
    let broker = Broker::start("discovery");
    broker.create_topic("clicks-a", 1);
    broker.create_topic("totals", 1);
    broker.produce("clicks-a", &[(0, None, &click("a", 1))]);
    let mut command = wflink();
    command.args(["run", "--local", "-p", "2"]).arg(test_guest("kafka-clicks"));
    command.args(["--brokers", &broker.address, "--topic-pattern", "clicks-.*", "--unbounded"]);
    command.args(["--discovery-ms", "200", "--output-topic", "totals"]);
    let mut job = Running::start(command);
    wait_for_total(&broker, "totals", "a", 1, &mut job);

    // Two partitions: at p=2 each subtask discovers the one it owns.
    broker.create_topic("clicks-b", 2);
    broker.produce("clicks-b", &[(0, None, &click("b", 3)), (1, None, &click("b", 4))]);
    wait_for_total(&broker, "totals", "b", 7, &mut job);
}
