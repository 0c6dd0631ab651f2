//! Savepoints on request (`wflink savepoint`, `POST /jobs/:id/savepoints`),
//! cancel-with-savepoint (`wflink cancel --savepoint`, `cancel-job`) and
//! stop-with-savepoint (`wflink stop [--drain]`, `POST /jobs/:id/stop`):
//! a checkpoint of kind savepoint written into its own directory
//! `<target>/savepoint-<job>-<random>`, owned by the user.

use actix::{Context, Handler, ResponseFuture};
use tokio::sync::oneshot;

use super::JobManager;
use super::checkpointing::SavepointRequest;
use super::messages::TriggerSavepoint;
use crate::checkpoint::{CheckpointId, CheckpointStorage, SnapshotKind, StorageError};
use crate::ids::JobId;

/// Why a savepoint was not taken.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SavepointError {
    /// Neither the request nor `state.savepoints.dir` names a directory.
    #[error(
        "no savepoint directory: give one (wflink savepoint JOBID DIR, or target-directory) or set state.savepoints.dir"
    )]
    NoDirectory,
    /// The job cannot take one now.
    #[error("job {0} cannot take a savepoint now: {1}")]
    NotReady(JobId, String),
    /// The target directory cannot be used.
    #[error("savepoint directory: {0}")]
    Storage(String),
    /// It was triggered but did not complete.
    #[error("savepoint {0} failed: {1}")]
    Failed(CheckpointId, String),
    /// The job ended before answering.
    #[error("job {0} ended before its savepoint completed")]
    Ended(JobId),
    /// A stop-with-savepoint's savepoint completed, but the job did not end FINISHED.
    #[error("savepoint {location} completed, but job {job} did not end FINISHED: {reason}")]
    NotFinished {
        /// The job.
        job: JobId,
        /// Where the savepoint is.
        location: String,
        /// What happened instead.
        reason: String,
    },
}

impl From<StorageError> for SavepointError {
    fn from(e: StorageError) -> Self {
        SavepointError::Storage(e.to_string())
    }
}

/// `<target>/savepoint-<first 6 hex of the job id>-<12 random hex>`, as Flink names them.
fn savepoint_location(target: &str, job_id: JobId) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    let job = job_id.to_string();
    format!("{}/savepoint-{}-{}", target.trim_end_matches('/'), &job[..6], &random[..12])
}

impl JobManager {
    /// Answers a stop-with-savepoint whose savepoint completed: with its location once the job ended FINISHED,
    /// else with what happened instead (`failure`).
    pub(super) fn answer_stop(&mut self, failure: Option<String>) {
        let Some((reply, location)) = self.stopped.take() else { return };
        if failure.is_some() {
            // A restart deploys tasks that know nothing of the stop: the job goes on, checkpoints with it.
            self.stopping = None;
        }
        let job = self.submission.job_id;
        let _ = reply.send(match failure {
            None => Ok(location),
            Some(reason) => Err(SavepointError::NotFinished { job, location, reason }),
        });
    }
}

impl Handler<TriggerSavepoint> for JobManager {
    type Result = ResponseFuture<Result<String, SavepointError>>;

    fn handle(&mut self, msg: TriggerSavepoint, ctx: &mut Context<Self>) -> Self::Result {
        let started = (|| {
            let target = msg
                .target_directory
                .filter(|d| !d.trim().is_empty())
                .or_else(|| Some(self.checkpoints.settings().savepoint_dir.clone()).filter(|d| !d.is_empty()))
                .ok_or(SavepointError::NoDirectory)?;
            let job_id = self.submission.job_id;
            let id = self
                .trigger_checkpoint(SnapshotKind::Savepoint, msg.stop, ctx)
                .map_err(|reason| SavepointError::NotReady(job_id, reason))?;
            let storage = match CheckpointStorage::open(&savepoint_location(&target, job_id)) {
                Ok(storage) => storage,
                Err(e) => {
                    self.abort_checkpoint(id, &e.to_string());
                    return Err(SavepointError::from(e));
                }
            };
            if msg.cancel_job {
                // As Flink stops its checkpoint scheduler for a cancel-with-savepoint: a periodic
                // checkpoint after the savepoint would commit output past it, and a job restored
                // from the savepoint would write that output again.
                self.stopping = Some(id);
            }
            let (reply, answer) = oneshot::channel();
            self.savepoints.insert(id, SavepointRequest { storage, cancel_job: msg.cancel_job, stop: msg.stop, reply });
            Ok(answer)
        })();
        let job_id = self.submission.job_id;
        Box::pin(async move { started?.await.map_err(|_| SavepointError::Ended(job_id))? })
    }
}
