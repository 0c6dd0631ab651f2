//! What a guest hands back across the WIT boundary as flat buffers: record
//! batches (`network/batch.rs`), running state entries (`state/mod.rs`),
//! named state entries (`state/named.rs`) and timers. A guest may be
//! buggy or hostile, so each buffer set is checked before the host reads
//! it, and once checked every read and every write-back must hold.

use proptest::prelude::*;

use super::cases;
use super::frame::{read_every_record, well_formed_batch};
use crate::network::Batch;
use crate::state::{
    self, EntryAddress, GroupedEntries, KeyedState, KeyedStateBackend, MemoryNamedBackend, MemoryStateBackend,
    NamedStateBackend, StateEntries,
};
use crate::time::{TimeDomain, TimerService, Timers};

/// Key groups of the fuzz jobs; the subtask under test owns the lower half.
const MAX: u32 = 128;
const OWNED: std::ops::Range<u32> = 0..64;

/// Bytes, and end offsets that may or may not fit them.
fn buffers(max_len: usize) -> impl Strategy<Value = (Vec<u8>, Vec<u32>)> {
    (prop::collection::vec(any::<u8>(), 0..max_len), prop::collection::vec(0..(max_len as u32 + 4), 0..8))
}

/// Mostly consistent buffers: ends sorted and within the bytes, of one
/// count; sometimes not, to reach both sides of each check.
fn entry_buffers(n: usize, max_len: usize) -> impl Strategy<Value = (Vec<u8>, Vec<u32>)> {
    (
        prop::collection::vec(any::<u8>(), 0..max_len),
        prop::collection::vec(any::<prop::sample::Index>(), n),
        any::<u8>(),
    )
        .prop_map(|(bytes, cuts, noise)| {
            let mut ends: Vec<u32> = cuts.iter().map(|c| c.index(bytes.len() + 1) as u32).collect();
            ends.sort_unstable();
            match noise % 8 {
                0 if !ends.is_empty() => ends[0] = bytes.len() as u32 + 1,
                1 => ends.reverse(),
                2 => {
                    ends.pop();
                }
                _ => {}
            }
            (bytes, ends)
        })
}

/// Arbitrary running-state entries.
fn state_entries() -> impl Strategy<Value = KeyedState> {
    (0..6usize).prop_flat_map(|n| {
        (entry_buffers(n, 24), entry_buffers(n, 24)).prop_map(|((keys, key_ends), (values, value_ends))| KeyedState {
            keys,
            key_ends,
            values,
            value_ends,
        })
    })
}

/// Arbitrary named-state entries.
fn named_entries() -> impl Strategy<Value = StateEntries> {
    (0..6usize).prop_flat_map(|n| {
        (
            prop::collection::vec(0..4u32, n),
            entry_buffers(n, 24),
            entry_buffers(n, 12),
            entry_buffers(n, 12),
            entry_buffers(n, 24),
        )
            .prop_map(|(state_ids, k, ns, uk, v)| StateEntries {
                state_ids,
                keys: k.0,
                key_ends: k.1,
                namespaces: ns.0,
                namespace_ends: ns.1,
                user_keys: uk.0,
                user_key_ends: uk.1,
                values: v.0,
                value_ends: v.1,
            })
    })
}

/// Arbitrary timers.
fn timer_buffers() -> impl Strategy<Value = Timers> {
    (0..6usize).prop_flat_map(|n| {
        let domain = prop_oneof![Just(TimeDomain::EventTime), Just(TimeDomain::ProcessingTime)];
        (
            entry_buffers(n, 24),
            entry_buffers(n, 12),
            prop::collection::vec(any::<i64>(), n),
            prop::collection::vec(domain, 0..=n),
        )
            .prop_map(|(k, ns, timestamps, domains)| Timers {
                keys: k.0,
                key_ends: k.1,
                namespaces: ns.0,
                namespace_ends: ns.1,
                timestamps,
                domains,
            })
    })
}

