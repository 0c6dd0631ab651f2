//! What a JobManager sends a TaskManager to deploy one subtask, as plain
//! data that can cross a process boundary (Flink's deployment
//! descriptors). A TaskManager turns it into a running task with the
//! channels of its own process (`task_manager::descriptor`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::checkpoint::TaskRestore;
use crate::graph::{Connector, JobVertex, Partitioning, SubtaskId};
use crate::ids::JobId;
use crate::network::ChannelKey;

/// The data address of in-process slots: every channel between them stays in memory.
pub const LOCAL_ADDRESS: &str = "local";

/// One subtask to deploy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskDescriptor {
    /// The job.
    pub job_id: JobId,
    /// The job's name (a label of its tasks' metrics).
    pub job_name: String,
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
    /// The task's input channel, fed by upstream subtasks of one or more
    /// upstream vertices.
    Channel {
        /// For each upstream channel (numbered by the tag its sender
        /// uses), the operator input it feeds: 0, or 1 for the second
        /// input of a two-input operator. Each channel ends the input once.
        inputs: Vec<u32>,
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
        /// The downstream subtasks this one sends to: all for hash,
        /// rebalance, shuffle, broadcast and global; its own index for
        /// forward; a pointwise share for rescale.
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
    /// The number the sender's messages carry at that subtask's gate,
    /// which numbers its upstream channels across all its inputs.
    pub tag: u32,
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
}
