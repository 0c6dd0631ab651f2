//! The window operator on the host: the state and timers it hands back,
//! firing, allowed lateness and late records, processing time.

use std::time::Duration;

use crate::chain::{Batch, Chain};
use crate::context::{EntryAddress, StateEntries, TimeDomain, Timers};
use crate::env::record;
use crate::prelude::*;

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    let late = OutputTag::<u64>::new("late");
    let assigner = if args.flag("processing") {
        TumblingProcessingTimeWindows::of(Duration::from_secs(10))
    } else {
        TumblingEventTimeWindows::of(Duration::from_secs(10))
    };
    let sums = env
        .datagen(0, 0)
        .key_by(|n: &u64| n % 2)
        .window(assigner)
        .allowed_lateness(Duration::from_secs(5))
        .side_output_late_data(&late)
        .reduce(|a, b| a + b);
    sums.get_side_output(&late).print();
    sums.print();
    Ok(())
}

/// The window node is node 2 (source 0, key-by 1).
fn open(flags: &[&str]) -> Chain {
    let args: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
    Chain::open(record(build, &args).unwrap(), &[2]).unwrap()
}

fn batch(records: &[(u64, i64)]) -> Batch {
    let mut b = Batch::default();
    for (n, ts) in records {
        b.push(Some(&rmp_serde::to_vec(&(n % 2)).unwrap()), &rmp_serde::to_vec(n).unwrap(), Some(*ts));
    }
    b
}

fn values(b: &Batch) -> Vec<u64> {
    crate::chain::batch_slices(&b.values, &b.value_ends).map(|v| rmp_serde::from_slice(v).unwrap()).collect()
}

/// An owned state entry: (state id, key, namespace, user key, value).
type OwnedEntry = (u32, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);

/// What the host would store: apply the written entries (empty = delete);
/// also used by the interval join's tests.
pub(crate) fn apply(store: &mut StateEntries, written: &StateEntries) {
    let mut kept = StateEntries::default();
    let all: Vec<_> = store
        .iter()
        .chain(written.iter())
        .map(|(k, a, v)| (a.state_id, k.to_vec(), a.namespace.to_vec(), a.user_key.to_vec(), v.to_vec()))
        .collect();
    let mut latest: Vec<OwnedEntry> = Vec::new();
    for e in all {
        latest.retain(|x| (x.0, &x.1, &x.2, &x.3) != (e.0, &e.1, &e.2, &e.3));
        latest.push(e);
    }
    for (i, k, n, u, v) in latest.into_iter().filter(|e| !e.4.is_empty()) {
        kept.push(&k, EntryAddress { state_id: i, namespace: &n, user_key: &u }, &v);
    }
    *store = kept;
}

#[test]
fn event_time_windows_fire_on_their_timer_refire_for_late_records_and_drop_too_late_ones() {
    let mut chain = open(&[]);
    let mut store = StateEntries::default();

    let out =
        chain.process_with_context(batch(&[(2, 1000), (4, 2000), (3, 3000)]), store.clone(), i64::MIN, 0).unwrap();
    assert!(out.records.value_ends.is_empty(), "nothing fires before the watermark");
    assert_eq!(out.call.state.iter().count(), 2, "one accumulator per key and window");
    // A firing timer and a cleanup timer (end - 1 + lateness) per new window.
    let mut stamps = out.call.timers_registered.timestamps.clone();
    stamps.sort();
    assert_eq!(stamps, [9_999, 9_999, 14_999, 14_999]);
    apply(&mut store, &out.call.state);

    let mut fire = Timers::default();
    let key0 = rmp_serde::to_vec(&0u64).unwrap();
    let window = crate::window::TimeWindow { start: 0, end: 10_000 }.namespace();
    fire.push(TimeDomain::EventTime, 9_999, &key0, &window);
    let out = chain.on_timers(fire, store.clone(), 9_999, 0).unwrap();
    assert_eq!(values(&out.records), [6], "key 0's window: 2 + 4");
    assert_eq!(out.records.timestamps, [9_999]);
    apply(&mut store, &out.call.state);

    // Within the allowed lateness: counted, and the window fires again at once.
    let out = chain.process_with_context(batch(&[(8, 500)]), store.clone(), 12_000, 0).unwrap();
    assert_eq!(values(&out.records), [14]);
    apply(&mut store, &out.call.state);

    // Beyond it (watermark past 9999 + 5000): to the late side output.
    let out = chain.process_with_context(batch(&[(10, 700)]), store.clone(), 15_000, 0).unwrap();
    assert!(out.records.value_ends.is_empty());
    assert_eq!(out.call.side_tags.len(), 1);
    assert_eq!(values(&out.call.side_records), [10]);
}

#[test]
fn processing_time_windows_use_the_wall_clock_and_processing_timers() {
    let mut chain = open(&["--processing"]);
    let out =
        chain.process_with_context(batch(&[(1, 0), (3, 99_000)]), StateEntries::default(), i64::MIN, 12_345).unwrap();
    let timers = &out.call.timers_registered;
    assert_eq!(timers.timestamps, [19_999]);
    assert_eq!(timers.domains, [TimeDomain::ProcessingTime]);
}

#[test]
fn a_window_that_keeps_its_state_returns_none_per_call_and_all_of_it_in_a_snapshot() {
    let mut chain = open(&[]);
    assert!(chain.keep_state(), "windows keep their state when asked");
    let out = chain
        .process_with_context(batch(&[(2, 1000), (4, 2000), (3, 3000)]), StateEntries::default(), i64::MIN, 0)
        .unwrap();
    assert_eq!(out.call.state.iter().count(), 0, "no state crosses the boundary per call");
    assert_eq!(out.call.timers_registered.timestamps.len(), 4, "timers still go to the host");
    let out = chain.process_with_context(batch(&[(6, 4000)]), StateEntries::default(), i64::MIN, 0).unwrap();
    assert_eq!(out.call.state.iter().count(), 0);

    let snapshot = chain.snapshot_state().unwrap();
    assert_eq!(snapshot.iter().count(), 2, "one accumulator per key and window");

    // A new instance restored from the snapshot gets each entry once, with
    // the first call of its key, and folds new records into it.
    let mut restored = open(&[]);
    assert!(restored.keep_state());
    let out = restored.process_with_context(batch(&[(8, 5000)]), snapshot, i64::MIN, 0).unwrap();
    assert_eq!(out.call.state.iter().count(), 0);
    let mut fire = Timers::default();
    let window = crate::window::TimeWindow { start: 0, end: 10_000 }.namespace();
    for key in [0u64, 1] {
        fire.push(TimeDomain::EventTime, 9_999, &rmp_serde::to_vec(&key).unwrap(), &window);
    }
    let out = restored.on_timers(fire.clone(), StateEntries::default(), 9_999, 0).unwrap();
    assert_eq!(values(&out.records), [2 + 4 + 6 + 8, 3], "key 0 kept its sum across the restore; key 1 too");

    // The cleanup timer purges the windows: nothing left to snapshot.
    let mut cleanup = Timers::default();
    for key in [0u64, 1] {
        cleanup.push(TimeDomain::EventTime, 14_999, &rmp_serde::to_vec(&key).unwrap(), &window);
    }
    restored.on_timers(cleanup, StateEntries::default(), 14_999, 0).unwrap();
    assert_eq!(restored.snapshot_state().unwrap().iter().count(), 0);
}
