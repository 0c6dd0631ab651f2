//! Time to live for keyed state, as Flink's `StateTtlConfig`: a state
//! entry expires `ttl` after it was last written (or, with
//! [`UpdateType::OnReadAndWrite`], last read or written), by processing
//! time, and an expired entry is never returned.
//!
//! An entry of a state with a TTL is stored as the processing time of its
//! last update (8 bytes, big-endian milliseconds) before the value's
//! MessagePack encoding, as Flink stores a `TtlValue`; each element of a
//! list state carries its own (see [`wflink_abi::ttl`]). Expired entries
//! are removed when the guest sees them: when a handle reads one, and, for
//! every entry that travels with a call (the state of the keys of its
//! batch or timers), when the call first touches state — Flink's
//! incremental cleanup, over the keys a call touches. The plan declares
//! each state's time to live, so the host leaves expired entries out of
//! checkpoints and savepoints (Flink's `cleanupFullSnapshot`).

use std::cell::RefCell;
use std::time::Duration;

use wflink_abi::ttl::{self, Pruned};

use crate::context::{self, StateError};

/// When an entry's time to live starts again (Flink's `UpdateType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateType {
    /// On creation and on every write (Flink's default).
    OnCreateAndWrite,
    /// On every read as well: an entry read often never expires.
    OnReadAndWrite,
}

/// How long keyed state lives (Flink's `StateTtlConfig`): pass it to a
/// state handle's `with_ttl`. Time is processing time; expired entries
/// are never returned (Flink's `NeverReturnExpired`).
///
/// ```
/// # use std::time::Duration;
/// # use wflink_sdk::prelude::*;
/// let ttl = StateTtlConfig::new(Duration::from_secs(3600)).update_type(UpdateType::OnReadAndWrite);
/// let last_seen: ValueState<i64> = ValueState::new("last-seen").with_ttl(ttl);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateTtlConfig {
    /// The time to live in ms (at least 1).
    pub(crate) ttl_ms: i64,
    /// When the time to live starts again.
    pub(crate) update_type: UpdateType,
}

impl StateTtlConfig {
    /// Entries live `ttl` after their last write (Flink's
    /// `StateTtlConfig.newBuilder(ttl).build()`).
    pub fn new(ttl: Duration) -> Self {
        let ttl_ms = ttl.as_millis().clamp(1, i64::MAX as u128 / 4) as i64;
        StateTtlConfig { ttl_ms, update_type: UpdateType::OnCreateAndWrite }
    }

    /// Sets when the time to live starts again.
    pub fn update_type(mut self, update_type: UpdateType) -> Self {
        self.update_type = update_type;
        self
    }
}

thread_local! {
    /// The time to live of each state id that has one, and whether it is
    /// a list state, for the cleanup of the entries that travel with a call.
    static REGISTERED: RefCell<Vec<(u32, i64, bool)>> = const { RefCell::new(Vec::new()) };
}

/// Gives the state declared as `id` (a list state when `list`) a time to
/// live; returns its id from now on. The id depends on the time to live,
/// so that entries of a state of the same name without one (or with
/// another), e.g. of another operator of the job, are never taken for
/// this state's: every instance runs the whole build function, so the
/// registry holds every operator's.
pub(crate) fn register(id: u32, config: &StateTtlConfig, list: bool) -> u32 {
    let ttl_id = (id ^ 0x7474_6c00).wrapping_mul(0x0100_0193) ^ (config.ttl_ms as u32).rotate_left(16);
    crate::state::redeclare(id, ttl_id, config.ttl_ms);
    REGISTERED.with(|r| {
        let mut r = r.borrow_mut();
        if !r.iter().any(|(known, ..)| *known == ttl_id) {
            r.push((ttl_id, config.ttl_ms, list));
        }
    });
    ttl_id
}

/// What is left at `now` of the stored entry `stored` of state `id`: all
/// of it when the state has no time to live.
pub(crate) fn prune(id: u32, stored: &[u8], now: i64) -> Pruned {
    let found = REGISTERED.with(|r| r.borrow().iter().find(|(known, ..)| *known == id).map(|&(_, ttl, l)| (ttl, l)));
    match found {
        Some((ttl_ms, list)) => ttl::prune(stored, ttl_ms, now, list),
        None => Pruned::Whole,
    }
}

/// The stored form of `value` written at `now`.
pub(crate) fn wrap(now: i64, value: &[u8]) -> Vec<u8> {
    ttl::stamped(now, value)
}

/// The stored form's value, or `None` when it expired at `now`.
pub(crate) fn unwrap(stored: &[u8], ttl_ms: i64, now: i64) -> Option<&[u8]> {
    ttl::live(stored, ttl_ms, now)
}

