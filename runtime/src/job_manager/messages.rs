//! Messages a JobManager handles: reports from its tasks and requests from
//! the Dispatcher.

use actix::Message;

use super::lifecycle::TaskState;
use crate::graph::SubtaskId;
use crate::job_manager::JobDetails;

/// A task changed state; `error` explains a failure.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct TaskStateChanged {
    /// The subtask that changed.
    pub subtask: SubtaskId,
    /// Its new state.
    pub state: TaskState,
    /// Why it failed, for `Failed`.
    pub error: Option<String>,
}

/// Stop every task of the job; the job ends CANCELED.
#[derive(Message, Debug)]
#[rtype(result = "Result<(), crate::job_manager::CancelError>")]
pub struct CancelJob;

/// The current state of the job with its vertices and metrics.
#[derive(Message, Debug)]
#[rtype(result = "JobDetails")]
pub struct GetJobDetails;

/// Take a savepoint; answers its location once it completed.
#[derive(Message, Debug)]
#[rtype(result = "Result<String, crate::job_manager::savepoint::SavepointError>")]
pub struct TriggerSavepoint {
    /// The directory the savepoint's own directory is made in; else `state.savepoints.dir`.
    pub target_directory: Option<String>,
    /// Cancel the job once the savepoint completed (stop-with-savepoint).
    pub cancel_job: bool,
}
