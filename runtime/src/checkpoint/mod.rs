//! Checkpoints and savepoints: how a running job takes a consistent
//! snapshot of all its tasks and comes back from one.
//!
//! ```text
//!  JobManager: coordinator ──TriggerCheckpoint──▶ source tasks
//!                 ▲                                 │ barrier in the stream
//!                 │ CheckpointReport (ack + handle) ▼
//!                 └──────────────── every task: align barriers, snapshot
//!                                   state to storage, forward the barrier
//!  all acknowledged → _metadata written → NotifyComplete → sinks commit
//! ```
//!
//! - [`messages`]: what travels between the coordinator and the tasks.
//! - [`snapshot`]: what a task's snapshot is made of and how a task is
//!   given the state it restores from (by key group, so a job can come
//!   back at another parallelism).
//! - [`storage`]: where checkpoint files live (the local filesystem by
//!   default, any object store by URL).

pub mod coordinator;
pub mod dispose;
pub mod messages;
pub mod metadata;
pub mod snapshot;
pub mod storage;

use serde::{Deserialize, Serialize};

pub use messages::{CheckpointOutcome, CheckpointReport, TaskCommand};
pub use snapshot::{KeyGroupOffset, StateFile, TaskRestore, TaskStateHandle};
pub use storage::{CheckpointStorage, StorageError};

/// Identifies a checkpoint within its job; increases by one per trigger,
/// savepoints included, and keeps increasing across restarts.
pub type CheckpointId = u64;

/// What a snapshot is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SnapshotKind {
    /// Periodic, owned by the system: retained up to
    /// `state.checkpoints.num-retained`, used for recovery.
    Checkpoint,
    /// Triggered by the user, owned by the user: never deleted by wflink,
    /// used to start a job (possibly a new version, at another parallelism).
    Savepoint,
}

/// The marker that flows with the records from the sources to the sinks:
/// everything before it belongs to checkpoint `id`, everything after it
/// to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointBarrier {
    /// The checkpoint.
    pub id: CheckpointId,
    /// When the coordinator triggered it (ms since the epoch).
    pub timestamp: u64,
    /// Checkpoint or savepoint.
    pub kind: SnapshotKind,
    /// Set when the savepoint stops the job (stop-with-savepoint): every
    /// task ends once it completed, as this says.
    #[serde(default)]
    pub stop: Option<StopMode>,
}

/// How a stop-with-savepoint ends the tasks (Flink's savepoint types
/// `SUSPEND` and `TERMINATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StopMode {
    /// `wflink stop`: the tasks end as the savepoint left them: no timer
    /// fires and no chain is finished, so windows still open stay in the
    /// savepoint and a job restored from it goes on where this one stopped.
    Suspend,
    /// `wflink stop --drain`: the sources send the end-of-time watermark
    /// before the barrier, so every event-time window and timer fires and
    /// its results reach the sinks within the savepoint; the tasks then end
    /// as at the end of their input.
    Drain,
}
