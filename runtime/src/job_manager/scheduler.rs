//! Turns a JobGraph and the granted slots into task deployments: creates
//! the bounded channel into every subtask that has an upstream vertex,
//! hands each upstream subtask the channels its partitioning needs, and
//! places subtask `i` of every vertex into shared slot `i`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use actix::Recipient;

use super::messages::TaskStateChanged;
use crate::graph::{ExecutionGraph, JobGraph, Partitioning, SubtaskId};
use crate::ids::JobId;
use crate::metrics::TaskMetrics;
use crate::network::{InputGate, OutputChannel, bounded};
use crate::task_manager::messages::{TaskDeployment, TaskInput, TaskOutput};
use crate::wasm::JobComponent;

/// Settings every task of a job shares.
#[derive(Clone, Debug)]
pub struct TaskSettings {
    /// `execution.buffer-timeout`.
    pub buffer_timeout: Duration,
    /// `wasm.call-timeout`.
    pub call_timeout: Duration,
}

/// One deployment and the shared slot it goes to.
pub(super) struct Placement {
    pub slot: usize,
    pub deployment: TaskDeployment,
}

/// Builds every subtask's deployment.
#[allow(clippy::too_many_arguments)]
pub(super) fn plan_deployments(
    job_id: JobId,
    job: &JobGraph,
    execution: &ExecutionGraph,
    component: &JobComponent,
    args: &[String],
    settings: &TaskSettings,
    report: &Recipient<TaskStateChanged>,
    cancelled: &[Vec<Arc<AtomicBool>>],
    metrics: &[Vec<Arc<TaskMetrics>>],
) -> Vec<Placement> {
    // One channel into each subtask of every vertex that has an input edge.
    let mut senders: Vec<Vec<OutputChannel>> = vec![Vec::new(); job.vertices.len()];
    let mut receivers: Vec<Vec<Option<crossbeam_channel::Receiver<_>>>> =
        job.vertices.iter().map(|_| Vec::new()).collect();
    for edge in &job.edges {
        for _ in 0..job.vertices[edge.target].parallelism {
            let (tx, rx) = bounded();
            senders[edge.target].push(tx);
            receivers[edge.target].push(Some(rx));
        }
    }

    execution
        .subtasks()
        .map(|subtask @ SubtaskId { vertex, index }| {
            let v = &job.vertices[vertex];
            let input = match job.input_of(vertex) {
                Some(edge) => {
                    let upstreams = match edge.partitioning {
                        Partitioning::Forward => 1,
                        _ => job.vertices[edge.source].parallelism as usize,
                    };
                    let rx = receivers[vertex][index as usize].take().expect("one receiver per subtask");
                    TaskInput::Channel(InputGate::new(rx, upstreams))
                }
                None => TaskInput::Source(v.source.clone().expect("a vertex without input edge starts with a source")),
            };
            let output = match job.outputs_of(vertex).next() {
                Some(edge) => TaskOutput::Channels {
                    partitioning: edge.partitioning,
                    channels: match edge.partitioning {
                        Partitioning::Forward => vec![senders[edge.target][index as usize].clone()],
                        _ => senders[edge.target].clone(),
                    },
                },
                None => TaskOutput::Sink(v.sink.clone().expect("a vertex without output edge ends with a sink")),
            };
            Placement {
                slot: ExecutionGraph::shared_slot_of(subtask),
                deployment: TaskDeployment {
                    job_id,
                    subtask,
                    vertex: v.clone(),
                    component: (!v.user_nodes.is_empty()).then(|| component.clone()),
                    args: args.to_vec(),
                    input,
                    output,
                    buffer_timeout: settings.buffer_timeout,
                    call_timeout: settings.call_timeout,
                    cancelled: cancelled[vertex][index as usize].clone(),
                    metrics: metrics[vertex][index as usize].clone(),
                    report: report.clone(),
                },
            }
        })
        .collect()
}
