//! The StreamGraph: the logical plan exactly as the job's `describe`
//! returned it, checked for the mistakes a job can make.

use super::Partitioning;
use crate::ids::NodeId;

/// A plan that cannot run, naming the node at fault.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    /// The job described no nodes at all.
    #[error("the job's plan is empty: it declares no source")]
    Empty,
    /// Two nodes share an id.
    #[error("the job's plan uses node id {0} twice")]
    DuplicateId(NodeId),
    /// An edge names a node that does not exist or comes later.
    #[error("node '{node}' reads from node id {input}, which is not declared before it")]
    UnknownInput {
        /// Name of the node with the bad edge.
        node: String,
        /// The id it names.
        input: NodeId,
    },
    /// A parallelism of zero or above the maximum parallelism.
    #[error("node '{node}' has parallelism {parallelism}; it must be between 1 and {max}")]
    BadParallelism {
        /// Name of the node.
        node: String,
        /// The parallelism it asked for.
        parallelism: u32,
        /// The maximum parallelism (number of key groups).
        max: u32,
    },
    /// `forward()` between nodes of different parallelism (Flink refuses it too).
    #[error(
        "node '{node}' reads '{upstream}' through forward(), but their parallelisms differ ({from} and {to}): \
         forward keeps records on their subtask, so both need the same parallelism; use rebalance() or rescale()"
    )]
    ForwardParallelism {
        /// Name of the downstream node.
        node: String,
        /// Name of the upstream node.
        upstream: String,
        /// The upstream node's parallelism.
        from: u32,
        /// The downstream node's parallelism.
        to: u32,
    },
    /// A keyed operator whose input is not keyed.
    #[error("node '{0}' keeps keyed state but its input is not keyed: add a key_by before it")]
    NotKeyed(String),
    /// A node shape the runtime does not run yet (e.g. two inputs).
    #[error("node '{node}' is not supported: {reason}")]
    Unsupported {
        /// Name of the node.
        node: String,
        /// What is not supported.
        reason: String,
    },
    /// A connector that does not exist or lacks an option.
    #[error("{0}")]
    Connector(String),
}

/// The plan's types, shared with the SDK ([`wflink_abi::plan`]): the
/// runtime keeps Flink's names for the graph, node and edge.
pub use wflink_abi::plan::{
    AggregateField, AggregateFunction, Aggregation, BroadcastProcessSpec, Connector, Edge as StreamEdge,
    KeyedProcessSpec, Node as StreamNode, NodeKind, StateDescriptor, StateKind, StreamPlan as StreamGraph,
    WatermarkStrategy, WindowAssigner, WindowSpec,
};

/// What the runtime asks of a plan: is it runnable, and how its nodes connect.
pub trait StreamGraphExt {
    /// Checks what the runtime relies on: unique ids, inputs declared
    /// first, sensible parallelism, keyed operators after a key-by, and
    /// one input per node but for unions and connected operators.
    fn validate(&self, max_parallelism: u32) -> Result<(), PlanError>;
    /// The node with id `id`.
    fn node(&self, id: NodeId) -> Option<&StreamNode>;
    /// The nodes that read from `id`.
    fn consumers(&self, id: NodeId) -> impl Iterator<Item = (&StreamNode, &StreamEdge)>;
}

