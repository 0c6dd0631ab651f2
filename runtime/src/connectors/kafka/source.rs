//! The Kafka source. Each subtask reads the partitions [`owner`] deals it,
//! assigned by hand (no consumer-group rebalancing): wflink, not the
//! group, decides who reads what, and its checkpoints hold the offsets.
//!
//! - Start: each partition starts at `starting-offsets` (`earliest`,
//!   `latest`, `committed` with a fallback, or `timestamp:<ms>`), resolved
//!   to a concrete offset when the subtask opens, so a checkpoint always
//!   records numbers.
//! - Bounded mode (`bounded=true`) stops each partition at the offset that
//!   was its end when the job first opened it; the source ends when every
//!   partition reached its stop.
//! - Checkpoints record each partition's next offset (and stop). A restore
//!   takes the union of every old subtask's partitions and deals them out
//!   again by [`owner`] over the new parallelism, so it resumes exactly
//!   where the checkpoint was, at any parallelism. Partitions found after
//!   the checkpoint start at their earliest offset.
//! - When a checkpoint completes, its offsets are committed to `group.id`
//!   (if set), for monitoring only: restores never read them.
//! - New partitions are looked for every `partition-discovery.interval.ms`
//!   (unbounded mode only).
//! - Each record's Kafka timestamp is its event time. With
//!   `watermark.max-out-of-orderness.ms` set, the source makes watermarks
//!   per partition and sends the minimum; a partition without records for
//!   `watermark.idle-timeout.ms`, or at its bounded end, does not hold it back.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};

use super::{Common, DEFAULT_DISCOVERY_INTERVAL, Topics, bad, client_error, flag, millis, owner};
use crate::checkpoint::CheckpointId;
use crate::connectors::ConnectorError;
use crate::connectors::formats::{BadRecords, Decoder, SkipLog};
use crate::connectors::sources::{SourceReader, SourceStatus, SourceWatermark, batch_full};
use crate::graph::Connector;
use crate::network::Batch;
use crate::time::NO_WATERMARK;

/// How long one poll waits for a record when none is buffered.
const POLL: Duration = Duration::from_millis(50);
/// At most this much of the broker's data is prefetched per subtask
/// (`queued.max.messages.kbytes`), and fetched per request.
const PREFETCH_KBYTES: u32 = 16 * 1024;
const FETCH_MAX_BYTES: u32 = 16 * 1024 * 1024;
/// Checkpoints whose offsets wait for completion before being committed.
const MAX_PENDING_COMMITS: usize = 16;

/// Where a source starts reading a partition it has no checkpoint for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    Earliest,
    Latest,
    /// The group's committed offset, else the fallback (`true`: latest).
    Committed {
        latest_fallback: bool,
    },
    /// The first offset whose timestamp is at or after this (ms).
    Timestamp(i64),
}

/// A source's options.
#[derive(Debug, Clone)]
pub(super) struct SourceOptions {
    pub common: super::Common,
    pub topics: Topics,
    group: Option<String>,
    start: Start,
    pub bounded: bool,
    discovery: Option<Duration>,
    commit_offsets: bool,
    out_of_orderness: Option<i64>,
    idle_timeout: Option<Duration>,
    bad_records: BadRecords,
}

