//! Host-side tests of plan recording and of running chains on hand-built batches.

use crate::builder::DEFAULT_JOB_NAME;
use crate::chain::{Batch, Chain, KeyedState};
use crate::env::record;
use crate::plan::{Connector, Edge, NodeKind, Partitioning};
use crate::prelude::*;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn msgpack<T: serde::Serialize>(value: &T) -> Vec<u8> {
    rmp_serde::to_vec(value).unwrap()
}

/// The word count of the SDK's docs, with a chosen sink.
fn wordcount(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("wordcount");
    let counts = env
        .read_text_file(args.required("input")?)
        .flat_map(|line: String, out: &mut Collector<(String, i64)>| {
            for word in line.split(' ').filter(|w| !w.is_empty()) {
                out.collect((word.to_owned(), 1));
            }
        })
        .name("tokenize")
        .key_by(|(word, _): &(String, i64)| word.clone())
        .sum_by(|t| &mut t.1)
        .name("count");
    if args.flag("discard") {
        counts.discard();
    } else {
        counts.set_parallelism(1).print();
    }
    Ok(())
}

fn open(build: fn(&mut StreamExecutionEnvironment, &Args) -> Result<(), JobError>, a: &[&str], ids: &[u32]) -> Chain {
    Chain::open(record(build, &args(a)).unwrap(), ids).unwrap()
}

/// Values of a batch decoded as `T`.
fn decoded<T: serde::de::DeserializeOwned>(buf: &[u8], ends: &[u32]) -> Vec<T> {
    crate::chain::batch_slices(buf, ends).map(|b| rmp_serde::from_slice(b).unwrap()).collect()
}

#[test]
fn wordcount_records_nodes_in_order_with_names_uids_and_edges() {
    let plan = crate::describe(wordcount, &args(&["--input", "/in.txt"])).unwrap();
    assert_eq!(plan.job_name, "wordcount");
    assert_eq!(plan.parallelism, None);
    let summary: Vec<_> = plan.nodes.iter().map(|n| (n.id, n.name.as_str(), n.uid.as_str())).collect();
    assert_eq!(
        summary,
        [
            (0, "Source: file", "source-file-0"),
            (1, "tokenize", "flat-map-1"),
            (2, "Key By", "key-by-2"),
            (3, "count", "reduce-3"),
            (4, "Sink: Print", "sink-print-4"),
        ]
    );
    assert_eq!(plan.nodes[0].kind, NodeKind::Source(Connector::new("file", &[("path", "/in.txt".into())])));
    assert_eq!(plan.nodes[0].inputs, []);
    let edges: Vec<_> = plan.nodes[1..].iter().map(|n| n.inputs[0]).collect();
    let forward = |source| Edge { source, partitioning: Partitioning::Forward };
    assert_eq!(edges, [forward(0), forward(1), Edge { source: 2, partitioning: Partitioning::Hash }, forward(3)]);
    assert_eq!(plan.nodes[3].kind, NodeKind::Reduce);
    assert_eq!(plan.nodes[3].parallelism, Some(1));
    assert_eq!(plan.nodes[4].kind, NodeKind::Sink(Connector::new("print", &[])));
}

/// `sum`, `min`, `max`, `min_by` and `max_by` are the host's: a node with
/// no operator here, which a chain never opens; the map after it opens as
/// the first node of its chain.
#[test]
fn built_in_aggregations_are_host_nodes_named_as_flink_names_them() {
    use crate::plan::{AggregateField, AggregateFunction, Aggregation};
    fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
        let keyed = env.read_text_file("/in").map(|l: String| (l, 1i64)).key_by(|t: &(String, i64)| t.0.clone());
        let stream = match args.required("f")? {
            "sum" => keyed.sum(1),
            "min" => keyed.min(1),
            "max" => keyed.max(1),
            "min-by" => keyed.min_by(1),
            _ => keyed.max_by(1),
        };
        stream.map(|t: (String, i64)| t.1).print();
        Ok(())
    }
    let functions = [
        ("sum", AggregateFunction::Sum, "SUM(1)"),
        ("min", AggregateFunction::Min, "MIN(1)"),
        ("max", AggregateFunction::Max, "MAX(1)"),
        ("min-by", AggregateFunction::MinBy, "MIN_BY(1)"),
        ("max-by", AggregateFunction::MaxBy, "MAX_BY(1)"),
    ];
    for (arg, function, shown) in functions {
        let plan = crate::describe(build, &args(&["--f", arg])).unwrap();
        let node = &plan.nodes[3];
        let aggregation = Aggregation { function, field: AggregateField::Position(1) };
        assert_eq!(node.kind, NodeKind::Aggregate(aggregation));
        assert_eq!((node.name.clone(), node.uid.as_str()), (format!("Keyed Aggregation: {shown}"), "aggregate-3"));
        assert_eq!(node.inputs, [Edge { source: 2, partitioning: Partitioning::Hash }]);
    }
    let recorded = || record(build, &args(&["--f", "sum"])).unwrap();
    assert!(Chain::open(recorded(), &[3]).is_err(), "the aggregation is no function of the job");
    assert!(Chain::open(recorded(), &[4]).is_ok(), "the map after it starts its chain");
}

