//! The JobManager's side of checkpoints. A placeholder until the
//! checkpoint coordinator lands: it logs what the tasks answer.

use actix::Context;

use super::JobManager;
use crate::checkpoint::CheckpointReport;

impl JobManager {
    /// A task answered a checkpoint barrier.
    pub(super) fn on_checkpoint_report(&mut self, report: CheckpointReport, _ctx: &mut Context<Self>) {
        tracing::debug!(subtask = ?report.subtask, checkpoint = report.checkpoint_id, "checkpoint report");
        // Until the coordinator triggers checkpoints nothing asks tasks for one.
        let _ = Self::send_task_command;
    }
}
