//! The embedded in-memory state backend: one hash map per key group of
//! the subtask's key-group range.

use std::collections::HashMap;
use std::ops::Range;

use xxhash_rust::xxh3::Xxh3Builder;

use super::KeyedStateBackend;

/// Keyed state in memory, one map per owned key group.
pub struct MemoryStateBackend {
    key_groups: Range<u32>,
    maps: Vec<HashMap<Box<[u8]>, Vec<u8>, Xxh3Builder>>,
    len: usize,
}

impl MemoryStateBackend {
    /// An empty backend owning `key_groups`.
    pub fn new(key_groups: Range<u32>) -> Self {
        let maps = key_groups.clone().map(|_| HashMap::default()).collect();
        MemoryStateBackend { key_groups, maps, len: 0 }
    }

    fn map_index(&self, key_group: u32) -> usize {
        assert!(
            self.key_groups.contains(&key_group),
            "key group {key_group} outside this subtask's range {:?}: this is a partitioning bug",
            self.key_groups
        );
        (key_group - self.key_groups.start) as usize
    }
}

impl KeyedStateBackend for MemoryStateBackend {
    fn get(&self, key_group: u32, key: &[u8]) -> Option<&[u8]> {
        self.maps[self.map_index(key_group)].get(key).map(Vec::as_slice)
    }

    fn put(&mut self, key_group: u32, key: &[u8], value: &[u8]) {
        let index = self.map_index(key_group);
        let map = &mut self.maps[index];
        if let Some(existing) = map.get_mut(key) {
            existing.clear();
            existing.extend_from_slice(value);
        } else {
            map.insert(key.into(), value.to_vec());
            self.len += 1;
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
    use crate::network::RecordBatch;
    use crate::state::{StateEntries, apply, gather};

    #[test]
    fn gather_returns_each_known_key_once_and_apply_writes_back() {
        let mut backend = MemoryStateBackend::new(key_group_range(0, 1, 128));
        backend.put(key_group(b"a", 128), b"a", b"1");
        let mut batch = RecordBatch::default();
        for key in [&b"a"[..], b"b", b"a"] {
            batch.push(Some(key), b"v", None);
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
        assert_eq!(backend.get(key_group(b"a", 128), b"a"), Some(&b"3"[..]));
    }
}
