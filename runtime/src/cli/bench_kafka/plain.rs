//! The baselines a Kafka bench measures wflink against, in plain Rust on
//! the same client (librdkafka): a consumer that only reads a topic (the
//! broker's own read rate), and the word count itself as one loop that
//! reads lines, counts words in a `HashMap` and writes each running count
//! back as `kafka-wordcount` writes it (`{"word": w, "count": n}`, keyed by
//! the word).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

use super::broker::{Broker, send};

/// How long a baseline waits for a record before it gives up.
const STALL: Duration = Duration::from_secs(60);

/// A consumer of every partition of `topic` from its start.
fn consumer(broker: &Broker, topic: &str, partitions: i32, group: &str) -> anyhow::Result<BaseConsumer> {
    let consumer: BaseConsumer = broker.consumer_config(group).create()?;
    let mut list = TopicPartitionList::new();
    for partition in 0..partitions {
        list.add_partition_offset(topic, partition, Offset::Beginning)?;
    }
    consumer.assign(&list)?;
    Ok(consumer)
}

/// Reads `records` records of `topic`; returns how long that took.
pub(super) fn consume(broker: &Broker, topic: &str, partitions: i32, records: u64) -> anyhow::Result<Duration> {
    let consumer = consumer(broker, topic, partitions, "bench-plain-consumer")?;
    let started = Instant::now();
    let mut read = 0;
    let mut last = Instant::now();
    while read < records {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(_)) => {
                read += 1;
                last = Instant::now();
            }
            Some(Err(e)) => tracing::debug!(error = %e, "bench consumer"),
            None => anyhow::ensure!(last.elapsed() < STALL, "the plain consumer read {read} of {records} records"),
        }
    }
    Ok(started.elapsed())
}

/// The word count as one plain loop over the client.
pub(super) struct PlainWordCount {
    consumer: BaseConsumer,
    producer: BaseProducer,
    output: String,
    counts: HashMap<String, i64>,
    /// Words counted (and counts written) so far.
    pub words: u64,
    /// Lines read so far.
    pub lines: u64,
}

impl PlainWordCount {
    /// Reads `input` (of `partitions` partitions) from its start, writes counts to `output`.
    pub fn new(broker: &Broker, input: &str, partitions: i32, output: &str) -> anyhow::Result<Self> {
        Ok(PlainWordCount {
            consumer: consumer(broker, input, partitions, "bench-plain-wordcount")?,
            producer: broker.config().set("linger.ms", "5").create()?,
            output: output.to_string(),
            counts: HashMap::new(),
            words: 0,
            lines: 0,
        })
    }

    /// Counts until `lines` lines were read, or `stop` is set; then waits for
    /// every count to be acknowledged.
    pub fn run(&mut self, lines: u64, stop: &AtomicBool) -> anyhow::Result<()> {
        let mut value = String::new();
        let mut last = Instant::now();
        while self.lines < lines && !stop.load(Ordering::Relaxed) {
            let message = match self.consumer.poll(Duration::from_millis(20)) {
                Some(Ok(message)) => message,
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "bench consumer");
                    continue;
                }
                None => {
                    self.producer.poll(Duration::ZERO);
                    anyhow::ensure!(
                        lines == u64::MAX || last.elapsed() < STALL,
                        "the plain word count read {} of {lines} lines",
                        self.lines
                    );
                    continue;
                }
            };
            last = Instant::now();
            self.lines += 1;
            let line = message.payload().map(String::from_utf8_lossy).unwrap_or_default();
            for token in line.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
                let word = token.to_ascii_lowercase();
                let count = match self.counts.get_mut(&word) {
                    Some(count) => {
                        *count += 1;
                        *count
                    }
                    None => {
                        self.counts.insert(word.clone(), 1);
                        1
                    }
                };
                value.clear();
                // Words are ASCII letters and digits: nothing to escape.
                let _ = write!(value, "{{\"word\":\"{word}\",\"count\":{count}}}");
                send(&self.producer, BaseRecord::to(&self.output).key(word.as_str()).payload(value.as_str()))?;
                self.words += 1;
            }
        }
        self.producer.flush(Duration::from_secs(600))?;
        Ok(())
    }
}
