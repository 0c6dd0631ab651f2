//! Timers of keyed operators: registered by the guest for a key and a
//! namespace (an encoded window, or empty), fired in timestamp order once
//! the watermark (event time) or the wall clock (processing time) passes
//! them. Each timer remembers its key group, so the timers of a key group
//! can be snapshotted and moved with its state.

use std::collections::BTreeSet;

use crate::graph::partition::key_group;

/// Timers as they cross the WASM boundary (WIT `timers`), and their
/// clocks, shared with the SDK.
pub use wflink_abi::{TimeDomain, Timers};

/// One registered timer, ordered by time first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Timer {
    timestamp: i64,
    key_group: u32,
    key: Box<[u8]>,
    namespace: Box<[u8]>,
}

/// The timers of one keyed operator subtask.
#[derive(Debug, Default)]
pub struct TimerService {
    event: BTreeSet<Timer>,
    processing: BTreeSet<Timer>,
}

impl TimerService {
    /// No timers.
    pub fn new() -> Self {
        Self::default()
    }

    fn set(&mut self, domain: TimeDomain) -> &mut BTreeSet<Timer> {
        match domain {
            TimeDomain::EventTime => &mut self.event,
            TimeDomain::ProcessingTime => &mut self.processing,
        }
    }

    /// Registers and deletes the timers a guest call asked for.
    pub fn apply(&mut self, registered: &Timers, deleted: &Timers, max_parallelism: u32) {
        for i in 0..deleted.len() {
            let (domain, timestamp, key, namespace) = deleted.get(i);
            let timer = Timer {
                timestamp,
                key_group: key_group(key, max_parallelism),
                key: key.into(),
                namespace: namespace.into(),
            };
            self.set(domain).remove(&timer);
        }
        for i in 0..registered.len() {
            let (domain, timestamp, key, namespace) = registered.get(i);
            let timer = Timer {
                timestamp,
                key_group: key_group(key, max_parallelism),
                key: key.into(),
                namespace: namespace.into(),
            };
            self.set(domain).insert(timer);
        }
    }

    /// Moves up to `limit` timers of `domain` due at `now` (timestamp at
    /// or below it) into `out`, earliest first; returns how many.
    pub fn pop_due(&mut self, domain: TimeDomain, now: i64, limit: usize, out: &mut Timers) -> usize {
        let set = self.set(domain);
        let mut moved = 0;
        while moved < limit {
            match set.first() {
                Some(timer) if timer.timestamp <= now => {
                    let timer = set.pop_first().expect("just seen");
                    out.push(domain, timer.timestamp, &timer.key, &timer.namespace);
                    moved += 1;
                }
                _ => break,
            }
        }
        moved
    }

    /// When the earliest processing-time timer is due (ms), if any.
    pub fn next_processing_time(&self) -> Option<i64> {
        self.processing.first().map(|t| t.timestamp)
    }

    /// Calls `f` with every timer as (domain, timestamp, key group, key,
    /// namespace), in no particular order (for snapshots).
    pub fn for_each<'a>(&'a self, mut f: impl FnMut(TimeDomain, i64, u32, &'a [u8], &'a [u8])) {
        for (domain, set) in [(TimeDomain::EventTime, &self.event), (TimeDomain::ProcessingTime, &self.processing)] {
            for timer in set {
                f(domain, timer.timestamp, timer.key_group, &timer.key, &timer.namespace);
            }
        }
    }

    /// Registers one timer (when restoring).
    pub fn register(&mut self, domain: TimeDomain, timestamp: i64, key_group: u32, key: &[u8], namespace: &[u8]) {
        let timer = Timer { timestamp, key_group, key: key.into(), namespace: namespace.into() };
        self.set(domain).insert(timer);
    }

    /// Number of registered timers (both clocks).
    pub fn len(&self) -> usize {
        self.event.len() + self.processing.len()
    }

    /// Whether no timer is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_fire_in_timestamp_order_once_and_can_be_deleted() {
        let mut service = TimerService::new();
        let mut registered = Timers::default();
        registered.push(TimeDomain::EventTime, 30, b"b", b"");
        registered.push(TimeDomain::EventTime, 10, b"a", b"w1");
        registered.push(TimeDomain::EventTime, 10, b"a", b"w1");
        registered.push(TimeDomain::EventTime, 20, b"c", b"");
        registered.push(TimeDomain::ProcessingTime, 5, b"a", b"");
        let mut deleted = Timers::default();
        deleted.push(TimeDomain::EventTime, 20, b"c", b"");
        service.apply(&registered, &Timers::default(), 128);
        service.apply(&Timers::default(), &deleted, 128);
        assert_eq!(service.len(), 3);

        let mut fired = Timers::default();
        assert_eq!(service.pop_due(TimeDomain::EventTime, 29, 10, &mut fired), 1);
        assert_eq!(fired.get(0), (TimeDomain::EventTime, 10, &b"a"[..], &b"w1"[..]));
        assert_eq!(service.pop_due(TimeDomain::EventTime, i64::MAX, 10, &mut fired), 1);
        assert_eq!(fired.get(1).1, 30);
        assert_eq!(service.next_processing_time(), Some(5));
        assert!(fired.check().is_ok());
    }
}
