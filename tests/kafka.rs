//! The Kafka connector against a real broker (tansu, started per test on
//! a free port of 127.0.0.1): exact word counts from a topic with several
//! partitions at p=1 and p=2, a TaskManager killed mid-job (exactly-once
//! into files, at-least-once into Kafka), savepoints restored at another
//! parallelism, JSON and CSV records with bad ones failing or skipped, and
//! bad options refused with one line.

use std::collections::HashMap;
use std::time::Duration;

use crate::common::cluster::{DEADLINE, TestCluster, wait_for};
use crate::common::kafka::Broker;
use crate::common::*;
use crate::fault_tolerance::{assert_exact, committed, submit};
use serde_json::Value;

/// Writes `text` line by line round-robin over `partitions` partitions.
fn produce_lines(broker: &Broker, topic: &str, text: &str, partitions: i32) {
    let lines: Vec<&str> = text.lines().collect();
    let records: Vec<(i32, Option<&str>, &str)> =
        lines.iter().enumerate().map(|(i, line)| (i as i32 % partitions, None, *line)).collect();
    broker.produce(topic, &records);
}

/// The final count per word and the number of updates in an output topic
/// of `{"word": ..., "count": ...}` records.
fn counts_in_topic(broker: &Broker, topic: &str) -> (HashMap<String, u64>, usize) {
    let mut counts = HashMap::new();
    let values = broker.values(topic);
    for value in &values {
        let record: Value = serde_json::from_str(value).unwrap_or_else(|e| panic!("{value:?}: {e}"));
        let word = record["word"].as_str().unwrap().to_string();
        let count = record["count"].as_u64().unwrap();
        let best = counts.entry(word).or_insert(0);
        *best = (*best).max(count);
    }
    (counts, values.len())
}

/// How `counts` differs from `expected`, in one line: how many words are
/// missing, too low or too high, and the first few of them.
fn differences(counts: &HashMap<String, u64>, expected: &HashMap<String, u64>) -> String {
    let mut words: Vec<&String> = counts.keys().chain(expected.keys()).collect();
    words.sort();
    words.dedup();
    let wrong: Vec<(&String, u64, u64)> = words
        .into_iter()
        .map(|w| (w, counts.get(w).copied().unwrap_or(0), expected.get(w).copied().unwrap_or(0)))
        .filter(|(_, got, want)| got != want)
        .collect();
    let missing = wrong.iter().filter(|(_, got, _)| *got == 0).count();
    let low = wrong.iter().filter(|(_, got, want)| got < want).count() - missing;
    let high = wrong.iter().filter(|(_, got, want)| got > want).count();
    let first: Vec<String> = wrong.iter().take(8).map(|(w, got, want)| format!("{w}: {got} not {want}")).collect();
    format!("{missing} words missing, {low} too low, {high} too high of {} ({})", expected.len(), first.join(", "))
}

fn kafka_wordcount() -> std::path::PathBuf {
    example_wasm("kafka-wordcount")
}

/// A bounded job reads a 4-partition topic and writes running counts to
/// another topic: every count is exact and there is one update per word,
/// at p=1 and p=2; the updates of a word all land in one partition (keyed
/// by the word).
#[test]
fn bounded_word_count_from_a_topic_is_exact_at_p1_and_p2() {
    let broker = Broker::start("wordcount");
    broker.create_topic("lines", 4);
    let text = generate_text(40_000, 11);
    produce_lines(&broker, "lines", &text, 4);
    let expected = expected_counts(&text);
    for parallelism in [1, 2] {
        let output = format!("counts-p{parallelism}");
        broker.create_topic(&output, 3);
        let mut command = wflink();
        command.args(["run", "--local", "-p", &parallelism.to_string()]).arg(kafka_wordcount());
        command.args(["--brokers", &broker.address, "--input-topic", "lines", "--output-topic", &output]);
        command.args(["--delivery", "at-least-once", "--bounded", "--group", &format!("wc-{parallelism}")]);
        let run = run_with_limit(command, DEADLINE);
        assert!(run.status.success(), "p={parallelism}: {}", String::from_utf8_lossy(&run.stderr));
        let (counts, updates) = counts_in_topic(&broker, &output);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(counts == expected, "p={parallelism}: {}; the job said: {stderr}", differences(&counts, &expected));
        assert_eq!(updates as u64, expected.values().sum::<u64>(), "one update per word at p={parallelism}: {stderr}");
        let mut partition_of = HashMap::new();
        for (partition, records) in broker.read_all(&output) {
            for (_, key, value) in records {
                let word: Value = serde_json::from_str(&value).unwrap();
                assert_eq!(key.as_deref(), word["word"].as_str(), "keyed by the word");
                let seen = *partition_of.entry(key.unwrap()).or_insert(partition);
                assert_eq!(seen, partition, "a word's updates share a partition");
            }
        }
    }
}

