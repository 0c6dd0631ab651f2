//! Messages TaskManagers and their slots handle, and the deployment
//! descriptor a JobManager sends to place a task.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use actix::{Message, Recipient};
use crossbeam_channel::Receiver;

use crate::checkpoint::{CheckpointReport, TaskCommand, TaskRestore};
use crate::graph::{Connector, JobVertex, Partitioning, SubtaskId};
use crate::ids::JobId;
use crate::metrics::TaskMetrics;
use crate::network::{InputGate, OutputChannel};
use crate::protocol::TaskStateChanged;
use crate::wasm::JobComponent;

/// Where a task's records come from.
pub enum TaskInput {
    /// A source connector at the head of the chain.
    Source(Connector),
    /// Records from the upstream vertex.
    Channel(InputGate),
}

/// Where a task's records go.
pub enum TaskOutput {
    /// A sink connector at the end of the chain.
    Sink(Connector),
    /// The channels into the downstream vertex's subtasks.
    Channels {
        /// How records are distributed.
        partitioning: Partitioning,
        /// One channel per downstream subtask (one for forward).
        channels: Vec<OutputChannel>,
    },
}

/// Everything a slot needs to run one subtask.
pub struct TaskDeployment {
    /// The job.
    pub job_id: JobId,
    /// Which subtask.
    pub subtask: SubtaskId,
    /// The vertex it runs a subtask of.
    pub vertex: JobVertex,
    /// The compiled component, when the chain has user functions.
    pub component: Option<JobComponent>,
    /// The job's arguments, to rebuild the plan inside the guest.
    pub args: Vec<String>,
    /// Input side.
    pub input: TaskInput,
    /// Output side.
    pub output: TaskOutput,
    /// `execution.buffer-timeout`.
    pub buffer_timeout: Duration,
    /// `wasm.call-timeout`.
    pub call_timeout: Duration,
    /// Where checkpoint state files go (`state.checkpoints.dir`).
    pub checkpoint_storage: String,
    /// Whether the job takes periodic checkpoints (see [`super::TaskDescriptor`]).
    pub periodic_checkpoints: bool,
    /// The state to start from, when the job is restored.
    pub restore: Option<TaskRestore>,
    /// Restarts of the job before this deployment.
    pub attempt: u32,
    /// How the task is stopped, observed and commanded.
    pub control: TaskControl,
}

/// The links between a running task and its JobManager, made where the
/// task is deployed (the JobManager's process for in-process slots, the
/// TaskManager process otherwise).
pub struct TaskControl {
    /// Set to stop the task.
    pub cancelled: Arc<AtomicBool>,
    /// Counters the task updates.
    pub metrics: Arc<TaskMetrics>,
    /// Where the task reports its state changes.
    pub report: Recipient<TaskStateChanged>,
    /// Checkpoint commands, read by the task between batches.
    pub commands: Receiver<TaskCommand>,
    /// Where the task answers checkpoint barriers.
    pub checkpoints: Recipient<CheckpointReport>,
}

/// Place a task into a slot and start it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DeployTask(pub TaskDeployment);

/// Stop every task of `job_id` in the slot.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct CancelTasks {
    /// The job whose tasks stop.
    pub job_id: JobId,
}

/// A task's thread ended; the slot forgets it.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub(crate) struct TaskEnded {
    pub job_id: JobId,
    pub subtask: SubtaskId,
}

/// Stop the TaskManager and its slots (the process is shutting down).
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct Shutdown;
