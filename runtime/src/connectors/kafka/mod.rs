//! The Kafka connector, on librdkafka (the `rdkafka` crate) through its
//! blocking `BaseConsumer` and `BaseProducer`: they are driven from the
//! task's own thread, and librdkafka runs its network I/O on threads of its
//! own, so no actor thread and no tokio runtime ever waits on a broker.
//!
//! - `source`: partitions dealt over the subtasks, offsets kept in wflink's
//!   checkpoints, bounded or unbounded, per-partition watermarks.
//! - `sink`: delivery `none`, `at-least-once` or `exactly-once`.
//! - `envelope`: a record with its metadata, as the job sees it.
//! - `transactions`: the exactly-once sink's two-phase commit, written
//!   against a small producer trait so it is tested without a broker.
//!
//! Options are checked at submit ([`validate_source`], [`validate_sink`]):
//! a bad value, an unreachable broker or a missing topic is one line there.

mod envelope;
mod sink;
mod source;
mod transactions;

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::metadata::Metadata;

pub(crate) use sink::KafkaSink;
pub(crate) use source::KafkaSource;

use super::ConnectorError;
use super::formats::{BadRecords, Format};
use crate::graph::Connector;

/// The connector's name in plans.
const NAME: &str = "kafka";

/// How long a metadata or offset request may take (`client.timeout.ms`).
const DEFAULT_CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a source looks for new partitions (`partition-discovery.interval.ms`).
const DEFAULT_DISCOVERY_INTERVAL: Duration = Duration::from_secs(10);

/// The options every Kafka source and sink shares.
#[derive(Debug, Clone)]
struct Common {
    /// `bootstrap.servers`.
    servers: String,
    /// `client.timeout.ms`: bounds metadata and offset requests.
    timeout: Duration,
    /// `properties.*`, passed to librdkafka without the prefix.
    properties: Vec<(String, String)>,
    /// Whether records carry their Kafka metadata (`metadata=true`).
    metadata: bool,
    /// The value's format (`format`, default `raw`).
    value_format: Format,
    /// The key's format (`key.format`, default `raw`).
    key_format: Format,
}

fn bad(problem: impl Into<String>) -> ConnectorError {
    ConnectorError::option(NAME, problem)
}

/// A broker's answer that went wrong, naming what was asked and of whom.
fn client_error(what: &str, servers: &str, error: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::Io { what: format!("kafka {what} at {servers}"), cause: std::io::Error::other(error.to_string()) }
}

fn flag(connector: &Connector, key: &str, default: bool) -> Result<bool, ConnectorError> {
    match connector.option(key) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(bad(format!("'{key}' must be true or false, not '{other}'"))),
    }
}

fn millis(connector: &Connector, key: &str) -> Result<Option<Duration>, ConnectorError> {
    connector
        .option(key)
        .map(|v| {
            v.parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| bad(format!("'{key}' must be a number of milliseconds, not '{v}'")))
        })
        .transpose()
}

impl Common {
    fn from_options(connector: &Connector) -> Result<Self, ConnectorError> {
        let servers = connector
            .option("bootstrap.servers")
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| bad("the option 'bootstrap.servers' is missing"))?
            .to_string();
        let properties = connector
            .options
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("properties.").map(|k| (k.to_string(), v.clone())))
            .collect();
        Ok(Common {
            servers,
            timeout: millis(connector, "client.timeout.ms")?.unwrap_or(DEFAULT_CLIENT_TIMEOUT),
            properties,
            metadata: flag(connector, "metadata", false)?,
            value_format: Format::from_options(connector, "", Format::Raw { bytes: false })?,
            key_format: Format::from_options(connector, "key.", Format::Raw { bytes: false })?,
        })
    }

    /// A librdkafka configuration with the servers, `extra` settings and
    /// then the user's `properties.*` (which win).
    fn client_config(&self, extra: &[(&str, String)]) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.servers);
        // librdkafka logs through its own callback; keep its chatter at warnings.
        config.set_log_level(rdkafka::config::RDKafkaLogLevel::Warning);
        for (key, value) in extra {
            config.set(*key, value);
        }
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        config
    }

    /// A consumer for metadata and offset look-ups (it never subscribes).
    fn lookup_consumer(&self, group: Option<&str>) -> Result<BaseConsumer, ConnectorError> {
        let mut extra = vec![("enable.auto.commit", "false".to_string())];
        if let Some(group) = group {
            extra.push(("group.id", group.to_string()));
        }
        self.client_config(&extra).create().map_err(|e| bad(format!("cannot create a Kafka client: {e}")))
    }

    /// The cluster's metadata for every topic, within the client timeout.
    fn metadata(&self, consumer: &BaseConsumer) -> Result<Metadata, ConnectorError> {
        consumer.fetch_metadata(None, self.timeout).map_err(|e| {
            client_error(
                "metadata request",
                &self.servers,
                format!(
                    "{e} (no answer within client.timeout.ms = {} ms; is the broker reachable?)",
                    self.timeout.as_millis()
                ),
            )
        })
    }
}

