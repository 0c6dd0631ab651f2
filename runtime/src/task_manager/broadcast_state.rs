//! A task's copy of the broadcast state of its chain's broadcast process
//! node, as Flink keeps it: every subtask holds the same map states, so
//! each snapshots its own copy (inline in its operator state, not by key
//! group), and a restore at any parallelism gives new subtask `i` the copy
//! of old subtask `i mod old parallelism`.
//!
//! The chain hands its broadcast entries over in `snapshot-state` (empty
//! key and namespace, the map key as user key) beside any keyed entries
//! it keeps; they are told apart by state id.

use serde_bytes::ByteBuf;

use crate::graph::JobVertex;
use crate::state::{EntryAddress, StateEntries};

/// One broadcast entry as a copy stores it: (state id, map key, value).
type StoredEntry = (u32, ByteBuf, ByteBuf);

/// The broadcast states of a chain.
pub(super) struct BroadcastStates {
    /// Ids of the broadcast map states the chain declares.
    ids: Vec<u32>,
}

impl BroadcastStates {
    /// The broadcast states of `vertex`'s chain; `None` when it has none.
    pub fn of(vertex: &JobVertex) -> Option<Self> {
        let ids: Vec<u32> = vertex.broadcast_states.iter().map(|s| s.id).collect();
        (!ids.is_empty()).then_some(BroadcastStates { ids })
    }

    /// Takes the broadcast entries out of what `snapshot-state` handed
    /// over and encodes them as this subtask's copy; `held` keeps the rest.
    pub fn take_copy(&self, held: &mut StateEntries) -> Vec<u8> {
        let mut copy: Vec<StoredEntry> = Vec::new();
        let mut rest = StateEntries::default();
        for (key, address, value) in held.iter() {
            if key.is_empty() && self.ids.contains(&address.state_id) {
                copy.push((address.state_id, ByteBuf::from(address.user_key), ByteBuf::from(value)));
            } else {
                rest.push(key, address, value);
            }
        }
        *held = rest;
        rmp_serde::to_vec(&copy).expect("broadcast state serializes")
    }

    /// The copy new subtask `subtask` restores from `copies` (one per old
    /// subtask, in order), as entries for the chain; `None` without copies.
    pub fn pick(&self, copies: &[Vec<u8>], subtask: u32) -> Result<Option<StateEntries>, String> {
        if copies.is_empty() {
            return Ok(None);
        }
        let bytes = &copies[subtask as usize % copies.len()];
        let stored: Vec<StoredEntry> =
            rmp_serde::from_slice(bytes).map_err(|e| format!("unreadable broadcast state: {e}"))?;
        let mut entries = StateEntries::default();
        // States the job no longer declares are dropped, as a savepoint's
        // state for a removed operator is.
        for (state_id, user_key, value) in stored.iter().filter(|(id, ..)| self.ids.contains(id)) {
            entries.push(&[], EntryAddress { state_id: *state_id, namespace: &[], user_key }, value);
        }
        Ok(Some(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(entries: &mut StateEntries, key: &[u8], state_id: u32, user_key: &[u8], value: &[u8]) {
        entries.push(key, EntryAddress { state_id, namespace: &[], user_key }, value);
    }

    #[test]
    fn a_copy_keeps_the_broadcast_entries_and_leaves_the_keyed_ones() {
        let states = BroadcastStates { ids: vec![7] };
        let mut held = StateEntries::default();
        entry(&mut held, b"", 7, b"alice", b"gold");
        entry(&mut held, b"k1", 3, b"", b"keyed");
        entry(&mut held, b"", 7, b"bob", b"silver");
        let copy = states.take_copy(&mut held);
        assert_eq!(held.len(), 1);
        assert_eq!(held.get(0).0, b"k1");

        let restored = states.pick(&[b"\x90".to_vec(), copy], 3).unwrap().unwrap();
        let got: Vec<_> =
            restored.iter().map(|(k, a, v)| (k.to_vec(), a.state_id, a.user_key.to_vec(), v.to_vec())).collect();
        assert_eq!(
            got,
            vec![(vec![], 7, b"alice".to_vec(), b"gold".to_vec()), (vec![], 7, b"bob".to_vec(), b"silver".to_vec())]
        );
    }

    #[test]
    fn new_subtask_i_takes_the_copy_of_old_subtask_i_mod_old_parallelism() {
        let states = BroadcastStates { ids: vec![1] };
        let copies: Vec<Vec<u8>> = (0..2u8)
            .map(|i| {
                let mut held = StateEntries::default();
                entry(&mut held, b"", 1, &[i], b"v");
                states.take_copy(&mut held)
            })
            .collect();
        for (subtask, old) in [(0, 0u8), (1, 1), (2, 0), (3, 1)] {
            let entries = states.pick(&copies, subtask).unwrap().unwrap();
            assert_eq!(entries.get(0).1.user_key, [old]);
        }
        assert!(states.pick(&[], 0).unwrap().is_none());
        assert!(states.pick(&[b"junk".to_vec()], 0).is_err());
    }
}