impl SourceOptions {
    pub(super) fn from_options(connector: &Connector) -> Result<Self, ConnectorError> {
        let common = Common::from_options(connector)?;
        let topics = Topics::from_options(connector)?;
        let group = connector.option("group.id").map(str::to_string);
        let latest_fallback = match connector.option("committed.fallback") {
            None | Some("earliest") => false,
            Some("latest") => true,
            Some(other) => return Err(bad(format!("unknown committed.fallback '{other}' (known: earliest, latest)"))),
        };
        let start = match connector.option("starting-offsets") {
            None | Some("earliest") => Start::Earliest,
            Some("latest") => Start::Latest,
            Some("committed") if group.is_none() => {
                return Err(bad("starting-offsets=committed needs a 'group.id' whose offsets to read"));
            }
            Some("committed") => Start::Committed { latest_fallback },
            Some(other) => match other.strip_prefix("timestamp:").map(str::parse::<i64>) {
                Some(Ok(ms)) if ms >= 0 => Start::Timestamp(ms),
                _ => {
                    return Err(bad(format!(
                        "unknown starting-offsets '{other}' (known: earliest, latest, committed, timestamp:<ms since the epoch>)"
                    )));
                }
            },
        };
        let discovery = millis(connector, "partition-discovery.interval.ms")?.unwrap_or(DEFAULT_DISCOVERY_INTERVAL);
        Ok(SourceOptions {
            commit_offsets: flag(connector, "commit-offsets-on-checkpoint", true)? && group.is_some(),
            group,
            start,
            bounded: flag(connector, "bounded", false)?,
            discovery: (!discovery.is_zero()).then_some(discovery),
            out_of_orderness: millis(connector, "watermark.max-out-of-orderness.ms")?.map(|d| d.as_millis() as i64),
            idle_timeout: millis(connector, "watermark.idle-timeout.ms")?,
            bad_records: super::bad_records(connector)?,
            common,
            topics,
        })
    }
}

/// One partition's position, as checkpointed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PartitionState {
    topic: String,
    partition: i32,
    /// The offset of the next record to read.
    next: i64,
    /// Bounded mode: the offset to stop at (exclusive).
    stop: Option<i64>,
}

/// What a Kafka source subtask checkpoints.
#[derive(Debug, Default, Serialize, Deserialize)]
struct KafkaSourceState {
    partitions: Vec<PartitionState>,
}

/// A partition this subtask reads.
#[derive(Debug)]
struct Assigned {
    state: PartitionState,
    /// Reached its bounded stop.
    done: bool,
    /// Highest record timestamp seen.
    max_timestamp: i64,
    /// When its last record came.
    last_record: Instant,
}

impl Assigned {
    fn new(state: PartitionState) -> Self {
        let done = state.stop.is_some_and(|stop| state.next >= stop);
        Assigned { state, done, max_timestamp: NO_WATERMARK, last_record: Instant::now() }
    }
}

/// The source's client context. librdkafka reports each end of a partition
/// (`enable.partition.eof`, bounded mode) as an error event, which rdkafka
/// would also log as a client error; the source expects it and handles it
/// in its poll, so only the other errors are logged.
struct SourceContext;

impl ClientContext for SourceContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() != Some(RDKafkaErrorCode::PartitionEOF) {
            tracing::error!(error = %error, reason, "kafka source client error");
        }
    }
}

impl ConsumerContext for SourceContext {}

/// One subtask's Kafka reader.
pub(crate) struct KafkaSource {
    options: SourceOptions,
    consumer: BaseConsumer<SourceContext>,
    index: u32,
    parallelism: u32,
    /// The partitions read, by (topic, partition).
    partitions: BTreeMap<(String, i32), Assigned>,
    /// Partitions of the restored checkpoint not read yet.
    restored: BTreeMap<(String, i32), PartitionState>,
    /// The job restored a checkpoint: partitions it lacks are new since, read from their start.
    from_checkpoint: bool,
    records: Records,
    next_discovery: Option<Instant>,
    /// Offsets snapshotted per checkpoint, committed to the group on completion.
    pending_commits: VecDeque<(CheckpointId, TopicPartitionList)>,
}