/// The current key's entry `user_key` of state `id`, through its TTL:
/// `None` when absent or expired (an expired one is removed); with
/// [`UpdateType::OnReadAndWrite`] a read starts its time to live again.
pub(crate) fn read_live(id: u32, config: &StateTtlConfig, user_key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
    context::with(|c| {
        if !c.keyed {
            return Err(StateError::NoKeyedContext);
        }
        c.load();
        let now = c.processing_time;
        let context::CallContext { store, key, namespace, .. } = c;
        let Some(stored) = store.get(id, key, namespace, user_key) else {
            return Ok(None);
        };
        match unwrap(stored, config.ttl_ms, now).map(<[u8]>::to_vec) {
            None => {
                store.set(id, key, namespace, user_key, None, true);
                Ok(None)
            }
            Some(value) => {
                if config.update_type == UpdateType::OnReadAndWrite {
                    store.set(id, key, namespace, user_key, Some(wrap(now, &value)), true);
                }
                Ok(Some(value))
            }
        }
    })
}

/// The current key's list of list state `id` through its time to live:
/// the elements not expired, each decoded by `decode`. Expired elements
/// are removed; with [`UpdateType::OnReadAndWrite`] a read starts the
/// time to live of every element read again.
pub(crate) fn read_list<T>(
    id: u32,
    config: &StateTtlConfig,
    mut decode: impl FnMut(&[u8]) -> Result<T, StateError>,
) -> Result<Vec<T>, StateError> {
    context::with(|c| {
        if !c.keyed {
            return Err(StateError::NoKeyedContext);
        }
        c.load();
        let now = c.processing_time;
        let context::CallContext { store, key, namespace, .. } = c;
        let Some(stored) = store.get(id, key, namespace, &[]) else {
            return Ok(Vec::new());
        };
        let (mut items, mut kept) = (Vec::new(), Vec::with_capacity(stored.len()));
        let restamp = config.update_type == UpdateType::OnReadAndWrite;
        for (at, element) in ttl::elements(stored).filter(|&(at, _)| now < at.saturating_add(config.ttl_ms)) {
            items.push(decode(element)?);
            ttl::push_element(&mut kept, if restamp { now } else { at }, element);
        }
        if restamp || kept.len() != stored.len() {
            store.set(id, key, namespace, &[], (!kept.is_empty()).then_some(kept), true);
        }
        Ok(items)
    })
}

