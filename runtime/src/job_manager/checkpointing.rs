//! The JobManager's side of checkpoints: the periodic trigger, the tasks'
//! reports, timeouts, writing `_metadata` once every task acknowledged
//! (then `NotifyComplete` to every task), retention, and savepoints
//! (their state files copied next to their `_metadata`, so a savepoint
//! directory is self-contained).

use std::sync::Arc;

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};
use tokio::sync::oneshot;

use super::checkpoint_trigger::CheckpointTriggerError;
use super::savepoint::SavepointError;
use super::{JobFailure, JobManager};
use crate::checkpoint::coordinator::{PendingCheckpoint, ReportEffect};
use crate::checkpoint::metadata::{METADATA_FILE, file_name, join};
use crate::checkpoint::{
    CheckpointId, CheckpointReport, CheckpointStorage, SnapshotKind, StopMode, StorageError, TaskCommand,
};
use crate::graph::SubtaskId;
use crate::protocol::{FailureKind, JobStatus, TaskState};
use crate::time::now_millis;

/// A savepoint someone waits for.
pub(super) struct SavepointRequest {
    /// Its own directory (`<target>/savepoint-<job>-<random>`).
    pub storage: CheckpointStorage,
    /// Whether the job is cancelled once it completed (cancel-with-savepoint).
    pub cancel_job: bool,
    /// Whether it stops the job (stop-with-savepoint): the answer waits for the job's end.
    pub stop: Option<StopMode>,
    /// Where the outcome goes.
    pub reply: oneshot::Sender<Result<String, SavepointError>>,
}

impl JobManager {
    /// Starts the periodic trigger, if `execution.checkpointing.interval` is set.
    pub(super) fn start_checkpoint_timer(&mut self, ctx: &mut Context<Self>) {
        let interval = self.checkpoints.settings().interval;
        if interval.is_zero() {
            return;
        }
        ctx.run_interval(interval, |act, ctx| {
            if let Err(reason) = act.trigger_checkpoint(SnapshotKind::Checkpoint, None, ctx) {
                tracing::debug!(job = %act.submission.job_id, reason, "no checkpoint triggered");
            }
        });
    }

    /// Triggers a checkpoint or savepoint: every running source subtask
    /// gets the barrier. Refused unless every task runs or has finished
    /// (sources that ran out take part in one more checkpoint, so the sinks
    /// commit their output) and some source still runs. With `stop`, the
    /// barrier stops the job; nothing else is triggered after it.
    pub(super) fn trigger_checkpoint(
        &mut self,
        kind: SnapshotKind,
        stop: Option<StopMode>,
        ctx: &mut Context<Self>,
    ) -> Result<CheckpointId, String> {
        if self.status != JobStatus::Running {
            return Err(format!("the job is {}", self.status));
        }
        if let Some(id) = self.stopping {
            return Err(format!("the job is ending with savepoint {id}"));
        }
        let states = |s: &SubtaskId| self.execution.state(*s);
        if let Some(subtask) =
            self.execution.subtasks().find(|s| !matches!(states(s), TaskState::Running | TaskState::Finished))
        {
            let vertex = &self.submission.job_graph.vertices[subtask.vertex];
            return Err(format!("task {} ({}) is {:?}, not running", vertex.name, subtask.index + 1, states(&subtask)));
        }
        let job = self.submission.job_graph.clone();
        let sources: Vec<SubtaskId> = job
            .vertices
            .iter()
            .filter(|v| job.inputs_of(v.index).next().is_none())
            .flat_map(|v| (0..v.parallelism).map(|index| SubtaskId { vertex: v.index, index }))
            .filter(|s| states(s) == TaskState::Running)
            .collect();
        if sources.is_empty() {
            return Err("every source has ended".into());
        }
        let finished: Vec<SubtaskId> = self.execution.subtasks().filter(|s| states(s) == TaskState::Finished).collect();
        let mut barrier = self.checkpoints.trigger(kind, now_millis(), &finished).map_err(|e| e.to_string())?;
        barrier.stop = stop;
        if stop.is_some() {
            self.stopping = Some(barrier.id);
        }
        tracing::debug!(job = %self.submission.job_id, checkpoint = barrier.id, ?kind, ?stop, "checkpoint triggered");
        for source in sources {
            self.send_task_command(source, TaskCommand::TriggerCheckpoint(barrier));
        }
        ctx.run_later(self.checkpoints.settings().timeout, |act, ctx| act.expire_checkpoints(ctx));
        Ok(barrier.id)
    }