#[test]
fn sources_and_sinks_carry_their_connector_options() {
    let plan = crate::describe(
        |env, _| {
            env.set_parallelism(3);
            env.socket_text_stream("localhost", 9999).write_as_text("/out").name("out").uid("o");
            env.datagen(100, 5).map(|n: u64| n * 2).discard();
            Ok(())
        },
        &[],
    )
    .unwrap();
    assert_eq!(plan.job_name, DEFAULT_JOB_NAME);
    assert_eq!(plan.parallelism, Some(3));
    let socket = Connector::new("socket", &[("hostname", "localhost".into()), ("port", "9999".into())]);
    assert_eq!(plan.nodes[0].kind, NodeKind::Source(socket));
    assert_eq!(plan.nodes[1].kind, NodeKind::Sink(Connector::new("file", &[("path", "/out".into())])));
    assert_eq!((plan.nodes[1].name.as_str(), plan.nodes[1].uid.as_str()), ("out", "o"));
    let datagen = Connector::new("datagen", &[("rate", "100".into()), ("count", "5".into())]);
    assert_eq!(plan.nodes[2].kind, NodeKind::Source(datagen));
    assert_eq!((plan.nodes[3].name.as_str(), &plan.nodes[3].kind), ("Map", &NodeKind::Map));
    assert_eq!(plan.nodes[4].name, "Sink: Discard");
}

#[test]
fn a_latency_job_stamps_at_the_source_maps_after_the_key_by_and_ends_in_the_latency_sink() {
    let plan = crate::describe(
        |env, _| {
            env.datagen_with_emit_time(1000, 5)
                .key_by(|(n, _): &(u64, u64)| n % 10)
                .map(|record: (u64, u64)| record)
                .sink_to_latency("/lat", std::time::Duration::from_secs(2));
            Ok(())
        },
        &[],
    )
    .unwrap();
    let datagen =
        Connector::new("datagen", &[("rate", "1000".into()), ("count", "5".into()), ("emit-time", "true".into())]);
    assert_eq!(plan.nodes[0].kind, NodeKind::Source(datagen));
    assert_eq!(plan.nodes[2].kind, NodeKind::Map);
    assert_eq!(plan.nodes[2].inputs, [Edge { source: 1, partitioning: Partitioning::Hash }]);
    let sink = Connector::new("latency", &[("path", "/lat".into()), ("warmup-ms", "2000".into())]);
    assert_eq!((plan.nodes[3].name.as_str(), &plan.nodes[3].kind), ("Sink: Latency", &NodeKind::Sink(sink)));
}

#[test]
fn plans_without_sinks_with_loose_streams_or_bad_settings_are_invalid() {
    let invalid =
        |build: fn(&mut StreamExecutionEnvironment, &Args) -> Result<(), JobError>| match crate::describe(build, &[]) {
            Err(JobError::InvalidPlan(message)) => message,
            other => panic!("expected invalid-plan, got {other:?}"),
        };
    assert!(invalid(|_, _| Ok(())).contains("no sink"));
    assert!(
        invalid(|env, _| {
            env.datagen(1, 1).print();
            env.datagen(1, 1).filter(|n| *n > 0).name("loose");
            Ok(())
        })
        .contains("'loose' goes nowhere")
    );
    assert!(
        invalid(|env, _| {
            env.datagen(1, 1).set_parallelism(0).print();
            Ok(())
        })
        .contains("at least 1")
    );
    assert!(
        invalid(|env, _| {
            env.datagen(1, 1).uid("x").print().uid("x");
            Ok(())
        })
        .contains("uid 'x'")
    );
    let missing = crate::describe(wordcount, &[]).unwrap_err();
    assert_eq!(missing, JobError::InvalidArguments("missing required argument --input".into()));
}

