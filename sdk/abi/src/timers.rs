//! The WIT `timers`: timers a chain registers or that fire, each with the
//! key and namespace it was set for.

use alloc::vec::Vec;

use crate::ends::{LayoutError, check_count, check_ends, slice};

/// Which clock a timer or window follows (WIT `time-domain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum TimeDomain {
    /// Fires when the watermark reaches it.
    EventTime,
    /// Fires when the wall clock reaches it.
    ProcessingTime,
}

/// Timers as flat buffers: timer `i` is (domain `i`, timestamp `i`, key
/// `i`, namespace `i`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timers {
    /// Keys back to back.
    pub keys: Vec<u8>,
    /// End offset of each key.
    pub key_ends: Vec<u32>,
    /// Namespaces back to back.
    pub namespaces: Vec<u8>,
    /// End offset of each namespace.
    pub namespace_ends: Vec<u32>,
    /// When each timer fires (ms).
    pub timestamps: Vec<i64>,
    /// The clock of each timer.
    pub domains: Vec<TimeDomain>,
}

impl Timers {
    /// Number of timers.
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    /// Appends one timer.
    pub fn push(&mut self, domain: TimeDomain, timestamp: i64, key: &[u8], namespace: &[u8]) {
        self.keys.extend_from_slice(key);
        self.key_ends.push(self.keys.len() as u32);
        self.namespaces.extend_from_slice(namespace);
        self.namespace_ends.push(self.namespaces.len() as u32);
        self.timestamps.push(timestamp);
        self.domains.push(domain);
    }

    /// Timer `i` as (domain, timestamp, key, namespace). Check timers from
    /// the other side first.
    pub fn get(&self, i: usize) -> (TimeDomain, i64, &[u8], &[u8]) {
        (
            self.domains[i],
            self.timestamps[i],
            slice(&self.keys, &self.key_ends, i),
            slice(&self.namespaces, &self.namespace_ends, i),
        )
    }

    /// Empties the buffers, keeping their allocations.
    pub fn clear(&mut self) {
        self.keys.clear();
        self.key_ends.clear();
        self.namespaces.clear();
        self.namespace_ends.clear();
        self.timestamps.clear();
        self.domains.clear();
    }

    /// Checks that the lengths agree and offsets are in bounds, so timers
    /// from the other side cannot make this one panic.
    pub fn check(&self) -> Result<(), LayoutError> {
        let n = self.timestamps.len();
        check_count("timer key-ends", self.key_ends.len(), n)?;
        check_count("timer namespace-ends", self.namespace_ends.len(), n)?;
        check_count("timer domains", self.domains.len(), n)?;
        check_ends("timer key", &self.key_ends, self.keys.len())?;
        check_ends("timer namespace", &self.namespace_ends, self.namespaces.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_round_trip_and_uneven_lists_are_refused() {
        let mut timers = Timers::default();
        timers.push(TimeDomain::EventTime, 5, b"k", b"");
        timers.push(TimeDomain::ProcessingTime, 7, b"", b"ns");
        assert!(timers.check().is_ok());
        assert_eq!(timers.get(1), (TimeDomain::ProcessingTime, 7, &b""[..], &b"ns"[..]));
        timers.domains.pop();
        assert!(timers.check().is_err());
    }
}
