//! Kafka sources and sinks, and the record formats of connectors.
//!
//! ```
//! use wflink_sdk::prelude::*;
//!
//! fn build(env: &mut StreamExecutionEnvironment, _: &Args) -> Result<(), JobError> {
//!     env.from_kafka::<String>(KafkaSource::new("localhost:9092", "lines").group_id("wordcount").bounded())
//!         .flat_map(|line: String, out: &mut Collector<(String, i64)>| {
//!             line.split_whitespace().for_each(|w| out.collect((w.to_lowercase(), 1)))
//!         })
//!         .key_by(|(word, _): &(String, i64)| word.clone())
//!         .sum_by(|pair| &mut pair.1)
//!         .sink_to_kafka(
//!             KafkaSink::new("localhost:9092", "counts")
//!                 .format(Format::Json)
//!                 .delivery(Delivery::ExactlyOnce)
//!                 .transactional_id_prefix("wordcount"),
//!         );
//!     Ok(())
//! }
//! # let plan = wflink_sdk::describe(build, &[]).unwrap();
//! # assert_eq!(plan.nodes.len(), 6, "source, tokenize, key-by, sum, named fields, sink");
//! ```
//!
//! Formats are applied in the host: a `json` object arrives as a map,
//! which rmp-serde reads into your `#[derive(Deserialize)]` struct by
//! field name; a sink with a format gets your values with their field
//! names (the SDK adds a node that encodes them so), so a struct is
//! written as a JSON object, or as the fields of a CSV line.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How a connector reads and writes records (the `format` option).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// The bytes as a UTF-8 string (`String`); invalid UTF-8 is replaced.
    Text,
    /// The bytes as they are (read them as `serde_bytes::ByteBuf`).
    Bytes,
    /// One JSON document per record.
    Json,
    /// One CSV line per record: fields as strings, in a `Vec<String>`, or
    /// by column name in a struct when the columns are known.
    Csv {
        /// Field separator.
        delimiter: char,
        /// Files: the first line names the columns (read), or is written.
        header: bool,
        /// The column names, for records without a header (Kafka).
        columns: Vec<String>,
    },
}

impl Format {
    /// CSV separated by commas, without a header or column names.
    pub fn csv() -> Format {
        Format::Csv { delimiter: ',', header: false, columns: Vec::new() }
    }

    /// Appends the options of this format under `prefix` (`""`, `"key."`).
    fn options(&self, prefix: &str, options: &mut Vec<(String, String)>) {
        let mut set = |k: &str, v: String| options.push((format!("{prefix}{k}"), v));
        match self {
            Format::Text => set("format", "raw".into()),
            Format::Bytes => {
                set("format", "raw".into());
                set("raw.encoding", "bytes".into());
            }
            Format::Json => set("format", "json".into()),
            Format::Csv { delimiter, header, columns } => {
                set("format", "csv".into());
                set("csv.delimiter", delimiter.to_string());
                set("csv.header", header.to_string());
                if !columns.is_empty() {
                    set("csv.columns", columns.join(","));
                }
            }
        }
    }
}

/// Where a Kafka source starts reading a partition its checkpoint does not cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingOffsets {
    /// The partition's first record (the default).
    Earliest,
    /// After its last record at start.
    Latest,
    /// The consumer group's committed offset, else the earliest.
    Committed,
    /// The first record at or after this time (ms since the epoch).
    Timestamp(i64),
}

/// Options of a Kafka source, for [`StreamExecutionEnvironment::from_kafka`](crate::StreamExecutionEnvironment::from_kafka).
#[derive(Debug, Clone)]
pub struct KafkaSource {
    pub(crate) options: Vec<(String, String)>,
}

impl KafkaSource {
    /// Reads `topics` (comma-separated) from the brokers `bootstrap_servers`.
    pub fn new(bootstrap_servers: impl Into<String>, topics: impl Into<String>) -> Self {
        KafkaSource {
            options: vec![("bootstrap.servers".into(), bootstrap_servers.into()), ("topic".into(), topics.into())],
        }
    }

    /// Reads every topic whose name matches the regular expression `pattern`.
    pub fn topic_pattern(bootstrap_servers: impl Into<String>, pattern: impl Into<String>) -> Self {
        let options =
            vec![("bootstrap.servers".into(), bootstrap_servers.into()), ("topic-pattern".into(), pattern.into())];
        KafkaSource { options }
    }

    /// Sets any option by name (see the README's table).
    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.push((key.into(), value.into()));
        self
    }

    /// Sets a librdkafka property (`properties.<key>`).
    pub fn property(self, key: &str, value: impl Into<String>) -> Self {
        self.option(format!("properties.{key}"), value)
    }

    /// The consumer group: offsets are committed to it when checkpoints
    /// complete (for monitoring), and `StartingOffsets::Committed` reads it.
    pub fn group_id(self, group: impl Into<String>) -> Self {
        self.option("group.id", group)
    }

    /// Where to start partitions the checkpoint does not cover.
    pub fn starting_offsets(self, start: StartingOffsets) -> Self {
        let value = match start {
            StartingOffsets::Earliest => "earliest".to_string(),
            StartingOffsets::Latest => "latest".to_string(),
            StartingOffsets::Committed => "committed".to_string(),
            StartingOffsets::Timestamp(ms) => format!("timestamp:{ms}"),
        };
        self.option("starting-offsets", value)
    }

    /// Stops at the offsets that are the partitions' ends when the job starts.
    pub fn bounded(self) -> Self {
        self.option("bounded", "true")
    }

    /// How values are read (default [`Format::Text`]).
    pub fn format(mut self, format: Format) -> Self {
        format.options("", &mut self.options);
        self
    }

    /// Records become [`KafkaRecord`]s with their key, topic, partition,
    /// offset, timestamp and headers.
    pub fn with_metadata(self) -> Self {
        self.option("metadata", "true")
    }

    /// Makes watermarks per partition, `max_out_of_orderness` behind each
    /// partition's highest timestamp; the source's watermark is the lowest
    /// of them, leaving out partitions idle for `idle_timeout`.
    pub fn watermarks(self, max_out_of_orderness: Duration, idle_timeout: Option<Duration>) -> Self {
        let source = self.option("watermark.max-out-of-orderness.ms", max_out_of_orderness.as_millis().to_string());
        match idle_timeout {
            Some(idle) => source.option("watermark.idle-timeout.ms", idle.as_millis().to_string()),
            None => source,
        }
    }

    /// Skips records the format cannot read instead of failing; the source counts them in its
    /// `numRecordsInErrors` metric and logs them at most every 10 s.
    pub fn skip_bad_records(self) -> Self {
        self.option("bad-records", "skip")
    }
}

