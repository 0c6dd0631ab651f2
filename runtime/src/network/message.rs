//! What travels on a channel between two tasks: data and the control
//! messages that move in line with it (more follow with checkpoints and
//! event time: barriers and watermarks).

use serde::{Deserialize, Serialize};

use super::RecordBatch;

/// One message from an upstream subtask to a downstream one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum StreamMessage {
    /// A batch of records.
    Batch(RecordBatch),
    /// The upstream subtask has no more records: the downstream task ends
    /// once every one of its upstream subtasks sent this.
    EndOfInput,
}
