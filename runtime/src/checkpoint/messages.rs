//! Messages between the checkpoint coordinator (in the JobManager) and
//! the tasks, as plain data: in-process they travel through actix and a
//! per-task command channel, between processes through the rpc protocol
//! ([`crate::rpc::protocol`]).

use actix::Message;
use serde::{Deserialize, Serialize};

use super::snapshot::TaskStateHandle;
use super::{CheckpointBarrier, CheckpointId};
use crate::graph::SubtaskId;

/// What the JobManager asks of one running task. A task reads these from
/// its command channel between batches, so they never wait for a full
/// channel of records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum TaskCommand {
    /// Sent to source tasks only: snapshot now (source position included),
    /// then emit the barrier downstream ahead of any later record.
    TriggerCheckpoint(CheckpointBarrier),
    /// Every task acknowledged `id` and its metadata is durable: commit what
    /// it covers (an exactly-once sink renames its pending files now).
    NotifyComplete(CheckpointId),
    /// Checkpoint `id` will never complete (timeout, a decline, a failure):
    /// drop what was prepared for it. Pending files stay pending: a later
    /// checkpoint that completes covers them.
    NotifyAborted(CheckpointId),
}

/// A task's answer to a barrier: its snapshot is stored, or it cannot take one.
#[derive(Message, Debug, Clone, Serialize, Deserialize)]
#[rtype(result = "()")]
pub struct CheckpointReport {
    /// Who answers.
    pub subtask: SubtaskId,
    /// For which checkpoint.
    pub checkpoint_id: CheckpointId,
    /// The answer.
    pub outcome: CheckpointOutcome,
}

/// How a task answered a barrier.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum CheckpointOutcome {
    /// The task's state for this checkpoint is written to storage.
    Acknowledged(TaskStateHandle),
    /// The task could not snapshot (e.g. storage full or unreachable); the
    /// checkpoint fails, the job goes on.
    Declined(String),
}
