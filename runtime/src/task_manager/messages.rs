//! Messages TaskManagers and their slots handle: the deployment a
//! JobManager sends to place a task, and the task as its slot
//! materialized it.

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
use crate::protocol::{TaskDescriptor, TaskStateChanged};
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

impl TaskOutput {
    /// The partitions a partition-custom node ending the chain picks
    /// among: every subtask of the next vertex, one channel each; 0 when
    /// the output is not custom-partitioned.
    pub fn custom_partitions(&self) -> u32 {
        match self {
            TaskOutput::Channels { partitioning: Partitioning::Custom, channels } => channels.len() as u32,
            _ => 0,
        }
    }
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

/// Where a task reports, made by its JobManager (in a TaskManager
/// process, by the TaskManager for the JobManager at the other end of its
/// connection).
pub struct TaskLinks {
    /// Where the task reports its state changes.
    pub report: Recipient<TaskStateChanged>,
    /// Where the task answers checkpoint barriers.
    pub checkpoints: Recipient<CheckpointReport>,
    /// Counters the task updates, as its JobManager shows them.
    pub metrics: Arc<TaskMetrics>,
}

/// One task for a slot, as a JobManager hands it over.
pub struct Deployment {
    /// The task, as plain data.
    pub descriptor: TaskDescriptor,
    /// The compiled component, when the chain has user functions (a
    /// TaskManager process fetches it by its hash instead).
    pub component: Option<JobComponent>,
    /// Where the task reports.
    pub links: TaskLinks,
}

/// The links between a running task and its JobManager, made by the slot
/// that materializes the task.
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

/// Place a task into a slot: the slot wires it into its process and starts it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DeployTask(pub Deployment);

/// Stop every task of `job_id` in the slot.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct CancelTasks {
    /// The job whose tasks stop.
    pub job_id: JobId,
}

/// Hand a checkpoint command to one task of the slot.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct CommandTask {
    /// The job.
    pub job_id: JobId,
    /// The task.
    pub subtask: SubtaskId,
    /// The command.
    pub command: TaskCommand,
}

/// The job gave the slot back: its tasks stop and its channels are forgotten.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct ReleaseJob {
    /// The job.
    pub job_id: JobId,
}

/// A task's thread ended; the slot forgets it.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub(crate) struct TaskEnded {
    pub job_id: JobId,
    pub subtask: SubtaskId,
}

/// A task of `job_id` changed state (tagged by the job's reporter in a TaskManager process).
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct JobTaskState {
    pub job_id: JobId,
    pub change: TaskStateChanged,
}

/// A task of `job_id` answered a checkpoint barrier.
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct JobCheckpointReport {
    pub job_id: JobId,
    pub report: CheckpointReport,
}

/// A component finished compiling on a worker thread.
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct Compiled {
    pub hash: String,
    pub result: Result<JobComponent, String>,
}

/// Stop the TaskManager and its slots (the process is shutting down).
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct Shutdown;
