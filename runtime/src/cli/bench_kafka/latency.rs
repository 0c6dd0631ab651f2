//! End-to-end latency of a Kafka word count at a fixed rate: lines are
//! written at `rate` per second, each starting with a marker word
//! `m<microseconds since the epoch when it was sent>`; the marker's running
//! count comes out of the pipeline as a record of its own, so its latency is
//! the time it is read from the output topic minus the time in its name.
//! Warm-up lines (marker `x...`) are sent until one comes through, so the
//! pipeline's start-up is not measured.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

use super::broker::{Broker, send};

/// How long the pipeline may take to pass its first warm-up line.
const WARM_UP_LIMIT: Duration = Duration::from_secs(120);
/// How long after the last line was sent its marker may still come.
const DRAIN: Duration = Duration::from_secs(10);

/// The latencies measured in one run.
#[derive(Debug)]
pub(super) struct Latencies {
    /// Markers sent at the fixed rate.
    pub sent: u64,
    /// Their latencies, in µs, sorted.
    pub micros: Vec<u64>,
}

impl Latencies {
    /// The `q` quantile (0..=1), in ms.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.micros.is_empty() {
            return f64::NAN;
        }
        let index = ((self.micros.len() as f64 * q).ceil() as usize).clamp(1, self.micros.len()) - 1;
        self.micros[index] as f64 / 1000.0
    }
}

fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// Sends lines to `input` (round-robin over `partitions`) while a pipeline
/// writes counts to `output`: warm-up lines until `ready`, then `rate` lines
/// per second for `duration`. Returns how many timed lines it sent.
fn feed(
    broker: &Broker,
    input: &str,
    partitions: i32,
    rate: u64,
    duration: Duration,
    ready: &AtomicBool,
) -> anyhow::Result<u64> {
    let producer: BaseProducer = broker.config().set("linger.ms", "0").create()?;
    let filler = " the quick brown fox jumps over the lazy dog";
    let mut i = 0;
    let started = Instant::now();
    while !ready.load(Ordering::Relaxed) {
        anyhow::ensure!(started.elapsed() < WARM_UP_LIMIT, "the pipeline passed no line within {WARM_UP_LIMIT:?}");
        let line = format!("x{}{filler}", now_micros());
        send(&producer, BaseRecord::<(), str>::to(input).partition(i % partitions).payload(line.as_str()))?;
        i += 1;
        producer.poll(Duration::from_millis(100));
    }
    let lines = rate * duration.as_secs();
    let started = Instant::now();
    for n in 0..lines {
        let due = started + Duration::from_secs_f64(n as f64 / rate as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            producer.poll(wait);
        }
        let line = format!("m{}{filler}", now_micros());
        send(&producer, BaseRecord::<(), str>::to(input).partition(n as i32 % partitions).payload(line.as_str()))?;
    }
    producer.flush(DRAIN)?;
    Ok(lines)
}

/// Measures the pipeline that reads `input` and writes `output`, running
/// while this does (started before, stopped after by the caller). With
/// `output` the same as `input` and no pipeline it measures the broker
/// alone: a line from its producer to a consumer.
pub(super) fn measure(
    broker: &Broker,
    input: &str,
    partitions: i32,
    output: &str,
    output_partitions: i32,
    rate: u64,
    duration: Duration,
) -> anyhow::Result<Latencies> {
    let consumer: BaseConsumer = broker.consumer_config("bench-latency").create()?;
    let mut list = TopicPartitionList::new();
    for partition in 0..output_partitions {
        list.add_partition_offset(output, partition, Offset::Beginning)?;
    }
    consumer.assign(&list)?;
    let ready = AtomicBool::new(false);
    let expected = rate * duration.as_secs();
    std::thread::scope(|scope| {
        let feeder = scope.spawn(|| feed(broker, input, partitions, rate, duration, &ready));
        let mut micros = Vec::new();
        let mut drained_at = None;
        loop {
            if feeder.is_finished() && drained_at.is_none() {
                drained_at = Some(Instant::now() + DRAIN);
            }
            if drained_at.is_some_and(|at| Instant::now() >= at) {
                break;
            }
            let Some(Ok(message)) = consumer.poll(Duration::from_millis(10)) else { continue };
            let received = now_micros();
            // A count's key is its word; a line read straight from the input starts with its marker.
            let marker = message.key().or_else(|| message.payload().and_then(|p| p.split(|b| *b == b' ').next()));
            let Some(word) = marker.and_then(|k| std::str::from_utf8(k).ok()) else { continue };
            if let Some(sent) = word.strip_prefix('m').and_then(|t| t.parse::<u64>().ok()) {
                micros.push(received.saturating_sub(sent));
            } else if word.starts_with('x') {
                ready.store(true, Ordering::Relaxed);
            }
            if micros.len() as u64 >= expected {
                break;
            }
        }
        ready.store(true, Ordering::Relaxed);
        let sent = feeder.join().map_err(|_| anyhow::anyhow!("the latency feeder panicked"))??;
        micros.sort_unstable();
        Ok(Latencies { sent, micros })
    })
}
