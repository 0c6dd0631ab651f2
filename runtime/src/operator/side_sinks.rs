//! Side output sinks: records a chain sends to a side output tag go to the
//! sink the plan connects to that tag, written by the same subtask. They
//! take part in checkpoints as the task's main sink does, so a file side
//! output is exactly-once too.

use crate::checkpoint::CheckpointId;
use crate::connectors::ConnectorError;
use crate::connectors::sinks::{self, SinkRecovery, SinkWriter};
use crate::graph::SideSink;
use crate::network::Batch;
use crate::protocol::SideSinkState;

/// The side output sinks of one subtask, by tag.
pub struct SideSinks {
    sinks: Vec<(u32, Box<dyn SinkWriter>)>,
    /// Reused per-tag buffer.
    scratch: Batch,
}

impl SideSinks {
    /// Opens the side sinks of subtask `index` of `parallelism`; each
    /// recovers from the `restored` states of its tag (of every old
    /// subtask) when `recovering` (a restore or a restart).
    pub fn open(
        side_sinks: &[SideSink],
        index: u32,
        parallelism: u32,
        restored: &[SideSinkState],
        recovering: bool,
    ) -> Result<Self, ConnectorError> {
        let sinks = side_sinks
            .iter()
            .map(|s| {
                let states = restored.iter().filter(|r| r.tag == s.tag).map(|r| r.state.clone()).collect();
                let recovery = SinkRecovery { states, recovering };
                Ok((s.tag, sinks::open(&s.sink, index, parallelism, &recovery)?))
            })
            .collect::<Result<_, ConnectorError>>()?;
        Ok(SideSinks { sinks, scratch: Batch::default() })
    }

    /// At checkpoint `checkpoint`'s barrier: prepares what every side sink
    /// wrote since the last one for commit; returns their states.
    pub fn pre_commit(&mut self, checkpoint: CheckpointId) -> Result<Vec<SideSinkState>, ConnectorError> {
        let mut states = Vec::new();
        for (tag, sink) in &mut self.sinks {
            if let Some(state) = sink.pre_commit(checkpoint)? {
                states.push(SideSinkState { tag: *tag, state });
            }
        }
        Ok(states)
    }

    /// Checkpoint `checkpoint` completed: every side sink commits what it covers.
    pub fn commit(&mut self, checkpoint: CheckpointId) -> Result<(), ConnectorError> {
        for (_, sink) in &mut self.sinks {
            sink.commit(checkpoint)?;
        }
        Ok(())
    }

    /// Writes each record of `records` to the sink of its tag; records of
    /// tags nobody reads are dropped, as Flink drops an unread side output.
    pub fn write(&mut self, records: &Batch, tags: &[u32]) -> Result<(), ConnectorError> {
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
