//! The Dispatcher: the cluster's front door. It prepares submitted jobs
//! (compile, describe, chain), starts one JobManager per job, and keeps
//! ended jobs so they can still be listed and inspected.

pub mod messages;
mod operations;
mod prepare;
mod prepare_pool;

pub use prepare::{PreparedJob, SubmitError, prepare};
pub use prepare_pool::{PoolError, PreparePool};

use std::collections::HashMap;
use std::sync::Arc;

use actix::{
    Actor, ActorFutureExt, Addr, AsyncContext, Context, Handler, MessageResult, ResponseActFuture, ResponseFuture,
    WrapFuture,
};
use serde::Serialize;
use tokio::sync::oneshot;

use crate::blob_store::BlobStore;
use crate::checkpoint::CheckpointStorage;
use crate::checkpoint::coordinator::CheckpointSettings;
use crate::config::{Configuration, RestartStrategy};
use crate::ids::JobId;
use crate::job_manager::messages::CancelJob;
use crate::job_manager::messages::JobTerminated;
use crate::job_manager::recovery::load_savepoint;
use crate::job_manager::savepoint::SavepointError;
use crate::job_manager::{CancelError, JobDetails, JobManager, JobSubmission, TaskSettings};
use crate::protocol::JobStatus;
use crate::resource_manager::ResourceManager;
use crate::wasm::WasmEngine;
use messages::{GetJob, GetSavepointStatus, ListJobs, SavepointStatus, StartSavepoint, SubmitJob, WaitForJob};

