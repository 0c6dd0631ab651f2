//! Converts the plan a guest describes into the runtime's StreamGraph.

use super::bindings::plan as wit;
use crate::graph::{Connector, NodeKind, Partitioning, StreamEdge, StreamGraph, StreamNode};

pub(crate) fn stream_graph(plan: wit::StreamPlan) -> StreamGraph {
    StreamGraph {
        job_name: plan.job_name,
        parallelism: plan.parallelism,
        nodes: plan
            .nodes
            .into_iter()
            .map(|node| StreamNode {
                id: node.id,
                name: node.name,
                uid: node.uid,
                kind: match node.kind {
                    wit::NodeKind::Source(c) => NodeKind::Source(connector(c)),
                    wit::NodeKind::Map => NodeKind::Map,
                    wit::NodeKind::FlatMap => NodeKind::FlatMap,
                    wit::NodeKind::Filter => NodeKind::Filter,
                    wit::NodeKind::KeyBy => NodeKind::KeyBy,
                    wit::NodeKind::Reduce => NodeKind::Reduce,
                    wit::NodeKind::Sink(c) => NodeKind::Sink(connector(c)),
                },
                parallelism: node.parallelism,
                inputs: node
                    .inputs
                    .into_iter()
                    .map(|edge| StreamEdge {
                        source: edge.source,
                        partitioning: match edge.partitioning {
                            wit::Partitioning::Forward => Partitioning::Forward,
                            wit::Partitioning::Rebalance => Partitioning::Rebalance,
                            wit::Partitioning::Hash => Partitioning::Hash,
                        },
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn connector(c: wit::Connector) -> Connector {
    Connector { name: c.name, options: c.options }
}
