//! Host-side tests of a broadcast process chain: the broadcast input
//! writes the state, the other input reads it, and the state leaves in a
//! snapshot and comes back in a call with an empty batch.

use crate::chain::{Batch, Chain};
use crate::context::StateEntries;
use crate::env::record;
use crate::prelude::*;

/// `a` lines look `key` up in the limits that `b` lines `key=limit` set.
struct Limits {
    limits: MapStateDescriptor<String, i64>,
}

impl BroadcastProcessFunction<String, String, String> for Limits {
    fn process_element(&mut self, key: String, ctx: &mut ReadOnlyBroadcastContext<'_, String>) -> Result<(), JobError> {
        let limit = ctx.broadcast_state(&self.limits).get(&key)?;
        ctx.collect(format!("{key}={}", limit.map_or("none".into(), |l| l.to_string())));
        Ok(())
    }

    fn process_broadcast_element(
        &mut self,
        line: String,
        ctx: &mut BroadcastContext<'_, String>,
    ) -> Result<(), JobError> {
        let (key, limit) = line.split_once('=').ok_or_else(|| JobError::user("want key=limit"))?;
        let limit: i64 = limit.parse().map_err(|_| JobError::user("limit is no number"))?;
        ctx.broadcast_state(&self.limits).put(&key.to_owned(), &limit)?;
        Ok(())
    }
}

fn job(env: &mut StreamExecutionEnvironment, _: &Args) -> Result<(), JobError> {
    let limits = MapStateDescriptor::<String, i64>::new("limits");
    let a = env.read_text_file("a");
    let b = env.read_text_file("b");
    a.connect(b.broadcast_state(&limits)).process(Limits { limits }).print();
    Ok(())
}

fn lines(lines: &[&str]) -> Batch {
    let mut batch = Batch::default();
    for line in lines {
        batch.push(None, &rmp_serde::to_vec(line).unwrap(), None);
    }
    batch
}

fn run(chain: &mut Chain, input: u32, batch: Batch, state: StateEntries) -> Vec<String> {
    let out = chain.process_input_with_context(batch, input, state, i64::MIN, 0).unwrap();
    crate::chain::batch_slices(&out.records.values, &out.records.value_ends)
        .map(|b| rmp_serde::from_slice(b).unwrap())
        .collect()
}

#[test]
fn the_plan_declares_the_broadcast_state_and_a_broadcast_edge() {
    let plan = crate::describe(job, &[]).unwrap();
    let node = &plan.nodes[2];
    let crate::plan::NodeKind::BroadcastProcess(spec) = &node.kind else { panic!("{:?}", node.kind) };
    assert_eq!(spec.broadcast_states.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["limits"]);
    assert!(spec.keyed.is_none());
    assert_eq!(node.inputs[1].partitioning, crate::plan::Partitioning::Broadcast);
}

#[test]
fn a_broadcast_stream_declares_every_state_it_writes() {
    fn two_states(env: &mut StreamExecutionEnvironment, _: &Args) -> Result<(), JobError> {
        let (limits, names) =
            (MapStateDescriptor::<String, i64>::new("limits"), MapStateDescriptor::<u32, String>::new("names"));
        let broadcast = env.read_text_file("b").broadcast_state(&limits).with_state(&names);
        env.read_text_file("a").connect(broadcast).process(Limits { limits }).print();
        Ok(())
    }
    let plan = crate::describe(two_states, &[]).unwrap();
    let crate::plan::NodeKind::BroadcastProcess(spec) = &plan.nodes[2].kind else { panic!("{:?}", plan.nodes[2]) };
    assert_eq!(spec.broadcast_states.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["limits", "names"]);
}

#[test]
fn broadcast_state_is_written_by_input_1_read_by_input_0_and_survives_a_snapshot() {
    let open = || Chain::open(record(job, &[]).unwrap(), &[2]).unwrap();
    let mut first = open();
    assert_eq!(run(&mut first, 0, lines(&["x"]), StateEntries::default()), ["x=none"]);
    assert!(run(&mut first, 1, lines(&["x=1", "y=2", "x=3"]), StateEntries::default()).is_empty());
    assert_eq!(run(&mut first, 0, lines(&["x", "y", "z"]), StateEntries::default()), ["x=3", "y=2", "z=none"]);
    let snapshot = first.snapshot_state().unwrap();
    assert_eq!(snapshot.len(), 2);
    assert!(snapshot.iter().all(|(key, address, _)| key.is_empty() && address.namespace.is_empty()));

    let mut second = open();
    assert!(run(&mut second, 1, Batch::default(), snapshot).is_empty(), "a restore emits nothing");
    assert_eq!(run(&mut second, 0, lines(&["x", "y", "z"]), StateEntries::default()), ["x=3", "y=2", "z=none"]);
}

