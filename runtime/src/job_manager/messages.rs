//! Messages a JobManager handles: reports from its tasks and requests from
//! the Dispatcher.

use actix::Message;

use crate::job_manager::JobDetails;

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

/// A JobManager reports that its job ended.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct JobTerminated {
    /// The job's final details.
    pub details: JobDetails,
}