    fn expire_checkpoints(&mut self, ctx: &mut Context<Self>) {
        let now = now_millis();
        for id in self.checkpoints.expired(now) {
            let reason = "it expired before every task acknowledged it (execution.checkpointing.timeout)";
            self.abort_checkpoint(id, reason);
            self.count_checkpoint_failure(id, reason, ctx);
        }
    }

    /// A checkpoint failed for a reason Flink counts: past
    /// `execution.checkpointing.tolerable-failed-checkpoints` in a row the
    /// job fails with the checkpoint's error as its cause (its restart
    /// strategy decides what follows), so a job whose checkpoints cannot
    /// complete (a bounded job waiting for its last one) never hangs.
    fn count_checkpoint_failure(&mut self, id: CheckpointId, reason: &str, ctx: &mut Context<Self>) {
        let Some(failures) = self.checkpoints.count_failure(id) else { return };
        let tolerable = self.checkpoints.settings().tolerable_failures;
        let message = format!(
            "checkpoint {id} failed: {reason} ({failures} checkpoint failure(s) in a row, more than the {tolerable} \
             execution.checkpointing.tolerable-failed-checkpoints allows)"
        );
        self.on_task_failed(JobFailure::new(message, FailureKind::Checkpoint), ctx);
    }

    /// Fails checkpoint `id`: tasks drop what they prepared, a waiting savepoint fails.
    pub(super) fn abort_checkpoint(&mut self, id: CheckpointId, reason: &str) {
        self.checkpoints.failed(id, reason, now_millis());
        tracing::warn!(job = %self.submission.job_id, checkpoint = id, reason, "checkpoint failed");
        self.notify_all(TaskCommand::NotifyAborted(id));
        self.fail_savepoint(id, reason);
    }

    /// Fails every checkpoint in progress (the job fails, restarts or is cancelled).
    pub(super) fn abort_all_checkpoints(&mut self, reason: &str) {
        self.answer_stop(Some(reason.to_string()));
        for barrier in self.checkpoints.abort_all(reason, now_millis()) {
            self.fail_savepoint(barrier.id, reason);
        }
    }

    fn fail_savepoint(&mut self, id: CheckpointId, reason: &str) {
        if self.stopping == Some(id) {
            self.stopping = None;
        }
        if let Some(request) = self.savepoints.remove(&id) {
            let _ = request.reply.send(Err(SavepointError::Failed(id, reason.to_string())));
        }
        if let Some(reply) = self.checkpoint_requests.remove(&id) {
            let _ = reply.send(Err(CheckpointTriggerError::Failed(id, reason.to_string())));
        }
    }

    fn notify_all(&self, command: TaskCommand) {
        let subtasks: Vec<SubtaskId> = self.execution.subtasks().collect();
        for subtask in subtasks {
            self.send_task_command(subtask, command.clone());
        }
    }

    /// A task acknowledged or declined a checkpoint.
    pub(super) fn on_checkpoint_report(&mut self, report: CheckpointReport, ctx: &mut Context<Self>) {
        match self.checkpoints.report(report, now_millis()) {
            ReportEffect::Ignored | ReportEffect::Pending => {}
            ReportEffect::Declined(barrier, reason) => {
                tracing::warn!(job = %self.submission.job_id, checkpoint = barrier.id, reason, "checkpoint declined");
                self.notify_all(TaskCommand::NotifyAborted(barrier.id));
                self.fail_savepoint(barrier.id, &reason);
                self.count_checkpoint_failure(barrier.id, &reason, ctx);
            }
            ReportEffect::AllAcknowledged(pending) => self.finalize(*pending, ctx),
        }
    }

