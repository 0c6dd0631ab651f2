//! Unit tests of chaining, parallelism and edges of the JobGraph (`job_graph.rs`).

use super::*;
use crate::graph::{KeyedProcessSpec, StreamEdge, StreamNode};

fn node(id: u32, name: &str, kind: NodeKind, input: Option<(u32, Partitioning)>) -> StreamNode {
    StreamNode {
        id,
        name: name.into(),
        uid: format!("uid-{id}"),
        kind,
        parallelism: None,
        inputs: input.map(|(source, partitioning)| StreamEdge { source, partitioning }).into_iter().collect(),
    }
}

fn connector(name: &str) -> Connector {
    Connector { name: name.into(), options: vec![("path".into(), "/in".into())] }
}

/// The wordcount plan: file source, tokenize, key-by, count, print.
pub(crate) fn wordcount() -> StreamGraph {
    use Partitioning::*;
    StreamGraph {
        job_name: "wordcount".into(),
        parallelism: None,
        nodes: vec![
            node(0, "Source: file", NodeKind::Source(connector("file")), None),
            node(1, "tokenize", NodeKind::FlatMap, Some((0, Forward))),
            node(2, "Key By", NodeKind::KeyBy, Some((1, Forward))),
            node(3, "count", NodeKind::Reduce, Some((2, Hash))),
            node(4, "Sink: Print", NodeKind::Sink(connector("print")), Some((3, Forward))),
        ],
    }
}

fn sources(submitted: Option<u32>) -> ParallelismSources {
    ParallelismSources { default: 1, submitted, max_parallelism: 128 }
}

#[test]
fn forward_edges_at_equal_parallelism_chain_and_key_by_breaks() {
    let job = JobGraph::build(&wordcount(), sources(Some(2))).unwrap();
    let names: Vec<&str> = job.vertices.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["Source: file -> tokenize -> Key By", "count -> Sink: Print"]);
    assert_eq!(job.edges.len(), 1);
    assert_eq!(job.edges[0].partitioning, Partitioning::Hash);
    assert_eq!(job.vertices[0].user_nodes, [1, 2]);
    assert!(job.vertices[1].keyed);
    assert_eq!(job.vertices[1].user_nodes, [3]);
}

/// The host's aggregation heads its chain; the guest runs what follows it.
#[test]
fn an_aggregation_heads_its_vertex_and_the_guest_runs_the_rest() {
    use crate::graph::{AggregateField, AggregateFunction, Aggregation};
    let mut plan = wordcount();
    let sum = Aggregation { function: AggregateFunction::Sum, field: AggregateField::Position(1) };
    plan.nodes[3].kind = NodeKind::Aggregate(sum.clone());
    plan.nodes.insert(4, node(5, "format", NodeKind::Map, Some((3, Partitioning::Forward))));
    plan.nodes[5].inputs[0].source = 5;
    let job = JobGraph::build(&plan, sources(Some(2))).unwrap();
    let count = &job.vertices[1];
    assert_eq!(count.name, "count -> format -> Sink: Print");
    assert!(count.keyed && !count.guest_keyed());
    assert_eq!(count.user_nodes, [5]);
    let aggregation = count.aggregation.as_ref().unwrap();
    assert_eq!((aggregation.node.as_str(), &aggregation.aggregation), ("count", &sum));
    assert!(job.vertices[0].aggregation.is_none() && !job.vertices[0].keyed);

    plan.nodes[3].inputs[0].partitioning = Partitioning::Forward;
    let error = JobGraph::build(&plan, sources(Some(2))).unwrap_err();
    assert_eq!(error, PlanError::NotKeyed("count".into()));
}

#[test]
fn slot_sharing_needs_as_many_slots_as_the_highest_parallelism() {
    let job = JobGraph::build(&wordcount(), sources(Some(2))).unwrap();
    let subtasks: u32 = job.vertices.iter().map(|v| v.parallelism).sum();
    assert_eq!(subtasks, 4);
    assert_eq!(job.slots_needed(), 2);
}

