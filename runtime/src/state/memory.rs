//! The embedded in-memory state backend: one hash table per key group of
//! the subtask's key-group range, probed with the key's precomputed hash.

use std::ops::Range;

use hashbrown::HashTable;

use super::{KeyedStateBackend, StateKey};

/// One stored key with its hash (kept so tables can grow without rehashing).
struct Entry {
    hash: u64,
    key: Box<[u8]>,
    value: Vec<u8>,
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
    fn get(&self, key: StateKey<'_>) -> Option<&[u8]> {
        self.tables[self.table_index(key.group)]
            .find(key.hash, |e| e.hash == key.hash && *e.key == *key.bytes)
            .map(|e| e.value.as_slice())
    }

    fn put(&mut self, key: StateKey<'_>, value: &[u8]) {
        let index = self.table_index(key.group);
        let table = &mut self.tables[index];
        match table.find_mut(key.hash, |e| e.hash == key.hash && *e.key == *key.bytes) {
            Some(existing) => {
                existing.value.clear();
                existing.value.extend_from_slice(value);
            }
            None => {
                let entry = Entry { hash: key.hash, key: key.bytes.into(), value: value.to_vec() };
                table.insert_unique(key.hash, entry, |e| e.hash);
                self.len += 1;
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
    use crate::graph::partition::key_group_range;
    use crate::network::RecordBatch;
    use crate::state::{StateEntries, apply, gather};

    fn key(bytes: &[u8]) -> StateKey<'_> {
        StateKey::new(bytes, 128)
    }

    #[test]
    fn gather_returns_each_known_key_once_and_apply_writes_back() {
        let mut backend = MemoryStateBackend::new(key_group_range(0, 1, 128));
        backend.put(key(b"a"), b"1");
        let mut batch = RecordBatch::default();
        for k in [&b"a"[..], b"b", b"a"] {
            batch.push(Some(k), b"v", None);
        }
        let mut entries = StateEntries::default();
        gather(&backend, &batch, 128, &mut entries);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries.get(0), (&b"a"[..], &b"1"[..]));

        let mut changed = StateEntries::default();
        changed.push(b"a", b"3");
        changed.push(b"b", b"1");
        apply(&mut backend, &changed, 128);
        assert_eq!(backend.len(), 2);
        assert_eq!(backend.get(key(b"a")), Some(&b"3"[..]));
        assert_eq!(backend.get(key(b"b")), Some(&b"1"[..]));
        assert_eq!(backend.get(key(b"c")), None);
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
            assert_eq!(backend.get(key(k.as_bytes())), Some(&i.to_le_bytes()[..]));
        }
    }
}
