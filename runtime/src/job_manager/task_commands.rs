//! How a JobManager reaches one running task with a [`TaskCommand`]: the
//! task's command channel when it runs in this process, or the control
//! connection of the TaskManager process that runs it.

use actix::Addr;
use crossbeam_channel::Sender;

use crate::checkpoint::TaskCommand;
use crate::graph::SubtaskId;
use crate::ids::JobId;
use crate::resource_manager::{CommandRemote, TaskManagerGateway};

/// The JobManager's end of one task's command channel.
#[derive(Clone)]
pub enum TaskCommandSender {
    /// The task runs in an in-process slot.
    Local(Sender<TaskCommand>),
    /// The task runs in a TaskManager process, reached through its gateway.
    Remote {
        /// The TaskManager's gateway.
        gateway: Addr<TaskManagerGateway>,
        /// The job.
        job_id: JobId,
        /// The task.
        subtask: SubtaskId,
    },
}

impl TaskCommandSender {
    /// Sends `command` without waiting. A task that already ended simply
    /// never reads it (its channel or its TaskManager is gone).
    pub fn send(&self, command: TaskCommand) {
        match self {
            TaskCommandSender::Local(tx) => {
                let _ = tx.send(command);
            }
            TaskCommandSender::Remote { gateway, job_id, subtask } => {
                gateway.do_send(CommandRemote { job_id: *job_id, subtask: *subtask, command })
            }
        }
    }
}
