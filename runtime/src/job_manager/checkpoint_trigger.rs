//! Checkpoints on request (`POST /jobs/:id/checkpoints`, `wflink checkpoint`),
//! as Flink's manual checkpoint trigger: a checkpoint like the periodic ones,
//! stored and retained with them, whose id the requester gets once it completed.

use actix::{Context, Handler, ResponseFuture};
use tokio::sync::oneshot;

use super::JobManager;
use super::messages::TriggerCheckpoint;
use crate::checkpoint::{CheckpointId, SnapshotKind};
use crate::ids::JobId;

/// Where the outcome of a requested checkpoint goes.
pub(super) type CheckpointReply = oneshot::Sender<Result<CheckpointId, CheckpointTriggerError>>;

/// Why a requested checkpoint was not taken.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CheckpointTriggerError {
    /// The job cannot take one now (not running, every source ended, too many in progress).
    #[error("job {0} cannot take a checkpoint now: {1}")]
    NotReady(JobId, String),
    /// It was triggered but did not complete.
    #[error("checkpoint {0} failed: {1}")]
    Failed(CheckpointId, String),
    /// The job ended before answering.
    #[error("job {0} ended before its checkpoint completed")]
    Ended(JobId),
}

impl Handler<TriggerCheckpoint> for JobManager {
    type Result = ResponseFuture<Result<CheckpointId, CheckpointTriggerError>>;

    fn handle(&mut self, _msg: TriggerCheckpoint, ctx: &mut Context<Self>) -> Self::Result {
        let job_id = self.submission.job_id;
        let started = self.trigger_checkpoint(SnapshotKind::Checkpoint, None, ctx).map(|id| {
            let (reply, answer) = oneshot::channel();
            self.checkpoint_requests.insert(id, reply);
            answer
        });
        Box::pin(async move {
            let answer = started.map_err(|reason| CheckpointTriggerError::NotReady(job_id, reason))?;
            answer.await.map_err(|_| CheckpointTriggerError::Ended(job_id))?
        })
    }
}
