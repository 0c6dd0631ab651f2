//! Named, namespaced keyed state: what process functions and windows keep.
//!
//! An entry is addressed by (state id, key, namespace, user key) — see the
//! WIT `state-entries` — and lives in the key group of its key. As for the
//! running reduce, state travels with the batch: [`gather_named`] collects
//! every entry of the keys a call touches, [`apply_named`] writes back what
//! the guest changed (an empty value deletes the entry).

use hashbrown::HashTable;

use super::StateKey;
use crate::network::batch_check_ends;

/// Named state entries as flat buffers (the WIT `state-entries`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NamedEntries {
    /// State id of each entry.
    pub state_ids: Vec<u32>,
    /// Record keys back to back.
    pub keys: Vec<u8>,
    /// End offset of each key.
    pub key_ends: Vec<u32>,
    /// Namespaces back to back.
    pub namespaces: Vec<u8>,
    /// End offset of each namespace.
    pub namespace_ends: Vec<u32>,
    /// User (map) keys back to back.
    pub user_keys: Vec<u8>,
    /// End offset of each user key.
    pub user_key_ends: Vec<u32>,
    /// Values back to back; empty means deleted.
    pub values: Vec<u8>,
    /// End offset of each value.
    pub value_ends: Vec<u32>,
}

/// Where one entry lives inside its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryAddress<'a> {
    /// The declared state.
    pub state_id: u32,
    /// Namespace (an encoded window, or empty).
    pub namespace: &'a [u8],
    /// Map key (or empty).
    pub user_key: &'a [u8],
}

/// What [`NamedStateBackend::for_each_in_group`] calls with every
/// (key, address, value) of a key group.
pub type EntryVisitor<'f> = dyn FnMut(&[u8], EntryAddress<'_>, &[u8]) + 'f;

#[inline]
fn slice<'a>(data: &'a [u8], ends: &[u32], i: usize) -> &'a [u8] {
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &data[start..ends[i] as usize]
}

impl NamedEntries {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.state_ids.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.state_ids.is_empty()
    }

    /// Appends one entry.
    pub fn push(&mut self, key: &[u8], address: EntryAddress<'_>, value: &[u8]) {
        self.state_ids.push(address.state_id);
        self.keys.extend_from_slice(key);
        self.key_ends.push(self.keys.len() as u32);
        self.namespaces.extend_from_slice(address.namespace);
        self.namespace_ends.push(self.namespaces.len() as u32);
        self.user_keys.extend_from_slice(address.user_key);
        self.user_key_ends.push(self.user_keys.len() as u32);
        self.values.extend_from_slice(value);
        self.value_ends.push(self.values.len() as u32);
    }

    /// Entry `i` as (key, address, value). Call [`check`](Self::check) first
    /// on entries from a guest.
    pub fn get(&self, i: usize) -> (&[u8], EntryAddress<'_>, &[u8]) {
        let address = EntryAddress {
            state_id: self.state_ids[i],
            namespace: slice(&self.namespaces, &self.namespace_ends, i),
            user_key: slice(&self.user_keys, &self.user_key_ends, i),
        };
        (slice(&self.keys, &self.key_ends, i), address, slice(&self.values, &self.value_ends, i))
    }

    /// Empties the buffers, keeping their allocations.
    pub fn clear(&mut self) {
        self.state_ids.clear();
        self.keys.clear();
        self.key_ends.clear();
        self.namespaces.clear();
        self.namespace_ends.clear();
        self.user_keys.clear();
        self.user_key_ends.clear();
        self.values.clear();
        self.value_ends.clear();
    }

    /// Checks lengths and offsets, so entries from a guest cannot make the
    /// host panic.
    pub fn check(&self) -> Result<(), String> {
        let n = self.state_ids.len();
        for (what, len) in [
            ("key", self.key_ends.len()),
            ("namespace", self.namespace_ends.len()),
            ("user key", self.user_key_ends.len()),
            ("value", self.value_ends.len()),
        ] {
            if len != n {
                return Err(format!("state entries: {len} {what} offsets for {n} state ids"));
            }
        }
        batch_check_ends("state key", &self.key_ends, self.keys.len())?;
        batch_check_ends("state namespace", &self.namespace_ends, self.namespaces.len())?;
        batch_check_ends("state user key", &self.user_key_ends, self.user_keys.len())?;
        batch_check_ends("state value", &self.value_ends, self.values.len())
    }
}

/// Where named keyed state lives, by key group. The in-memory backend is
/// the default; a disk-backed one can implement the same trait.
pub trait NamedStateBackend: Send {
    /// Appends to `out` every entry of `key` except those of lazy states.
    fn gather_key(&self, key: StateKey<'_>, lazy: &[u32], out: &mut NamedEntries);
    /// Moves to `out` every entry of `key` except those of lazy states:
    /// they leave the backend (for a chain that keeps its state itself).
    fn take_key(&mut self, key: StateKey<'_>, lazy: &[u32], out: &mut NamedEntries);
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
        out: &mut NamedEntries,
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
    out: &mut NamedEntries,
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
    out: &mut NamedEntries,
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
    entries: NamedEntries,
    /// (key group, entry index), sorted.
    order: Vec<(u32, u32)>,
}

impl GroupedEntries {
    /// Sorts `entries` by key group; refuses an entry of a key group
    /// outside `owned`, naming it.
    pub fn new(entries: NamedEntries, owned: std::ops::Range<u32>, max_parallelism: u32) -> Result<Self, String> {
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
    changed: &NamedEntries,
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
