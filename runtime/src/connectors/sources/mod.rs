//! Source connectors: `file` (bounded; a file or every file of a
//! directory, split by byte range over the subtasks), `socket` (a text
//! socket, like `nc -lk 7777`; unbounded, not parallel, at-most-once) and
//! `datagen` (sequence numbers at a rate, optionally stamped with their
//! emit time, for tests and benchmarks); the
//! `kafka` source lives with its sink in [`super::kafka`].

mod datagen;
mod file;
mod socket;

use std::sync::atomic::AtomicBool;

pub(crate) use datagen::now_nanos;

use super::{ConnectorError, kafka};
use crate::checkpoint::CheckpointId;
use crate::graph::Connector;
use crate::network::Batch;
use crate::security::IoRoots;

/// What a source did on one call.
#[derive(Debug, PartialEq, Eq)]
pub enum SourceStatus {
    /// It added records, or may have more soon.
    More,
    /// It has nothing now (an idle socket); call again.
    Idle,
    /// It has no more records, ever.
    Ended,
}

/// One subtask's reader of a source.
pub trait SourceReader: Send {
    /// Appends the next records to `batch` (up to about a batch's worth);
    /// returns promptly, so the task can flush its output and notice
    /// cancellation.
    fn next_batch(&mut self, batch: &mut Batch, cancelled: &AtomicBool) -> Result<SourceStatus, ConnectorError>;

    /// Its position after the records returned so far, for checkpoint
    /// `checkpoint`; `None` for a source that cannot replay (socket,
    /// datagen): after a restore it starts afresh (at-most-once).
    fn snapshot(&mut self, checkpoint: CheckpointId) -> Option<Vec<u8>> {
        let _ = checkpoint;
        None
    }

    /// Checkpoint `checkpoint` completed (a Kafka source commits its
    /// offsets to its consumer group, for monitoring).
    fn checkpoint_complete(&mut self, checkpoint: CheckpointId) {
        let _ = checkpoint;
    }

    /// How many bad records it has skipped in all (`bad-records=skip`), for the task's `numRecordsInErrors`.
    fn skipped_records(&self) -> u64 {
        0
    }

    /// The watermark of a source that makes its own (per Kafka
    /// partition); asked every `pipeline.auto-watermark-interval`.
    fn watermark(&mut self) -> Option<SourceWatermark> {
        None
    }
}

/// A source's own watermark: the minimum over its active splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceWatermark {
    /// The watermark (ms).
    pub watermark: i64,
    /// No split is active: downstream should not wait for this subtask.
    pub idle: bool,
}

/// The source names the runtime knows.
const KNOWN: &str = "file, socket, datagen, kafka";

/// Checks a source's options before the job starts (e.g. that an input
/// file exists), so a mistake is reported at submit. A file source's path
/// must lie under `roots`, which is checked before the file is looked at.
pub fn validate(connector: &Connector, roots: &IoRoots) -> Result<(), ConnectorError> {
    match connector.name.as_str() {
        "file" => {
            roots.check(connector.option("path").unwrap_or_default())?;
            file::FileSource::validate(connector)
        }
        "socket" => socket::SocketSource::validate(connector).map(|_| ()),
        "datagen" => datagen::DatagenSource::settings(connector).map(|_| ()),
        "kafka" => kafka::validate_source(connector),
        other => Err(ConnectorError::Unknown { kind: "source", name: other.into(), known: KNOWN }),
    }
}

/// Opens the reader of subtask `index` of `parallelism`; `restored` holds
/// the positions of every subtask of the run restored from (empty on a
/// fresh start).
pub fn open(
    connector: &Connector,
    index: u32,
    parallelism: u32,
    restored: &[Vec<u8>],
) -> Result<Box<dyn SourceReader>, ConnectorError> {
    Ok(match connector.name.as_str() {
        "file" => Box::new(file::FileSource::open(connector, index, parallelism, restored)?),
        "socket" => Box::new(socket::SocketSource::open(connector)?),
        "datagen" => Box::new(datagen::DatagenSource::open(connector, index, parallelism)?),
        "kafka" => Box::new(kafka::KafkaSource::open(connector, index, parallelism, restored)?),
        other => return Err(ConnectorError::Unknown { kind: "source", name: other.into(), known: KNOWN }),
    })
}

/// Appends `line` to `batch` as a MessagePack string (lossy UTF-8).
#[inline]
fn push_line(batch: &mut Batch, line: &[u8]) {
    let line = trim_newline(line);
    match std::str::from_utf8(line) {
        Ok(text) => push_str(batch, text),
        Err(_) => push_str(batch, &String::from_utf8_lossy(line)),
    }
}

#[inline]
fn push_str(batch: &mut Batch, text: &str) {
    // Writing into a Vec cannot fail.
    let _ = rmp::encode::write_str(&mut batch.values, text);
    batch.value_ends.push(batch.values.len() as u32);
}

pub(super) fn trim_newline(mut line: &[u8]) -> &[u8] {
    if let [rest @ .., b'\n'] = line {
        line = rest;
    }
    if let [rest @ .., b'\r'] = line {
        line = rest;
    }
    line
}

/// A source batch is full at as many records or bytes as an output batch:
/// a record-per-line job (sensor readings) then hands full batches to a
/// key-by instead of batches the buffer timeout cuts at a quarter. A
/// source still returns what it has when the input pauses (sockets).
pub fn batch_full(batch: &Batch) -> bool {
    batch.len() >= crate::network::BATCH_RECORDS || batch.values.len() >= crate::network::BATCH_BYTES
}
