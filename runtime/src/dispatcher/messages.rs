//! Messages the Dispatcher handles: the front door for the CLI and REST.

use std::sync::Arc;

use actix::Message;

use super::{DispatcherError, JobOverview};
use crate::ids::JobId;
use crate::job_manager::JobDetails;

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

/// Cancel a running job.
#[derive(Message)]
#[rtype(result = "Result<(), DispatcherError>")]
pub struct CancelJob {
    /// The job.
    pub job_id: JobId,
}

/// Every job the Dispatcher knows, running and ended.
#[derive(Message)]
#[rtype(result = "Vec<JobOverview>")]
pub struct ListJobs;

/// A JobManager reports that its job ended.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct JobTerminated {
    /// The job's final details.
    pub details: JobDetails,
}
