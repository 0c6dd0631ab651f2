//! The JobGraph: StreamGraph nodes chained into vertices, each vertex one
//! task per subtask, edges between vertices carrying their partitioning.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::{
    AggregateField, Aggregation, Connector, NodeKind, Partitioning, PlanError, StateDescriptor, StreamGraph,
    StreamGraphExt, StreamNode, WatermarkStrategy, chain_break,
};
use crate::ids::{NodeId, VertexIndex};

/// Where parallelism can come from, in increasing order of precedence:
/// the configuration's `parallelism.default`, the submitter (`-p`, REST,
/// UI), then the job's own code (plan-wide, then per node).
#[derive(Debug, Clone, Copy)]
pub struct ParallelismSources {
    /// `parallelism.default`.
    pub default: u32,
    /// Given at submit, if any.
    pub submitted: Option<u32>,
    /// Number of key groups; no vertex may exceed it.
    pub max_parallelism: u32,
}

/// A chain of nodes that runs as one task per subtask.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobVertex {
    /// Position in [`JobGraph::vertices`].
    pub index: VertexIndex,
    /// Stable 32-hex id derived from the uids of its nodes (REST shows it).
    pub id: String,
    /// The names of its nodes joined by `" -> "`, as Flink shows chains.
    pub name: String,
    /// Ids of all its nodes in chain order, connectors included.
    pub nodes: Vec<NodeId>,
    /// Number of parallel subtasks.
    pub parallelism: u32,
    /// Number of key groups.
    pub max_parallelism: u32,
    /// The source connector at the head of the chain, if any.
    pub source: Option<Connector>,
    /// Ids of the user functions the guest runs, in chain order.
    pub user_nodes: Vec<NodeId>,
    /// Whether the chain starts with a keyed stateful node.
    pub keyed: bool,
    /// The sink connector at the end of the chain, if any.
    pub sink: Option<Connector>,
    /// Whether the guest runs the chain through `process-with-context`
    /// (it assigns timestamps, or has a process or keyed-process node).
    pub needs_context: bool,
    /// The watermark strategy of the chain's timestamp assigner, if any.
    pub watermark_strategy: Option<WatermarkStrategy>,
    /// How often the chain's timestamp assigner emits its watermark, in
    /// ms (`pipeline.auto-watermark-interval`); 0: only at the end of input.
    #[serde(default = "default_auto_watermark_interval_ms")]
    pub auto_watermark_interval_ms: u64,
    /// The named keyed states of the chain's keyed-process node.
    pub named_states: Vec<StateDescriptor>,
    /// The broadcast map states of the chain's broadcast process node:
    /// every subtask holds the same copy, snapshotted per subtask.
    #[serde(default)]
    pub broadcast_states: Vec<StateDescriptor>,
    /// Sinks fed by the side outputs of the chain's nodes, by tag.
    pub side_sinks: Vec<SideSink>,
    /// The host's built-in aggregation heading the chain, if any: the
    /// host runs it on each batch, then the guest runs the rest of the
    /// chain (its user nodes) on the aggregation's output.
    #[serde(default)]
    pub aggregation: Option<HostAggregation>,
    /// The host's key-by by field ending the chain, if any: the host keys
    /// each record the chain emits by that field before it partitions them.
    #[serde(default)]
    pub key_by_field: Option<HostKeyBy>,
}

/// A built-in aggregation the host runs at the head of a chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostAggregation {
    /// The node's name, for errors.
    pub node: String,
    /// What it computes.
    pub aggregation: Aggregation,
}

/// A key-by by field the host evaluates at the end of a chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostKeyBy {
    /// The node's name, for errors.
    pub node: String,
    /// The field whose bytes are the key.
    pub field: AggregateField,
}

impl JobVertex {
    /// Whether the guest's own chain starts keyed (with a reduce or a
    /// keyed process function): the vertex is keyed and the keyed head is
    /// not the host's aggregation, after which the guest's nodes run
    /// unkeyed.
    pub fn guest_keyed(&self) -> bool {
        self.keyed && self.aggregation.is_none()
    }
}

/// Flink's default `pipeline.auto-watermark-interval`: 200 ms.
pub const DEFAULT_AUTO_WATERMARK_INTERVAL_MS: u64 = 200;