#[test]
fn parallelism_precedence_is_code_then_submit_then_default() {
    let mut plan = wordcount();
    let job = JobGraph::build(&plan, sources(None)).unwrap();
    assert!(job.vertices.iter().all(|v| v.parallelism == 1), "default applies");
    let job = JobGraph::build(&plan, sources(Some(3))).unwrap();
    assert!(job.vertices.iter().all(|v| v.parallelism == 3), "submit beats default");
    plan.parallelism = Some(2);
    let job = JobGraph::build(&plan, sources(Some(3))).unwrap();
    assert!(job.vertices.iter().all(|v| v.parallelism == 2), "code (job-wide) beats submit");
    plan.nodes[4].parallelism = Some(1);
    let job = JobGraph::build(&plan, sources(Some(3))).unwrap();
    let last = job.vertices.last().unwrap();
    assert_eq!((last.name.as_str(), last.parallelism), ("Sink: Print", 1), "a node's own wins");
    assert_eq!(job.edges.last().unwrap().partitioning, Partitioning::Rebalance);
}

#[test]
fn parallelism_zero_or_above_max_is_refused() {
    let mut plan = wordcount();
    plan.nodes[1].parallelism = Some(0);
    let err = JobGraph::build(&plan, sources(None)).unwrap_err();
    assert!(err.to_string().contains("tokenize"), "{err}");
    assert!(JobGraph::build(&wordcount(), sources(Some(129))).is_err());
}

#[test]
fn socket_sources_run_at_parallelism_one_and_rebalance() {
    let mut plan = wordcount();
    plan.nodes[0].kind = NodeKind::Source(Connector { name: "socket".into(), options: vec![] });
    let job = JobGraph::build(&plan, sources(Some(2))).unwrap();
    assert_eq!(job.vertices[0].name, "Source: file");
    assert_eq!(job.vertices[0].parallelism, 1);
    assert_eq!(job.edges[0].partitioning, Partitioning::Rebalance);
    assert_eq!(job.slots_needed(), 2);
}

/// Two sources at parallelism 2 and 3, a union at 2 chained with a map
/// and a print sink.
fn union_plan() -> StreamGraph {
    use Partitioning::*;
    let mut union = node(2, "Union", NodeKind::Union, Some((0, Forward)));
    union.inputs.push(StreamEdge { source: 1, partitioning: Forward });
    let mut plan = StreamGraph {
        job_name: "union".into(),
        parallelism: Some(2),
        nodes: vec![
            node(0, "Source: a", NodeKind::Source(connector("file")), None),
            node(1, "Source: b", NodeKind::Source(connector("file")), None),
            union,
            node(3, "Map", NodeKind::Map, Some((2, Forward))),
            node(4, "Sink: Print", NodeKind::Sink(connector("print")), Some((3, Forward))),
        ],
    };
    plan.nodes[1].parallelism = Some(3);
    plan
}

#[test]
fn a_node_of_several_inputs_starts_a_chain_and_numbers_its_channels_across_inputs() {
    let job = JobGraph::build(&union_plan(), sources(None)).unwrap();
    let names: Vec<&str> = job.vertices.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["Source: a", "Source: b", "Union -> Map -> Sink: Print"]);
    assert_eq!(job.vertices[2].user_nodes, [3], "a union runs no guest function");
    let into: Vec<_> = job.inputs_of(2).map(|e| (e.source, e.partitioning, e.input)).collect();
    assert_eq!(into, [(0, Partitioning::Forward, 0), (1, Partitioning::Rebalance, 0)]);
    // Forward from a: one channel; rebalance from b's three subtasks: three more.
    assert_eq!(job.gate_inputs(2, 1), [0, 0, 0, 0]);
    assert_eq!((job.output_targets(0, 0), job.output_targets(0, 1)), (vec![(0, 0)], vec![(1, 0)]));
    assert_eq!(job.output_targets(1, 2), [(0, 3), (1, 3)]);
}

