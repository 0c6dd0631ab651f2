//! Keyed state held by the host, organised by key group so it can be
//! snapshotted and redistributed when parallelism changes.
//!
//! State travels with the batch: before a keyed chain processes a batch,
//! [`gather`] collects the current state of the batch's distinct keys into
//! flat buffers; afterwards [`apply`] writes back what the guest changed.
//! There is no host call per record.

mod memory;
mod named;
mod named_memory;

pub use memory::MemoryStateBackend;
pub use named::{EntryAddress, NamedEntries, NamedStateBackend, apply_named, gather_named};
pub use named_memory::MemoryNamedBackend;

use std::collections::HashSet;

use crate::graph::partition::key_group;
use crate::network::RecordBatch;

/// Flat buffers of keyed state entries (the WIT `keyed-state`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateEntries {
    /// Keys back to back.
    pub keys: Vec<u8>,
    /// End offset of each key.
    pub key_ends: Vec<u32>,
    /// Values back to back.
    pub values: Vec<u8>,
    /// End offset of each value.
    pub value_ends: Vec<u32>,
}

impl StateEntries {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.key_ends.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.key_ends.is_empty()
    }

    /// Appends one entry.
    pub fn push(&mut self, key: &[u8], value: &[u8]) {
        self.keys.extend_from_slice(key);
        self.key_ends.push(self.keys.len() as u32);
        self.values.extend_from_slice(value);
        self.value_ends.push(self.values.len() as u32);
    }

    /// Entry `i` as (key, value).
    pub fn get(&self, i: usize) -> (&[u8], &[u8]) {
        let ks = if i == 0 { 0 } else { self.key_ends[i - 1] as usize };
        let vs = if i == 0 { 0 } else { self.value_ends[i - 1] as usize };
        (&self.keys[ks..self.key_ends[i] as usize], &self.values[vs..self.value_ends[i] as usize])
    }

    /// Checks offsets, so entries from a guest cannot make the host panic.
    pub fn check(&self) -> Result<(), String> {
        if self.key_ends.len() != self.value_ends.len() {
            return Err(format!("{} state keys for {} values", self.key_ends.len(), self.value_ends.len()));
        }
        crate::network::batch_check_ends("state key", &self.key_ends, self.keys.len())?;
        crate::network::batch_check_ends("state value", &self.value_ends, self.values.len())
    }
}

/// Where a keyed operator's state lives. The in-memory backend is the
/// default; a disk-backed one can implement the same trait.
pub trait KeyedStateBackend: Send {
    /// The value stored for `key` in `key_group`, if any.
    fn get(&self, key_group: u32, key: &[u8]) -> Option<&[u8]>;
    /// Stores `value` for `key` in `key_group`.
    fn put(&mut self, key_group: u32, key: &[u8], value: &[u8]);
    /// Number of keys held.
    fn len(&self) -> usize;
    /// Whether no key is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Collects into `out` the state of every distinct key of `batch`.
pub fn gather(backend: &dyn KeyedStateBackend, batch: &RecordBatch, max_parallelism: u32, out: &mut StateEntries) {
    let mut seen: HashSet<&[u8], xxhash_rust::xxh3::Xxh3Builder> =
        HashSet::with_capacity_and_hasher(batch.len().min(4096), Default::default());
    for i in 0..batch.len() {
        let key = batch.key(i);
        if seen.insert(key) {
            if let Some(value) = backend.get(key_group(key, max_parallelism), key) {
                out.push(key, value);
            }
        }
    }
}

/// Writes the entries a guest changed back into the backend.
pub fn apply(backend: &mut dyn KeyedStateBackend, changed: &StateEntries, max_parallelism: u32) {
    for i in 0..changed.len() {
        let (key, value) = changed.get(i);
        backend.put(key_group(key, max_parallelism), key, value);
    }
}