fn default_auto_watermark_interval_ms() -> u64 {
    DEFAULT_AUTO_WATERMARK_INTERVAL_MS
}

/// A sink that receives one side output of a vertex, in the vertex's own
/// subtasks (side outputs do not cross the network yet).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SideSink {
    /// The side output tag.
    pub tag: u32,
    /// The sink.
    pub sink: Connector,
}

/// An edge between two vertices.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct JobEdge {
    /// Upstream vertex.
    pub source: VertexIndex,
    /// Downstream vertex.
    pub target: VertexIndex,
    /// How records are distributed over the target's subtasks.
    pub partitioning: Partitioning,
    /// The target's operator input it feeds: 0, or 1 for the second input
    /// of a two-input operator (every edge of a union feeds input 0).
    pub input: u32,
}

impl JobEdge {
    /// The upstream subtasks that send to subtask `index` of the target:
    /// the same index for forward, a pointwise share for rescale (as
    /// Flink pairs them), every one for the all-to-all partitionings.
    pub fn sources_of(&self, index: u32, vertices: &[JobVertex]) -> Range<u32> {
        let (up, down) = (vertices[self.source].parallelism, vertices[self.target].parallelism);
        match self.partitioning {
            Partitioning::Forward | Partitioning::ForwardStrict => index..index + 1,
            Partitioning::Rescale if up >= down => {
                pointwise_start(index, up, down)..pointwise_start(index + 1, up, down)
            }
            Partitioning::Rescale => {
                let j = (index as u64 * up as u64 / down as u64) as u32;
                j..j + 1
            }
            _ => 0..up,
        }
    }

    /// The subtasks of the target that upstream subtask `index` sends to.
    pub fn targets_of(&self, index: u32, vertices: &[JobVertex]) -> Range<u32> {
        let (up, down) = (vertices[self.source].parallelism, vertices[self.target].parallelism);
        match self.partitioning {
            Partitioning::Forward | Partitioning::ForwardStrict => index..index + 1,
            Partitioning::Rescale if up >= down => {
                let i = (index as u64 * down as u64 / up as u64) as u32;
                i..i + 1
            }
            Partitioning::Rescale => pointwise_start(index, down, up)..pointwise_start(index + 1, down, up),
            _ => 0..down,
        }
    }
}

/// Where the share of item `index` starts when `many` items are dealt
/// pointwise over `few` (item `k` of `many` goes to `k * few / many`).
fn pointwise_start(index: u32, many: u32, few: u32) -> u32 {
    (index as u64 * many as u64).div_ceil(few as u64) as u32
}

/// The chained plan of a job.
#[derive(Debug, Clone, Serialize)]
pub struct JobGraph {
    /// Name of the job.
    pub job_name: String,
    /// Vertices in topological order.
    pub vertices: Vec<JobVertex>,
    /// Edges between vertices.
    pub edges: Vec<JobEdge>,
}

impl JobGraph {
    /// Chains `graph` into vertices, resolving each node's parallelism by
    /// precedence (code > submit > default). In passes: resolve the
    /// parallelisms, chain the nodes into vertices, check that every
    /// vertex's output goes somewhere, and name each vertex by its uids.
    pub fn build(graph: &StreamGraph, sources: ParallelismSources) -> Result<JobGraph, PlanError> {
        graph.validate(sources.max_parallelism)?;
        let mut parallelism: Vec<u32> = Vec::with_capacity(graph.nodes.len());
        for node in &graph.nodes {
            let p = match inherited_parallelism(graph, node, &parallelism) {
                Some(p) => p,
                None => resolve_parallelism(graph, node, sources)?,
            };
            parallelism.push(p);
        }
        let mut chaining = Chaining::new(graph, &parallelism, sources.max_parallelism);
        for at in 0..graph.nodes.len() {
            chaining.place(at)?;
        }
        let Chaining { mut vertices, edges, .. } = chaining;
        check_outputs(graph, &vertices, &edges)?;
        assign_ids(graph, &mut vertices);
        Ok(JobGraph { job_name: graph.job_name.clone(), vertices, edges })
    }

    /// The highest parallelism of any vertex: with slot sharing, the
    /// number of slots the job needs.
    pub fn slots_needed(&self) -> u32 {
        self.vertices.iter().map(|v| v.parallelism).max().unwrap_or(0)
    }

