//! The socket text source: connects to `hostname:port` and reads lines
//! until the peer closes the connection, as Flink's socketTextStream does.
//! Unbounded; parallelism 1 unless the job sets one on the source, in
//! which case each subtask opens its own connection. What is in flight on
//! a failure is lost (at-most-once).

use std::io::{BufRead, BufReader, ErrorKind};
use std::net::TcpStream;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::{SourceReader, SourceStatus, batch_full, push_line};
use crate::connectors::ConnectorError;
use crate::graph::Connector;
use crate::network::Batch;

/// How long a read waits before the task gets control back (to flush its
/// output and check for cancellation).
const READ_POLL: Duration = Duration::from_millis(5);

pub(super) struct SocketSource {
    address: String,
    reader: BufReader<TcpStream>,
    line: Vec<u8>,
}

impl SocketSource {
    pub(super) fn validate(connector: &Connector) -> Result<String, ConnectorError> {
        let host = connector.option("hostname").unwrap_or("localhost");
        let port =
            connector.option("port").ok_or_else(|| ConnectorError::option("socket", "the option 'port' is missing"))?;
        let port: u16 = port.parse().map_err(|_| ConnectorError::option("socket", format!("invalid port '{port}'")))?;
        Ok(format!("{host}:{port}"))
    }

    pub(super) fn open(connector: &Connector) -> Result<Self, ConnectorError> {
        let address = Self::validate(connector)?;
        let what = || format!("socket source {address}");
        let stream = TcpStream::connect(&address).map_err(|e| ConnectorError::io(what(), e))?;
        stream.set_read_timeout(Some(READ_POLL)).map_err(|e| ConnectorError::io(what(), e))?;
        Ok(SocketSource { reader: BufReader::new(stream), address, line: Vec::new() })
    }
}

impl SourceReader for SocketSource {
    fn next_batch(&mut self, batch: &mut Batch, _cancelled: &AtomicBool) -> Result<SourceStatus, ConnectorError> {
        loop {
            // A timed-out read keeps the partial line in `self.line`.
            match self.reader.read_until(b'\n', &mut self.line) {
                Ok(0) => {
                    if !self.line.is_empty() {
                        push_line(batch, &self.line);
                        self.line.clear();
                    }
                    return Ok(if batch.is_empty() { SourceStatus::Ended } else { SourceStatus::More });
                }
                Ok(_) if self.line.ends_with(b"\n") => {
                    push_line(batch, &self.line);
                    self.line.clear();
                    if batch_full(batch) || self.reader.buffer().is_empty() {
                        return Ok(SourceStatus::More);
                    }
                }
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Ok(if batch.is_empty() { SourceStatus::Idle } else { SourceStatus::More });
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(ConnectorError::io(format!("socket source {}", self.address), e)),
            }
        }
    }
}
