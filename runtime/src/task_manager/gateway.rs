//! One path from a JobManager to a slot. A JobManager makes the same four
//! calls — deploy, cancel, command, release — on every slot it holds,
//! through a [`SlotGateway`]: [`LocalSlot`] for a slot actor of this
//! process, the ResourceManager's remote slot for a slot of a TaskManager
//! process. Either way the task is materialized where it runs, by its
//! slot, with the channels of that process.

use std::fmt::Debug;

use actix::Addr;

use super::Slot;
use super::messages::{CancelTasks, CommandTask, DeployTask, ReleaseJob};
use crate::checkpoint::TaskCommand;
use crate::graph::SubtaskId;
use crate::ids::JobId;

pub use super::messages::{Deployment, TaskLinks};

/// How a JobManager reaches one slot it was granted, wherever it is.
/// Every call returns at once; what comes of it arrives as the task's
/// state changes and checkpoint reports, through its [`TaskLinks`].
pub trait SlotGateway: Send + Sync + Debug {
    /// Deploys one task into the slot; a task that cannot be wired reports FAILED.
    fn deploy(&self, deployment: Deployment);
    /// Stops the job's tasks in the slot (they report CANCELED).
    fn cancel(&self, job_id: JobId);
    /// Hands a checkpoint command to a running task; a task that is not
    /// running there never sees it.
    fn command(&self, job_id: JobId, subtask: SubtaskId, command: TaskCommand);
    /// The job gave the slot back: what is left of it there (tasks,
    /// channels) goes.
    fn release(&self, job_id: JobId);
}

/// A slot actor of this process.
#[derive(Debug, Clone)]
pub struct LocalSlot(pub Addr<Slot>);

impl SlotGateway for LocalSlot {
    fn deploy(&self, deployment: Deployment) {
        self.0.do_send(DeployTask(deployment));
    }

    fn cancel(&self, job_id: JobId) {
        self.0.do_send(CancelTasks { job_id });
    }

    fn command(&self, job_id: JobId, subtask: SubtaskId, command: TaskCommand) {
        self.0.do_send(CommandTask { job_id, subtask, command });
    }

    fn release(&self, job_id: JobId) {
        self.0.do_send(ReleaseJob { job_id });
    }
}