/// `value` as stored for a state with a time to live written now.
pub(crate) fn stamp(value: Vec<u8>) -> Vec<u8> {
    wrap(context::with(|c| c.processing_time), &value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::StateEntries;
    use crate::{ListState, ValueState};

    /// Runs one call at processing time `now` for key `k` on the entries
    /// `state` with `f`; returns the entries the call hands back.
    fn call(state: StateEntries, now: i64, f: impl FnOnce()) -> StateEntries {
        context::begin(state, i64::MIN, now);
        context::set_key(b"k", None);
        f();
        context::end().state
    }

    /// The state after a call: `before` with the call's changes applied
    /// (an empty value deletes), as the host keeps it.
    fn apply(before: StateEntries, changes: StateEntries) -> StateEntries {
        let mut out = StateEntries::default();
        let changed: Vec<_> =
            changes.iter().map(|(k, a, v)| (k.to_vec(), a.state_id, a.user_key.to_vec(), v.to_vec())).collect();
        for (k, a, v) in before.iter() {
            if !changed.iter().any(|c| c.0 == k && c.1 == a.state_id && c.2 == a.user_key) {
                out.push(k, a, v);
            }
        }
        for (k, a, v) in changes.iter().filter(|(_, _, v)| !v.is_empty()) {
            out.push(k, a, v);
        }
        out
    }

    /// What `read` returns in a call for key `k` at `now` on `state`, and
    /// the state after the call.
    fn read_at<T>(state: &StateEntries, now: i64, read: impl FnOnce() -> T) -> (T, StateEntries) {
        let mut seen = None;
        let changes = call(state.clone(), now, || seen = Some(read()));
        (seen.expect("the call ran"), apply(state.clone(), changes))
    }

    fn value_at(state: &StateEntries, now: i64, handle: &ValueState<i64>) -> (Option<i64>, StateEntries) {
        read_at(state, now, || handle.value().unwrap())
    }

    #[test]
    fn a_value_expires_its_ttl_after_its_last_write_and_is_then_removed() {
        let v = ValueState::<i64>::new("ttl-write").with_ttl(StateTtlConfig::new(Duration::from_millis(500)));
        let state = apply(StateEntries::default(), call(StateEntries::default(), 1_000, || v.update(&5).unwrap()));
        let (seen, state) = value_at(&state, 1_400, &v);
        assert_eq!(seen, Some(5));
        let (seen, _) = value_at(&state, 1_450, &v);
        assert_eq!(seen, Some(5), "a read does not extend the life on create-and-write");
        let (seen, after) = value_at(&state, 1_500, &v);
        assert_eq!(seen, None, "never returns an expired value");
        assert_eq!(after.iter().count(), 0, "the expired entry is removed");
    }

    /// The list `handle` holds for key `k` at `now`, and the state after the read.
    fn list_at(state: &StateEntries, now: i64, handle: &ListState<i64>) -> (Vec<i64>, StateEntries) {
        read_at(state, now, || handle.get().unwrap())
    }

    #[test]
    fn each_list_element_expires_its_own_ttl_after_it_was_added() {
        let list = ListState::<i64>::new("ttl-list").with_ttl(StateTtlConfig::new(Duration::from_millis(500)));
        let state = apply(StateEntries::default(), call(StateEntries::default(), 1_000, || list.add(&1).unwrap()));
        let state = apply(state.clone(), call(state, 1_300, || list.add(&2).unwrap()));
        let (seen, state) = list_at(&state, 1_499, &list);
        assert_eq!(seen, [1, 2]);
        let (seen, state) = list_at(&state, 1_500, &list);
        assert_eq!(seen, [2], "the first element lived 500 ms from its add");
        let (seen, state) = list_at(&state, 1_800, &list);
        assert_eq!((seen, state.iter().count()), (vec![], 0), "a list whose every element expired is removed");
        let state = apply(state.clone(), call(state, 2_000, || list.update(&[3, 4]).unwrap()));
        assert_eq!(list_at(&state, 2_499, &list).0, [3, 4]);
        assert_eq!(list_at(&state, 2_500, &list).0, Vec::<i64>::new(), "update stamps every element");
    }

    #[test]
    fn on_read_and_write_reading_a_list_starts_its_elements_ttl_again() {
        let config = StateTtlConfig::new(Duration::from_millis(500)).update_type(UpdateType::OnReadAndWrite);
        let list = ListState::<i64>::new("ttl-list-read").with_ttl(config);
        let state = apply(StateEntries::default(), call(StateEntries::default(), 1_000, || list.add(&1).unwrap()));
        let (seen, state) = list_at(&state, 1_400, &list);
        assert_eq!(seen, [1]);
        assert_eq!(list_at(&state, 1_800, &list).0, [1], "the read at 1400 made it live until 1900");
        assert_eq!(list_at(&state, 1_900, &list).0, Vec::<i64>::new());
    }

    #[test]
    fn on_read_and_write_a_read_starts_the_ttl_again() {
        let config = StateTtlConfig::new(Duration::from_millis(500)).update_type(UpdateType::OnReadAndWrite);
        let v = ValueState::<i64>::new("ttl-read").with_ttl(config);
        let state = apply(StateEntries::default(), call(StateEntries::default(), 1_000, || v.update(&7).unwrap()));
        let (seen, state) = value_at(&state, 1_400, &v);
        assert_eq!(seen, Some(7));
        let (seen, _) = value_at(&state, 1_800, &v);
        assert_eq!(seen, Some(7), "the read at 1400 made it live until 1900");
    }

    #[test]
    fn a_state_of_the_same_name_without_a_ttl_is_another_state() {
        // Two operators' states: each operator takes its own declarations.
        crate::state::take_declared();
        let plain = ValueState::<i64>::new("shared-name");
        let first = crate::state::take_declared();
        let with_ttl = ValueState::<i64>::new("shared-name").with_ttl(StateTtlConfig::new(Duration::from_millis(100)));
        let second = crate::state::take_declared();
        assert_eq!((first.len(), second.len()), (1, 1));
        assert_ne!(first[0].id, second[0].id, "the state with a TTL is declared under its own id");
        let writes = call(StateEntries::default(), 1_000, || plain.update(&1).unwrap());
        let state = apply(StateEntries::default(), writes);
        let mut seen = (None, None);
        let after = call(state, 5_000, || seen = (plain.value().unwrap(), with_ttl.value().unwrap()));
        assert_eq!(seen, (Some(1), None), "the plain value never expires and is not the TTL state's");
        assert_eq!(after.iter().count(), 0, "nothing was removed");
    }

    #[test]
    fn expired_entries_that_travel_with_a_call_are_removed_even_unread() {
        let v = ValueState::<i64>::new("ttl-unread").with_ttl(StateTtlConfig::new(Duration::from_millis(100)));
        let other = ValueState::<i64>::new("no-ttl");
        let writes = call(StateEntries::default(), 1_000, || {
            v.update(&1).unwrap();
            other.update(&2).unwrap();
        });
        let state = apply(StateEntries::default(), writes);
        let after = apply(state.clone(), call(state, 2_000, || assert_eq!(other.value().unwrap(), Some(2))));
        let ids: Vec<u32> = after.iter().map(|(_, a, _)| a.state_id).collect();
        assert_eq!(ids, [crate::state::state_id("no-ttl")], "only the entry without a TTL is left");
    }
}