/// Kills TaskManager 0 once a checkpoint completed while `job` runs, and
/// starts a replacement; waits for the job to finish.
fn kill_a_taskmanager_mid_job(cluster: &mut TestCluster, job: &str) {
    wait_for("a completed checkpoint while the job runs", || {
        assert_eq!(cluster.job_status(job), "RUNNING", "the job must still run when the TaskManager is killed");
        let stats = cluster.get(&format!("/jobs/{job}/checkpoints"));
        (stats["counts"]["completed"].as_u64().unwrap_or(0) >= 1).then_some(())
    });
    cluster.kill_taskmanager(0);
    cluster.add_taskmanager(&[]);
    cluster.wait_for_status(job, "FINISHED");
    let stats = cluster.get(&format!("/jobs/{job}/checkpoints"));
    assert!(stats["counts"]["restored"].as_u64().unwrap() >= 1, "the job restored a checkpoint: {stats}");
}

/// Kafka into the exactly-once file sink, p=2, a TaskManager killed with
/// SIGKILL mid-job: the offsets restored from the checkpoint resume
/// exactly, so the committed part files hold every update exactly once.
#[test]
fn a_killed_taskmanager_loses_and_duplicates_nothing_from_kafka_into_files() {
    let broker = Broker::start("kill-files");
    broker.create_topic("lines", 4);
    let text = generate_text(300_000, 5);
    produce_lines(&broker, "lines", &text, 4);
    let mut cluster = TestCluster::start_fault_tolerant("kafka-kill-files", 2, "1 s");
    let output = cluster.dir.join("out");
    let wasm = kafka_wordcount();
    let job = submit(
        &cluster,
        &[
            "-p",
            "2",
            wasm.to_str().unwrap(),
            "--brokers",
            &broker.address,
            "--input-topic",
            "lines",
            "--bounded",
            "--output",
            output.to_str().unwrap(),
        ],
    );
    kill_a_taskmanager_mid_job(&mut cluster, &job);
    assert_exact(&committed(&output), &expected_counts(&text));
}

/// Kafka into Kafka with the at-least-once sink, the same kill: nothing is
/// missing (the restored state is exact, so every word's last count is
/// exact; updates after the checkpoint may be written twice); completed
/// checkpoints committed the offsets to the consumer group, up to the end.
#[test]
fn a_killed_taskmanager_loses_nothing_from_kafka_into_kafka_at_least_once() {
    let broker = Broker::start("kill-kafka");
    broker.create_topic("lines", 4);
    broker.create_topic("counts", 2);
    let text = generate_text(300_000, 6);
    produce_lines(&broker, "lines", &text, 4);
    let mut cluster = TestCluster::start_fault_tolerant("kafka-kill-kafka", 2, "1 s");
    let wasm = kafka_wordcount();
    let job = submit(
        &cluster,
        &[
            "-p",
            "2",
            wasm.to_str().unwrap(),
            "--brokers",
            &broker.address,
            "--input-topic",
            "lines",
            "--bounded",
            "--output-topic",
            "counts",
            "--delivery",
            "at-least-once",
        ],
    );
    kill_a_taskmanager_mid_job(&mut cluster, &job);
    let (counts, updates) = counts_in_topic(&broker, "counts");
    let expected = expected_counts(&text);
    assert_eq!(counts, expected, "every word's last count is exact");
    assert!(updates as u64 >= expected.values().sum::<u64>(), "no update is missing");
    // Completed checkpoints commit the source's offsets to its group (for monitoring), the last one at the end.
    wait_for("the group's committed offsets at the end of every partition", || {
        let committed = broker.committed("kafka-wordcount", "lines");
        committed.iter().all(|(_, offset, end)| *offset == Some(*end)).then_some(())
    });
}

