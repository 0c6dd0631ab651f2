//! The in-memory backend of named state: per owned key group, a map from
//! key to that key's entries, ordered by address so a map state can be
//! scanned in order.
//!
//! An entry's address inside its key is one byte string: state id (4 bytes,
//! big-endian), namespace length (4 bytes), namespace, user key. Ordering
//! by it groups each (state, namespace) together, and lookups by a borrowed
//! slice let an update overwrite a value in place, with no allocation.

use std::collections::BTreeMap;
use std::ops::{Bound, Range};

use hashbrown::HashTable;

use super::StateKey;
use super::named::{EntryVisitor, NamedStateBackend};
use super::{EntryAddress, StateEntries};

/// One stored key: its hash (so tables grow without rehashing) and its
/// entries by encoded address.
struct KeyEntries {
    hash: u64,
    key: Box<[u8]>,
    entries: BTreeMap<Box<[u8]>, Vec<u8>>,
}

/// Named keyed state in memory, one table per owned key group, probed with
/// the key's precomputed hash.
pub struct MemoryNamedBackend {
    key_groups: Range<u32>,
    groups: Vec<HashTable<KeyEntries>>,
    len: usize,
    /// Reused buffer for encoding addresses.
    scratch: Vec<u8>,
}

impl MemoryNamedBackend {
    /// An empty backend owning `key_groups`.
    pub fn new(key_groups: Range<u32>) -> Self {
        let groups = key_groups.clone().map(|_| HashTable::new()).collect();
        MemoryNamedBackend { key_groups, groups, len: 0, scratch: Vec::new() }
    }

    /// The entries of `key`, if it has any.
    fn entries(&self, key: StateKey<'_>) -> Option<&BTreeMap<Box<[u8]>, Vec<u8>>> {
        let group = self.groups.get(key.group.checked_sub(self.key_groups.start)? as usize)?;
        group.find(key.hash, |e| e.hash == key.hash && *e.key == *key.bytes).map(|e| &e.entries)
    }
}

/// Encodes the prefix (state id, namespace) of an address into `out`.
fn encode_prefix(out: &mut Vec<u8>, state_id: u32, namespace: &[u8]) {
    out.clear();
    out.extend_from_slice(&state_id.to_be_bytes());
    out.extend_from_slice(&(namespace.len() as u32).to_be_bytes());
    out.extend_from_slice(namespace);
}

fn encode(out: &mut Vec<u8>, a: EntryAddress<'_>) {
    encode_prefix(out, a.state_id, a.namespace);
    out.extend_from_slice(a.user_key);
}

/// Decodes an address written by [`encode`].
fn decode(address: &[u8]) -> EntryAddress<'_> {
    let state_id = u32::from_be_bytes(address[..4].try_into().expect("4 bytes"));
    let ns_len = u32::from_be_bytes(address[4..8].try_into().expect("4 bytes")) as usize;
    EntryAddress { state_id, namespace: &address[8..8 + ns_len], user_key: &address[8 + ns_len..] }
}

impl NamedStateBackend for MemoryNamedBackend {
    fn gather_key(&self, key: StateKey<'_>, lazy: &[u32], out: &mut StateEntries) {
        let Some(entries) = self.entries(key) else { return };
        for (address, value) in entries {
            let address = decode(address);
            if lazy.contains(&address.state_id) {
                continue;
            }
            out.push(key.bytes, address, value);
        }
    }

    fn take_key(&mut self, key: StateKey<'_>, lazy: &[u32], out: &mut StateEntries) {
        let Some(group) = key.group.checked_sub(self.key_groups.start).and_then(|i| self.groups.get_mut(i as usize))
        else {
            return;
        };
        let Ok(stored) = group.find_entry(key.hash, |e| e.hash == key.hash && *e.key == *key.bytes) else { return };
        let (mut stored, vacant) = stored.remove();
        let before = stored.entries.len();
        stored.entries.retain(|address, value| {
            let address = decode(address);
            let keep = lazy.contains(&address.state_id);
            if !keep {
                out.push(key.bytes, address, value);
            }
            keep
        });
        self.len -= before - stored.entries.len();
        if !stored.entries.is_empty() {
            vacant.into_table().insert_unique(key.hash, stored, |e| e.hash);
        }
    }

    fn get(&self, key: StateKey<'_>, a: EntryAddress<'_>) -> Option<&[u8]> {
        let entries = self.entries(key)?;
        let mut address = Vec::new();
        encode(&mut address, a);
        entries.get(address.as_slice()).map(Vec::as_slice)
    }

    fn write(&mut self, key: StateKey<'_>, a: EntryAddress<'_>, value: Option<&[u8]>) {
        let Some(index) = key.group.checked_sub(self.key_groups.start).filter(|i| (*i as usize) < self.groups.len())
        else {
            return;
        };
        encode(&mut self.scratch, a);
        let address = self.scratch.as_slice();
        let group = &mut self.groups[index as usize];
        let eq = |e: &KeyEntries| e.hash == key.hash && *e.key == *key.bytes;
        match value {
            Some(value) => {
                let stored = match group.find_mut(key.hash, eq) {
                    Some(stored) => stored,
                    None => {
                        let fresh = KeyEntries { hash: key.hash, key: key.bytes.into(), entries: BTreeMap::new() };
                        group.insert_unique(key.hash, fresh, |e| e.hash).into_mut()
                    }
                };
                let entries = &mut stored.entries;
                match entries.get_mut(address) {
                    Some(stored) => {
                        stored.clear();
                        stored.extend_from_slice(value);
                    }
                    None => {
                        entries.insert(address.into(), value.to_vec());
                        self.len += 1;
                    }
                }
            }
            None => {
                if let Ok(stored) = group.find_entry(key.hash, eq) {
                    if stored.get().entries.contains_key(address) {
                        self.len -= 1;
                    }
                    let (mut stored, vacant) = stored.remove();
                    stored.entries.remove(address);
                    if !stored.entries.is_empty() {
                        vacant.into_table().insert_unique(key.hash, stored, |e| e.hash);
                    }
                }
            }
        }
    }

