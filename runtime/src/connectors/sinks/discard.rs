//! The discard sink: drops every record (the task still counts them).

use super::SinkWriter;
use crate::connectors::ConnectorError;
use crate::network::Batch;

pub(super) struct DiscardSink;

impl SinkWriter for DiscardSink {
    fn write(&mut self, _batch: &Batch) -> Result<(), ConnectorError> {
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