    /// The edges feeding `vertex`, in the order its gate numbers their
    /// channels; none for a source vertex.
    pub fn inputs_of(&self, vertex: VertexIndex) -> impl Iterator<Item = &JobEdge> {
        self.edges.iter().filter(move |e| e.target == vertex)
    }

    /// For each upstream channel of subtask `index` of `vertex` (numbered
    /// by the tag its sender uses), the operator input it feeds.
    pub fn gate_inputs(&self, vertex: VertexIndex, index: u32) -> Vec<u32> {
        let channels = self.inputs_of(vertex).map(|e| (e.input, e.sources_of(index, &self.vertices).len()));
        channels.flat_map(|(input, n)| std::iter::repeat_n(input, n)).collect()
    }

    /// The downstream subtasks that subtask `index` of `vertex` sends to,
    /// each with the tag it puts on its messages there: its channel's
    /// number at that gate, which counts the channels of every edge into
    /// it, edge after edge.
    pub fn output_targets(&self, vertex: VertexIndex, index: u32) -> Vec<(u32, u32)> {
        let Some((at, edge)) = self.edges.iter().enumerate().find(|(_, e)| e.source == vertex) else {
            return Vec::new();
        };
        let before = |target: u32| -> usize {
            let earlier = self.edges[..at].iter().filter(|e| e.target == edge.target);
            earlier.map(|e| e.sources_of(target, &self.vertices).len()).sum()
        };
        let targets = edge.targets_of(index, &self.vertices);
        let tag = |target: u32| before(target) as u32 + index - edge.sources_of(target, &self.vertices).start;
        targets.map(|target| (target, tag(target))).collect()
    }

    /// The edges leaving `vertex`.
    pub fn outputs_of(&self, vertex: VertexIndex) -> impl Iterator<Item = &JobEdge> {
        self.edges.iter().filter(move |e| e.source == vertex)
    }
}

/// Some connectors are not parallel by default: a socket is one
/// connection. (A socket source given a parallelism in code opens one
/// connection per subtask.)
fn intrinsic_parallelism(kind: &NodeKind) -> Option<u32> {
    match kind {
        NodeKind::Source(c) if c.name == "socket" => Some(1),
        _ => None,
    }
}

/// A partition-custom node runs where its input runs, as Flink's
/// partitioner runs in the upstream operator's output: it takes its
/// input's parallelism (of `resolved`, the nodes before it) unless its
/// own is set in code, so it chains onto its input.
fn inherited_parallelism(graph: &StreamGraph, node: &super::StreamNode, resolved: &[u32]) -> Option<u32> {
    if node.kind != NodeKind::PartitionCustom || node.parallelism.is_some() {
        return None;
    }
    let input = node.inputs.first()?;
    graph.nodes.iter().position(|n| n.id == input.source).map(|at| resolved[at])
}

fn resolve_parallelism(
    graph: &StreamGraph,
    node: &super::StreamNode,
    sources: ParallelismSources,
) -> Result<u32, PlanError> {
    let intrinsic = intrinsic_parallelism(&node.kind).filter(|_| node.parallelism.is_none());
    let p = intrinsic.or(node.parallelism).or(graph.parallelism).or(sources.submitted).unwrap_or(sources.default);
    if p == 0 || p > sources.max_parallelism {
        return Err(PlanError::BadParallelism {
            node: node.name.clone(),
            parallelism: p,
            max: sources.max_parallelism,
        });
    }
    Ok(p)
}

/// The chaining pass of [`JobGraph::build`]: nodes in topological order,
/// each chained into its upstream's vertex or starting a vertex of its own.
struct Chaining<'g> {
    graph: &'g StreamGraph,
    parallelism: &'g [u32],
    max_parallelism: u32,
    /// The vertex of each node placed so far.
    vertex_of: Vec<VertexIndex>,
    /// For nodes on a side output's path: the vertex that emits it and the tag.
    side_of: Vec<Option<(VertexIndex, u32)>>,
    vertices: Vec<JobVertex>,
    edges: Vec<JobEdge>,
}

impl<'g> Chaining<'g> {
    fn new(graph: &'g StreamGraph, parallelism: &'g [u32], max_parallelism: u32) -> Self {
        let nodes = graph.nodes.len();
        Chaining {
            graph,
            parallelism,
            max_parallelism,
            vertex_of: Vec::with_capacity(nodes),
            side_of: Vec::with_capacity(nodes),
            vertices: Vec::new(),
            edges: Vec::new(),
        }
    }