impl StreamGraphExt for StreamGraph {
    fn validate(&self, max_parallelism: u32) -> Result<(), PlanError> {
        if self.nodes.is_empty() {
            return Err(PlanError::Empty);
        }
        let mut seen: std::collections::HashMap<NodeId, &StreamNode> = std::collections::HashMap::new();
        for node in &self.nodes {
            for edge in &node.inputs {
                let Some(upstream) = seen.get(&edge.source) else {
                    return Err(PlanError::UnknownInput { node: node.name.clone(), input: edge.source });
                };
                check_custom_edge(node, edge, upstream)?;
            }
            if seen.insert(node.id, node).is_some() {
                return Err(PlanError::DuplicateId(node.id));
            }
            for parallelism in node.parallelism.into_iter().chain(self.parallelism) {
                if parallelism == 0 || parallelism > max_parallelism {
                    return Err(PlanError::BadParallelism {
                        node: node.name.clone(),
                        parallelism,
                        max: max_parallelism,
                    });
                }
            }
            check_input_count(node)?;
            if let NodeKind::BroadcastProcess(_) = &node.kind {
                check_broadcast_inputs(node)?;
            } else if node.kind.is_keyed() && node.inputs.iter().any(|e| e.partitioning != Partitioning::Hash) {
                return Err(PlanError::NotKeyed(node.name.clone()));
            }
        }
        Ok(())
    }

    fn node(&self, id: NodeId) -> Option<&StreamNode> {
        self.nodes.iter().find(|n| n.id == id)
    }

    fn consumers(&self, id: NodeId) -> impl Iterator<Item = (&StreamNode, &StreamEdge)> {
        self.nodes.iter().flat_map(move |n| n.inputs.iter().filter(move |e| e.source == id).map(move |e| (n, e)))
    }
}

/// Sources read nothing, a union two or more streams, a connected
/// operator exactly two, every other node one.
fn check_input_count(node: &StreamNode) -> Result<(), PlanError> {
    let inputs = node.inputs.len();
    match &node.kind {
        NodeKind::Source(_) if inputs > 0 => Err(unsupported(node, "a source cannot have inputs")),
        NodeKind::Source(_) => Ok(()),
        NodeKind::Union if inputs < 2 => Err(unsupported(node, "a union needs at least two inputs")),
        NodeKind::CoProcess | NodeKind::KeyedCoProcess(_) | NodeKind::BroadcastProcess(_) if inputs != 2 => {
            Err(unsupported(node, &format!("a connected operator has exactly two inputs, not {inputs}")))
        }
        kind if !kind.is_multi_input() && inputs != 1 => Err(unsupported(
            node,
            if inputs == 0 { "it has no input" } else { "only union and connected operators have several inputs" },
        )),
        _ => Ok(()),
    }
}

/// Custom partitioning is the edge leaving a partition-custom node, and only that edge: the chain before it
/// marks each record with the subtask its partitioner picked, which no other edge reads.
fn check_custom_edge(node: &StreamNode, edge: &StreamEdge, upstream: &StreamNode) -> Result<(), PlanError> {
    let after_partitioner = upstream.kind == NodeKind::PartitionCustom;
    match (after_partitioner, edge.partitioning == Partitioning::Custom) {
        (true, false) => Err(unsupported(
            node,
            &format!(
                "it reads '{}', a partition_custom, through {}: records leaving a partition_custom go to the \
                 subtask its partitioner picks (CUSTOM), so no other partitioning can follow it",
                upstream.name,
                edge.partitioning.ship_strategy()
            ),
        )),
        (false, true) => Err(unsupported(
            node,
            &format!(
                "it reads '{}' through CUSTOM partitioning, which only a partition_custom's edge has",
                upstream.name
            ),
        )),
        _ => Ok(()),
    }
}

/// A broadcast process node reads its broadcast stream (input 1) through
/// a broadcast edge, and its other input through a hash edge when keyed.
fn check_broadcast_inputs(node: &StreamNode) -> Result<(), PlanError> {
    if node.inputs.get(1).is_some_and(|e| e.partitioning != Partitioning::Broadcast) {
        return Err(unsupported(node, "its second input must be a broadcast stream (broadcast_state)"));
    }
    if node.kind.is_keyed() && node.inputs.first().is_some_and(|e| e.partitioning != Partitioning::Hash) {
        return Err(PlanError::NotKeyed(node.name.clone()));
    }
    Ok(())
}

fn unsupported(node: &StreamNode, reason: &str) -> PlanError {
    PlanError::Unsupported { node: node.name.clone(), reason: reason.to_string() }
}
