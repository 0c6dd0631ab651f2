//! The Slot actor: the unit of placement and memory. It owns a memory
//! budget shared by the guests of its tasks, wires each deployed task into
//! its process (in-process slots and those of TaskManager processes
//! alike), starts it on its own thread, hands it its checkpoint commands,
//! and stops it on request.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix::{Actor, AsyncContext, Context, Handler};
use crossbeam_channel::Sender;

use super::descriptor::Locality;
use super::messages::{
    CancelTasks, CommandTask, DeployTask, Deployment, ReleaseJob, TaskControl, TaskDeployment, TaskEnded,
};
use super::task::Task;
use crate::checkpoint::TaskCommand;
use crate::graph::SubtaskId;
use crate::ids::JobId;
use crate::network::ChannelRegistry;
use crate::protocol::{FailureKind, TaskFailure, TaskState, TaskStateChanged};
use crate::wasm::SlotMemory;

/// Where a slot's tasks are wired: the channels of its process and the
/// data address other processes send them records at.
#[derive(Clone)]
pub struct SlotNetwork {
    /// Input channels of the process's tasks.
    pub registry: Arc<ChannelRegistry>,
    /// The process's data address (`local` for an in-process cluster).
    pub address: String,
}

/// A task running in the slot.
struct RunningTask {
    /// Set to stop it.
    cancelled: Arc<AtomicBool>,
    /// Its checkpoint commands.
    commands: Sender<TaskCommand>,
}

/// One slot of a TaskManager.
pub struct Slot {
    /// Name for logs and thread names, e.g. `tm-1/slot-0`.
    name: String,
    /// The memory budget its guests share.
    memory: Arc<SlotMemory>,
    /// Where its tasks are wired.
    network: SlotNetwork,
    /// The tasks running here.
    running: HashMap<(JobId, SubtaskId), RunningTask>,
    /// The latest attempt of each job deployed here, whose channels go when the job releases the slot.
    attempts: HashMap<JobId, u32>,
    /// `task.cancellation.timeout`: how long a cancelled task may take to
    /// end before the process gives up on it (zero: forever).
    cancellation_timeout: Duration,
}

/// The exit code of a TaskManager whose cancelled task never ended.
const STUCK_TASK_EXIT_CODE: i32 = 70;

impl Slot {
    /// A slot whose guests share the budget `memory`, wiring its tasks into `network`.
    pub fn new(name: String, memory: Arc<SlotMemory>, network: SlotNetwork, cancellation_timeout: Duration) -> Self {
        Slot { name, memory, network, running: HashMap::new(), attempts: HashMap::new(), cancellation_timeout }
    }

    /// Wires the deployed task into this process, with its cancel flag and command channel.
    fn materialize(&mut self, deployment: Deployment) -> Result<TaskDeployment, TaskStateChanged> {
        let Deployment { descriptor, component, links } = deployment;
        let (job_id, subtask, attempt) = (descriptor.job_id, descriptor.subtask, descriptor.attempt);
        let cancelled = Arc::new(AtomicBool::new(false));
        let (commands, command_rx) = crossbeam_channel::unbounded();
        let control = TaskControl {
            cancelled: cancelled.clone(),
            metrics: links.metrics,
            report: links.report,
            commands: command_rx,
            checkpoints: links.checkpoints,
        };
        let attempts = self.attempts.entry(job_id).or_insert(attempt);
        *attempts = (*attempts).max(attempt);
        let here = Locality { registry: &self.network.registry, address: &self.network.address };
        let task = descriptor.materialize(component, &here, control).map_err(|e| TaskStateChanged {
            subtask,
            state: TaskState::Failed,
            error: Some(TaskFailure::new(FailureKind::Deployment, e.to_string())),
            final_state: None,
        })?;
        self.running.insert((job_id, subtask), RunningTask { cancelled, commands });
        Ok(task)
    }
}

impl Actor for Slot {
    type Context = Context<Self>;
}

impl Handler<DeployTask> for Slot {
    type Result = ();

