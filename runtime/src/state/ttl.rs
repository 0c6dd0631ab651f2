//! State with a time to live in snapshots: a checkpoint or savepoint
//! leaves out the named state entries (and list elements) whose time to
//! live has passed, as Flink's `cleanupFullSnapshot`, so expired state
//! neither grows checkpoints nor comes back in a restored job. The guest
//! stamps each value (see [`wflink_abi::ttl`]); the plan's state
//! descriptors say which states have a time to live.

use std::borrow::Cow;

use wflink_abi::ttl::{Pruned, prune};

use crate::graph::{StateDescriptor, StateKind};

/// The states of a chain that have a time to live, and the processing
/// time a snapshot is taken at.
#[derive(Debug, Clone)]
pub struct ExpiredFilter {
    /// (state id, time to live in ms, whether a list state), by state id.
    states: Vec<(u32, i64, bool)>,
    /// Processing time of the snapshot, ms since the epoch.
    now: i64,
}

impl ExpiredFilter {
    /// The filter of `states` at processing time `now`; `None` when no
    /// state has a time to live.
    pub fn new(states: &[StateDescriptor], now: i64) -> Option<Self> {
        let mut with_ttl: Vec<(u32, i64, bool)> = states
            .iter()
            .filter_map(|s| {
                let ttl = i64::try_from(s.ttl_ms?).unwrap_or(i64::MAX);
                Some((s.id, ttl, s.kind == StateKind::List))
            })
            .collect();
        with_ttl.sort_unstable_by_key(|s| s.0);
        (!with_ttl.is_empty()).then_some(ExpiredFilter { states: with_ttl, now })
    }

    /// What a snapshot writes of the entry `value` of state `state_id`:
    /// all of it, the list elements still alive, or nothing.
    pub fn keep<'v>(&self, state_id: u32, value: &'v [u8]) -> Option<Cow<'v, [u8]>> {
        let Ok(at) = self.states.binary_search_by_key(&state_id, |s| s.0) else {
            return Some(Cow::Borrowed(value));
        };
        let (_, ttl_ms, list) = self.states[at];
        match prune(value, ttl_ms, self.now, list) {
            Pruned::Whole => Some(Cow::Borrowed(value)),
            Pruned::Part(live) => Some(Cow::Owned(live)),
            Pruned::Expired => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wflink_abi::ttl::{push_element, stamped};

    fn descriptor(id: u32, kind: StateKind, ttl_ms: Option<u64>) -> StateDescriptor {
        StateDescriptor { id, name: format!("s{id}"), kind, lazy: false, ttl_ms }
    }

    #[test]
    fn only_states_with_a_ttl_lose_their_expired_entries() {
        assert!(ExpiredFilter::new(&[descriptor(1, StateKind::Value, None)], 0).is_none());
        let states = [
            descriptor(1, StateKind::Value, None),
            descriptor(2, StateKind::Value, Some(100)),
            descriptor(3, StateKind::List, Some(100)),
        ];
        let filter = ExpiredFilter::new(&states, 1_150).unwrap();
        assert_eq!(filter.keep(1, b"plain").as_deref(), Some(&b"plain"[..]), "no ttl: kept as is");
        assert_eq!(filter.keep(2, &stamped(1_000, b"old")), None);
        let fresh = stamped(1_100, b"new");
        assert_eq!(filter.keep(2, &fresh).as_deref(), Some(&fresh[..]));
        let (mut list, mut live) = (Vec::new(), Vec::new());
        push_element(&mut list, 1_000, b"old");
        push_element(&mut list, 1_100, b"new");
        push_element(&mut live, 1_100, b"new");
        assert_eq!(filter.keep(3, &list).as_deref(), Some(&live[..]), "a list keeps its live elements");
    }
}