    fn scan(
        &self,
        key: StateKey<'_>,
        state_id: u32,
        namespace: &[u8],
        after: Option<&[u8]>,
        limit: usize,
        out: &mut StateEntries,
    ) {
        let Some(entries) = self.entries(key) else { return };
        let mut prefix = Vec::new();
        encode_prefix(&mut prefix, state_id, namespace);
        let prefix_len = prefix.len();
        let start = match after {
            Some(after) => {
                prefix.extend_from_slice(after);
                Bound::Excluded(prefix.as_slice())
            }
            None => Bound::Included(prefix.as_slice()),
        };
        let found = entries
            .range::<[u8], _>((start, Bound::Unbounded))
            .take_while(|(address, _)| address.starts_with(&prefix[..prefix_len]))
            .take(limit);
        for (address, value) in found {
            out.push(key.bytes, decode(address), value);
        }
    }

    fn owns(&self, key_group: u32) -> bool {
        self.key_groups.contains(&key_group)
    }

    fn for_each_in_group(&self, key_group: u32, f: &mut EntryVisitor<'_>) {
        let Some(group) = key_group.checked_sub(self.key_groups.start).and_then(|i| self.groups.get(i as usize)) else {
            return;
        };
        for stored in group {
            for (address, value) in &stored.entries {
                f(&stored.key, decode(address), value);
            }
        }
    }

    fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::partition::{key_group, key_group_range};
    use crate::state::{StateKey, apply_named, gather_named, take_named};

    fn at(state_id: u32, namespace: &'static [u8], user_key: &'static [u8]) -> EntryAddress<'static> {
        EntryAddress { state_id, namespace, user_key }
    }

    /// A backend of one subtask holding `entries` (key, address, value).
    fn filled(entries: &[(&[u8], EntryAddress<'static>, &[u8])]) -> MemoryNamedBackend {
        let mut backend = MemoryNamedBackend::new(key_group_range(0, 1, 128));
        let mut changed = StateEntries::default();
        for (key, address, value) in entries {
            changed.push(key, *address, value);
        }
        apply_named(&mut backend, &changed, 128).unwrap();
        backend
    }

    #[test]
    fn entries_round_trip_delete_and_scan_in_order() {
        let mut backend = filled(&[
            (b"k", at(0, b"", b""), b"\x01"),
            (b"k", at(1, b"w", b"b"), b"\x02"),
            (b"k", at(1, b"w", b"a"), b"\x03"),
            (b"k", at(2, b"", b""), b"\x04"),
            (b"other", at(0, b"", b""), b"\x05"),
        ]);
        assert_eq!(backend.len(), 5);

        let mut out = StateEntries::default();
        gather_named(&backend, b"kk", &[1, 2], &[2], 128, &mut out);
        assert_eq!(out.len(), 3, "the lazy state 2 stays home; 'k' appears twice in the batch but once here");

        out.clear();
        backend.scan(StateKey::new(b"k", 128), 1, b"w", Some(b"a"), 10, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out.get(0).1.user_key, b"b");

        let mut delete = StateEntries::default();
        delete.push(b"k", at(1, b"w", b"a"), b"");
        apply_named(&mut backend, &delete, 128).unwrap();
        assert_eq!(backend.get(StateKey::new(b"k", 128), at(1, b"w", b"a")), None);
        assert_eq!(backend.len(), 4);
    }

    #[test]
    fn taking_a_key_moves_its_entries_out_once_and_leaves_lazy_ones() {
        let mut backend = filled(&[
            (b"k", at(0, b"", b""), b"\x01"),
            (b"k", at(1, b"w", b""), b"\x02"),
            (b"k", at(2, b"", b"u"), b"\x03"),
            (b"other", at(0, b"", b""), b"\x04"),
        ]);

        let mut out = StateEntries::default();
        take_named(&mut backend, b"kk", &[1, 2], &[2], 128, &mut out);
        assert_eq!(out.len(), 2, "both non-lazy entries of 'k', once although 'k' comes twice");
        assert_eq!(backend.len(), 2, "the lazy entry of 'k' and the untouched key stay");
        assert_eq!(backend.get(StateKey::new(b"k", 128), at(2, b"", b"u")), Some(&b"\x03"[..]));

        out.clear();
        take_named(&mut backend, b"k", &[1], &[2], 128, &mut out);
        assert!(out.is_empty(), "taken entries are not sent again");
    }

    #[test]
    fn entries_for_foreign_keys_are_refused() {
        let mut backend = MemoryNamedBackend::new(0..1);
        let key = (0..).map(|i: u32| i.to_le_bytes()).find(|k| key_group(k, 128) != 0).unwrap();
        let mut changed = StateEntries::default();
        changed.push(&key, at(0, b"", b""), b"\x01");
        assert!(apply_named(&mut backend, &changed, 128).is_err());
    }
}
