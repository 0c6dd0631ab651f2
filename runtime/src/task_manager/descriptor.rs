//! How a TaskManager turns a [`TaskDescriptor`] (plain data a JobManager
//! sends, in `protocol`) into a runnable [`TaskDeployment`] with the
//! channels of its own process. In-process slots go through the same
//! step, so local and cluster runs wire their tasks the same way.

use super::messages::{TaskControl, TaskDeployment, TaskInput, TaskOutput};
use crate::ids::JobId;
use crate::network::{ChannelKey, ChannelRegistry, InputGate, LOW_LATENCY_SPIN, tcp};
use crate::protocol::{InputDescriptor, OutputDescriptor, TaskDescriptor};
use crate::wasm::JobComponent;

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
    /// Wires the task into `here`: its input channel from the registry,
    /// outputs to local channels or over TCP to other TaskManagers.
    pub fn materialize(
        self,
        component: Option<JobComponent>,
        here: &Locality<'_>,
        control: TaskControl,
    ) -> Result<TaskDeployment, DeployError> {
        let key = self.input_key();
        let input = match self.input {
            InputDescriptor::Source(connector) => TaskInput::Source(connector),
            InputDescriptor::Channel { inputs } => {
                let mut rx = here.registry.receiver(key).ok_or(DeployError::AlreadyDeployed {
                    job: key.job_id,
                    vertex: key.vertex,
                    index: key.index,
                })?;
                if self.buffer_timeout.is_zero() {
                    rx.set_spin(LOW_LATENCY_SPIN);
                }
                TaskInput::Channel(InputGate::new(rx, inputs))
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
                            here.registry.sender(key, target.tag)
                        } else {
                            tcp::remote_channel(target.address, key, target.tag)
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
