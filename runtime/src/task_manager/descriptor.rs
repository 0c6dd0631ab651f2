//! What a JobManager sends to deploy a task, as plain data that can
//! cross a process boundary, and how a TaskManager turns it into a
//! runnable [`TaskDeployment`] with the channels of its own process.
//! In-process slots go through the same step, so local and cluster runs
//! wire their tasks the same way.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::messages::{TaskControl, TaskDeployment, TaskInput, TaskOutput};
use crate::checkpoint::TaskRestore;
use crate::graph::{Connector, JobVertex, Partitioning, SubtaskId};
use crate::ids::JobId;
use crate::network::{ChannelKey, ChannelRegistry, InputGate, tcp};
use crate::wasm::JobComponent;

/// The data address of in-process slots: every channel between them stays in memory.
pub const LOCAL_ADDRESS: &str = "local";

/// One subtask to deploy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskDescriptor {
    /// The job.
    pub job_id: JobId,
    /// Which subtask.
    pub subtask: SubtaskId,
    /// The vertex it runs a subtask of.
    pub vertex: JobVertex,
    /// Content hash of the job's component, when the chain has user functions.
    pub component_hash: Option<String>,
    /// The job's arguments.
    pub args: Vec<String>,
    /// Input side.
    pub input: InputDescriptor,
    /// Output side.
    pub output: OutputDescriptor,
    /// `execution.buffer-timeout`.
    pub buffer_timeout: Duration,
    /// `wasm.call-timeout`.
    pub call_timeout: Duration,
    /// Where the task writes its checkpoint state files and reads the
    /// ones it restores from (`state.checkpoints.dir`: a directory or an
    /// object store URL).
    pub checkpoint_storage: String,
    /// Whether the job takes periodic checkpoints: then a source that
    /// reaches its end takes part in one more checkpoint before it ends
    /// (so a completed checkpoint records it as ended and the sinks commit
    /// everything through the usual two-phase commit).
    pub periodic_checkpoints: bool,
    /// The state to start from, when the job is restored.
    pub restore: Option<TaskRestore>,
    /// How many times the job was restarted before this deployment (0 on
    /// the first run); the guest sees it as `WFLINK_ATTEMPT`.
    pub attempt: u32,
}

/// Where the task's records come from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum InputDescriptor {
    /// A source connector at the head of the chain.
    Source(Connector),
    /// The task's input channel, fed by `upstreams` subtasks.
    Channel {
        /// Number of upstream subtasks that each end the input.
        upstreams: usize,
    },
}

/// Where the task's records go.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum OutputDescriptor {
    /// A sink connector at the end of the chain.
    Sink(Connector),
    /// The input channels of the downstream subtasks.
    Channels {
        /// How records are distributed.
        partitioning: Partitioning,
        /// One per downstream subtask (one for forward).
        targets: Vec<ChannelTarget>,
    },
}

/// A downstream subtask's input channel and where it lives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChannelTarget {
    /// The channel.
    pub key: ChannelKey,
    /// Data address of the TaskManager that runs the subtask.
    pub address: String,
}

/// The process a task is materialized in: its channels and its address.
pub struct Locality<'a> {
    /// Input channels of this process's tasks.
    pub registry: &'a ChannelRegistry,
    /// This process's data address; targets elsewhere are reached over TCP.
    pub address: &'a str,
}

/// Why a descriptor cannot become a task.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The same subtask was deployed twice into this process.
    #[error("subtask {index} of vertex {vertex} of job {job} is already deployed here")]
    AlreadyDeployed {
        /// The job.
        job: JobId,
        /// The vertex.
        vertex: usize,
        /// The subtask.
        index: u32,
    },
}

impl TaskDescriptor {
    /// The key of this task's input channel.
    pub fn input_key(&self) -> ChannelKey {
        ChannelKey {
            job_id: self.job_id,
            vertex: self.subtask.vertex,
            index: self.subtask.index,
            attempt: self.attempt,
        }
    }

    /// Wires the task into `here`: its input channel from the registry,
    /// outputs to local channels or over TCP to other TaskManagers.
    pub fn materialize(
        self,
        component: Option<JobComponent>,
        here: &Locality<'_>,
        control: TaskControl,
    ) -> Result<TaskDeployment, DeployError> {
        let input = match self.input {
            InputDescriptor::Source(connector) => TaskInput::Source(connector),
            InputDescriptor::Channel { upstreams } => {
                let key = self.input_key();
                let rx = here.registry.receiver(key).ok_or(DeployError::AlreadyDeployed {
                    job: key.job_id,
                    vertex: key.vertex,
                    index: key.index,
                })?;
                TaskInput::Channel(InputGate::new(rx, upstreams))
            }
        };
        let output = match self.output {
            OutputDescriptor::Sink(connector) => TaskOutput::Sink(connector),
            OutputDescriptor::Channels { partitioning, targets } => TaskOutput::Channels {
                partitioning,
                channels: targets
                    .into_iter()
                    .map(|target| {
                        let key = ChannelKey { attempt: self.attempt, ..target.key };
                        if target.address == here.address {
                            here.registry.sender(key, self.subtask.index)
                        } else {
                            tcp::remote_channel(target.address, key, self.subtask.index)
                        }
                    })
                    .collect(),
            },
        };
        Ok(TaskDeployment {
            job_id: self.job_id,
            subtask: self.subtask,
            vertex: self.vertex,
            component,
            args: self.args,
            input,
            output,
            buffer_timeout: self.buffer_timeout,
            call_timeout: self.call_timeout,
            checkpoint_storage: self.checkpoint_storage,
            periodic_checkpoints: self.periodic_checkpoints,
            restore: self.restore,
            attempt: self.attempt,
            control,
        })
    }
}
