//! Turns a JobGraph and the granted slots into task descriptors: subtask
//! `i` of every vertex goes to shared slot `i`; each subtask with
//! upstream vertices gets an input channel (numbered across all its
//! inputs), and each upstream subtask the channels (and their
//! TaskManagers' addresses) its partitioning needs, and its tag there.

use std::time::Duration;

use super::execution_graph::ExecutionGraph;
use crate::graph::{JobGraph, SubtaskId};
use crate::ids::JobId;
use crate::network::ChannelKey;
use crate::protocol::{ChannelTarget, InputDescriptor, OutputDescriptor, TaskDescriptor};

/// Settings every task of a job shares.
#[derive(Clone, Debug)]
pub struct TaskSettings {
    /// `execution.buffer-timeout`.
    pub buffer_timeout: Duration,
    /// `wasm.call-timeout`.
    pub call_timeout: Duration,
    /// `state.checkpoints.dir`: where tasks write their checkpoint state.
    pub checkpoint_storage: String,
    /// Whether `execution.checkpointing.interval` is set.
    pub periodic_checkpoints: bool,
}

/// One task and the shared slot it goes to.
pub(super) struct Placement {
    pub slot: usize,
    pub descriptor: TaskDescriptor,
}

/// Builds every subtask's descriptor; `addresses[i]` is the data address
/// of the TaskManager holding shared slot `i`.
pub(super) fn plan_deployments(
    job_id: JobId,
    job: &JobGraph,
    execution: &ExecutionGraph,
    component_hash: &str,
    args: &[String],
    settings: &TaskSettings,
    addresses: &[String],
) -> Vec<Placement> {
    let target = |vertex: usize, (index, tag): (u32, u32)| ChannelTarget {
        key: ChannelKey { job_id, vertex, index, attempt: 0 },
        address: addresses[ExecutionGraph::shared_slot_of(SubtaskId { vertex, index })].clone(),
        tag,
    };
    execution
        .subtasks()
        .map(|subtask @ SubtaskId { vertex, index }| {
            let v = &job.vertices[vertex];
            let input = match job.inputs_of(vertex).next() {
                Some(_) => InputDescriptor::Channel { inputs: job.gate_inputs(vertex, index) },
                None => {
                    InputDescriptor::Source(v.source.clone().expect("a vertex without input edge starts with a source"))
                }
            };
            let output = match job.outputs_of(vertex).next() {
                Some(edge) => OutputDescriptor::Channels {
                    partitioning: edge.partitioning,
                    targets: job.output_targets(vertex, index).into_iter().map(|t| target(edge.target, t)).collect(),
                },
                None => OutputDescriptor::Sink(v.sink.clone().expect("a vertex without output edge ends with a sink")),
            };
            Placement {
                slot: ExecutionGraph::shared_slot_of(subtask),
                descriptor: TaskDescriptor {
                    job_id,
                    job_name: job.job_name.clone(),
                    subtask,
                    vertex: v.clone(),
                    component_hash: (!v.user_nodes.is_empty()).then(|| component_hash.to_string()),
                    args: args.to_vec(),
                    input,
                    output,
                    buffer_timeout: settings.buffer_timeout,
                    call_timeout: settings.call_timeout,
                    checkpoint_storage: settings.checkpoint_storage.clone(),
                    periodic_checkpoints: settings.periodic_checkpoints,
                    restore: None,
                    attempt: 0,
                },
            }
        })
        .collect()
}
