//! Messages a JobManager handles: reports from its tasks and requests from
//! the Dispatcher. A request about one job ([`CancelJob`],
//! [`TriggerSavepoint`]) names the job, so the Dispatcher takes it from
//! REST and the CLI and hands the same message on to the job's JobManager.

use actix::Message;

use crate::ids::JobId;
use crate::job_manager::JobDetails;

/// Stop every task of the job; the job ends CANCELED.
#[derive(Message, Debug)]
#[rtype(result = "Result<(), crate::job_manager::CancelError>")]
pub struct CancelJob {
    /// The job.
    pub job_id: JobId,
}

/// The current state of the job with its vertices and metrics.
#[derive(Message, Debug)]
#[rtype(result = "JobDetails")]
pub struct GetJobDetails;

/// Take a savepoint; answers its location once it completed.
#[derive(Message, Debug)]
#[rtype(result = "Result<String, crate::job_manager::savepoint::SavepointError>")]
pub struct TriggerSavepoint {
    /// The job.
    pub job_id: JobId,
    /// The directory the savepoint's own directory is made in; else `state.savepoints.dir`.
    pub target_directory: Option<String>,
    /// Cancel the job once the savepoint completed (`wflink cancel --savepoint`, Flink's `cancel-job`).
    pub cancel_job: bool,
    /// Stop the job with this savepoint (`wflink stop`, `POST /jobs/:id/stop`): the tasks end once it
    /// completed and the job ends FINISHED; the answer comes then.
    pub stop: Option<crate::checkpoint::StopMode>,
}

/// Take a checkpoint now, besides the periodic ones (`POST /jobs/:id/checkpoints`, `wflink checkpoint`); answers
/// its id once it completed.
#[derive(Message, Debug)]
#[rtype(
    result = "Result<crate::checkpoint::CheckpointId, crate::job_manager::checkpoint_trigger::CheckpointTriggerError>"
)]
pub struct TriggerCheckpoint {
    /// The job.
    pub job_id: JobId,
}

/// A JobManager reports that its job ended.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct JobTerminated {
    /// The job's final details.
    pub details: JobDetails,
}