impl KafkaSource {
    /// Opens subtask `index` of `parallelism`, from `restored` (the states
    /// of every old subtask) or from the starting offsets.
    pub(crate) fn open(
        connector: &Connector,
        index: u32,
        parallelism: u32,
        restored: &[Vec<u8>],
    ) -> Result<Self, ConnectorError> {
        let options = SourceOptions::from_options(connector)?;
        let common = &options.common;
        let mut extra = vec![
            ("enable.auto.commit", "false".to_string()),
            ("enable.auto.offset.store", "false".to_string()),
            ("enable.partition.eof", options.bounded.to_string()),
            ("auto.offset.reset", "earliest".to_string()),
            ("queued.max.messages.kbytes", PREFETCH_KBYTES.to_string()),
            ("fetch.max.bytes", FETCH_MAX_BYTES.to_string()),
            ("client.id", format!("wflink-source-{index}")),
        ];
        // librdkafka's consumer needs a group even to assign partitions by
        // hand; without `group.id` nothing is ever committed to this one.
        let group = options.group.clone().unwrap_or_else(|| "wflink-kafka-source".to_string());
        extra.push(("group.id", group));
        let consumer = common
            .client_config(&extra)
            .create_with_context(SourceContext)
            .map_err(|e| bad(format!("cannot create a Kafka consumer: {e}")))?;
        let mut restored_partitions = BTreeMap::new();
        for state in restored {
            let state: KafkaSourceState = rmp_serde::from_slice(state)
                .map_err(|e| bad(format!("the checkpointed source position is unreadable: {e}")))?;
            for p in state.partitions {
                if owner(&p.topic, p.partition, parallelism) == index {
                    restored_partitions.insert((p.topic.clone(), p.partition), p);
                }
            }
        }
        let records = Records {
            metadata: common.metadata,
            decoder: Decoder::new(common.value_format.clone()),
            key_decoder: Decoder::new(common.key_format.clone()),
            bad: options.bad_records,
            skips: SkipLog::new(format!("kafka source {}/{parallelism}", index + 1)),
        };
        let mut source = KafkaSource {
            records,
            next_discovery: None,
            options,
            consumer,
            index,
            parallelism,
            partitions: BTreeMap::new(),
            restored: restored_partitions,
            from_checkpoint: !restored.is_empty(),
            pending_commits: VecDeque::new(),
        };
        source.discover(source.options.common.timeout)?;
        Ok(source)
    }

    /// Looks up the topics' partitions and starts reading the ones of this
    /// subtask it does not read yet.
    fn discover(&mut self, timeout: Duration) -> Result<(), ConnectorError> {
        let common = &self.options.common;
        let metadata = self.consumer.fetch_metadata(None, timeout).map_err(|e| {
            client_error(
                "metadata request",
                &common.servers,
                format!("{e} (within client.timeout.ms = {} ms)", timeout.as_millis()),
            )
        })?;
        let found = self.options.topics.partitions(&metadata, &common.servers)?;
        let mut added = Vec::new();
        for (topic, partition) in found {
            let key = (topic.clone(), partition);
            if owner(&topic, partition, self.parallelism) != self.index || self.partitions.contains_key(&key) {
                continue;
            }
            let state = match self.restored.remove(&key) {
                // An unbounded run's checkpoint restored as bounded: stop at today's end.
                Some(mut state) if self.options.bounded && state.stop.is_none() => {
                    state.stop = Some(self.resolve(&topic, partition, Start::Latest)?.next);
                    state
                }
                Some(state) => state,
                // Not in the checkpoint: new since, so read from its start.
                None if self.from_checkpoint || self.next_discovery.is_some() => {
                    self.resolve(&topic, partition, Start::Earliest)?
                }
                None => self.resolve(&topic, partition, self.options.start)?,
            };
            added.push(state);
        }
        // Partitions of the checkpoint the metadata did not list (yet) are kept as they were.
        for (_, mut state) in std::mem::take(&mut self.restored) {
            if self.options.bounded && state.stop.is_none() {
                state.stop = Some(state.next);
            }
            added.push(state);
        }
        if !added.is_empty() {
            tracing::info!(
                subtask = self.index,
                partitions = ?added.iter().map(|p| format!("{}-{}@{}", p.topic, p.partition, p.next)).collect::<Vec<_>>(),
                "kafka source reads these partitions from these offsets"
            );
            for state in added {
                self.partitions.insert((state.topic.clone(), state.partition), Assigned::new(state));
            }
            self.assign()?;
        }
        self.next_discovery = self.options.discovery.filter(|_| !self.options.bounded).map(|d| Instant::now() + d);
        Ok(())
    }