    /// Wires the task and starts it on a thread of its own: the task loop
    /// blocks on its channels (that is how backpressure works), so it must
    /// not share an event loop with actors.
    fn handle(&mut self, DeployTask(deployment): DeployTask, ctx: &mut Context<Self>) {
        let report = deployment.links.report.clone();
        let task = match self.materialize(deployment) {
            Ok(task) => task,
            Err(failed) => return report.do_send(failed),
        };
        let key = (task.job_id, task.subtask);
        // Thread names are cut at 15 bytes by the OS: keep them short and
        // distinct (vertex index, subtask index) for top and profilers.
        let thread_name = format!("task-{}-{}", task.subtask.vertex, task.subtask.index);
        let memory = self.memory.clone();
        let slot = ctx.address().recipient();
        let spawned = std::thread::Builder::new().name(thread_name).spawn(move || {
            Task::new(task, memory).run();
            slot.do_send(TaskEnded { job_id: key.0, subtask: key.1 });
        });
        if let Err(e) = spawned {
            tracing::error!(slot = %self.name, error = %e, "cannot start a task thread");
        }
    }
}

impl Handler<CancelTasks> for Slot {
    type Result = ();

    /// Sets the cancel flags of the job's tasks, which stops their guests
    /// within a tick whatever they do, and starts the watchdog: as in
    /// Flink, a task that still has not ended after
    /// `task.cancellation.timeout` (stuck outside the sandbox, e.g. in a
    /// system call) is a fatal error, and the process exits so that its
    /// slots and threads are not held forever.
    fn handle(&mut self, msg: CancelTasks, ctx: &mut Context<Self>) {
        let mut cancelled = Vec::new();
        for ((job, subtask), task) in &self.running {
            if *job == msg.job_id {
                task.cancelled.store(true, Ordering::Relaxed);
                cancelled.push((*subtask, task.cancelled.clone()));
            }
        }
        if cancelled.is_empty() || self.cancellation_timeout.is_zero() {
            return;
        }
        let (job_id, timeout) = (msg.job_id, self.cancellation_timeout);
        ctx.run_later(timeout, move |slot, _ctx| {
            // The same flag still registered: the very task cancelled then (a
            // restarted attempt of the subtask has a flag of its own).
            let stuck: Vec<String> = cancelled
                .iter()
                .filter(|(subtask, flag)| {
                    slot.running.get(&(job_id, *subtask)).is_some_and(|task| Arc::ptr_eq(&task.cancelled, flag))
                })
                .map(|(subtask, _)| format!("{subtask:?}"))
                .collect();
            if !stuck.is_empty() {
                tracing::error!(
                    slot = %slot.name,
                    job = %job_id,
                    tasks = ?stuck,
                    ?timeout,
                    "cancelled tasks did not end within task.cancellation.timeout: fatal error, the process exits"
                );
                std::process::exit(STUCK_TASK_EXIT_CODE);
            }
        });
    }
}

impl Handler<CommandTask> for Slot {
    type Result = ();

    fn handle(&mut self, msg: CommandTask, _ctx: &mut Context<Self>) {
        // A task that already ended has nothing to do with it.
        if let Some(task) = self.running.get(&(msg.job_id, msg.subtask)) {
            let _ = task.commands.send(msg.command);
        }
    }
}

impl Handler<ReleaseJob> for Slot {
    type Result = ();

    /// Stops what is left of the job here and forgets the channels of the
    /// attempts it deployed here (a later attempt another slot of the
    /// process already wired keeps its own).
    fn handle(&mut self, msg: ReleaseJob, _ctx: &mut Context<Self>) {
        for ((job, _), task) in &self.running {
            if *job == msg.job_id {
                task.cancelled.store(true, Ordering::Relaxed);
            }
        }
        if let Some(attempt) = self.attempts.remove(&msg.job_id) {
            self.network.registry.release_attempts(msg.job_id, attempt);
        }
    }
}

impl Handler<TaskEnded> for Slot {
    type Result = ();

    fn handle(&mut self, msg: TaskEnded, _ctx: &mut Context<Self>) {
        self.running.remove(&(msg.job_id, msg.subtask));
    }
}