#[test]
fn flat_map_then_key_by_emits_keyed_records_with_input_timestamps() {
    let mut chain = open(wordcount, &["--input", "x"], &[1, 2]);
    let mut input = Batch::default();
    input.push(None, &msgpack(&"a b a"), Some(10));
    input.push(None, &msgpack(&""), Some(11));
    input.push(None, &msgpack(&"c"), Some(12));
    let out = chain.process(input, KeyedState::default()).unwrap();
    let records = out.records;
    assert_eq!(
        decoded::<(String, i64)>(&records.values, &records.value_ends),
        [("a".to_owned(), 1), ("b".to_owned(), 1), ("a".to_owned(), 1), ("c".to_owned(), 1)]
    );
    assert_eq!(decoded::<String>(&records.keys, &records.key_ends), ["a", "b", "a", "c"]);
    assert_eq!(&records.keys[..2], &[0xa1, b'a'], "a key is the msgpack of the key value");
    assert_eq!(records.timestamps, [10, 10, 10, 12]);
    assert_eq!(out.state, KeyedState::default());

    // A second batch without timestamps produces none, from clean buffers.
    let mut input = Batch::default();
    input.push(None, &msgpack(&"d"), None);
    let records = chain.process(input, KeyedState::default()).unwrap().records;
    assert_eq!(decoded::<String>(&records.keys, &records.key_ends), ["d"]);
    assert!(records.timestamps.is_empty());
}

#[test]
fn reduce_updates_state_from_the_batch_and_returns_changed_entries() {
    let mut chain = open(wordcount, &["--input", "x"], &[3]);
    let mut input = Batch::default();
    for word in ["a", "b", "a"] {
        input.push(Some(&msgpack(&word)), &msgpack(&(word, 1i64)), None);
    }
    let mut state = KeyedState::default();
    state.values.extend(msgpack(&("a", 5i64)));
    state.push_key(&msgpack(&"a"));
    state.values.extend(msgpack(&("z", 9i64)));
    state.push_key(&msgpack(&"z")); // present but untouched: not returned

    let out = chain.process(input, state).unwrap();
    let emitted = decoded::<(String, i64)>(&out.records.values, &out.records.value_ends);
    assert_eq!(emitted, [("a".into(), 6), ("b".into(), 1), ("a".into(), 7)]);
    assert!(out.records.key_ends.is_empty(), "a reduce's output is not keyed");
    let keys = decoded::<String>(&out.state.keys, &out.state.key_ends);
    let values = decoded::<(String, i64)>(&out.state.values, &out.state.value_ends);
    assert_eq!(keys, ["a", "b"]);
    assert_eq!(values, [("a".into(), 7), ("b".into(), 1)]);

    // The next call starts from the state the host hands back, not from memory.
    let mut input = Batch::default();
    input.push(Some(&msgpack(&"b")), &msgpack(&("b", 1i64)), None);
    let out = chain.process(input, KeyedState::default()).unwrap();
    assert_eq!(decoded::<(String, i64)>(&out.state.values, &out.state.value_ends), [("b".into(), 1)]);
}

#[test]
fn a_reduce_that_keeps_its_state_returns_none_per_call_and_all_of_it_in_a_snapshot() {
    let word_batch = |words: &[&str]| {
        let mut input = Batch::default();
        for word in words {
            input.push(Some(&msgpack(word)), &msgpack(&(word, 1i64)), None);
        }
        input
    };
    let mut chain = open(wordcount, &["--input", "x"], &[3]);
    assert!(chain.keep_state(), "a reduce keeps its state when asked");
    let out = chain.process(word_batch(&["a", "b", "a"]), KeyedState::default()).unwrap();
    assert!(out.state.is_empty(), "no changes go back once the state is kept");
    let out = chain.process(word_batch(&["a"]), KeyedState::default()).unwrap();
    assert_eq!(decoded::<(String, i64)>(&out.records.values, &out.records.value_ends), [("a".into(), 3)]);

    let snapshot = chain.snapshot_state().unwrap();
    let mut entries: Vec<(String, (String, i64))> = snapshot
        .iter()
        .map(|(key, _, value)| (rmp_serde::from_slice(key).unwrap(), rmp_serde::from_slice(value).unwrap()))
        .collect();
    entries.sort();
    assert_eq!(entries, [("a".into(), ("a".into(), 3)), ("b".into(), ("b".into(), 1))]);

    // A new instance restored from those values gets them once, with its
    // first batch, and counts on from them.
    let mut restored = open(wordcount, &["--input", "x"], &[3]);
    assert!(restored.keep_state());
    let mut state = KeyedState::default();
    for (key, _, value) in snapshot.iter() {
        state.push(key, value);
    }
    let out = restored.process(word_batch(&["b"]), state).unwrap();
    assert_eq!(decoded::<(String, i64)>(&out.records.values, &out.records.value_ends), [("b".into(), 2)]);
    let out = restored.process(word_batch(&["a"]), KeyedState::default()).unwrap();
    assert_eq!(decoded::<(String, i64)>(&out.records.values, &out.records.value_ends), [("a".into(), 4)]);
}

