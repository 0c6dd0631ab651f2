//! Messages the Dispatcher handles: the front door for the CLI and REST.

use std::sync::Arc;

use actix::Message;

use super::{DispatcherError, JobOverview};
use crate::ids::JobId;
use crate::job_manager::JobDetails;
use crate::job_manager::messages::{TriggerCheckpoint, TriggerSavepoint};

/// Submit a job: a component's bytes, its arguments and an optional parallelism.
#[derive(Message)]
#[rtype(result = "Result<JobId, DispatcherError>")]
pub struct SubmitJob {
    /// The `.wasm` component.
    pub component: Arc<[u8]>,
    /// Arguments passed to the job's `describe`.
    pub args: Vec<String>,
    /// Parallelism given at submit, if any.
    pub parallelism: Option<u32>,
    /// The savepoint (or retained checkpoint) to start from, if any.
    pub savepoint: Option<SavepointRestoreSettings>,
    /// The job already prepared from these bytes, arguments and
    /// parallelism (a local run prepares it to size its cluster), so it is
    /// not compiled and described twice.
    pub prepared: Option<super::PreparedJob>,
}

/// Where a job starts from (`wflink run -s PATH [--allowNonRestoredState]`,
/// `savepointPath` and `allowNonRestoredState` of `POST /jars/:id/run`).
#[derive(Debug, Clone)]
pub struct SavepointRestoreSettings {
    /// A savepoint or checkpoint directory, or its `_metadata` file.
    pub path: String,
    /// Start even when state of operators the job no longer has would be dropped.
    pub allow_non_restored_state: bool,
}

/// Start a savepoint of a running job (optionally cancelling it after)
/// without waiting for it: the Dispatcher hands the [`TriggerSavepoint`]
/// on to the job's JobManager and answers at once with the request id to
/// poll with [`GetSavepointStatus`].
#[derive(Message)]
#[rtype(result = "Result<String, DispatcherError>")]
pub struct StartSavepoint(pub TriggerSavepoint);

/// The state of a savepoint request.
#[derive(Message)]
#[rtype(result = "Result<SavepointStatus, DispatcherError>")]
pub struct GetSavepointStatus {
    /// The job.
    pub job_id: JobId,
    /// The id [`StartSavepoint`] answered.
    pub request_id: String,
}

/// How a savepoint, checkpoint or disposal request stands.
#[derive(Debug, Clone, PartialEq)]
pub enum SavepointStatus {
    /// Not completed yet.
    InProgress,
    /// Completed: a savepoint at this location, a checkpoint with this id, a disposal of this path.
    Completed(String),
    /// Failed, with the reason.
    Failed(String),
}

/// Wait until a job ends and return its final details.
#[derive(Message)]
#[rtype(result = "Result<JobDetails, DispatcherError>")]
pub struct WaitForJob {
    /// The job.
    pub job_id: JobId,
}

/// Current details of a job, running or ended.
#[derive(Message)]
#[rtype(result = "Result<JobDetails, DispatcherError>")]
pub struct GetJob {
    /// The job.
    pub job_id: JobId,
}

/// Every job the Dispatcher knows, running and ended.
#[derive(Message)]
#[rtype(result = "Vec<JobOverview>")]
pub struct ListJobs;

/// Trigger a checkpoint of a running job without waiting for it: answers the
/// request id to poll with [`GetCheckpointStatus`].
#[derive(Message)]
#[rtype(result = "Result<String, DispatcherError>")]
pub struct StartCheckpoint(pub TriggerCheckpoint);

/// The state of a checkpoint request; `Completed` carries the checkpoint's id.
#[derive(Message)]
#[rtype(result = "Result<SavepointStatus, DispatcherError>")]
pub struct GetCheckpointStatus {
    /// The job.
    pub job_id: JobId,
    /// The id [`StartCheckpoint`] answered.
    pub request_id: String,
}

/// Dispose of a savepoint without waiting: answers the request id to poll
/// with [`GetDisposalStatus`].
#[derive(Message)]
#[rtype(result = "String")]
pub struct DisposeSavepoint {
    /// The savepoint's directory or its `_metadata`.
    pub path: String,
}

/// The state of a disposal request.
#[derive(Message)]
#[rtype(result = "Result<SavepointStatus, DispatcherError>")]
pub struct GetDisposalStatus {
    /// The id [`DisposeSavepoint`] answered.
    pub request_id: String,
}