    fn position(&self, id: NodeId) -> usize {
        self.graph.nodes.iter().position(|n| n.id == id).expect("validated input")
    }

    /// Places node `at`: on a side output's path, into its upstream's
    /// vertex, or into a new vertex.
    fn place(&mut self, at: usize) -> Result<(), PlanError> {
        let node = &self.graph.nodes[at];
        if node.kind.is_multi_input() {
            return self.multi_input(at);
        }
        let upstream_side = node.inputs.first().and_then(|edge| self.side_of[self.position(edge.source)]);
        if let NodeKind::SideOutput { tag, .. } = &node.kind {
            return self.side_output(node, *tag, upstream_side.is_some());
        }
        if let Some((vertex, tag)) = upstream_side {
            return self.side_chain(node, vertex, tag);
        }
        self.side_of.push(None);
        let chained_into = node.inputs.first().and_then(|edge| {
            let upstream = self.position(edge.source);
            let graph = self.graph;
            chain_break(graph, &graph.nodes[upstream], self.parallelism[upstream], self.parallelism[at], edge)
                .is_none()
                .then_some(self.vertex_of[upstream])
        });
        let vertex = match chained_into {
            Some(vertex) => vertex,
            None => self.new_vertex(at)?,
        };
        self.add_to_vertex(vertex, node);
        self.vertex_of.push(vertex);
        Ok(())
    }

    /// A node of several inputs (union, connect) starts a vertex of its
    /// own, as Flink's chaining does, with an edge from each input's vertex.
    fn multi_input(&mut self, at: usize) -> Result<(), PlanError> {
        let node = &self.graph.nodes[at];
        if node.inputs.iter().any(|edge| self.side_of[self.position(edge.source)].is_some()) {
            return Err(PlanError::Unsupported {
                node: node.name.clone(),
                reason: "a side output cannot feed an operator of several inputs; it must end in a sink".into(),
            });
        }
        self.side_of.push(None);
        let vertex = self.new_vertex(at)?;
        self.add_to_vertex(vertex, node);
        self.vertex_of.push(vertex);
        Ok(())
    }

    /// A side output node: it reads an operator of the main stream and
    /// lives in that operator's vertex.
    fn side_output(&mut self, node: &StreamNode, tag: u32, upstream_is_side: bool) -> Result<(), PlanError> {
        let upstream = self.position(node.inputs[0].source);
        if upstream_is_side || !self.graph.nodes[upstream].kind.is_user_function() {
            return Err(PlanError::Unsupported {
                node: node.name.clone(),
                reason: "a side output must read an operator of the main stream".into(),
            });
        }
        self.vertex_of.push(self.vertex_of[upstream]);
        self.side_of.push(Some((self.vertex_of[upstream], tag)));
        Ok(())
    }

    /// A node after a side output: the side chain runs inside the emitting
    /// chain, in the guest, and ends in a sink of that vertex.
    fn side_chain(&mut self, node: &StreamNode, vertex: VertexIndex, tag: u32) -> Result<(), PlanError> {
        match &node.kind {
            NodeKind::Sink(sink) => self.vertices[vertex].side_sinks.push(SideSink { tag, sink: sink.clone() }),
            NodeKind::Map | NodeKind::FlatMap | NodeKind::Filter if node.inputs[0].partitioning.is_forward() => {}
            _ => {
                return Err(PlanError::Unsupported {
                    node: node.name.clone(),
                    reason: "a side output may pass through map, flat_map and filter, then must end in a sink".into(),
                });
            }
        }
        self.vertex_of.push(vertex);
        self.side_of.push(Some((vertex, tag)));
        Ok(())
    }

