//! The Dispatcher's asynchronous operations besides savepoints, each a
//! request id to poll as Flink's REST API has them: checkpoints triggered on
//! request and savepoint disposals.

use actix::{ActorFutureExt, AsyncContext, Context, Handler, WrapFuture};

use super::messages::{DisposeSavepoint, GetCheckpointStatus, GetDisposalStatus, SavepointStatus, StartCheckpoint};
use super::{Dispatcher, DispatcherError};
use crate::checkpoint::dispose::dispose_savepoint;
use crate::job_manager::checkpoint_trigger::CheckpointTriggerError;

/// How many disposal outcomes are kept for polling; older ones are forgotten.
pub(super) const KEPT_DISPOSALS: usize = 256;

fn request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Handler<StartCheckpoint> for Dispatcher {
    type Result = Result<String, DispatcherError>;

    /// Forwards the trigger to the job's manager and records its outcome under a new request id.
    fn handle(&mut self, StartCheckpoint(trigger): StartCheckpoint, ctx: &mut Context<Self>) -> Self::Result {
        let job_id = trigger.job_id;
        let entry = self.entry(job_id)?;
        let Some(manager) = entry.manager.clone() else {
            let reason = format!("it has ended ({})", entry.overview.status);
            return Err(CheckpointTriggerError::NotReady(job_id, reason).into());
        };
        let request_id = request_id();
        entry.checkpoints.insert(request_id.clone(), SavepointStatus::InProgress);
        let id = request_id.clone();
        ctx.spawn(manager.send(trigger).into_actor(self).map(move |answer, act, _ctx| {
            let status = match answer {
                Ok(Ok(checkpoint)) => SavepointStatus::Completed(checkpoint.to_string()),
                Ok(Err(e)) => SavepointStatus::Failed(e.to_string()),
                Err(_) => SavepointStatus::Failed(CheckpointTriggerError::Ended(job_id).to_string()),
            };
            if let Some(entry) = act.jobs.get_mut(&job_id) {
                entry.checkpoints.insert(id, status);
            }
        }));
        Ok(request_id)
    }
}

impl Handler<GetCheckpointStatus> for Dispatcher {
    type Result = Result<SavepointStatus, DispatcherError>;

    fn handle(&mut self, msg: GetCheckpointStatus, _ctx: &mut Context<Self>) -> Self::Result {
        let entry = self.entry(msg.job_id)?;
        entry
            .checkpoints
            .get(&msg.request_id)
            .cloned()
            .ok_or(DispatcherError::UnknownCheckpoint(msg.job_id, msg.request_id))
    }
}

impl Handler<DisposeSavepoint> for Dispatcher {
    type Result = String;

    /// Starts the disposal off the actor (it reads and deletes files) and answers its request id at once.
    fn handle(&mut self, msg: DisposeSavepoint, ctx: &mut Context<Self>) -> Self::Result {
        let request_id = request_id();
        if self.disposals.len() >= KEPT_DISPOSALS {
            self.disposals.pop_front();
        }
        self.disposals.push_back((request_id.clone(), SavepointStatus::InProgress));
        let id = request_id.clone();
        let path = msg.path;
        let dispose = async move { dispose_savepoint(&path).await.map(|()| path) };
        ctx.spawn(dispose.into_actor(self).map(move |outcome, act, _ctx| {
            let status = match outcome {
                Ok(path) => SavepointStatus::Completed(path),
                Err(e) => SavepointStatus::Failed(e.to_string()),
            };
            if let Some((_, entry)) = act.disposals.iter_mut().find(|(r, _)| *r == id) {
                *entry = status;
            }
        }));
        request_id
    }
}

impl Handler<GetDisposalStatus> for Dispatcher {
    type Result = Result<SavepointStatus, DispatcherError>;

    fn handle(&mut self, msg: GetDisposalStatus, _ctx: &mut Context<Self>) -> Self::Result {
        let found = self.disposals.iter().find(|(r, _)| *r == msg.request_id).map(|(_, s)| s.clone());
        found.ok_or(DispatcherError::UnknownDisposal(msg.request_id))
    }
}
