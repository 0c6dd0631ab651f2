//! Job and task states with Flink's names, and the transitions a job may
//! take. The JobManager moves a job only along [`JobStatus::can_become`].

use actix::Message;
use serde::{Deserialize, Serialize};

use super::TaskFailure;
use crate::checkpoint::TaskStateHandle;
use crate::graph::SubtaskId;

/// The state of a job, as Flink names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum JobStatus {
    /// Accepted; the JobManager is building its graphs.
    Initializing,
    /// Built, waiting for slots.
    Created,
    /// Tasks deployed and running.
    Running,
    /// A task failed; the others are being stopped.
    Failing,
    /// A task failed and the restart strategy allows a restart: the tasks
    /// are being stopped, then the job waits for its restart delay and
    /// goes back to CREATED to restore from the latest checkpoint.
    Restarting,
    /// Ended by a failure.
    Failed,
    /// Cancel requested; tasks are being stopped.
    Cancelling,
    /// Ended by a cancel.
    Canceled,
    /// Every task ended normally.
    Finished,
}

impl JobStatus {
    /// Whether the job has ended.
    pub fn is_terminal(self) -> bool {
        matches!(self, JobStatus::Failed | JobStatus::Canceled | JobStatus::Finished)
    }

    /// The transitions a job may take; anything else is a bug.
    pub fn can_become(self, next: JobStatus) -> bool {
        use JobStatus::*;
        matches!(
            (self, next),
            (Initializing, Created)
                | (Initializing, Failed)
                | (Created, Running)
                | (Created, Failing)
                | (Created, Cancelling)
                | (Running, Finished)
                | (Running, Failing)
                | (Running, Cancelling)
                | (Running, Restarting)
                | (Created, Restarting)
                | (Restarting, Created)
                | (Restarting, Cancelling)
                | (Restarting, Failing)
                | (Failing, Failed)
                | (Cancelling, Canceled)
                | (Cancelling, Failed)
        )
    }

    /// Flink's upper-case name.
    pub fn name(self) -> &'static str {
        use JobStatus::*;
        match self {
            Initializing => "INITIALIZING",
            Created => "CREATED",
            Running => "RUNNING",
            Failing => "FAILING",
            Restarting => "RESTARTING",
            Failed => "FAILED",
            Cancelling => "CANCELLING",
            Canceled => "CANCELED",
            Finished => "FINISHED",
        }
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The state of one subtask (Flink's `ExecutionState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum TaskState {
    /// Not yet placed.
    Created,
    /// Sent to its slot.
    Deploying,
    /// Instantiating its guest and opening its connectors.
    Initializing,
    /// Processing records.
    Running,
    /// Ended normally.
    Finished,
    /// Being stopped.
    Canceling,
    /// Stopped by a cancel or by the failure of another task.
    Canceled,
    /// Ended by an error.
    Failed,
}

impl TaskState {
    /// Whether the task has ended.
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskState::Finished | TaskState::Canceled | TaskState::Failed)
    }
}

/// A task changed state; `error` explains a failure.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct TaskStateChanged {
    /// The subtask that changed.
    pub subtask: SubtaskId,
    /// Its new state.
    pub state: TaskState,
    /// Why it failed, for `Failed`.
    pub error: Option<TaskFailure>,
    /// For `Finished` after its input ended: the state the task ended
    /// with (a source's position at its end, nothing left to read), which
    /// stands for it in every later checkpoint and savepoint, so a job
    /// restored from one does not run it again (Flink's finished
    /// operators). `None` for any other change.
    pub final_state: Option<Box<TaskStateHandle>>,
}

#[cfg(test)]
mod tests {
    use super::JobStatus::*;

    #[test]
    fn terminal_states_go_nowhere() {
        for terminal in [Failed, Canceled, Finished] {
            for next in [Initializing, Created, Running, Failing, Restarting, Failed, Cancelling, Canceled, Finished] {
                assert!(!terminal.can_become(next), "{terminal} -> {next}");
            }
        }
        assert!(Running.can_become(Finished));
        assert!(!Running.can_become(Canceled), "a cancel passes through CANCELLING");
    }
}