/// Sums per key; a broadcast `double` doubles every key's sum through
/// `apply_to_keyed_state`, any other command clears them.
struct Sums {
    sum: ValueState<i64>,
}

impl KeyedBroadcastProcessFunction<String, String, String> for Sums {
    fn process_element(&mut self, _: String, _: &mut ReadOnlyBroadcastContext<'_, String>) -> Result<(), JobError> {
        self.sum.update(&(self.sum.value()?.unwrap_or(0) + 1))?;
        Ok(())
    }

    fn process_broadcast_element(
        &mut self,
        command: String,
        ctx: &mut BroadcastContext<'_, String>,
    ) -> Result<(), JobError> {
        let visited = ctx.apply_to_keyed_state(&self.sum, |_key: String, sum| {
            match command.as_str() {
                "double" => sum.update(&(sum.value()?.unwrap_or(0) * 2))?,
                _ => sum.clear()?,
            }
            Ok(())
        })?;
        ctx.collect(format!("{command} {visited}"));
        Ok(())
    }
}

fn keyed_job(env: &mut StreamExecutionEnvironment, _: &Args) -> Result<(), JobError> {
    let commands = MapStateDescriptor::<String, i64>::new("commands");
    let a = env.read_text_file("a").key_by(|line: &String| line.clone());
    a.connect(env.read_text_file("b").broadcast_state(&commands))
        .process(Sums { sum: ValueState::new("apply-sum") })
        .print();
    Ok(())
}

/// A broadcast record reaches every key the host holds state for, over
/// several pages of keys: each key's value is read, rewritten and sent
/// back in the call's output, and no key is current afterwards.
#[test]
fn apply_to_keyed_state_rewrites_every_keys_state_from_a_broadcast_record() {
    let id = crate::state::state_id("apply-sum");
    let key = |i: usize| rmp_serde::to_vec(&format!("k{i}")).unwrap();
    let keys = 1500;
    crate::lazy_state::host::test_store(|s| {
        for i in 0..keys {
            s.insert((id, key(i), Vec::new(), Vec::new()), rmp_serde::to_vec(&(i as i64)).unwrap());
        }
    });
    let plan = record(keyed_job, &[]).unwrap();
    let mut chain = Chain::open(plan, &[3]).unwrap();
    let out = chain.process_input_with_context(lines(&["double"]), 1, StateEntries::default(), i64::MIN, 0).unwrap();
    let printed: Vec<String> = crate::chain::batch_slices(&out.records.values, &out.records.value_ends)
        .map(|b| rmp_serde::from_slice(b).unwrap())
        .collect();
    assert_eq!(printed, [format!("double {keys}")]);
    let mut written: Vec<(Vec<u8>, i64)> = out
        .call
        .state
        .iter()
        .map(|(k, address, v)| {
            assert_eq!((address.state_id, address.namespace, address.user_key), (id, &[][..], &[][..]));
            (k.to_vec(), rmp_serde::from_slice(v).unwrap())
        })
        .collect();
    written.sort();
    let mut expected: Vec<(Vec<u8>, i64)> = (0..keys).map(|i| (key(i), 2 * i as i64)).collect();
    expected.sort();
    assert_eq!(written, expected);
    assert_eq!(ValueState::<i64>::new("apply-sum").value(), Err(StateError::NoKeyedContext), "no key is current");
}

/// Only a keyed function has keyed state to walk.
#[test]
fn apply_to_keyed_state_in_a_function_that_is_not_keyed_is_an_error() {
    struct NotKeyed;
    impl BroadcastProcessFunction<String, String, String> for NotKeyed {
        fn process_element(&mut self, _: String, _: &mut ReadOnlyBroadcastContext<'_, String>) -> Result<(), JobError> {
            Ok(())
        }
        fn process_broadcast_element(
            &mut self,
            _: String,
            ctx: &mut BroadcastContext<'_, String>,
        ) -> Result<(), JobError> {
            let sum = ValueState::<i64>::new("not-keyed-sum");
            ctx.apply_to_keyed_state(&sum, |_: String, _| Ok(())).map(|_| ())
        }
    }
    fn job(env: &mut StreamExecutionEnvironment, _: &Args) -> Result<(), JobError> {
        let commands = MapStateDescriptor::<String, i64>::new("commands");
        env.read_text_file("a").connect(env.read_text_file("b").broadcast_state(&commands)).process(NotKeyed).print();
        Ok(())
    }
    let mut chain = Chain::open(record(job, &[]).unwrap(), &[2]).unwrap();
    let error =
        chain.process_input_with_context(lines(&["go"]), 1, StateEntries::default(), i64::MIN, 0).err().unwrap();
    assert!(error.to_string().contains("apply_to_keyed_state needs a KeyedBroadcastProcessFunction"), "{error}");
}
