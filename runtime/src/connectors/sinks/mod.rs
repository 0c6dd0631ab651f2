//! Sink connectors: `print` (stdout, Flink's `N> ` prefix), `file` (part
//! files in a directory, exactly-once with checkpoints), `discard`
//! (drops records, for benchmarks) and `latency` (drops records, keeping a
//! histogram of their emit-to-sink times); the `kafka` sink lives with
//! its source in [`super::kafka`].

mod discard;
mod file;
mod latency;
mod print;

pub use latency::{new_histogram as new_latency_histogram, read_histograms as read_latency_histograms};

use super::{ConnectorError, kafka};
use crate::checkpoint::CheckpointId;
use crate::graph::Connector;
use crate::network::Batch;
use crate::security::IoRoots;

/// One subtask's writer of a sink.
pub trait SinkWriter: Send {
    /// Writes every record of `batch`.
    fn write(&mut self, batch: &Batch) -> Result<(), ConnectorError>;
    /// Flushes and closes at the end of input; a transactional sink
    /// commits everything it wrote.
    fn finish(&mut self) -> Result<(), ConnectorError>;

    /// At checkpoint `checkpoint`'s barrier: prepares what was written
    /// since the last barrier for commit and returns the sink's state
    /// (what is prepared and not committed yet); `None` for a sink that
    /// keeps none.
    fn pre_commit(&mut self, checkpoint: CheckpointId) -> Result<Option<Vec<u8>>, ConnectorError> {
        let _ = checkpoint;
        Ok(None)
    }

    /// Checkpoint `checkpoint` completed: commits what was prepared up to it.
    fn commit(&mut self, checkpoint: CheckpointId) -> Result<(), ConnectorError> {
        let _ = checkpoint;
        Ok(())
    }
}

/// What a sink subtask recovers from.
#[derive(Debug, Default)]
pub struct SinkRecovery {
    /// The states of every subtask of the run restored from.
    pub states: Vec<Vec<u8>>,
    /// Whether an earlier attempt of this job wrote here (a restore or a
    /// restart): its uncommitted leftovers are cleaned up.
    pub recovering: bool,
}

const KNOWN: &str = "print, file, discard, latency, kafka";

/// Checks a sink's options before the job starts; a file sink's
/// directory must lie under `roots`.
pub fn validate(connector: &Connector, roots: &IoRoots) -> Result<(), ConnectorError> {
    match connector.name.as_str() {
        "print" | "discard" => Ok(()),
        "file" => Ok(roots.check(&file::FileSink::directory(connector)?.display().to_string())?),
        "latency" => Ok(roots.check(&latency::LatencySink::directory(connector)?.display().to_string())?),
        "kafka" => kafka::validate_sink(connector),
        other => Err(ConnectorError::Unknown { kind: "sink", name: other.into(), known: KNOWN }),
    }
}

/// Opens the writer of subtask `index` of `parallelism`.
pub fn open(
    connector: &Connector,
    index: u32,
    parallelism: u32,
    recovery: &SinkRecovery,
) -> Result<Box<dyn SinkWriter>, ConnectorError> {
    Ok(match connector.name.as_str() {
        "print" => Box::new(print::PrintSink::new(index, parallelism)),
        "file" => Box::new(file::FileSink::open(connector, index, parallelism, recovery)?),
        "discard" => Box::new(discard::DiscardSink),
        "latency" => Box::new(latency::LatencySink::open(connector, index)?),
        "kafka" => Box::new(kafka::KafkaSink::open(connector, index, parallelism, recovery)?),
        other => return Err(ConnectorError::Unknown { kind: "sink", name: other.into(), known: KNOWN }),
    })
}
