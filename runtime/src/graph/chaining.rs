//! The chaining rules: when two nodes run in one task, one after the
//! other in the same call, instead of exchanging records over a channel.

use super::{NodeKind, StreamEdge, StreamGraph, StreamGraphExt, StreamNode};

/// Why two consecutive nodes are not chained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainBreak {
    /// The edge repartitions records (key-by, rebalance).
    Repartition,
    /// The two nodes run at different parallelism.
    ParallelismChange,
    /// The upstream node feeds more than one node.
    FanOut,
}

/// Decides whether `downstream` chains onto `upstream` over `edge`; `None`
/// means they chain. Each rule is one early return.
pub fn chain_break(
    graph: &StreamGraph,
    upstream: &StreamNode,
    upstream_parallelism: u32,
    downstream_parallelism: u32,
    edge: &StreamEdge,
) -> Option<ChainBreak> {
    // Only a forward edge keeps records on the subtask that made them.
    if !edge.partitioning.is_forward() {
        return Some(ChainBreak::Repartition);
    }
    // Subtask i feeds subtask i only when both sides have as many subtasks.
    if upstream_parallelism != downstream_parallelism {
        return Some(ChainBreak::ParallelismChange);
    }
    // A chain is a line: a node whose output is shared ends its chain.
    // (Side outputs do not count: they leave the chain by tag, not by edge.)
    let consumers = graph.consumers(upstream.id).filter(|(n, _)| !matches!(n.kind, NodeKind::SideOutput { .. }));
    if consumers.count() > 1 {
        return Some(ChainBreak::FanOut);
    }
    None
}
