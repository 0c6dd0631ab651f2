//! What travels on a channel between two tasks: data and the control
//! messages that move in line with it (watermarks, checkpoint barriers),
//! each tagged with the index of the upstream subtask that sent it.

use serde::{Deserialize, Serialize};

use super::Batch;
use crate::checkpoint::CheckpointBarrier;

/// A message with the index of the upstream subtask that sent it: the
/// input gate needs the sender to align checkpoint barriers.
pub type Tagged = (u32, StreamMessage);

/// One message from an upstream subtask to a downstream one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum StreamMessage {
    /// A batch of records.
    Batch(Batch),
    /// The upstream subtask has no more records: the downstream task ends
    /// once every one of its upstream subtasks sent this.
    EndOfInput,
    /// Event time: upstream subtask `upstream` will send no more records
    /// with a timestamp at or below `timestamp`. A subtask whose input
    /// ended sends `i64::MAX` before [`StreamMessage::EndOfInput`].
    Watermark {
        /// Index of the sending subtask.
        upstream: u32,
        /// The watermark in ms.
        timestamp: i64,
    },
    /// Upstream subtask `upstream` has had no records for its idle timeout
    /// (`idle`), or has records again: downstream tasks leave an idle
    /// channel out of their watermark.
    WatermarkStatus {
        /// Index of the sending subtask.
        upstream: u32,
        /// Whether it is idle now.
        idle: bool,
    },
    /// Everything the sender sent before belongs to checkpoint
    /// `barrier.id`; everything after, to the next one. A task snapshots
    /// once this barrier came from every upstream subtask (aligned).
    Barrier(CheckpointBarrier),
}
