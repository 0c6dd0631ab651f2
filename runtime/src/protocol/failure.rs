//! Why a task or a job failed, as a kind the JobManager can act on beside
//! the message users read. A failure travels from the task (or from the
//! TaskManager's gateway, when the whole process is lost) to the
//! JobManager, across processes too; only the message reaches the REST API
//! and the CLI.

use serde::{Deserialize, Serialize};

/// What kind of failure ended a task or a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FailureKind {
    /// The job's own code failed: its guest trapped, called `exit`,
    /// returned an error or malformed data, or did not instantiate.
    /// Retrying helps only if the cause was transient.
    UserCode,
    /// A guest call ran past its deadline (`wasm.call-timeout`) and was stopped.
    Timeout,
    /// The chain broke the rules of keyed state or timers.
    StateContract,
    /// A source or sink failed: a bad option, a forbidden path, an I/O error.
    Connector,
    /// The task's upstream or downstream vanished without ending: the
    /// consequence of another task's failure, whose own report is the root cause.
    Disconnected,
    /// The checkpoint or savepoint to restore is missing, corrupted or does not fit the job.
    Restore,
    /// The task could not be deployed: its channels could not be wired, or
    /// its TaskManager could not load the job's component.
    Deployment,
    /// The TaskManager running the task was lost (its connection closed or its heartbeats stopped).
    TaskManagerLost,
    /// Too many checkpoints in a row failed (`execution.checkpointing.tolerable-failed-checkpoints`).
    Checkpoint,
    /// The job got no slots: too few were free within `slot.request.timeout`,
    /// or the ResourceManager did not answer.
    Resources,
    /// A fault of the runtime itself (a task panicked); this is likely a bug.
    Internal,
}

/// A task's failure as it travels to its JobManager: its kind, and the
/// message shown to users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct TaskFailure {
    /// What kind of failure it is.
    pub kind: FailureKind,
    /// What happened, as users read it.
    pub message: String,
}

impl TaskFailure {
    /// A failure of `kind`, reading `message`.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        TaskFailure { kind, message: message.into() }
    }
}

impl FailureKind {
    /// Whether a failure of this kind only follows from another task's
    /// failure, so that the other task's report is the root cause.
    pub fn is_consequence(self) -> bool {
        self == FailureKind::Disconnected
    }
}