    /// The concrete start (and, bounded, stop) offsets of a partition read afresh.
    fn resolve(&self, topic: &str, partition: i32, start: Start) -> Result<PartitionState, ConnectorError> {
        let common = &self.options.common;
        let timeout = common.timeout;
        let error =
            |what: &str, e: KafkaError| client_error(what, &common.servers, format!("{topic}-{partition}: {e}"));
        let (low, high) =
            self.consumer.fetch_watermarks(topic, partition, timeout).map_err(|e| error("offset lookup", e))?;
        let next = match start {
            Start::Earliest => low,
            Start::Latest => high,
            Start::Timestamp(ms) => {
                let mut list = TopicPartitionList::new();
                list.add_partition_offset(topic, partition, Offset::Offset(ms))
                    .map_err(|e| error("offset lookup", e))?;
                let found =
                    self.consumer.offsets_for_times(list, timeout).map_err(|e| error("offset-by-time lookup", e))?;
                match found.find_partition(topic, partition).map(|p| p.offset()) {
                    Some(Offset::Offset(offset)) => offset,
                    _ => high,
                }
            }
            Start::Committed { latest_fallback } => {
                let mut list = TopicPartitionList::new();
                list.add_partition(topic, partition);
                let found =
                    self.consumer.committed_offsets(list, timeout).map_err(|e| error("committed offset lookup", e))?;
                match found.find_partition(topic, partition).map(|p| p.offset()) {
                    Some(Offset::Offset(offset)) if offset >= low => offset,
                    _ if latest_fallback => high,
                    _ => low,
                }
            }
        };
        let stop = self.options.bounded.then_some(high);
        Ok(PartitionState { topic: topic.to_string(), partition, next: next.clamp(low, high.max(low)), stop })
    }

    /// Assigns the partitions not done yet, each at its next offset.
    fn assign(&mut self) -> Result<(), ConnectorError> {
        let mut list = TopicPartitionList::new();
        for assigned in self.partitions.values().filter(|a| !a.done) {
            let state = &assigned.state;
            list.add_partition_offset(&state.topic, state.partition, Offset::Offset(state.next))
                .map_err(|e| bad(format!("cannot assign {}-{}: {e}", state.topic, state.partition)))?;
        }
        self.consumer.assign(&list).map_err(|e| client_error("partition assignment", &self.options.common.servers, e))
    }

    fn all_done(&self) -> bool {
        self.options.bounded && self.partitions.values().all(|a| a.done)
    }

    /// Marks the partitions numbered `partition` whose position reached
    /// their stop (librdkafka names only the partition number of an end of
    /// partition, and a broker may signal an end that is only the end of a
    /// fetch, so the position decides; it also moves past transaction
    /// markers, which are never delivered as records).
    fn reached_end(&mut self, partition: i32) {
        if !self.partitions.iter().any(|(k, a)| k.1 == partition && !a.done) {
            return;
        }
        let Ok(positions) = self.consumer.position() else { return };
        for ((topic, number), assigned) in self.partitions.iter_mut().filter(|(k, a)| k.1 == partition && !a.done) {
            let Some(stop) = assigned.state.stop else { continue };
            if let Some(Offset::Offset(position)) = positions.find_partition(topic, *number).map(|p| p.offset())
                && position >= stop
            {
                assigned.done = true;
                assigned.state.next = assigned.state.next.max(stop);
            }
        }
    }
}

/// How a source turns Kafka records into values.
struct Records {
    /// Records carry their metadata (`metadata=true`).
    metadata: bool,
    decoder: Decoder,
    key_decoder: Decoder,
    bad: BadRecords,
    skips: SkipLog,
}