    /// Every task acknowledged: make the checkpoint durable (`_metadata`
    /// last), then tell the tasks it completed.
    fn finalize(&mut self, pending: PendingCheckpoint, ctx: &mut Context<Self>) {
        let id = pending.barrier.id;
        let job_id = self.submission.job_id.to_string();
        let metadata = pending.metadata(&self.submission.job_graph, &job_id, &self.submission.component.hash);
        let storage = self.storage.clone();
        let dir = format!("{job_id}/chk-{id}");
        let attempt = self.attempt;
        // Where the tasks wrote each state file, relative to the checkpoint storage.
        let written: Vec<String> = pending
            .handles
            .iter()
            .flatten()
            .flatten()
            .filter_map(|h| h.keyed.as_ref().map(|f| f.path.clone()))
            .collect();
        let target = self.savepoints.get(&id).map(|request| request.storage.clone());
        let write = async move {
            let bytes = metadata.encode();
            match target {
                None => {
                    storage.put_async(&join(&dir, METADATA_FILE), bytes).await?;
                    Ok::<_, StorageError>((dir.clone(), storage.describe(&dir)))
                }
                Some(target) => {
                    for path in &written {
                        let state = storage.get_async(path).await?;
                        target.put_async(file_name(path), state).await?;
                    }
                    target.put_async(METADATA_FILE, bytes).await?;
                    // The savepoint holds its own copy now.
                    let _ = storage.delete_dir_async(&dir).await;
                    Ok((String::new(), target.location().to_string()))
                }
            }
        };
        let pending = Arc::new(pending);
        ctx.spawn(write.into_actor(self).map(move |written, act, ctx| {
            let now = now_millis();
            match written {
                Ok(_) if act.attempt != attempt => {
                    // The job restarted from an earlier checkpoint meanwhile: the
                    // tasks that prepared this one (and their pending files) are gone.
                    act.checkpoints.failed(id, "the job restarted before its metadata was written", now);
                    act.fail_savepoint(id, "the job restarted before the savepoint completed");
                }
                Ok((dir, location)) => {
                    let retired = act.checkpoints.completed(&pending, dir, location.clone(), now);
                    let (duration_ms, state_bytes) =
                        act.checkpoints.stats().completed_samples.back().copied().unwrap_or_default();
                    tracing::info!(job = %act.submission.job_id, checkpoint = id, location, duration_ms, state_bytes, "checkpoint completed");
                    act.notify_all(TaskCommand::NotifyComplete(id));
                    act.retire(retired);
                    if let Some(reply) = act.checkpoint_requests.remove(&id) {
                        let _ = reply.send(Ok(id));
                    }
                    if let Some(request) = act.savepoints.remove(&id) {
                        if request.stop.is_some() {
                            // The tasks end by themselves now; the answer waits for the job's end.
                            act.stopped = Some((request.reply, location));
                            return;
                        }
                        let _ = request.reply.send(Ok(location));
                        if request.cancel_job {
                            let _ = act.cancel(ctx);
                        }
                    }
                }
                Err(e) => {
                    let reason = format!("its metadata could not be written: {e}");
                    act.abort_checkpoint(id, &reason);
                    act.count_checkpoint_failure(id, &reason, ctx);
                }
            }
        }));
    }

    /// Deletes checkpoints retention no longer keeps (also after the job ended).
    fn retire(&mut self, dirs: Vec<String>) {
        if dirs.is_empty() {
            return;
        }
        let storage = self.storage.clone();
        actix::spawn(async move {
            for dir in dirs {
                if let Err(e) = storage.delete_dir_async(&dir).await {
                    tracing::warn!(dir, error = %e, "a retired checkpoint could not be deleted");
                }
            }
        });
    }
}
