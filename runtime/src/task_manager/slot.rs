//! The Slot actor: the unit of placement and memory. It owns a memory
//! budget shared by the guests of its tasks, starts each deployed task on
//! its own thread, and stops them on request.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix::{Actor, AsyncContext, Context, Handler};

use super::messages::{CancelTasks, DeployTask, TaskEnded};
use super::task::Task;
use crate::graph::SubtaskId;
use crate::ids::JobId;
use crate::wasm::SlotMemory;

/// One slot of a TaskManager.
pub struct Slot {
    /// Name for logs and thread names, e.g. `tm-1/slot-0`.
    name: String,
    /// The memory budget its guests share.
    memory: Arc<SlotMemory>,
    /// Cancel flags of the tasks running here.
    running: HashMap<(JobId, SubtaskId), Arc<AtomicBool>>,
    /// `task.cancellation.timeout`: how long a cancelled task may take to
    /// end before the process gives up on it (zero: forever).
    cancellation_timeout: Duration,
}

/// The exit code of a TaskManager whose cancelled task never ended.
const STUCK_TASK_EXIT_CODE: i32 = 70;

impl Slot {
    /// A slot whose guests share the budget `memory`.
    pub fn new(name: String, memory: Arc<SlotMemory>, cancellation_timeout: Duration) -> Self {
        Slot { name, memory, running: HashMap::new(), cancellation_timeout }
    }
}

impl Actor for Slot {
    type Context = Context<Self>;
}

impl Handler<DeployTask> for Slot {
    type Result = ();

    /// Starts the task on a thread of its own: the task loop blocks on its
    /// channels (that is how backpressure works), so it must not share an
    /// event loop with actors.
    fn handle(&mut self, DeployTask(deployment): DeployTask, ctx: &mut Context<Self>) {
        let key = (deployment.job_id, deployment.subtask);
        self.running.insert(key, deployment.control.cancelled.clone());
        // Thread names are cut at 15 bytes by the OS: keep them short and
        // distinct (vertex index, subtask index) for top and profilers.
        let thread_name = format!("task-{}-{}", deployment.subtask.vertex, deployment.subtask.index);
        let memory = self.memory.clone();
        let slot = ctx.address().recipient();
        let spawned = std::thread::Builder::new().name(thread_name).spawn(move || {
            Task::new(deployment, memory).run();
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
        for ((job, subtask), flag) in &self.running {
            if *job == msg.job_id {
                flag.store(true, Ordering::Relaxed);
                cancelled.push((*subtask, flag.clone()));
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
                .filter(|(subtask, flag)| slot.running.get(&(job_id, *subtask)).is_some_and(|f| Arc::ptr_eq(f, flag)))
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

impl Handler<TaskEnded> for Slot {
    type Result = ();

    fn handle(&mut self, msg: TaskEnded, _ctx: &mut Context<Self>) {
        self.running.remove(&(msg.job_id, msg.subtask));
    }
}
