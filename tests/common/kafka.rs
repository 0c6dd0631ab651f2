//! A real Kafka-protocol broker for the tests: `tansu` (installed by
//! `cargo xtask install` into `target/tools`), started with in-memory
//! storage on a free port of 127.0.0.1 and killed when dropped; and a
//! client (librdkafka, the same client wflink uses) to create topics,
//! write test input and read what a job wrote.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

use super::scratch;
use wflink::guest_build::repo;

/// How long the broker may take to answer after it starts.
const START_LIMIT: Duration = Duration::from_secs(30);
/// How long without a new record means a topic was read to its end.
const QUIET: Duration = Duration::from_secs(2);
/// How long a test client waits on the broker for one request.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The broker binary: `$WFLINK_TANSU`, else `target/tools/bin/tansu`.
pub fn tansu() -> PathBuf {
    let path = std::env::var_os("WFLINK_TANSU")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo::root().join("target").join("tools").join("bin").join("tansu"));
    assert!(path.is_file(), "no Kafka broker at {}: run `cargo xtask install` (it builds tansu there)", path.display());
    path
}

/// Every record of a topic by partition: `(offset, key, value)`.
pub type TopicRecords = BTreeMap<i32, Vec<(i64, Option<String>, String)>>;

/// A record written with its metadata by [`Broker::produce_with_metadata`].
pub struct RecordWithMetadata {
    pub key: String,
    pub value: String,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// Header names and values (`None`: a header without a value).
    pub headers: Vec<(String, Option<String>)>,
}

/// A running broker, killed on drop.
pub struct Broker {
    child: Child,
    /// `127.0.0.1:port`, the `bootstrap.servers` of jobs and clients.
    pub address: String,
    /// Its log.
    pub log: PathBuf,
}