    /// Starts a vertex with node `at`, and the edges from its upstreams' vertices.
    fn new_vertex(&mut self, at: usize) -> Result<VertexIndex, PlanError> {
        let node = &self.graph.nodes[at];
        let index = self.vertices.len();
        for (position, edge) in node.inputs.iter().enumerate() {
            let upstream = self.position(edge.source);
            let (from, to) = (self.parallelism[upstream], self.parallelism[at]);
            let partitioning = match edge.partitioning {
                // Flink's default: forward where it can, rebalance where parallelism changes.
                Partitioning::Forward if from != to => Partitioning::Rebalance,
                // Asked for: refused where it cannot be, as Flink does.
                Partitioning::ForwardStrict if from != to => {
                    let upstream = self.graph.nodes[upstream].name.clone();
                    return Err(PlanError::ForwardParallelism { node: node.name.clone(), upstream, from, to });
                }
                Partitioning::ForwardStrict => Partitioning::Forward,
                other => other,
            };
            let input = node.kind.input_of_edge(position);
            self.edges.push(JobEdge { source: self.vertex_of[upstream], target: index, partitioning, input });
        }
        self.vertices.push(JobVertex {
            index,
            id: String::new(),
            name: String::new(),
            nodes: Vec::new(),
            parallelism: self.parallelism[at],
            max_parallelism: self.max_parallelism,
            source: None,
            user_nodes: Vec::new(),
            keyed: node.kind.is_keyed(),
            sink: None,
            needs_context: false,
            watermark_strategy: None,
            auto_watermark_interval_ms: DEFAULT_AUTO_WATERMARK_INTERVAL_MS,
            named_states: Vec::new(),
            broadcast_states: Vec::new(),
            side_sinks: Vec::new(),
            aggregation: None,
            key_by_field: None,
        });
        Ok(index)
    }

    /// Adds `node` to the chain of `vertex`: its name, connector or user
    /// function, what it needs of the host.
    fn add_to_vertex(&mut self, vertex: VertexIndex, node: &StreamNode) {
        let v = &mut self.vertices[vertex];
        v.nodes.push(node.id);
        if !v.name.is_empty() {
            v.name.push_str(" -> ");
        }
        v.name.push_str(&node.name);
        match &node.kind {
            NodeKind::Source(connector) => v.source = Some(connector.clone()),
            NodeKind::Sink(connector) => v.sink = Some(connector.clone()),
            kind if kind.is_user_function() => v.user_nodes.push(node.id),
            _ => {}
        }
        v.needs_context |= node.kind.needs_context();
        match &node.kind {
            NodeKind::AssignTimestamps(strategy) => v.watermark_strategy = Some(*strategy),
            NodeKind::Aggregate(aggregation) => {
                v.aggregation = Some(HostAggregation { node: node.name.clone(), aggregation: aggregation.clone() })
            }
            NodeKind::KeyByField(field) => {
                v.key_by_field = Some(HostKeyBy { node: node.name.clone(), field: field.clone() })
            }
            NodeKind::KeyedProcess(spec) | NodeKind::KeyedCoProcess(spec) => {
                v.named_states.extend(spec.states.iter().cloned())
            }
            NodeKind::BroadcastProcess(spec) => {
                v.broadcast_states.extend(spec.broadcast_states.iter().cloned());
                v.named_states.extend(spec.keyed.iter().flat_map(|k| k.states.iter().cloned()));
            }
            _ => {}
        }
    }
}

/// Every vertex's output goes to exactly one place: one downstream vertex
/// or its own sink.
fn check_outputs(graph: &StreamGraph, vertices: &[JobVertex], edges: &[JobEdge]) -> Result<(), PlanError> {
    for v in vertices {
        let outputs = edges.iter().filter(|e| e.source == v.index).count();
        let last = graph.node(*v.nodes.last().expect("a vertex has nodes")).expect("known node");
        if outputs > 1 {
            return Err(PlanError::Unsupported {
                node: last.name.clone(),
                reason: "its output feeds several operators; fan-out is not supported yet".into(),
            });
        }
        if outputs == 0 && v.sink.is_none() {
            return Err(PlanError::Unsupported {
                node: last.name.clone(),
                reason: "its output goes nowhere: end the stream with a sink such as print()".into(),
            });
        }
    }
    Ok(())
}

/// A vertex's id is the hash of its operators' uids, so state in a
/// savepoint finds its vertex again in a new version of the job.
fn assign_ids(graph: &StreamGraph, vertices: &mut [JobVertex]) {
    for v in vertices {
        let uids: Vec<&str> = v.nodes.iter().map(|id| graph.node(*id).unwrap().uid.as_str()).collect();
        v.id = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(uids.join("\n").as_bytes()));
    }
}

#[cfg(test)]
#[path = "job_graph_tests.rs"]
pub(crate) mod tests;
