//! Keyed state held by the host, organised by key group so it can be
//! snapshotted and redistributed when parallelism changes.
//!
//! State travels with the batch: before a keyed chain processes a batch,
//! [`gather`] collects the current state of the batch's distinct keys into
//! flat buffers; afterwards [`apply`] writes back what the guest changed.
//! There is no host call per record, and each key is hashed once per step:
//! its [`StateKey`] carries the hash that picks both the key group and the
//! slot in that group's table.

mod memory;
mod named;
mod named_memory;
pub mod snapshot;
mod ttl;

pub use memory::MemoryStateBackend;
pub use named::{GroupedEntries, NamedStateBackend, apply_named, gather_named, take_named};
pub use named_memory::MemoryNamedBackend;
pub use ttl::ExpiredFilter;
/// The layouts of keyed state that cross the WASM boundary (WIT
/// `keyed-state` and `state-entries`), shared with the SDK.
pub use wflink_abi::{EntryAddress, KeyedState, StateEntries};

use hashbrown::HashTable;

use crate::graph::partition::key_group_of_hash;
use crate::network::Batch;

/// A key with its hash and key group, computed once.
#[derive(Debug, Clone, Copy)]
pub struct StateKey<'a> {
    /// The key's bytes (MessagePack of the user's key).
    pub bytes: &'a [u8],
    /// Stable hash of the bytes (xxh3-64).
    pub hash: u64,
    /// The key group the hash falls into.
    pub group: u32,
}

impl<'a> StateKey<'a> {
    /// Hashes `bytes` for a job with `max_parallelism` key groups.
    #[inline]
    pub fn new(bytes: &'a [u8], max_parallelism: u32) -> Self {
        let hash = xxhash_rust::xxh3::xxh3_64(bytes);
        StateKey { bytes, hash, group: key_group_of_hash(hash, max_parallelism) }
    }
}

/// Where an entry was found, so the write-back after the guest call can
/// skip a second lookup. Valid until the next insert; a backend checks it
/// and falls back to a lookup when it no longer holds the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryPosition {
    /// Which key group's table.
    pub table: u32,
    /// Where in that table.
    pub slot: usize,
}

/// Where a keyed operator's state lives. The in-memory backend is the
/// default; a disk-backed one can implement the same trait.
pub trait KeyedStateBackend: Send {
    /// The value stored for `key` and where it is, if any.
    fn get(&self, key: StateKey<'_>) -> Option<(&[u8], EntryPosition)>;
    /// Stores `value` for `key`.
    fn put(&mut self, key: StateKey<'_>, value: &[u8]);
    /// Overwrites the value at `position` if it still holds `key`;
    /// returns whether it did.
    fn update_at(&mut self, position: EntryPosition, key: &[u8], value: &[u8]) -> bool;
    /// Whether `key_group` belongs to this subtask.
    fn owns(&self, key_group: u32) -> bool;
    /// Number of keys held.
    fn len(&self) -> usize;
    /// Whether no key is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Calls `f` with every (key, value) of `key_group` (for snapshots).
    fn for_each_in_group(&self, key_group: u32, f: &mut dyn FnMut(&[u8], &[u8]));
}

/// Collects into `out` the state of every distinct key of `batch`, in
/// order of first appearance, and into `positions` where each entry was.
pub fn gather(
    backend: &dyn KeyedStateBackend,
    batch: &Batch,
    max_parallelism: u32,
    out: &mut KeyedState,
    positions: &mut Vec<EntryPosition>,
) {
    positions.clear();
    // Records of the batch whose key was already seen, by key hash.
    let mut seen: HashTable<usize> = HashTable::with_capacity(batch.len().min(4096));
    for i in 0..batch.len() {
        let key = StateKey::new(batch.key(i), max_parallelism);
        let entry = seen.entry(key.hash, |&j| batch.key(j) == key.bytes, |&j| xxhash_rust::xxh3::xxh3_64(batch.key(j)));
        if let hashbrown::hash_table::Entry::Vacant(vacant) = entry {
            vacant.insert(i);
            if let Some((value, position)) = backend.get(key) {
                out.push(key.bytes, value);
                positions.push(position);
            }
        }
    }
}

/// Writes the entries a guest changed back into the backend. Entries that
/// come in the order [`gather`] sent them are written in place; any other
/// (new keys, another order) is looked up. An entry for a key of another
/// subtask's key group is refused, naming it: the guest chose its keys,
/// and the backend holds only its own groups.
pub fn apply(
    backend: &mut dyn KeyedStateBackend,
    changed: &KeyedState,
    max_parallelism: u32,
    positions: &[EntryPosition],
) -> Result<(), String> {
    let mut next = 0;
    for i in 0..changed.len() {
        let (key, value) = changed.get(i);
        if next < positions.len() && backend.update_at(positions[next], key, value) {
            next += 1;
            continue;
        }
        let key = StateKey::new(key, max_parallelism);
        if !backend.owns(key.group) {
            return Err(format!(
                "state entry {i} is for a key of key group {}, which this subtask does not own",
                key.group
            ));
        }
        backend.put(key, value);
    }
    Ok(())
}
