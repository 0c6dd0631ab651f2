//! The embedded in-memory state backend: one hash table per key group of
//! the subtask's key-group range, probed with the key's precomputed hash.

use std::ops::Range;

use hashbrown::HashTable;

use super::{EntryPosition, KeyedStateBackend, StateKey};

/// One stored key with its hash (kept so tables can grow without
/// rehashing), its key and value in one allocation: one pointer to chase.
struct Entry {
    hash: u64,
    key_len: u32,
    /// The key's bytes followed by the value's.
    bytes: Vec<u8>,
}

impl Entry {
    fn key(&self) -> &[u8] {
        &self.bytes[..self.key_len as usize]
    }

    fn value(&self) -> &[u8] {
        &self.bytes[self.key_len as usize..]
    }

    fn value_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[self.key_len as usize..]
    }

    fn set_value(&mut self, value: &[u8]) {
        self.bytes.truncate(self.key_len as usize);
        self.bytes.extend_from_slice(value);
    }
}

/// Keyed state in memory, one table per owned key group.
pub struct MemoryStateBackend {
    key_groups: Range<u32>,
    tables: Vec<HashTable<Entry>>,
    len: usize,
}

impl MemoryStateBackend {
    /// An empty backend owning `key_groups`.
    pub fn new(key_groups: Range<u32>) -> Self {
        let tables = key_groups.clone().map(|_| HashTable::new()).collect();
        MemoryStateBackend { key_groups, tables, len: 0 }
    }

    /// The value stored for `key`, to change where it stands (the host's
    /// aggregations update running values in place).
    pub fn value_mut(&mut self, key: StateKey<'_>) -> Option<&mut [u8]> {
        let index = self.table_index(key.group);
        let entry = self.tables[index].find_mut(key.hash, |e| e.hash == key.hash && e.key() == key.bytes)?;
        Some(entry.value_mut())
    }

    fn table_index(&self, key_group: u32) -> usize {
        assert!(
            self.key_groups.contains(&key_group),
            "key group {key_group} outside this subtask's range {:?}: this is a partitioning bug",
            self.key_groups
        );
        (key_group - self.key_groups.start) as usize
    }
}

impl KeyedStateBackend for MemoryStateBackend {
    fn get(&self, key: StateKey<'_>) -> Option<(&[u8], EntryPosition)> {
        let table = self.table_index(key.group);
        let slot = self.tables[table].find_bucket_index(key.hash, |e| e.hash == key.hash && e.key() == key.bytes)?;
        let entry = self.tables[table].get_bucket(slot)?;
        Some((entry.value(), EntryPosition { table: table as u32, slot }))
    }

    fn put(&mut self, key: StateKey<'_>, value: &[u8]) {
        let index = self.table_index(key.group);
        let table = &mut self.tables[index];
        match table.find_mut(key.hash, |e| e.hash == key.hash && e.key() == key.bytes) {
            Some(existing) => existing.set_value(value),
            None => {
                let mut bytes = Vec::with_capacity(key.bytes.len() + value.len());
                bytes.extend_from_slice(key.bytes);
                bytes.extend_from_slice(value);
                let entry = Entry { hash: key.hash, key_len: key.bytes.len() as u32, bytes };
                table.insert_unique(key.hash, entry, |e| e.hash);
                self.len += 1;
            }
        }
    }

    fn update_at(&mut self, position: EntryPosition, key: &[u8], value: &[u8]) -> bool {
        let Some(table) = self.tables.get_mut(position.table as usize) else { return false };
        match table.get_bucket_mut(position.slot) {
            Some(entry) if entry.key() == key => {
                entry.set_value(value);
                true
            }
            _ => false,
        }
    }

    fn owns(&self, key_group: u32) -> bool {
        self.key_groups.contains(&key_group)
    }

    fn len(&self) -> usize {
        self.len
    }

    fn for_each_in_group(&self, key_group: u32, f: &mut dyn FnMut(&[u8], &[u8])) {
        let Some(table) = key_group.checked_sub(self.key_groups.start).and_then(|i| self.tables.get(i as usize)) else {
            return;
        };
        for entry in table {
            f(entry.key(), entry.value());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::partition::key_group_range;
    use crate::network::Batch;
    use crate::state::{KeyedState, apply, gather};

    fn key(bytes: &[u8]) -> StateKey<'_> {
        StateKey::new(bytes, 128)
    }

    #[test]
    fn gather_returns_each_known_key_once_and_apply_writes_back() {
        let mut backend = MemoryStateBackend::new(key_group_range(0, 1, 128));
        backend.put(key(b"a"), b"1");
        let mut batch = Batch::default();
        for k in [&b"a"[..], b"b", b"a"] {
            batch.push(Some(k), b"v", None);
        }
        let mut entries = KeyedState::default();
        let mut positions = Vec::new();
        gather(&backend, &batch, 128, &mut entries, &mut positions);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries.get(0), (&b"a"[..], &b"1"[..]));

        // The guest may return entries in any order, with new keys among them.
        let mut changed = KeyedState::default();
        changed.push(b"b", b"1");
        changed.push(b"a", b"3");
        apply(&mut backend, &changed, 128, &positions).unwrap();
        assert_eq!(backend.len(), 2);
        let value = |k: &[u8]| backend.get(key(k)).map(|(v, _)| v.to_vec());
        assert_eq!(value(b"a"), Some(b"3".to_vec()));
        assert_eq!(value(b"b"), Some(b"1".to_vec()));
        assert_eq!(value(b"c"), None);
    }

    #[test]
    fn many_keys_survive_table_growth() {
        let mut backend = MemoryStateBackend::new(key_group_range(0, 1, 128));
        let keys: Vec<String> = (0..10_000).map(|i| format!("key-{i}")).collect();
        for (i, k) in keys.iter().enumerate() {
            backend.put(key(k.as_bytes()), &i.to_le_bytes());
        }
        assert_eq!(backend.len(), keys.len());
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(backend.get(key(k.as_bytes())).map(|(v, _)| v), Some(&i.to_le_bytes()[..]));
        }
        // A position is checked against the key, never trusted blindly.
        let (_, position) = backend.get(key(b"key-1")).unwrap();
        assert!(!backend.update_at(position, b"key-2", b"y"));
        assert_eq!(backend.get(key(b"key-2")).unwrap().0, &2usize.to_le_bytes()[..]);
        assert!(backend.update_at(position, b"key-1", b"z"));
        assert_eq!(backend.get(key(b"key-1")).unwrap().0, b"z");
    }
}