proptest! {
    #![proptest_config(cases(2000))]

    /// A batch of arbitrary buffers passes its check only if every record
    /// then reads without a panic; a refusal says what was wrong.
    #[test]
    fn a_checked_batch_reads_safely(
        (values, value_ends) in buffers(32),
        (keys, key_ends) in buffers(16),
        timestamps in prop::collection::vec(any::<i64>(), 0..8),
    ) {
        let batch = Batch { values, value_ends, keys, key_ends, timestamps };
        match batch.check() {
            Ok(()) => {
                read_every_record(&batch);
            }
            Err(e) => prop_assert!(e.to_string().contains("offsets") || e.to_string().contains(" for "), "{e}"),
        }
    }

    /// Records pushed come back as they went in, and pass the check.
    #[test]
    fn pushed_records_read_back(batch in well_formed_batch()) {
        prop_assert!(batch.check().is_ok());
        let mut copy = Batch::default();
        for i in 0..batch.len() {
            copy.push_from(&batch, i);
        }
        prop_assert_eq!(copy, batch);
    }

    /// Running state from a guest: entries that pass the check read
    /// safely, and writing them back either stores them or refuses a key
    /// of another subtask, naming its key group.
    #[test]
    fn running_state_from_a_guest_is_checked_then_applied(entries in state_entries()) {
        let Ok(()) = entries.check() else { return Ok(()) };
        let mut backend = MemoryStateBackend::new(OWNED);
        match state::apply(&mut backend, &entries, MAX, &[]) {
            Ok(()) => {
                for i in 0..entries.len() {
                    let (key, _) = entries.get(i);
                    prop_assert!(backend.get(state::StateKey::new(key, MAX)).is_some());
                }
            }
            Err(e) => prop_assert!(e.contains("does not own"), "{e}"),
        }
    }

    /// State gathered for a batch and written back unchanged leaves the
    /// backend as it was.
    #[test]
    fn gathered_state_written_back_is_unchanged(
        stored in prop::collection::btree_map(prop::collection::vec(any::<u8>(), 0..6), prop::collection::vec(any::<u8>(), 0..6), 0..16),
        repeats in 1..3usize,
    ) {
        let mut backend = MemoryStateBackend::new(0..MAX);
        for (key, value) in &stored {
            backend.put(state::StateKey::new(key, MAX), value);
        }
        let mut keyed = Batch::default();
        for _ in 0..repeats {
            for key in stored.keys() {
                keyed.push(Some(key), b"", None);
            }
        }
        let (mut gathered, mut positions) = (KeyedState::default(), Vec::new());
        state::gather(&backend, &keyed, MAX, &mut gathered, &mut positions);
        prop_assert_eq!(gathered.len(), stored.len());
        state::apply(&mut backend, &gathered, MAX, &positions).unwrap();
        prop_assert_eq!(backend.len(), stored.len());
        for (key, value) in &stored {
            let got = backend.get(state::StateKey::new(key, MAX)).map(|(v, _)| v.to_vec());
            prop_assert_eq!(got.as_ref(), Some(value));
        }
    }

    /// Named state from a guest: checked entries read safely, are written
    /// back or refused naming the key group, and sort into key groups for
    /// a snapshot or are refused the same way.
    #[test]
    fn named_state_from_a_guest_is_checked_then_applied(entries in named_entries()) {
        let Ok(()) = entries.check() else { return Ok(()) };
        for i in 0..entries.len() {
            let _ = entries.get(i);
        }
        let mut backend = MemoryNamedBackend::new(OWNED);
        if let Err(e) = state::apply_named(&mut backend, &entries, MAX) {
            prop_assert!(e.contains("does not own"), "{e}");
        }
        prop_assert!(backend.len() <= entries.len());
        if let Err(e) = GroupedEntries::new(entries.clone(), OWNED, MAX) {
            prop_assert!(e.contains("does not own"), "{e}");
        }
    }

    /// Named entries pushed read back as they went in.
    #[test]
    fn pushed_named_entries_read_back(
        rows in prop::collection::vec((any::<u32>(), prop::collection::vec(any::<u8>(), 0..6), prop::collection::vec(any::<u8>(), 0..6), prop::collection::vec(any::<u8>(), 0..6), prop::collection::vec(any::<u8>(), 0..6)), 0..12),
    ) {
        let mut entries = StateEntries::default();
        for (state_id, key, namespace, user_key, value) in &rows {
            entries.push(key, EntryAddress { state_id: *state_id, namespace, user_key }, value);
        }
        prop_assert!(entries.check().is_ok());
        for (i, (state_id, key, namespace, user_key, value)) in rows.iter().enumerate() {
            let (k, address, v) = entries.get(i);
            prop_assert_eq!((k, address.state_id, address.namespace, address.user_key, v),
                (&key[..], *state_id, &namespace[..], &user_key[..], &value[..]));
        }
    }

    /// Timers from a guest: checked ones read safely and register.
    #[test]
    fn timers_from_a_guest_are_checked_then_registered(registered in timer_buffers(), deleted in timer_buffers()) {
        let (Ok(()), Ok(())) = (registered.check(), deleted.check()) else { return Ok(()) };
        let mut service = TimerService::new();
        service.apply(&registered, &deleted, MAX);
        prop_assert!(service.len() <= registered.len());
    }
}