/// A Kafka sink's delivery guarantee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Send and forget.
    None,
    /// Wait for the broker at each checkpoint (the default).
    AtLeastOnce,
    /// Kafka transactions committed with the checkpoints (needs a
    /// transactional id prefix and a broker with transactions).
    ExactlyOnce,
}

/// Options of a Kafka sink, for [`DataStream::sink_to_kafka`](crate::DataStream::sink_to_kafka).
#[derive(Debug, Clone)]
pub struct KafkaSink {
    pub(crate) options: Vec<(String, String)>,
}

impl KafkaSink {
    /// Writes to `topic` at `bootstrap_servers`.
    pub fn new(bootstrap_servers: impl Into<String>, topic: impl Into<String>) -> Self {
        KafkaSink {
            options: vec![("bootstrap.servers".into(), bootstrap_servers.into()), ("topic".into(), topic.into())],
        }
    }

    /// Sets any option by name (see the README's table).
    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.push((key.into(), value.into()));
        self
    }

    /// Sets a librdkafka property (`properties.<key>`).
    pub fn property(self, key: &str, value: impl Into<String>) -> Self {
        self.option(format!("properties.{key}"), value)
    }

    /// How values are written (default [`Format::Text`]: strings as they are, other values as text).
    pub fn format(mut self, format: Format) -> Self {
        format.options("", &mut self.options);
        self
    }

    /// The delivery guarantee.
    pub fn delivery(self, delivery: Delivery) -> Self {
        let value = match delivery {
            Delivery::None => "none",
            Delivery::AtLeastOnce => "at-least-once",
            Delivery::ExactlyOnce => "exactly-once",
        };
        self.option("delivery", value)
    }

    /// The prefix of the transactional ids (`<prefix>-<subtask>`), unique
    /// to this job on its Kafka cluster.
    pub fn transactional_id_prefix(self, prefix: impl Into<String>) -> Self {
        self.option("transactional-id-prefix", prefix)
    }

    /// Each value is a [`ProducerRecord`]: the job chooses key, topic,
    /// partition, timestamp and headers.
    pub fn with_metadata(self) -> Self {
        self.option("metadata", "true")
    }
}

/// A Kafka record with its metadata (a source `with_metadata`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KafkaRecord<V, K = String> {
    /// Its topic.
    pub topic: String,
    /// Its partition.
    pub partition: i32,
    /// Its offset in the partition.
    pub offset: i64,
    /// Its timestamp (ms), if it has one.
    pub timestamp: Option<i64>,
    /// Its key, read by the key format (text by default).
    pub key: Option<K>,
    /// Its value, read by the format.
    pub value: V,
    /// Its headers, values as UTF-8 text.
    pub headers: Vec<(String, Option<String>)>,
}

/// A record for a sink `with_metadata`: what is not set is chosen by the
/// sink (its topic; the partition by key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProducerRecord<V, K = String> {
    /// The value, written by the format.
    pub value: V,
    /// The key, written by the key format (text by default).
    pub key: Option<K>,
    /// The topic, instead of the sink's.
    pub topic: Option<String>,
    /// The partition, instead of the partitioner's (by key).
    pub partition: Option<i32>,
    /// The timestamp (ms), instead of the time of sending.
    pub timestamp: Option<i64>,
    /// Headers.
    pub headers: Vec<(String, String)>,
}

impl<V> ProducerRecord<V> {
    /// A record of `value` with the key `key`.
    pub fn keyed(key: impl Into<String>, value: V) -> Self {
        ProducerRecord {
            value,
            key: Some(key.into()),
            topic: None,
            partition: None,
            timestamp: None,
            headers: Vec::new(),
        }
    }
}

/// The options of a file source or sink with a format.
pub(crate) fn file_options(path: String, format: &Format) -> Vec<(String, String)> {
    let mut options = vec![("path".to_string(), path)];
    format.options("", &mut options);
    options
}

/// A file source with options beyond its path and format, for
/// [`StreamExecutionEnvironment::from_file`](crate::StreamExecutionEnvironment::from_file):
/// `FileSource::new("/data/clicks.jsonl", Format::Json).skip_bad_records()`.
#[derive(Debug, Clone)]
pub struct FileSource {
    pub(crate) options: Vec<(String, String)>,
}

impl FileSource {
    /// Reads the file or directory at `path` (on the TaskManager's machine) line by line with `format`.
    pub fn new(path: impl Into<String>, format: Format) -> Self {
        FileSource { options: file_options(path.into(), &format) }
    }

    /// Skips records the format cannot read instead of failing the job; the source counts them in its
    /// `numRecordsInErrors` metric and logs them at most every 10 s.
    pub fn skip_bad_records(self) -> Self {
        self.option("bad-records", "skip")
    }

    /// Sets any option by name (see the README's table).
    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.push((key.into(), value.into()));
        self
    }
}
