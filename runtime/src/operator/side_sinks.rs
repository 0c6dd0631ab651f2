//! Side output sinks: records a chain sends to a side output tag go to the
//! sink the plan connects to that tag, written by the same subtask.

use crate::connectors::ConnectorError;
use crate::connectors::sinks::{self, SinkWriter};
use crate::graph::SideSink;
use crate::network::RecordBatch;

/// The side output sinks of one subtask, by tag.
pub struct SideSinks {
    sinks: Vec<(u32, Box<dyn SinkWriter>)>,
    /// Reused per-tag buffer.
    scratch: RecordBatch,
}

impl SideSinks {
    /// Opens the side sinks of subtask `index` of `parallelism`.
    pub fn open(side_sinks: &[SideSink], index: u32, parallelism: u32) -> Result<Self, ConnectorError> {
        let sinks = side_sinks
            .iter()
            .map(|s| Ok((s.tag, sinks::open(&s.sink, index, parallelism, &Default::default())?)))
            .collect::<Result<_, ConnectorError>>()?;
        Ok(SideSinks { sinks, scratch: RecordBatch::default() })
    }

    /// Writes each record of `records` to the sink of its tag; records of
    /// tags nobody reads are dropped, as Flink drops an unread side output.
    pub fn write(&mut self, records: &RecordBatch, tags: &[u32]) -> Result<(), ConnectorError> {
        for (tag, sink) in &mut self.sinks {
            self.scratch.clear();
            for (i, t) in tags.iter().enumerate() {
                if t == tag {
                    self.scratch.push(None, records.value(i), records.timestamps.get(i).copied());
                }
            }
            if !self.scratch.is_empty() {
                sink.write(&self.scratch)?;
            }
        }
        Ok(())
    }

    /// Flushes and closes every side sink.
    pub fn finish(&mut self) -> Result<(), ConnectorError> {
        for (_, sink) in &mut self.sinks {
            sink.finish()?;
        }
        Ok(())
    }
}
