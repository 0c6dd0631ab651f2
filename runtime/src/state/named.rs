//! Named, namespaced keyed state: what process functions and windows keep.
//!
//! An entry is addressed by (state id, key, namespace, user key) — see the
//! WIT `state-entries` — and lives in the key group of its key. As for the
//! running reduce, state travels with the batch: [`gather_named`] collects
//! every entry of the keys a call touches, [`apply_named`] writes back what
//! the guest changed (an empty value deletes the entry).

use hashbrown::HashTable;

use super::StateKey;
use wflink_abi::slice;
use wflink_abi::{EntryAddress, StateEntries};

/// What [`NamedStateBackend::for_each_in_group`] calls with every
/// (key, address, value) of a key group.
pub type EntryVisitor<'f> = dyn FnMut(&[u8], EntryAddress<'_>, &[u8]) + 'f;

/// Where named keyed state lives, by key group. The in-memory backend is
/// the default; a disk-backed one can implement the same trait.
pub trait NamedStateBackend: Send {
    /// Appends to `out` every entry of `key` except those of lazy states.
    fn gather_key(&self, key: StateKey<'_>, lazy: &[u32], out: &mut StateEntries);
    /// Moves to `out` every entry of `key` except those of lazy states:
    /// they leave the backend (for a chain that keeps its state itself).
    fn take_key(&mut self, key: StateKey<'_>, lazy: &[u32], out: &mut StateEntries);
    /// The value at `address` of `key`, if any.
    fn get(&self, key: StateKey<'_>, address: EntryAddress<'_>) -> Option<&[u8]>;
    /// Stores `value` at `address` of `key`; `None` deletes it.
    fn write(&mut self, key: StateKey<'_>, address: EntryAddress<'_>, value: Option<&[u8]>);
    /// Appends to `out` up to `limit` entries of (`state_id`, `namespace`)
    /// of `key` in user-key order, after `after` if given.
    fn scan(
        &self,
        key: StateKey<'_>,
        state_id: u32,
        namespace: &[u8],
        after: Option<&[u8]>,
        limit: usize,
        out: &mut StateEntries,
    );
    /// Whether `key_group` belongs to this subtask.
    fn owns(&self, key_group: u32) -> bool;
    /// Calls `f` with every (key, address, value) of `key_group` (for snapshots).
    fn for_each_in_group(&self, key_group: u32, f: &mut EntryVisitor<'_>);
    /// Number of entries held.
    fn len(&self) -> usize;
    /// Whether no entry is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Collects into `out` the entries of every distinct key of `keys` (given
/// as flat key buffers), skipping lazy states.
pub fn gather_named(
    backend: &dyn NamedStateBackend,
    keys: &[u8],
    key_ends: &[u32],
    lazy: &[u32],
    max_parallelism: u32,
    out: &mut StateEntries,
) {
    // Indexes of keys already gathered, by key hash: each key is hashed once.
    let mut seen: HashTable<usize> = HashTable::with_capacity(key_ends.len().min(4096));
    for i in 0..key_ends.len() {
        let key = StateKey::new(slice(keys, key_ends, i), max_parallelism);
        let entry = seen.entry(
            key.hash,
            |&j| slice(keys, key_ends, j) == key.bytes,
            |&j| xxhash_rust::xxh3::xxh3_64(slice(keys, key_ends, j)),
        );
        if let hashbrown::hash_table::Entry::Vacant(vacant) = entry {
            vacant.insert(i);
            backend.gather_key(key, lazy, out);
        }
    }
}

/// Moves into `out` the entries of every key of `keys` (given as flat key
/// buffers), skipping lazy states: for a chain that keeps its state in
/// its own memory, which then holds them. Each entry leaves the backend
/// the first time its key comes by, so it is sent once.
pub fn take_named(
    backend: &mut dyn NamedStateBackend,
    keys: &[u8],
    key_ends: &[u32],
    lazy: &[u32],
    max_parallelism: u32,
    out: &mut StateEntries,
) {
    for i in 0..key_ends.len() {
        if backend.is_empty() {
            return;
        }
        backend.take_key(StateKey::new(slice(keys, key_ends, i), max_parallelism), lazy, out);
    }
}

/// Named entries in key group order: the state a chain kept in its own
/// memory and handed over for a snapshot (`snapshot-state`), read key
/// group by key group without building a backend.
pub struct GroupedEntries {
    entries: StateEntries,
    /// (key group, entry index), sorted.
    order: Vec<(u32, u32)>,
}

impl GroupedEntries {
    /// Sorts `entries` by key group; refuses an entry of a key group
    /// outside `owned`, naming it.
    pub fn new(entries: StateEntries, owned: std::ops::Range<u32>, max_parallelism: u32) -> Result<Self, String> {
        let mut order = Vec::with_capacity(entries.len());
        for i in 0..entries.len() {
            let group = StateKey::new(entries.get(i).0, max_parallelism).group;
            if !owned.contains(&group) {
                return Err(format!(
                    "state entry {i} is for a key of key group {group}, which this subtask does not own"
                ));
            }
            order.push((group, i as u32));
        }
        order.sort_unstable();
        Ok(GroupedEntries { entries, order })
    }

    /// Calls `f` with every (key, address, value) of `key_group`.
    pub fn for_each_in_group(&self, key_group: u32, f: &mut EntryVisitor<'_>) {
        let start = self.order.partition_point(|&(g, _)| g < key_group);
        for &(_, i) in self.order[start..].iter().take_while(|&&(g, _)| g == key_group) {
            let (key, address, value) = self.entries.get(i as usize);
            f(key, address, value);
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// Writes the entries a guest changed back into the backend. Entries for
/// keys of other subtasks are refused with an error naming the problem.
pub fn apply_named(
    backend: &mut dyn NamedStateBackend,
    changed: &StateEntries,
    max_parallelism: u32,
) -> Result<(), String> {
    for i in 0..changed.len() {
        let (key, address, value) = changed.get(i);
        let key = StateKey::new(key, max_parallelism);
        if !backend.owns(key.group) {
            return Err(format!(
                "state entry {i} is for a key of key group {}, which this subtask does not own",
                key.group
            ));
        }
        backend.write(key, address, (!value.is_empty()).then_some(value));
    }
    Ok(())
}