impl Broker {
    /// Starts a broker and waits until it answers a metadata request.
    pub fn start(name: &str) -> Broker {
        let dir = scratch(&format!("broker-{name}"));
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let address = format!("127.0.0.1:{port}");
        let log = dir.join("tansu.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(tansu())
            .current_dir(&dir)
            .args(["broker", "--storage-engine", "memory://tansu/", "--cluster-id", "wflink-test"])
            .arg("--listener-url")
            .arg(format!("tcp://{address}"))
            .arg("--advertised-listener-url")
            .arg(format!("tcp://{address}"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("tansu starts");
        let mut broker = Broker { child, address, log };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = broker.child.try_wait() {
                panic!("the broker exited ({status}): {}", std::fs::read_to_string(&broker.log).unwrap_or_default());
            }
            let consumer: BaseConsumer = broker.config().create().unwrap();
            if consumer.fetch_metadata(None, Duration::from_millis(500)).is_ok() {
                return broker;
            }
            assert!(started.elapsed() < START_LIMIT, "the broker did not answer within {START_LIMIT:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A client configuration for this broker.
    pub fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.address);
        config.set_log_level(rdkafka::config::RDKafkaLogLevel::Error);
        config
    }

    /// Creates `topic` with `partitions` partitions.
    pub fn create_topic(&self, topic: &str, partitions: i32) {
        let admin: AdminClient<DefaultClientContext> = self.config().create().unwrap();
        let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
        let options = AdminOptions::new().operation_timeout(Some(TIMEOUT));
        let results = futures::executor::block_on(admin.create_topics([&new], &options)).expect("create topics");
        for result in results {
            result.unwrap_or_else(|(topic, e)| panic!("creating topic {topic}: {e}"));
        }
        // Wait until the metadata lists every partition.
        let consumer: BaseConsumer = self.config().create().unwrap();
        let started = Instant::now();
        loop {
            let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT).unwrap();
            if metadata.topics().iter().any(|t| t.name() == topic && t.partitions().len() == partitions as usize) {
                return;
            }
            assert!(started.elapsed() < TIMEOUT, "topic {topic} did not appear");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Writes `records` (`(partition, key, value)`) and waits for the
    /// acknowledgements. One record per batch: tansu 0.6.0 answers a
    /// ListOffsets for the latest offset with the last *batch*'s base
    /// offset plus one, so only then is a partition's end (where a bounded
    /// source stops) right.
    pub fn produce(&self, topic: &str, records: &[(i32, Option<&str>, &str)]) {
        let producer: BaseProducer =
            self.config().set("linger.ms", "0").set("batch.num.messages", "1").create().unwrap();
        for (partition, key, value) in records {
            let mut record = BaseRecord::to(topic).partition(*partition).payload(*value);
            if let Some(key) = key {
                record = record.key(*key);
            }
            let mut record = Some(record);
            while let Some(r) = record.take() {
                match producer.send(r) {
                    Ok(()) => {}
                    Err((KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull), r)) => {
                        producer.poll(Duration::from_millis(50));
                        record = Some(r);
                    }
                    Err((e, _)) => panic!("producing to {topic}: {e}"),
                }
            }
        }
        producer.flush(Duration::from_secs(180)).expect("the broker acknowledged every test record");
    }

    /// Writes one record with a key, a timestamp (ms) and headers to
    /// `partition` of `topic`, and waits for its acknowledgement.
    pub fn produce_with_metadata(&self, topic: &str, partition: i32, record: &RecordWithMetadata) {
        let producer: BaseProducer = self.config().set("linger.ms", "0").create().unwrap();
        let mut headers = OwnedHeaders::new();
        for (name, value) in &record.headers {
            headers = headers.insert(Header { key: name, value: value.as_deref() });
        }
        let message = BaseRecord::to(topic)
            .partition(partition)
            .key(&record.key)
            .payload(&record.value)
            .timestamp(record.timestamp)
            .headers(headers);
        producer.send(message).map_err(|(e, _)| e).unwrap_or_else(|e| panic!("producing to {topic}: {e}"));
        producer.flush(TIMEOUT).expect("the broker acknowledged the record");
    }

    /// Commits `offsets` (`(partition, next offset)`) of `topic` for `group`,
    /// as a consumer of that group would.
    pub fn commit(&self, group: &str, topic: &str, offsets: &[(i32, i64)]) {
        let consumer: BaseConsumer = self.config().set("group.id", group).create().unwrap();
        let mut list = TopicPartitionList::new();
        for &(partition, offset) in offsets {
            list.add_partition_offset(topic, partition, Offset::Offset(offset)).unwrap();
        }
        consumer.commit(&list, rdkafka::consumer::CommitMode::Sync).unwrap_or_else(|e| panic!("{group} {topic}: {e}"));
    }

    /// Every record of `topic` now, by partition: `(offset, key, value)`.
    /// Reads each partition at least to the end the broker reports, then
    /// until no record came for [`QUIET`]: tansu misreports the end of a
    /// partition written in batches (see [`Broker::produce`]) as the last
    /// batch's first offset plus one, so the rest of that batch, which
    /// comes in the same fetch, is waited for by the quiet time alone. The
    /// quiet time starts only once every reported end is reached, so a
    /// slow first fetch on a loaded machine does not end the read early.
    /// Errors the client recovers from (a dropped connection) are retried.
    pub fn read_all(&self, topic: &str) -> TopicRecords {
        let consumer: BaseConsumer = self
            .config()
            .set("enable.partition.eof", "false")
            .set("enable.auto.commit", "false")
            .set("group.id", "wflink-test-reader")
            .create()
            .unwrap();
        let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT).unwrap();
        let partitions: Vec<i32> = metadata.topics()[0].partitions().iter().map(|p| p.id()).collect();
        let mut list = TopicPartitionList::new();
        let mut ends = BTreeMap::new();
        for &p in &partitions {
            list.add_partition_offset(topic, p, Offset::Beginning).unwrap();
            let (_, end) = consumer.fetch_watermarks(topic, p, TIMEOUT).unwrap_or_else(|e| panic!("{topic}-{p}: {e}"));
            ends.insert(p, end);
        }
        let mut records: TopicRecords = partitions.iter().map(|&p| (p, Vec::new())).collect();
        consumer.assign(&list).unwrap();
        let started = Instant::now();
        let mut last = Instant::now();
        let mut last_error = None;
        let at_reported_ends = |records: &TopicRecords| {
            ends.iter().all(|(p, end)| records[p].last().map_or(0, |(offset, _, _)| offset + 1) >= *end)
        };
        while !(at_reported_ends(&records) && last.elapsed() >= QUIET) {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "could not read {topic} to its end {ends:?} (last error: {last_error:?}); read {:?}",
                records.iter().map(|(p, r)| (p, r.len())).collect::<Vec<_>>()
            );
            let Some(message) = consumer.poll(Duration::from_millis(100)) else { continue };
            let message = match message {
                Ok(message) => message,
                Err(e) => {
                    last_error = Some(e.to_string());
                    continue;
                }
            };
            last = Instant::now();
            let key = message.key().map(|k| String::from_utf8_lossy(k).into_owned());
            let value = message.payload().map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
            records.get_mut(&message.partition()).unwrap().push((message.offset(), key, value));
        }
        records
    }

    /// The offsets `group` has committed for the partitions of `topic`, and
    /// each partition's end as the broker reports it: `(partition, committed, end)`.
    pub fn committed(&self, group: &str, topic: &str) -> Vec<(i32, Option<i64>, i64)> {
        let consumer: BaseConsumer = self.config().set("group.id", group).create().unwrap();
        let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT).unwrap();
        let mut list = TopicPartitionList::new();
        for partition in metadata.topics()[0].partitions() {
            list.add_partition(topic, partition.id());
        }
        let committed = consumer.committed_offsets(list, TIMEOUT).unwrap_or_else(|e| panic!("{group} {topic}: {e}"));
        committed
            .elements()
            .iter()
            .map(|e| {
                let (_, end) = consumer.fetch_watermarks(topic, e.partition(), TIMEOUT).unwrap();
                let offset = match e.offset() {
                    Offset::Offset(offset) => Some(offset),
                    _ => None,
                };
                (e.partition(), offset, end)
            })
            .collect()
    }

    /// The values of every record of `topic`, in no particular order.
    pub fn values(&self, topic: &str) -> Vec<String> {
        self.read_all(topic).into_values().flatten().map(|(_, _, v)| v).collect()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