#[test]
fn rescale_pairs_subtasks_pointwise_and_forward_refuses_other_parallelisms() {
    let mut plan = union_plan();
    plan.nodes[2].inputs[1].partitioning = Partitioning::Rescale;
    plan.nodes[1].parallelism = Some(5);
    let job = JobGraph::build(&plan, sources(None)).unwrap();
    // b's 5 subtasks to 2: subtasks 0-2 feed subtask 0 and 3-4 subtask 1, as Flink pairs them.
    let targets: Vec<_> = (0..5).map(|j| job.output_targets(1, j)).collect();
    assert_eq!(targets, [vec![(0, 1)], vec![(0, 2)], vec![(0, 3)], vec![(1, 1)], vec![(1, 2)]]);
    assert_eq!((job.gate_inputs(2, 0).len(), job.gate_inputs(2, 1).len()), (4, 3));
    plan.nodes[1].parallelism = Some(1);
    let job = JobGraph::build(&plan, sources(None)).unwrap();
    assert_eq!(job.output_targets(1, 0), [(0, 1), (1, 1)], "from 1 to 2 subtasks: it feeds both");
    plan.nodes[2].inputs[1].partitioning = Partitioning::ForwardStrict;
    let err = JobGraph::build(&plan, sources(None)).unwrap_err();
    assert!(matches!(err, PlanError::ForwardParallelism { from: 1, to: 2, .. }), "{err}");
    assert!(err.to_string().contains("forward()"), "{err}");
}

/// Source (3 subtasks, set in code) -> Partition Custom -> Map -> Sink at the job's 2.
fn partition_custom_plan() -> StreamGraph {
    use Partitioning::*;
    let mut plan = StreamGraph {
        job_name: "custom".into(),
        parallelism: Some(2),
        nodes: vec![
            node(0, "Source: a", NodeKind::Source(connector("file")), None),
            node(1, "Partition Custom", NodeKind::PartitionCustom, Some((0, Forward))),
            node(2, "Map", NodeKind::Map, Some((1, Custom))),
            node(3, "Sink: Print", NodeKind::Sink(connector("print")), Some((2, Forward))),
        ],
    };
    plan.nodes[0].parallelism = Some(3);
    plan
}

#[test]
fn a_partition_custom_chains_onto_its_input_and_feeds_every_next_subtask() {
    let job = JobGraph::build(&partition_custom_plan(), sources(None)).unwrap();
    let names: Vec<&str> = job.vertices.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["Source: a -> Partition Custom", "Map -> Sink: Print"], "it runs at its input's 3");
    assert_eq!((job.vertices[0].parallelism, job.vertices[0].user_nodes.as_slice()), (3, &[1][..]));
    assert_eq!(job.edges[0].partitioning, Partitioning::Custom);
    assert_eq!(job.edges[0].partitioning.ship_strategy(), "CUSTOM");
    assert_eq!(job.output_targets(0, 2), [(0, 2), (1, 2)], "every subtask of the next vertex, one channel each");
    assert_eq!(job.gate_inputs(1, 0).len(), 3);
}

#[test]
fn custom_partitioning_is_the_edge_leaving_a_partition_custom_and_only_that() {
    let mut plan = partition_custom_plan();
    plan.nodes[2].inputs[0].partitioning = Partitioning::Rebalance;
    let err = JobGraph::build(&plan, sources(None)).unwrap_err();
    assert!(err.to_string().contains("a partition_custom, through REBALANCE"), "{err}");
    let mut plan = partition_custom_plan();
    plan.nodes[1].kind = NodeKind::Map;
    let err = JobGraph::build(&plan, sources(None)).unwrap_err();
    assert!(err.to_string().contains("'Partition Custom' through CUSTOM partitioning"), "{err}");
}

