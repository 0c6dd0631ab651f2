//! Recovery: when a task fails (a trap in its guest, its TaskManager
//! lost) and the restart strategy allows, the job goes RESTARTING: every
//! task of the attempt is stopped, the slots go back, and after the
//! strategy's delay the job asks for slots again (a TaskManager that
//! registers meanwhile is used) and deploys a new attempt restoring the
//! latest completed checkpoint that reads back whole; a corrupted one is
//! refused (and forgotten) in favour of the one before it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};

use super::{JobFailure, JobManager};
use crate::checkpoint::coordinator::{RestoredCheckpoint, RetainedCheckpoint};
use crate::checkpoint::metadata::CheckpointMetadata;
use crate::checkpoint::{SnapshotKind, TaskRestore};
use crate::protocol::JobStatus;
use crate::time::now_millis;

/// A completed checkpoint or savepoint a deployment starts from.
#[derive(Debug, Clone)]
pub struct Restore {
    /// Its metadata, checked.
    pub metadata: Arc<CheckpointMetadata>,
    /// The location of its directory (state file paths are relative to it).
    pub location: String,
}

impl Restore {
    /// What every subtask of the job restores, `[vertex][index]`.
    pub(super) fn assign(&self, job: &crate::graph::JobGraph) -> Vec<Vec<Option<TaskRestore>>> {
        self.metadata.assign(job, &self.location)
    }

    /// How `/jobs/:id/checkpoints` shows it.
    pub(super) fn describe(&self) -> RestoredCheckpoint {
        RestoredCheckpoint {
            id: self.metadata.checkpoint_id,
            is_savepoint: self.metadata.kind == SnapshotKind::Savepoint,
            restore_timestamp: now_millis(),
            external_path: self.location.clone(),
        }
    }
}

impl JobManager {
    /// A task failed: restart by the restart strategy, or fail the job.
    pub(super) fn on_task_failed(&mut self, failure: JobFailure, ctx: &mut Context<Self>) {
        match self.status {
            JobStatus::Running | JobStatus::Created => match self.backoff.on_failure(Instant::now()) {
                Some(delay) => self.restart(failure, delay, ctx),
                None => self.fail(failure, ctx),
            },
            // The attempt is being stopped already; its other tasks fail
            // too. The root cause may come after a consequence of it.
            JobStatus::Restarting => {
                if let Some(last) = self.exceptions.last_mut()
                    && last.is_consequence()
                    && !failure.is_consequence()
                {
                    *last = failure;
                }
            }
            // A cancelled job ends CANCELED whatever its tasks hit on the way.
            JobStatus::Cancelling => {}
            _ => self.fail(failure, ctx),
        }
    }

    fn restart(&mut self, failure: JobFailure, delay: Duration, ctx: &mut Context<Self>) {
        tracing::warn!(job = %self.submission.job_id, attempt = self.attempt, ?delay, cause = %failure.message, "restarting the job");
        self.exceptions.push(failure);
        self.abort_all_checkpoints("the job is restarting");
        self.forget_undeployed();
        self.transition(JobStatus::Restarting);
        self.restart_delay = Some(delay);
        self.cancel_tasks();
        self.end_if_all_terminal(ctx);
    }

    /// Every task of the failed attempt stopped: give the slots back, then
    /// after the restart delay restore and ask for slots again.
    pub(super) fn schedule_restart(&mut self, ctx: &mut Context<Self>) {
        let Some(delay) = self.restart_delay.take() else { return };
        self.release_slots();
        ctx.run_later(delay, |act, ctx| act.restore_and_redeploy(ctx));
    }

    fn restore_and_redeploy(&mut self, ctx: &mut Context<Self>) {
        if self.status != JobStatus::Restarting {
            return;
        }
        let candidates: Vec<RetainedCheckpoint> = self.checkpoints.retained_newest_first().cloned().collect();
        let storage = self.storage.clone();
        let find = async move {
            let mut refused = Vec::new();
            for candidate in candidates {
                match CheckpointMetadata::load(&storage, &candidate.dir).await {
                    Ok(metadata) => {
                        let location = storage.describe(&candidate.dir);
                        return (Some(Restore { metadata: Arc::new(metadata), location }), refused);
                    }
                    Err(e) => refused.push((candidate.id, e.to_string())),
                }
            }
            (None, refused)
        };
        ctx.wait(find.into_actor(self).map(|(found, refused), act, ctx| {
            for (id, reason) in refused {
                tracing::warn!(job = %act.submission.job_id, checkpoint = id, reason, "checkpoint refused for recovery");
                act.checkpoints.forget(id);
            }
            if act.status != JobStatus::Restarting {
                return;
            }
            // Without a completed checkpoint the job starts over from what it first started from.
            act.restore = found.or_else(|| act.submission.restore.clone());
            act.attempt += 1;
            act.reset_attempt();
            act.transition(JobStatus::Created);
            act.waiting_for_slots_since = None;
            act.request_slots(ctx);
        }));
    }
}

/// Reads and checks the savepoint (or retained checkpoint) at `path` — its
/// directory or its `_metadata` file — for `job`.
pub async fn load_savepoint(
    path: &str,
    job: &crate::graph::JobGraph,
    allow_non_restored_state: bool,
) -> Result<Restore, crate::checkpoint::metadata::RestoreError> {
    use crate::checkpoint::metadata::{METADATA_FILE, RestoreError};
    let trimmed = path.trim().trim_end_matches('/');
    let dir = trimmed.strip_suffix(METADATA_FILE).map(|d| d.trim_end_matches('/')).unwrap_or(trimmed);
    let is_local = url::Url::parse(dir).map_or(true, |u| u.scheme().len() <= 1);
    if dir.is_empty() || (is_local && !std::path::Path::new(dir).is_dir()) {
        return Err(RestoreError::NotFound(path.to_string()));
    }
    let storage = crate::checkpoint::CheckpointStorage::open(dir)?;
    let metadata = CheckpointMetadata::load(&storage, "").await?;
    metadata.check_compatible(job, dir, allow_non_restored_state)?;
    Ok(Restore { metadata: Arc::new(metadata), location: storage.location().to_string() })
}