/// An unbounded job at `from` subtasks counts a first batch, is stopped
/// with a savepoint, and a bounded job restored from it at `to` subtasks
/// counts a second batch: the counts over both are exact (a record lost
/// or counted twice in the restored state would show in every later
/// count of its word).
fn savepoint_then_restore_at(from: u32, to: u32) {
    let name = format!("kafka-savepoint-{from}-{to}");
    let broker = Broker::start(&name);
    broker.create_topic("lines", 4);
    broker.create_topic("counts", 2);
    let mut cluster = TestCluster::start(&name, 0, &[]);
    cluster.add_taskmanager(&["taskmanager.numberOfTaskSlots=2"]);
    cluster.wait_for_taskmanagers(1);
    let first = generate_text(60_000, 21);
    produce_lines(&broker, "lines", &first, 4);
    let wasm = kafka_wordcount();
    let (wasm, brokers) = (wasm.to_str().unwrap(), broker.address.as_str());
    let common =
        ["--brokers", brokers, "--input-topic", "lines", "--output-topic", "counts", "--delivery", "at-least-once"];
    let mut args = vec!["-p".to_string(), from.to_string(), wasm.to_string()];
    args.extend(common.iter().map(|s| s.to_string()));
    let job = submit(&cluster, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let expected_first = expected_counts(&first);
    wait_for("the first batch counted", || (counts_in_topic(&broker, "counts").0 == expected_first).then_some(()));

    let savepoints = cluster.dir.join("savepoints");
    let mut command = wflink();
    command.args(["cancel", "-m", &cluster.rest, "--savepoint"]).arg(&savepoints).arg(&job);
    let run = run_with_limit(command, DEADLINE);
    assert!(run.status.success(), "cancel with savepoint: {}", String::from_utf8_lossy(&run.stderr));
    let stdout = String::from_utf8_lossy(&run.stdout);
    let path = stdout
        .lines()
        .find_map(|l| l.split_once("Savepoint stored in ").map(|(_, p)| p.trim().trim_end_matches('.')))
        .unwrap_or_else(|| panic!("the savepoint's path: {stdout}"));

    let second = generate_text(50_000, 22);
    produce_lines(&broker, "lines", &second, 4);
    let mut args = vec!["-s".to_string(), path.to_string(), "-p".to_string(), to.to_string(), wasm.to_string()];
    args.extend(common.iter().map(|s| s.to_string()));
    args.push("--bounded".into());
    let job = submit(&cluster, &args.iter().map(String::as_str).collect::<Vec<_>>());
    cluster.wait_for_status(&job, "FINISHED");
    let expected = expected_counts(&format!("{first}\n{second}"));
    let (counts, _) = counts_in_topic(&broker, "counts");
    assert_eq!(counts, expected, "p={from} -> p={to}: every count exact after the restore");
}

#[test]
fn a_savepoint_at_p2_restores_at_p1_with_exact_counts() {
    savepoint_then_restore_at(2, 1);
}

#[test]
fn a_savepoint_at_p1_restores_at_p2_with_exact_counts() {
    savepoint_then_restore_at(1, 2);
}

/// Runs the kafka-clicks test job with `args` and returns the run.
pub(crate) fn clicks(args: &[&str]) -> std::process::Output {
    let mut command = wflink();
    command.env("WFLINK_LOG", "info").args(["run", "--local", "-p", "2"]).arg(test_guest("kafka-clicks")).args(args);
    run_with_limit(command, DEADLINE)
}

/// The last total per user in a topic of `{"user", "clicks"}` JSON records.
pub(crate) fn totals(broker: &Broker, topic: &str) -> HashMap<String, i64> {
    let mut totals = HashMap::new();
    for value in broker.values(topic) {
        let total: Value = serde_json::from_str(&value).unwrap();
        let best = totals.entry(total["user"].as_str().unwrap().to_string()).or_insert(0);
        *best = (*best).max(total["clicks"].as_i64().unwrap());
    }
    totals
}

/// JSON and CSV records from Kafka into JSON totals; a malformed record
/// fails the job naming its topic, partition and offset, or, skipped, is
/// counted in the log and leaves the totals of the good ones.
#[test]
fn json_and_csv_records_are_read_and_bad_ones_fail_or_are_skipped() {
    let broker = Broker::start("formats");
    for topic in ["json", "csv", "bad", "totals-json", "totals-csv", "totals-skip", "totals-fail"] {
        broker.create_topic(topic, 2);
    }
    let expected: HashMap<String, i64> = [("u1".to_string(), 6), ("u2".to_string(), 5)].into();
    broker.produce(
        "json",
        &[
            (0, None, r#"{"user":"u1","clicks":1}"#),
            (1, None, r#"{"user":"u2","clicks":5}"#),
            (0, None, r#"{"clicks":5,"user":"u1"}"#),
        ],
    );
    broker.produce("csv", &[(0, None, "u1,1"), (1, None, "u2,5"), (1, None, "\"u1\",5")]);
    broker.produce(
        "bad",
        &[(0, None, r#"{"user":"u1","clicks":1}"#), (1, None, "{oops"), (1, None, r#"{"user":"u2","clicks":5}"#)],
    );

    let brokers = broker.address.as_str();
    for (format, topic, output) in [("json", "json", "totals-json"), ("csv", "csv", "totals-csv")] {
        let run = clicks(&["--brokers", brokers, "--topic", topic, "--format", format, "--output-topic", output]);
        assert!(run.status.success(), "{format}: {}", String::from_utf8_lossy(&run.stderr));
        assert_eq!(totals(&broker, output), expected, "{format}");
    }

    let run = clicks(&["--brokers", brokers, "--topic", "bad", "--format", "json", "--output-topic", "totals-fail"]);
    assert_clean_failure(&run, "bad record at topic 'bad' partition 1 offset 0: malformed JSON");

    let run = clicks(&[
        "--brokers",
        brokers,
        "--topic",
        "bad",
        "--format",
        "json",
        "--skip-bad-records",
        "--output-topic",
        "totals-skip",
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.lines().any(|l| l.contains("skipped bad records") && l.contains("total=1") && l.contains("offset 0")),
        "the skipped record is counted in the log: {stderr}"
    );
    assert_eq!(totals(&broker, "totals-skip"), [("u1".to_string(), 1), ("u2".to_string(), 5)].into());
}

/// Milliseconds since the epoch, as Kafka stamps a record it is sent.
fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Starting offsets against the real broker, in bounded mode: `earliest` reads every record, `latest` none of
/// those written before the job started, `timestamp:<ms>` only those stamped at or after that time.
#[test]
fn starting_offsets_earliest_latest_and_by_timestamp_read_what_they_say() {
    let broker = Broker::start("starting-offsets");
    for topic in ["clicks", "from-earliest", "from-latest", "from-time"] {
        broker.create_topic(topic, 2);
    }
    broker.produce("clicks", &[(0, None, r#"{"user":"u1","clicks":1}"#), (1, None, r#"{"user":"u2","clicks":2}"#)]);
    let since = now_ms();
    wait_for("the clock to pass the first records' time", || (now_ms() > since).then_some(()));
    broker.produce("clicks", &[(0, None, r#"{"user":"u1","clicks":10}"#), (1, None, r#"{"user":"u3","clicks":4}"#)]);
    let from = |start: &str, output: &str| {
        let args = ["--brokers", &broker.address, "--topic", "clicks", "--format", "json", "--start", start];
        let run = clicks(&[&args[..], &["--output-topic", output]].concat());
        assert!(run.status.success(), "{start}: {}", String::from_utf8_lossy(&run.stderr));
        totals(&broker, output)
    };
    let expected = |pairs: &[(&str, i64)]| -> HashMap<String, i64> {
        pairs.iter().map(|(user, clicks)| (user.to_string(), *clicks)).collect()
    };
    assert_eq!(from("earliest", "from-earliest"), expected(&[("u1", 11), ("u2", 2), ("u3", 4)]));
    assert_eq!(from("latest", "from-latest"), expected(&[]));
    assert_eq!(from(&format!("timestamp:{}", since + 1), "from-time"), expected(&[("u1", 10), ("u3", 4)]));
}

/// The same formats on files: JSON lines in, CSV with a header out; a
/// malformed line names its file and line.
#[test]
fn files_read_json_and_write_csv_and_a_bad_line_names_its_line() {
    let dir = scratch("file-formats");
    let input = dir.join("clicks.jsonl");
    std::fs::write(
        &input,
        "{\"user\":\"u1\",\"clicks\":2}\n{\"user\":\"u2\",\"clicks\":3}\n{\"user\":\"u1\",\"clicks\":4}\n",
    )
    .unwrap();
    let output = dir.join("out");
    let run = clicks(&["--input", input.to_str().unwrap(), "--format", "json", "--output", output.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let mut lines: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(&output).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut file_lines = text.lines();
        if let Some(header) = file_lines.next() {
            assert_eq!(header, "user,clicks", "each part file starts with the header");
        }
        lines.extend(file_lines.map(str::to_string));
    }
    lines.sort();
    // At p=2 the file is split between the two source subtasks, so u1's two records may arrive in either order:
    // its first running total is 2 or 4, its last 6.
    assert!(lines == ["u1,2", "u1,6", "u2,3"] || lines == ["u1,4", "u1,6", "u2,3"], "{lines:?}");

    let csv = dir.join("clicks.csv");
    std::fs::write(&csv, "user,clicks\nu1,2\nu2,3\n").unwrap();
    let out_csv = dir.join("out-csv");
    let run = clicks(&["--input", csv.to_str().unwrap(), "--format", "csv", "--output", out_csv.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    std::fs::write(&input, "{\"user\":\"u1\",\"clicks\":2}\n{\"user\":\"u2\",\"clicks\":3}\nnot json\n").unwrap();
    let run = clicks(&[
        "--input",
        input.to_str().unwrap(),
        "--format",
        "json",
        "--output",
        dir.join("out2").to_str().unwrap(),
    ]);
    assert_clean_failure(&run, &format!("bad record at file '{}' line 3: malformed JSON", input.display()));
}

/// Bad options get one clear line at submit: an unknown start mode, a
/// missing topic, a broker nobody answers at (within the client timeout,
/// naming the address).
#[test]
fn bad_kafka_options_are_refused_with_one_line() {
    let broker = Broker::start("bad-options");
    broker.create_topic("json", 1);
    broker.create_topic("out", 1);
    let brokers = broker.address.as_str();
    let run = clicks(&["--brokers", brokers, "--topic", "json", "--start", "newest", "--output-topic", "out"]);
    assert_clean_failure(&run, "unknown starting-offsets 'newest'");
    let run = clicks(&["--brokers", brokers, "--topic", "no-such-topic", "--output-topic", "out"]);
    assert_clean_failure(&run, "the topic 'no-such-topic' does not exist");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let started = std::time::Instant::now();
    let run =
        clicks(&["--brokers", &closed, "--topic", "json", "--client-timeout-ms", "2000", "--output-topic", "out"]);
    assert_clean_failure(&run, &closed);
    assert!(started.elapsed() < Duration::from_secs(30), "no hang: {:?}", started.elapsed());
}

/// The Python twin, `guest-examples/kafka-clicks-python`: JSON click events from a topic become JSON
/// counts per page and event-time minute in another topic, keyed by the page, equal to the counts computed here, at
/// p=1 and p=2.
#[test]
fn the_python_example_counts_clicks_per_page_and_minute_from_kafka() {
    let broker = Broker::start("clicks-python");
    // One partition: the job's watermark follows event time 5 s behind the newest click, so clicks of a second
    // partition read after the first one's later clicks would be late and dropped.
    broker.create_topic("clicks", 1);
    let pages = ["/home", "/cart", "/docs"];
    let mut expected: HashMap<(String, i64), i64> = HashMap::new();
    let events: Vec<String> = (0..600i64)
        .map(|i| {
            // In order per partition; three minutes and a bit of event time.
            let (page, ts) = (pages[(i * 7 % 5 % 3) as usize], i * 331);
            *expected.entry((page.to_string(), ts - ts % 60_000)).or_default() += 1;
            format!(r#"{{"user":"u{}","page":"{page}","ts":{ts}}}"#, i % 13)
        })
        .collect();
    let records: Vec<(i32, Option<&str>, &str)> = events.iter().map(|e| (0, None, e.as_str())).collect();
    broker.produce("clicks", &records);
    let wasm = example_wasm("kafka-clicks-python");
    for parallelism in [1, 2] {
        let output = format!("per-minute-p{parallelism}");
        broker.create_topic(&output, 2);
        let mut command = wflink();
        command.args(["run", "--local", "-p", &parallelism.to_string()]).arg(&wasm);
        command.args(["--brokers", &broker.address, "--output-topic", &output, "--bounded"]);
        let run = run_with_limit(command, DEADLINE);
        assert!(run.status.success(), "p={parallelism}: {}", String::from_utf8_lossy(&run.stderr));
        let mut counted: HashMap<(String, i64), i64> = HashMap::new();
        for (_, records) in broker.read_all(&output) {
            for (_, key, value) in records {
                let count: Value = serde_json::from_str(&value).unwrap_or_else(|e| panic!("{value:?}: {e}"));
                let page = count["page"].as_str().unwrap().to_string();
                assert_eq!(key.as_deref(), Some(page.as_str()), "keyed by the page: {value}");
                let minute = count["minute"].as_i64().unwrap();
                assert!(counted.insert((page, minute), count["clicks"].as_i64().unwrap()).is_none(), "twice: {value}");
            }
        }
        assert_eq!(counted, expected, "p={parallelism}");
        assert_eq!(python_clicks_into_files(&wasm, &broker, parallelism), expected, "files, p={parallelism}");
    }
}

/// Runs the Python clicks example from the `clicks` topic into part files
/// (`--output-dir`, checkpoints every 200 ms) and reads back its counts
/// per page and minute from the committed files.
fn python_clicks_into_files(wasm: &std::path::Path, broker: &Broker, parallelism: u32) -> HashMap<(String, i64), i64> {
    let output = scratch(&format!("clicks-python-files-p{parallelism}")).join("out");
    let mut command = wflink();
    command.args(["run", "--local", "-p", &parallelism.to_string(), "-D", "execution.checkpointing.interval=200 ms"]);
    command.arg(wasm).args(["--brokers", &broker.address, "--bounded", "--output-dir"]).arg(&output);
    let run = run_with_limit(command, DEADLINE);
    assert!(run.status.success(), "files, p={parallelism}: {}", String::from_utf8_lossy(&run.stderr));
    let mut counted = HashMap::new();
    for line in committed(&output).lines() {
        let count: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        let key = (count["page"].as_str().unwrap().to_string(), count["minute"].as_i64().unwrap());
        assert!(counted.insert(key, count["clicks"].as_i64().unwrap()).is_none(), "twice in the files: {line}");
    }
    counted
}
