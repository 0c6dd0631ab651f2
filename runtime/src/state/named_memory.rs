//! The in-memory backend of named state: per owned key group, a map from
//! key to that key's entries, ordered by (state id, namespace, user key)
//! so a map state can be scanned in order.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use xxhash_rust::xxh3::Xxh3Builder;

use super::named::{EntryAddress, NamedEntries, NamedStateBackend};

/// (state id, namespace, user key) of an entry inside its key.
type Address = (u32, Box<[u8]>, Box<[u8]>);

/// Named keyed state in memory, one map per owned key group.
pub struct MemoryNamedBackend {
    key_groups: Range<u32>,
    groups: Vec<HashMap<Box<[u8]>, BTreeMap<Address, Vec<u8>>, Xxh3Builder>>,
    len: usize,
}

impl MemoryNamedBackend {
    /// An empty backend owning `key_groups`.
    pub fn new(key_groups: Range<u32>) -> Self {
        let groups = key_groups.clone().map(|_| HashMap::default()).collect();
        MemoryNamedBackend { key_groups, groups, len: 0 }
    }

    fn group(&self, key_group: u32) -> Option<&HashMap<Box<[u8]>, BTreeMap<Address, Vec<u8>>, Xxh3Builder>> {
        self.groups.get(key_group.checked_sub(self.key_groups.start)? as usize)
    }
}

fn address(a: EntryAddress<'_>) -> Address {
    (a.state_id, a.namespace.into(), a.user_key.into())
}

impl NamedStateBackend for MemoryNamedBackend {
    fn gather_key(&self, key_group: u32, key: &[u8], lazy: &[u32], out: &mut NamedEntries) {
        let Some(entries) = self.group(key_group).and_then(|g| g.get(key)) else { return };
        for ((state_id, namespace, user_key), value) in entries {
            if lazy.contains(state_id) {
                continue;
            }
            out.push(key, EntryAddress { state_id: *state_id, namespace, user_key }, value);
        }
    }

    fn get(&self, key_group: u32, key: &[u8], a: EntryAddress<'_>) -> Option<&[u8]> {
        let entries = self.group(key_group)?.get(key)?;
        entries.get(&address(a)).map(Vec::as_slice)
    }

    fn write(&mut self, key_group: u32, key: &[u8], a: EntryAddress<'_>, value: Option<&[u8]>) {
        let Some(index) = key_group.checked_sub(self.key_groups.start).filter(|i| (*i as usize) < self.groups.len())
        else {
            return;
        };
        let group = &mut self.groups[index as usize];
        match value {
            Some(value) => {
                let entries = match group.get_mut(key) {
                    Some(entries) => entries,
                    None => group.entry(key.into()).or_default(),
                };
                if entries.insert(address(a), value.to_vec()).is_none() {
                    self.len += 1;
                }
            }
            None => {
                if let Some(entries) = group.get_mut(key) {
                    if entries.remove(&address(a)).is_some() {
                        self.len -= 1;
                    }
                    if entries.is_empty() {
                        group.remove(key);
                    }
                }
            }
        }
    }

    fn scan(
        &self,
        key_group: u32,
        key: &[u8],
        state_id: u32,
        namespace: &[u8],
        after: Option<&[u8]>,
        limit: usize,
        out: &mut NamedEntries,
    ) {
        let Some(entries) = self.group(key_group).and_then(|g| g.get(key)) else { return };
        let start: Address = (state_id, namespace.into(), after.unwrap_or_default().into());
        let found = entries
            .range(start..)
            .take_while(|((id, ns, _), _)| *id == state_id && **ns == *namespace)
            .filter(|((_, _, user_key), _)| after.is_none_or(|after| **user_key != *after))
            .take(limit);
        for ((id, ns, user_key), value) in found {
            out.push(key, EntryAddress { state_id: *id, namespace: ns, user_key }, value);
        }
    }

    fn owns(&self, key_group: u32) -> bool {
        self.key_groups.contains(&key_group)
    }

    fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::partition::{key_group, key_group_range};
    use crate::state::{apply_named, gather_named};

    fn at(state_id: u32, namespace: &'static [u8], user_key: &'static [u8]) -> EntryAddress<'static> {
        EntryAddress { state_id, namespace, user_key }
    }

    #[test]
    fn entries_round_trip_delete_and_scan_in_order() {
        let mut backend = MemoryNamedBackend::new(key_group_range(0, 1, 128));
        let mut changed = NamedEntries::default();
        changed.push(b"k", at(0, b"", b""), b"\x01");
        changed.push(b"k", at(1, b"w", b"b"), b"\x02");
        changed.push(b"k", at(1, b"w", b"a"), b"\x03");
        changed.push(b"k", at(2, b"", b""), b"\x04");
        changed.push(b"other", at(0, b"", b""), b"\x05");
        apply_named(&mut backend, &changed, 128).unwrap();
        assert_eq!(backend.len(), 5);

        let mut out = NamedEntries::default();
        gather_named(&backend, b"kk", &[1, 2], &[2], 128, &mut out);
        assert_eq!(out.len(), 3, "the lazy state 2 stays home; 'k' appears twice in the batch but once here");

        out.clear();
        backend.scan(key_group(b"k", 128), b"k", 1, b"w", Some(b"a"), 10, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out.get(0).1.user_key, b"b");

        let mut delete = NamedEntries::default();
        delete.push(b"k", at(1, b"w", b"a"), b"");
        apply_named(&mut backend, &delete, 128).unwrap();
        assert_eq!(backend.get(key_group(b"k", 128), b"k", at(1, b"w", b"a")), None);
        assert_eq!(backend.len(), 4);
    }

    #[test]
    fn entries_for_foreign_keys_are_refused() {
        let mut backend = MemoryNamedBackend::new(0..1);
        let key = (0..).map(|i: u32| i.to_le_bytes()).find(|k| key_group(k, 128) != 0).unwrap();
        let mut changed = NamedEntries::default();
        changed.push(&key, at(0, b"", b""), b"\x01");
        assert!(apply_named(&mut backend, &changed, 128).is_err());
    }
}