impl Records {
    /// Takes one record into `batch` (unless it is past its partition's
    /// stop, or bad and skipped).
    fn take(
        partitions: &mut BTreeMap<(String, i32), Assigned>,
        records: &mut Records,
        message: &BorrowedMessage<'_>,
        batch: &mut Batch,
    ) -> Result<(), ConnectorError> {
        let key = (message.topic().to_string(), message.partition());
        let Some(assigned) = partitions.get_mut(&key) else { return Ok(()) };
        let offset = message.offset();
        if assigned.done || offset < assigned.state.next {
            return Ok(());
        }
        if let Some(stop) = assigned.state.stop
            && offset >= stop
        {
            assigned.done = true;
            assigned.state.next = stop;
            return Ok(());
        }
        assigned.state.next = offset + 1;
        if assigned.state.stop.is_some_and(|stop| assigned.state.next >= stop) {
            assigned.done = true;
        }
        let timestamp = message.timestamp().to_millis().unwrap_or(NO_WATERMARK);
        assigned.max_timestamp = assigned.max_timestamp.max(timestamp);
        assigned.last_record = Instant::now();
        let start = batch.values.len();
        let decoded = if records.metadata {
            super::envelope::encode_with_metadata(message, &records.decoder, &records.key_decoder, &mut batch.values)
        } else {
            match message.payload() {
                Some(payload) => records.decoder.decode(payload, &mut batch.values),
                None => rmp::encode::write_nil(&mut batch.values).map_err(|e| e.to_string()),
            }
        };
        match decoded {
            Ok(()) => {
                batch.value_ends.push(batch.values.len() as u32);
                batch.timestamps.push(timestamp);
                Ok(())
            }
            Err(problem) => {
                batch.values.truncate(start);
                let position = format!("topic '{}' partition {} offset {offset}", key.0, key.1);
                match records.bad {
                    BadRecords::Fail => Err(ConnectorError::BadRecord { position, problem }),
                    BadRecords::Skip => {
                        records.skips.skipped(|| format!("{position}: {problem}"));
                        Ok(())
                    }
                }
            }
        }
    }
}

impl SourceReader for KafkaSource {
    fn next_batch(&mut self, batch: &mut Batch, _cancelled: &AtomicBool) -> Result<SourceStatus, ConnectorError> {
        if self.next_discovery.is_some_and(|at| Instant::now() >= at) {
            // A broker that is away only delays discovery; reading goes on.
            let timeout = self.options.common.timeout.min(Duration::from_secs(2));
            if let Err(e) = self.discover(timeout) {
                tracing::warn!(error = %e, "kafka partition discovery failed; trying again later");
                self.next_discovery = self.options.discovery.map(|d| Instant::now() + d);
            }
        }
        let started = Instant::now();
        loop {
            if self.all_done() {
                self.records.skips.maybe_log(true);
                return Ok(if batch.is_empty() { SourceStatus::Ended } else { SourceStatus::More });
            }
            let wait = if batch.is_empty() && started.elapsed() < POLL { POLL } else { Duration::ZERO };
            let Some(polled) = self.consumer.poll(wait) else {
                self.records.skips.maybe_log(false);
                return Ok(if batch.is_empty() { SourceStatus::Idle } else { SourceStatus::More });
            };
            match polled {
                Ok(message) => Records::take(&mut self.partitions, &mut self.records, &message, batch)?,
                Err(KafkaError::PartitionEOF(partition)) => self.reached_end(partition),
                Err(e) => {
                    return Err(client_error("fetch", &self.options.common.servers, e));
                }
            }
            if batch_full(batch) || started.elapsed() >= POLL {
                return Ok(SourceStatus::More);
            }
        }
    }

    fn snapshot(&mut self, checkpoint: CheckpointId) -> Option<Vec<u8>> {
        let partitions: Vec<PartitionState> = self.partitions.values().map(|a| a.state.clone()).collect();
        if self.options.commit_offsets {
            let mut list = TopicPartitionList::new();
            for p in &partitions {
                let _ = list.add_partition_offset(&p.topic, p.partition, Offset::Offset(p.next));
            }
            self.pending_commits.push_back((checkpoint, list));
            if self.pending_commits.len() > MAX_PENDING_COMMITS {
                self.pending_commits.pop_front();
            }
        }
        Some(rmp_serde::to_vec(&KafkaSourceState { partitions }).expect("a kafka source position serializes"))
    }