#[test]
fn undecodable_input_is_a_user_error_naming_node_and_type() {
    let mut chain = open(wordcount, &["--input", "x"], &[1, 2]);
    let mut input = Batch::default();
    input.push(None, &msgpack(&42u8), None);
    let JobError::User(message) = chain.process(input, KeyedState::default()).unwrap_err() else { panic!() };
    assert!(message.contains("node 1 'tokenize'") && message.contains("String"), "{message}");
}

#[test]
fn map_and_filter_chain_and_unchainable_nodes_are_refused() {
    let build: fn(&mut StreamExecutionEnvironment, &Args) -> Result<(), JobError> = |env, _| {
        env.datagen(1, 1).filter(|n| n % 2 == 1).map(|n: u64| (n, n * n)).print();
        Ok(())
    };
    let mut chain = open(build, &[], &[1, 2]);
    let mut input = Batch::default();
    (0..6u64).for_each(|n| input.push(None, &msgpack(&n), None));
    let records = chain.process(input, KeyedState::default()).unwrap().records;
    assert_eq!(decoded::<(u64, u64)>(&records.values, &records.value_ends), [(1, 1), (3, 9), (5, 25)]);

    let refuse = |ids: &[u32]| match Chain::open(record(build, &[]).unwrap(), ids) {
        Err(JobError::InvalidPlan(message)) => message,
        _ => panic!("chain {ids:?} should be refused"),
    };
    assert!(refuse(&[0, 1]).contains("host connector"));
    assert!(refuse(&[2, 1]).contains("forward edge"));
    assert!(refuse(&[7]).contains("no node 7"));
    assert!(refuse(&[]).contains("at least one"));
    let keyed = record(wordcount, &args(&["--input", "x"])).unwrap();
    assert!(matches!(Chain::open(keyed, &[2, 3]), Err(JobError::InvalidPlan(m)) if m.contains("forward edge")));
}

#[test]
fn partition_custom_ends_its_chain_and_marks_each_record_with_the_partition_picked() {
    let build: fn(&mut StreamExecutionEnvironment, &Args) -> Result<(), JobError> = |env, _| {
        let numbers = env.datagen(1, 1).map(|n: u64| n * 10);
        numbers.partition_custom(|key: &u64, n: usize| *key as usize % n, |v: &u64| v / 10).print();
        Ok(())
    };
    let plan = crate::describe(build, &[]).unwrap();
    assert_eq!(plan.nodes[2].kind, NodeKind::PartitionCustom);
    assert_eq!((plan.nodes[2].name.as_str(), plan.nodes[2].uid.as_str()), ("Partition Custom", "partition-custom-2"));
    assert_eq!(plan.nodes[3].inputs, [Edge { source: 2, partitioning: Partitioning::Custom }]);

    let batch = || {
        let mut input = Batch::default();
        (0..5u64).for_each(|n| input.push(None, &msgpack(&n), Some(n as i64)));
        input
    };
    let mut chain = Chain::open_with(record(build, &[]).unwrap(), &[1, 2], 3).unwrap();
    let records = chain.process(batch(), KeyedState::default()).unwrap().records;
    assert_eq!(decoded::<u64>(&records.values, &records.value_ends), [0, 10, 20, 30, 40]);
    let picked: Vec<u32> = crate::chain::batch_slices(&records.keys, &records.key_ends)
        .map(|key| u32::from_le_bytes(key.try_into().unwrap()))
        .collect();
    assert_eq!(picked, [0, 1, 2, 0, 1], "key n goes to partition n mod 3, as 4 bytes little-endian");
    assert_eq!(records.timestamps, [0, 1, 2, 3, 4]);

    let out_of_range: fn(&mut StreamExecutionEnvironment, &Args) -> Result<(), JobError> = |env, _| {
        env.datagen(1, 1).partition_custom(|_: &u64, n: usize| n, |v: &u64| *v).print();
        Ok(())
    };
    let mut chain = Chain::open_with(record(out_of_range, &[]).unwrap(), &[1], 2).unwrap();
    match chain.process(batch(), KeyedState::default()) {
        Err(JobError::User(message)) => assert_eq!(
            message,
            "node 1 'Partition Custom': the partitioner returned partition 2, but the next operator has 2 subtasks \
             (partitions 0 to 1)"
        ),
        other => panic!("a partition out of range fails the call: {:?}", other.map(|o| o.records)),
    }
    let refused = Chain::open_with(record(out_of_range, &[]).unwrap(), &[1], 0);
    assert!(matches!(refused, Err(JobError::InvalidPlan(m)) if m.contains("no partitions")));
}