#[test]
fn a_keyed_co_process_reads_two_hash_edges_as_inputs_0_and_1() {
    use Partitioning::*;
    let spec = KeyedProcessSpec { states: vec![], window: None };
    let mut co = node(4, "Keyed Co-Process", NodeKind::KeyedCoProcess(spec), Some((2, Hash)));
    co.inputs.push(StreamEdge { source: 3, partitioning: Hash });
    let mut plan = union_plan();
    plan.nodes.truncate(2);
    plan.nodes.push(node(2, "Key By", NodeKind::KeyBy, Some((0, Forward))));
    plan.nodes.push(node(3, "Key By", NodeKind::KeyBy, Some((1, Forward))));
    plan.nodes[3].parallelism = Some(3);
    plan.nodes.push(co);
    plan.nodes.push(node(5, "Sink: Print", NodeKind::Sink(connector("print")), Some((4, Forward))));
    let job = JobGraph::build(&plan, sources(None)).unwrap();
    let into: Vec<_> = job.inputs_of(2).map(|e| (e.source, e.partitioning, e.input)).collect();
    assert_eq!(into, [(0, Hash, 0), (1, Hash, 1)]);
    assert_eq!(job.gate_inputs(2, 0), [0, 0, 1, 1, 1]);
    assert!(job.vertices[2].keyed && job.vertices[2].needs_context);
    plan.nodes[4].inputs.pop();
    let err = JobGraph::build(&plan, sources(None)).unwrap_err();
    assert!(err.to_string().contains("exactly two inputs"), "{err}");
    plan.nodes[4].inputs.push(StreamEdge { source: 1, partitioning: Forward });
    assert_eq!(JobGraph::build(&plan, sources(None)).unwrap_err(), PlanError::NotKeyed("Keyed Co-Process".into()));
}

#[test]
fn a_keyed_node_without_key_by_is_refused() {
    let mut plan = wordcount();
    plan.nodes[3].inputs[0].partitioning = Partitioning::Forward;
    assert_eq!(JobGraph::build(&plan, sources(None)).unwrap_err(), PlanError::NotKeyed("count".into()));
}

#[test]
fn a_keyed_broadcast_process_reads_a_hash_input_0_and_a_broadcast_input_1() {
    use Partitioning::*;
    let state = StateDescriptor {
        id: 7,
        name: "profiles".into(),
        kind: crate::graph::StateKind::Map,
        lazy: false,
        ttl_ms: None,
    };
    let keyed = KeyedProcessSpec { states: vec![], window: None };
    let spec = crate::graph::BroadcastProcessSpec { broadcast_states: vec![state], keyed: Some(keyed) };
    let mut process = node(3, "enrich", NodeKind::BroadcastProcess(spec), Some((1, Hash)));
    process.inputs.push(StreamEdge { source: 2, partitioning: Broadcast });
    let mut plan = union_plan();
    plan.nodes.truncate(2);
    plan.nodes[1] = node(1, "Key By", NodeKind::KeyBy, Some((0, Forward)));
    plan.nodes.push(node(2, "Source: file", NodeKind::Source(connector("file")), None));
    plan.nodes.push(process);
    plan.nodes.push(node(4, "Sink: Print", NodeKind::Sink(connector("print")), Some((3, Forward))));
    let job = JobGraph::build(&plan, sources(Some(2))).unwrap();
    let target = job.vertices.iter().position(|v| v.name.starts_with("enrich")).unwrap();
    let into: Vec<_> = job.inputs_of(target).map(|e| (e.partitioning, e.input)).collect();
    assert_eq!(into, [(Hash, 0), (Broadcast, 1)]);
    let vertex = &job.vertices[target];
    assert!(vertex.keyed && vertex.needs_context);
    assert_eq!(vertex.broadcast_states.iter().map(|s| s.id).collect::<Vec<_>>(), [7]);
    plan.nodes[3].inputs[1].partitioning = Rebalance;
    let err = JobGraph::build(&plan, sources(Some(2))).unwrap_err();
    assert!(err.to_string().contains("must be a broadcast stream"), "{err}");
    plan.nodes[3].inputs[1].partitioning = Broadcast;
    plan.nodes[3].inputs[0].partitioning = Forward;
    assert_eq!(JobGraph::build(&plan, sources(Some(2))).unwrap_err(), PlanError::NotKeyed("enrich".into()));
}