    fn checkpoint_complete(&mut self, checkpoint: CheckpointId) {
        let mut latest = None;
        while self.pending_commits.front().is_some_and(|(id, _)| *id <= checkpoint) {
            latest = self.pending_commits.pop_front();
        }
        if let Some((_, offsets)) = latest
            && offsets.count() > 0
            && let Err(e) = self.consumer.commit(&offsets, CommitMode::Async)
        {
            tracing::warn!(error = %e, checkpoint, "committing offsets to the consumer group failed (monitoring only)");
        }
    }

    fn skipped_records(&self) -> u64 {
        self.records.skips.total
    }

    fn watermark(&mut self) -> Option<SourceWatermark> {
        let out_of_orderness = self.options.out_of_orderness?;
        Some(combined_watermark(self.partitions.values(), out_of_orderness, self.options.idle_timeout, Instant::now()))
    }
}

/// The source's watermark over its partitions: the lowest of the active
/// ones' (highest timestamp − `out_of_orderness` − 1); a partition at its
/// bounded end or without records for `idle_timeout` is not active. With
/// none active the subtask is idle, at the highest partition's watermark.
fn combined_watermark<'a>(
    partitions: impl Iterator<Item = &'a Assigned> + Clone,
    out_of_orderness: i64,
    idle_timeout: Option<Duration>,
    now: Instant,
) -> SourceWatermark {
    let watermark =
        |ts: i64| if ts == NO_WATERMARK { NO_WATERMARK } else { ts.saturating_sub(out_of_orderness).saturating_sub(1) };
    let active = partitions
        .clone()
        .filter(|a| !a.done && idle_timeout.is_none_or(|t| now.saturating_duration_since(a.last_record) < t));
    match active.map(|a| a.max_timestamp).min() {
        Some(ts) => SourceWatermark { watermark: watermark(ts), idle: false },
        None => SourceWatermark {
            watermark: watermark(partitions.map(|a| a.max_timestamp).max().unwrap_or(NO_WATERMARK)),
            idle: true,
        },
    }
}

impl std::fmt::Debug for KafkaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSource").field("subtask", &self.index).field("partitions", &self.partitions.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partition(max_timestamp: i64, done: bool, quiet: Duration, now: Instant) -> Assigned {
        let state = PartitionState { topic: "t".into(), partition: 0, next: 0, stop: None };
        Assigned { state, done, max_timestamp, last_record: now - quiet }
    }

    #[test]
    fn the_watermark_is_the_lowest_active_partition_s_and_idle_ones_do_not_hold_it_back() {
        let now = Instant::now();
        let idle = Some(Duration::from_secs(5));
        let busy = [partition(10_000, false, Duration::ZERO, now), partition(4_000, false, Duration::ZERO, now)];
        assert_eq!(
            combined_watermark(busy.iter(), 1_000, idle, now),
            SourceWatermark { watermark: 2_999, idle: false }
        );
        let one_quiet =
            [partition(10_000, false, Duration::ZERO, now), partition(4_000, false, Duration::from_secs(6), now)];
        let expected = SourceWatermark { watermark: 8_999, idle: false };
        assert_eq!(combined_watermark(one_quiet.iter(), 1_000, idle, now), expected, "the quiet partition is idle");
        let one_done = [partition(10_000, false, Duration::ZERO, now), partition(4_000, true, Duration::ZERO, now)];
        assert_eq!(
            combined_watermark(one_done.iter(), 1_000, None, now),
            expected,
            "a partition at its end is not waited for"
        );
        let all_quiet =
            [partition(10_000, false, Duration::from_secs(9), now), partition(4_000, true, Duration::ZERO, now)];
        assert_eq!(
            combined_watermark(all_quiet.iter(), 1_000, idle, now),
            SourceWatermark { watermark: 8_999, idle: true }
        );
        let nothing_yet = [partition(NO_WATERMARK, false, Duration::ZERO, now)];
        assert_eq!(combined_watermark(nothing_yet.iter(), 1_000, idle, now).watermark, NO_WATERMARK);
    }
}
