//! Sink connectors: `print` (stdout, Flink's `N> ` prefix), `file` (one
//! part file per subtask in a directory) and `discard` (drops records, for
//! benchmarks).

mod discard;
mod file;
mod print;

use super::ConnectorError;
use crate::graph::Connector;
use crate::network::RecordBatch;

/// One subtask's writer of a sink.
pub trait SinkWriter: Send {
    /// Writes every record of `batch`.
    fn write(&mut self, batch: &RecordBatch) -> Result<(), ConnectorError>;
    /// Flushes and closes at the end of input.
    fn finish(&mut self) -> Result<(), ConnectorError>;
}

const KNOWN: &str = "print, file, discard";

/// Checks a sink's options before the job starts.
pub fn validate(connector: &Connector) -> Result<(), ConnectorError> {
    match connector.name.as_str() {
        "print" | "discard" => Ok(()),
        "file" => file::FileSink::directory(connector).map(|_| ()),
        other => Err(ConnectorError::Unknown { kind: "sink", name: other.into(), known: KNOWN }),
    }
}

/// Opens the writer of subtask `index` of `parallelism`.
pub fn open(connector: &Connector, index: u32, parallelism: u32) -> Result<Box<dyn SinkWriter>, ConnectorError> {
    Ok(match connector.name.as_str() {
        "print" => Box::new(print::PrintSink::new(index, parallelism)),
        "file" => Box::new(file::FileSink::open(connector, index)?),
        "discard" => Box::new(discard::DiscardSink),
        other => return Err(ConnectorError::Unknown { kind: "sink", name: other.into(), known: KNOWN }),
    })
}