/// Which topics a source reads.
#[derive(Debug, Clone)]
enum Topics {
    /// These names (`topic=a,b`).
    Names(Vec<String>),
    /// Every topic whose whole name matches (`topic-pattern=...`).
    Pattern(regex::Regex),
}

impl Topics {
    fn from_options(connector: &Connector) -> Result<Self, ConnectorError> {
        match (connector.option("topic"), connector.option("topic-pattern")) {
            (Some(_), Some(_)) => Err(bad("give either 'topic' or 'topic-pattern', not both")),
            (Some(names), None) => {
                let names: Vec<String> =
                    names.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
                if names.is_empty() {
                    return Err(bad("the option 'topic' names no topic"));
                }
                Ok(Topics::Names(names))
            }
            (None, Some(pattern)) => regex::Regex::new(&format!("^(?:{pattern})$"))
                .map(Topics::Pattern)
                .map_err(|e| bad(format!("'topic-pattern' is not a valid regular expression: {e}"))),
            (None, None) => Err(bad("the option 'topic' (or 'topic-pattern') is missing")),
        }
    }

    /// The partitions of the matching topics in `metadata`, sorted; a
    /// named topic that does not exist is an error.
    fn partitions(&self, metadata: &Metadata, servers: &str) -> Result<Vec<(String, i32)>, ConnectorError> {
        let mut found = Vec::new();
        for topic in metadata.topics() {
            let wanted = match self {
                Topics::Names(names) => names.iter().any(|n| n == topic.name()),
                Topics::Pattern(pattern) => pattern.is_match(topic.name()) && !topic.name().starts_with("__"),
            };
            if wanted && topic.error().is_none() {
                found.extend(topic.partitions().iter().map(|p| (topic.name().to_string(), p.id())));
            }
        }
        if let Topics::Names(names) = self {
            for name in names {
                if !found.iter().any(|(t, _)| t == name) {
                    return Err(client_error("topic lookup", servers, format!("the topic '{name}' does not exist")));
                }
            }
        }
        found.sort();
        Ok(found)
    }
}

/// The subtask (of `parallelism`) that reads `partition` of `topic`: the
/// partitions of a topic go round-robin from a start that depends on the
/// topic's name (as Flink's `KafkaSourceEnumerator` deals them), so every
/// subtask computes the same owner without asking the others.
fn owner(topic: &str, partition: i32, parallelism: u32) -> u32 {
    let start = xxhash_rust::xxh3::xxh3_64(topic.as_bytes()) % parallelism as u64;
    ((start + partition.max(0) as u64) % parallelism as u64) as u32
}

/// Checks a source's options at submit, and that its broker answers and
/// its topics exist.
pub fn validate_source(connector: &Connector) -> Result<(), ConnectorError> {
    let options = source::SourceOptions::from_options(connector)?;
    let consumer = options.common.lookup_consumer(None)?;
    let metadata = options.common.metadata(&consumer)?;
    let partitions = options.topics.partitions(&metadata, &options.common.servers)?;
    if partitions.is_empty() && options.bounded {
        return Err(bad(
            "'topic-pattern' matches no topic, and a bounded source reads only the partitions there at start",
        ));
    }
    Ok(())
}

/// Checks a sink's options at submit, and that its broker answers and its
/// topic exists.
pub fn validate_sink(connector: &Connector) -> Result<(), ConnectorError> {
    let options = sink::SinkOptions::from_options(connector)?;
    let consumer = options.common.lookup_consumer(None)?;
    let metadata = options.common.metadata(&consumer)?;
    if let Some(topic) = &options.topic {
        Topics::Names(vec![topic.clone()]).partitions(&metadata, &options.common.servers)?;
    }
    Ok(())
}

/// The `bad-records` policy of a source.
fn bad_records(connector: &Connector) -> Result<BadRecords, ConnectorError> {
    BadRecords::from_options(connector)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_dealt_evenly_and_the_same_way_everywhere() {
        for parallelism in 1..5 {
            let mut load = vec![0; parallelism as usize];
            for partition in 0..8 {
                load[owner("words", partition, parallelism) as usize] += 1;
            }
            let (min, max) = (load.iter().min().unwrap(), load.iter().max().unwrap());
            assert!(max - min <= 1, "p={parallelism}: {load:?}");
        }
    }

    #[test]
    fn options_are_checked_with_one_clear_line() {
        let connector = |options: &[(&str, &str)]| Connector {
            name: "kafka".into(),
            options: options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        let err = |c: Connector| validate_source(&c).unwrap_err().to_string();
        assert!(err(connector(&[("topic", "t")])).contains("'bootstrap.servers' is missing"));
        assert!(err(connector(&[("bootstrap.servers", "x:1")])).contains("'topic' (or 'topic-pattern') is missing"));
        let start = connector(&[("bootstrap.servers", "x:1"), ("topic", "t"), ("starting-offsets", "newest")]);
        assert!(err(start).contains("unknown starting-offsets 'newest'"));
        let sink = connector(&[("bootstrap.servers", "x:1"), ("topic", "t"), ("delivery", "exactly-once")]);
        let sink_err = validate_sink(&sink).unwrap_err().to_string();
        assert!(sink_err.contains("transactional-id-prefix"), "{sink_err}");
    }
}
