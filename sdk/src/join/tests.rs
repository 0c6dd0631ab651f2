//! The interval join on the host: pairs within the interval, late records,
//! unmatched records leaving when the watermark's timers drop them, and no
//! state left behind.

use crate::chain::{Batch, Chain};
use crate::context::{StateEntries, TimeDomain, Timers};
use crate::env::record;
use crate::prelude::*;
use crate::window::tests::apply;

type Rec = (String, i64);

fn tag(name: &str) -> OutputTag<Rec> {
    OutputTag::new(name)
}

fn build(env: &mut StreamExecutionEnvironment, _: &Args) -> Result<(), JobError> {
    let side = |env: &mut StreamExecutionEnvironment| {
        env.datagen(0, 0).map(|n: u64| ("k".to_owned(), n as i64)).key_by(|r: &Rec| r.0.clone())
    };
    let (a, b) = (side(env), side(env));
    let joined = a
        .interval_join(b)
        .between(-1000, 2000)?
        .side_output_left_late_data(&tag("left-late"))
        .side_output_left_unmatched(&tag("left-unmatched"))
        .side_output_right_unmatched(&tag("right-unmatched"))
        .process(|a: Rec, b: Rec, ctx: &mut Context<'_, String>| {
            ctx.collect(format!("{} {}", a.1, b.1));
            Ok(())
        });
    for name in ["left-late", "left-unmatched", "right-unmatched"] {
        joined.get_side_output(&tag(name)).print();
    }
    joined.print();
    Ok(())
}

fn open() -> Chain {
    let plan = record(build, &[]).unwrap();
    let join = plan.plan.nodes.iter().find(|n| n.name == "Interval Join").expect("the join node").id;
    Chain::open(plan, &[join]).unwrap()
}

/// Records of key `k` with their values as timestamps.
fn batch(stamps: &[i64]) -> Batch {
    let mut b = Batch::default();
    for &ts in stamps {
        b.push(Some(&rmp_serde::to_vec("k").unwrap()), &rmp_serde::to_vec(&("k", ts)).unwrap(), Some(ts));
    }
    b
}

fn decoded<T: serde::de::DeserializeOwned>(b: &Batch) -> Vec<T> {
    crate::chain::batch_slices(&b.values, &b.value_ends).map(|v| rmp_serde::from_slice(v).unwrap()).collect()
}

/// The side records of each tag, by tag name.
fn sides(out: &crate::chain::ContextOutput) -> Vec<(&'static str, i64)> {
    let records: Vec<Rec> = decoded(&out.call.side_records);
    let names = ["left-late", "left-unmatched", "right-unmatched"];
    let name = |id: u32| *names.iter().find(|n| tag(n).id == id).expect("a known tag");
    out.call.side_tags.iter().zip(records).map(|(&id, r)| (name(id), r.1)).collect()
}

fn fire(chain: &mut Chain, store: &mut StateEntries, at: i64) -> crate::chain::ContextOutput {
    let mut timers = Timers::default();
    timers.push(TimeDomain::EventTime, at, &rmp_serde::to_vec("k").unwrap(), &[]);
    let out = chain.on_timers(timers, store.clone(), at, 0).unwrap();
    apply(store, &out.call.state);
    out
}

#[test]
fn an_interval_join_pairs_within_bounds_and_drops_its_buffers_by_watermark() {
    let mut chain = open();
    let mut store = StateEntries::default();

    // Left 10000: buffered until the watermark passes 10000 + 2000.
    let out = chain.process_input_with_context(batch(&[10_000]), 0, store.clone(), i64::MIN, 0).unwrap();
    assert!(out.records.value_ends.is_empty());
    assert_eq!(out.call.timers_registered.timestamps, [12_000]);
    apply(&mut store, &out.call.state);

    // Right 12000 (+2000, the upper bound, inclusive) meets it; right 8999
    // (-1001) does not. A right record is buffered until ts + 1000.
    let out = chain.process_input_with_context(batch(&[12_000, 8_999]), 1, store.clone(), 5_000, 0).unwrap();
    assert_eq!(decoded::<String>(&out.records), ["10000 12000"]);
    assert_eq!(out.call.timers_registered.timestamps, [13_000, 9_999]);
    apply(&mut store, &out.call.state);

    // A left record behind the watermark goes to the late side output.
    let out = chain.process_input_with_context(batch(&[4_000]), 0, store.clone(), 5_000, 0).unwrap();
    assert_eq!(sides(&out), [("left-late", 4_000)]);
    assert!(out.call.state.iter().next().is_none(), "a late record is not buffered");

    // At 9999 the unmatched right 8999 leaves; at 12000 the matched left,
    // at 13000 the matched right: nothing unmatched, nothing kept.
    assert_eq!(sides(&fire(&mut chain, &mut store, 9_999)), [("right-unmatched", 8_999)]);
    assert!(sides(&fire(&mut chain, &mut store, 12_000)).is_empty());
    assert_eq!(store.iter().count(), 1, "only the right 12000 is left");
    assert!(sides(&fire(&mut chain, &mut store, 13_000)).is_empty());
    assert_eq!(store.iter().count(), 0, "the state is empty once the watermark passed every interval");

    // A left record that meets nothing leaves, unmatched, at ts + 2000.
    let out = chain.process_input_with_context(batch(&[20_000]), 0, store.clone(), 13_000, 0).unwrap();
    apply(&mut store, &out.call.state);
    assert_eq!(sides(&fire(&mut chain, &mut store, 22_000)), [("left-unmatched", 20_000)]);
    assert_eq!(store.iter().count(), 0);
}

#[test]
fn between_refuses_a_lower_bound_above_the_upper() {
    fn bad(env: &mut StreamExecutionEnvironment, _: &Args) -> Result<(), JobError> {
        let a = env.datagen(0, 0).key_by(|n: &u64| *n);
        let b = env.datagen(0, 0).key_by(|n: &u64| *n);
        a.interval_join(b).between(10, 5)?.process(|_: u64, _: u64, _: &mut Context<'_, u64>| Ok(())).print();
        Ok(())
    }
    let error = crate::describe(bad, &[]).unwrap_err().to_string();
    assert!(error.contains("lower bound 10 ms is above the upper bound 5 ms"), "{error}");
}