/// A request the Dispatcher refuses.
#[derive(Debug, thiserror::Error)]
pub enum DispatcherError {
    /// The job cannot be submitted.
    #[error(transparent)]
    Submit(#[from] SubmitError),
    /// No job has this id.
    #[error("job {0} not found")]
    UnknownJob(JobId),
    /// The job is not in a state that allows the request.
    #[error(transparent)]
    Cancel(#[from] CancelError),
    /// An actor did not answer (the cluster is shutting down).
    #[error("the job manager of job {0} is unreachable")]
    Unreachable(JobId),
    /// A savepoint cannot be taken.
    #[error(transparent)]
    Savepoint(#[from] SavepointError),
    /// No savepoint request has this id.
    #[error("savepoint request {1} of job {0} not found")]
    UnknownSavepoint(JobId, String),
    /// A checkpoint cannot be taken.
    #[error(transparent)]
    Checkpoint(#[from] crate::job_manager::checkpoint_trigger::CheckpointTriggerError),
    /// No checkpoint request has this id.
    #[error("there is no checkpoint operation with trigger id {1} for job {0}")]
    UnknownCheckpoint(JobId, String),
    /// No disposal request has this id.
    #[error("there is no savepoint disposal with trigger id {0}")]
    UnknownDisposal(String),
}

/// One line of a job listing.
#[derive(Debug, Clone, Serialize)]
pub struct JobOverview {
    /// The job's id.
    pub job_id: JobId,
    /// Its name.
    pub name: String,
    /// Its status.
    pub status: JobStatus,
    /// Submit time (ms since the epoch).
    pub start_time: u64,
}

/// What the Dispatcher knows of one job.
struct JobEntry {
    overview: JobOverview,
    /// The running job's manager; `None` once it ended.
    manager: Option<Addr<JobManager>>,
    /// The final details once the job ended.
    result: Option<JobDetails>,
    /// Callers waiting for the end.
    waiters: Vec<oneshot::Sender<JobDetails>>,
    /// Savepoint requests by id, kept after the job ended so they can be polled.
    savepoints: HashMap<String, SavepointStatus>,
    /// Checkpoint requests by id (`Completed` holds the checkpoint's id), likewise.
    checkpoints: HashMap<String, SavepointStatus>,
}

/// The Dispatcher actor.
pub struct Dispatcher {
    engine: Arc<WasmEngine>,
    config: Configuration,
    resource_manager: Addr<ResourceManager>,
    /// Components of submitted jobs, for TaskManager processes to fetch.
    blobs: Arc<BlobStore>,
    /// The threads that compile and describe submitted jobs: never this actor's.
    preparing: Arc<PreparePool>,
    jobs: HashMap<JobId, JobEntry>,
    /// Savepoint disposals by request id, the latest [`operations::KEPT_DISPOSALS`].
    disposals: std::collections::VecDeque<(String, SavepointStatus)>,
}

impl Dispatcher {
    /// A Dispatcher compiling with `engine` and granting slots through `resource_manager`.
    pub fn new(
        engine: Arc<WasmEngine>,
        config: Configuration,
        resource_manager: Addr<ResourceManager>,
        blobs: Arc<BlobStore>,
        preparing: Arc<PreparePool>,
    ) -> Self {
        Dispatcher {
            engine,
            config,
            resource_manager,
            blobs,
            preparing,
            jobs: HashMap::new(),
            disposals: Default::default(),
        }
    }

    fn entry(&mut self, job_id: JobId) -> Result<&mut JobEntry, DispatcherError> {
        self.jobs.get_mut(&job_id).ok_or(DispatcherError::UnknownJob(job_id))
    }
}

impl Actor for Dispatcher {
    type Context = Context<Self>;
}

impl Handler<SubmitJob> for Dispatcher {
    type Result = ResponseActFuture<Self, Result<JobId, DispatcherError>>;

    /// Prepares the job on the describe threads (errors go straight back
    /// to the submitter), then starts its JobManager. The actor goes on
    /// answering meanwhile.
    fn handle(&mut self, msg: SubmitJob, _ctx: &mut Context<Self>) -> Self::Result {
        let (engine, config) = (self.engine.clone(), self.config.clone());
        let component = msg.component.clone();
        let pending = self.preparing.submit(move || prepare_submission(&engine, &config, msg));
        let prepared = async move { pending.map_err(SubmitError::from)?.await.map_err(SubmitError::from)? };
        Box::pin(prepared.into_actor(self).map(move |submission: Result<JobSubmission, DispatcherError>, act, ctx| {
            let submission = submission?;
            let job_id = submission.job_id;
            let name = submission.job_graph.job_name.clone();
            act.blobs.put(component);
            tracing::info!(job = %job_id, name = %name, "job submitted");
            let manager = JobManager::new(submission, act.resource_manager.clone(), ctx.address().recipient()).start();
            let overview =
                JobOverview { job_id, name, status: JobStatus::Initializing, start_time: crate::time::now_millis() };
            let entry = JobEntry {
                overview,
                manager: Some(manager),
                result: None,
                waiters: Vec::new(),
                savepoints: HashMap::new(),
                checkpoints: HashMap::new(),
            };
            act.jobs.insert(job_id, entry);
            Ok(job_id)
        }))
    }
}

/// Everything a JobManager needs, made on a describe thread: the job
/// prepared, its settings read, its savepoint (if any) loaded.
fn prepare_submission(
    engine: &WasmEngine,
    config: &Configuration,
    msg: SubmitJob,
) -> Result<JobSubmission, DispatcherError> {
    tracing::info!(bytes = msg.component.len(), "preparing a submitted job");
    let prepared = match msg.prepared {
        Some(prepared) => prepared,
        None => prepare(engine, &msg.component, &msg.args, msg.parallelism, config)?,
    };
    let checkpointing = CheckpointSettings::from_config(config).map_err(SubmitError::from)?;
    let settings = TaskSettings {
        buffer_timeout: config.duration("execution.buffer-timeout.interval").map_err(SubmitError::from)?,
        call_timeout: config.duration("wasm.call-timeout").map_err(SubmitError::from)?,
        checkpoint_storage: checkpointing.location.clone(),
        periodic_checkpoints: !checkpointing.interval.is_zero(),
    };
    let slot_request_timeout = config.duration("slot.request.timeout").map_err(SubmitError::from)?;
    let storage = CheckpointStorage::open(&checkpointing.location).map_err(SubmitError::from)?;
    let restart = RestartStrategy::from_config(config).map_err(SubmitError::from)?;
    let restore = match &msg.savepoint {
        Some(s) => Some(
            futures::executor::block_on(load_savepoint(&s.path, &prepared.job_graph, s.allow_non_restored_state))
                .map_err(SubmitError::from)?,
        ),
        None => None,
    };
    Ok(JobSubmission {
        job_id: JobId::random(),
        job_graph: prepared.job_graph,
        component: prepared.component,
        args: prepared.args,
        settings,
        slot_request_timeout,
        checkpointing,
        storage,
        restart,
        restore,
    })
}

impl Handler<JobTerminated> for Dispatcher {
    type Result = ();

    fn handle(&mut self, msg: JobTerminated, _ctx: &mut Context<Self>) {
        let job_id = msg.details.job_id;
        tracing::info!(job = %job_id, status = %msg.details.status, "job ended");
        if let Some(entry) = self.jobs.get_mut(&job_id) {
            entry.manager = None;
            entry.overview.status = msg.details.status;
            for waiter in entry.waiters.drain(..) {
                let _ = waiter.send(msg.details.clone());
            }
            entry.result = Some(msg.details);
        }
    }
}

impl Handler<WaitForJob> for Dispatcher {
    type Result = ResponseFuture<Result<JobDetails, DispatcherError>>;

    fn handle(&mut self, msg: WaitForJob, _ctx: &mut Context<Self>) -> Self::Result {
        let job_id = msg.job_id;
        let entry = match self.entry(job_id) {
            Ok(entry) => entry,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        if let Some(result) = &entry.result {
            let result = result.clone();
            return Box::pin(async move { Ok(result) });
        }
        let (tx, rx) = oneshot::channel();
        entry.waiters.push(tx);
        Box::pin(async move { rx.await.map_err(|_| DispatcherError::Unreachable(job_id)) })
    }
}

impl Handler<GetJob> for Dispatcher {
    type Result = ResponseFuture<Result<JobDetails, DispatcherError>>;

    fn handle(&mut self, msg: GetJob, _ctx: &mut Context<Self>) -> Self::Result {
        let job_id = msg.job_id;
        let entry = match self.entry(job_id) {
            Ok(entry) => entry,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        if let Some(result) = &entry.result {
            let result = result.clone();
            return Box::pin(async move { Ok(result) });
        }
        let manager = entry.manager.clone();
        Box::pin(async move {
            let manager = manager.ok_or(DispatcherError::Unreachable(job_id))?;
            manager
                .send(crate::job_manager::messages::GetJobDetails)
                .await
                .map_err(|_| DispatcherError::Unreachable(job_id))
        })
    }
}

impl Handler<CancelJob> for Dispatcher {
    type Result = ResponseFuture<Result<(), CancelError>>;

    /// Hands the cancel on to the job's JobManager.
    fn handle(&mut self, msg: CancelJob, _ctx: &mut Context<Self>) -> Self::Result {
        let job_id = msg.job_id;
        let Some(entry) = self.jobs.get(&job_id) else {
            return Box::pin(async move { Err(CancelError::UnknownJob(job_id)) });
        };
        let Some(manager) = entry.manager.clone() else {
            let status = entry.overview.status;
            return Box::pin(async move { Err(CancelError::AlreadyEnded(job_id, status)) });
        };
        Box::pin(async move { manager.send(msg).await.map_err(|_| CancelError::Unreachable(job_id))? })
    }
}

impl Handler<ListJobs> for Dispatcher {
    type Result = MessageResult<ListJobs>;

    fn handle(&mut self, _msg: ListJobs, _ctx: &mut Context<Self>) -> Self::Result {
        let mut jobs: Vec<JobOverview> = self.jobs.values().map(|e| e.overview.clone()).collect();
        jobs.sort_by_key(|j| std::cmp::Reverse(j.start_time));
        MessageResult(jobs)
    }
}

impl Handler<StartSavepoint> for Dispatcher {
    type Result = Result<String, DispatcherError>;

    /// Forwards the request to the job's manager and records its outcome
    /// under a new request id.
    fn handle(&mut self, StartSavepoint(trigger): StartSavepoint, ctx: &mut Context<Self>) -> Self::Result {
        let job_id = trigger.job_id;
        let entry = self.entry(job_id)?;
        let Some(manager) = entry.manager.clone() else {
            return Err(SavepointError::NotReady(job_id, format!("it has ended ({})", entry.overview.status)).into());
        };
        let request_id = uuid::Uuid::new_v4().simple().to_string();
        entry.savepoints.insert(request_id.clone(), SavepointStatus::InProgress);
        let id = request_id.clone();
        ctx.spawn(manager.send(trigger).into_actor(self).map(move |answer, act, _ctx| {
            let status = match answer {
                Ok(Ok(location)) => SavepointStatus::Completed(location),
                Ok(Err(e)) => SavepointStatus::Failed(e.to_string()),
                Err(_) => SavepointStatus::Failed(SavepointError::Ended(job_id).to_string()),
            };
            if let Some(entry) = act.jobs.get_mut(&job_id) {
                entry.savepoints.insert(id, status);
            }
        }));
        Ok(request_id)
    }
}

impl Handler<GetSavepointStatus> for Dispatcher {
    type Result = Result<SavepointStatus, DispatcherError>;

    fn handle(&mut self, msg: GetSavepointStatus, _ctx: &mut Context<Self>) -> Self::Result {
        let entry = self.entry(msg.job_id)?;
        entry
            .savepoints
            .get(&msg.request_id)
            .cloned()
            .ok_or(DispatcherError::UnknownSavepoint(msg.job_id, msg.request_id))
    }
}
