//! Converts the plan a guest describes into the runtime's StreamGraph.

use super::bindings::plan as wit;
use crate::graph::{
    AggregateField, AggregateFunction, Aggregation, BroadcastProcessSpec, Connector, KeyedProcessSpec, NodeKind,
    Partitioning, StateDescriptor, StateKind, StreamEdge, StreamGraph, StreamNode, WatermarkStrategy, WindowAssigner,
    WindowSpec,
};
use crate::time::TimeDomain;

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
                    wit::NodeKind::PartitionCustom => NodeKind::PartitionCustom,
                    wit::NodeKind::Reduce => NodeKind::Reduce,
                    wit::NodeKind::Aggregate(a) => NodeKind::Aggregate(aggregation(a)),
                    wit::NodeKind::AssignTimestamps(s) => NodeKind::AssignTimestamps(WatermarkStrategy {
                        max_out_of_orderness_ms: s.max_out_of_orderness_ms,
                        idle_timeout_ms: s.idle_timeout_ms,
                    }),
                    wit::NodeKind::Process => NodeKind::Process,
                    wit::NodeKind::KeyedProcess(spec) => NodeKind::KeyedProcess(keyed_process(spec)),
                    wit::NodeKind::SideOutput(s) => NodeKind::SideOutput { tag: s.tag, name: s.name },
                    wit::NodeKind::Sink(c) => NodeKind::Sink(connector(c)),
                    wit::NodeKind::Union => NodeKind::Union,
                    wit::NodeKind::CoProcess => NodeKind::CoProcess,
                    wit::NodeKind::KeyedCoProcess(spec) => NodeKind::KeyedCoProcess(keyed_process(spec)),
                    wit::NodeKind::BroadcastProcess(spec) => NodeKind::BroadcastProcess(BroadcastProcessSpec {
                        broadcast_states: spec.broadcast_states.into_iter().map(state_descriptor).collect(),
                        keyed: spec.keyed.map(keyed_process),
                    }),
                    wit::NodeKind::KeyByField(f) => NodeKind::KeyByField(field(f)),
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
                            wit::Partitioning::Rescale => Partitioning::Rescale,
                            wit::Partitioning::Shuffle => Partitioning::Shuffle,
                            wit::Partitioning::Broadcast => Partitioning::Broadcast,
                            wit::Partitioning::Global => Partitioning::Global,
                            wit::Partitioning::ForwardStrict => Partitioning::ForwardStrict,
                            wit::Partitioning::Custom => Partitioning::Custom,
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

fn aggregation(a: wit::Aggregation) -> Aggregation {
    Aggregation {
        function: match a.function {
            wit::AggregateFunction::Sum => AggregateFunction::Sum,
            wit::AggregateFunction::Min => AggregateFunction::Min,
            wit::AggregateFunction::Max => AggregateFunction::Max,
            wit::AggregateFunction::MinBy => AggregateFunction::MinBy,
            wit::AggregateFunction::MaxBy => AggregateFunction::MaxBy,
            wit::AggregateFunction::Count => AggregateFunction::Count,
        },
        field: field(a.field),
    }
}

fn field(f: wit::AggregateField) -> AggregateField {
    match f {
        wit::AggregateField::Position(position) => AggregateField::Position(position),
        wit::AggregateField::Name(name) => AggregateField::Name(name),
        wit::AggregateField::Whole => AggregateField::Whole,
    }
}

fn state_descriptor(d: wit::StateDescriptor) -> StateDescriptor {
    StateDescriptor {
        id: d.id,
        name: d.name,
        kind: match d.kind {
            wit::StateKind::Value => StateKind::Value,
            wit::StateKind::List => StateKind::List,
            wit::StateKind::Map => StateKind::Map,
            wit::StateKind::Reducing => StateKind::Reducing,
            wit::StateKind::Aggregating => StateKind::Aggregating,
        },
        lazy: d.lazy,
        ttl_ms: d.ttl_ms,
    }
}

fn keyed_process(spec: wit::KeyedProcessSpec) -> KeyedProcessSpec {
    let states = spec.states.into_iter().map(state_descriptor).collect();
    let window = spec.window.map(|w| WindowSpec {
        assigner: match w.assigner {
            wit::WindowAssigner::Tumbling(t) => WindowAssigner::Tumbling { size_ms: t.size_ms, offset_ms: t.offset_ms },
            wit::WindowAssigner::Sliding(s) => {
                WindowAssigner::Sliding { size_ms: s.size_ms, slide_ms: s.slide_ms, offset_ms: s.offset_ms }
            }
            wit::WindowAssigner::Session(gap_ms) => WindowAssigner::Session { gap_ms },
        },
        domain: match w.domain {
            wit::TimeDomain::EventTime => TimeDomain::EventTime,
            wit::TimeDomain::ProcessingTime => TimeDomain::ProcessingTime,
        },
        allowed_lateness_ms: w.allowed_lateness_ms,
        late_output_tag: w.late_output_tag,
        function: w.function,
    });
    KeyedProcessSpec { states, window }
}
