//! A table from key bytes to a keyed node's state value: per call, or
//! kept for the life of the instance by an operator that keeps its state.
//!
//! Keys are copied into one byte arena and entries into one vector, both
//! cleared (not freed) between calls, so looking up or adding a key never
//! allocates once the buffers have grown to the batch size. A kept table
//! drops its cleared entries by compacting once they outnumber the live.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;

/// The state of one key during a call.
pub(crate) struct Slot<T> {
    /// Where the key lies in the arena.
    key: (u32, u32),
    /// The key's state; `None` until it has a first value.
    pub value: Option<T>,
    /// Whether this call changed it (only changed entries go back to the host).
    pub changed: bool,
}

/// Byte equality a word at a time. In a guest, `==` on slices calls
/// wasi-libc's `memcmp`, which compares a byte at a time; keys are
/// compared once per record, so this is on the hot path.
#[inline]
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a_words, mut b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in (&mut a_words).zip(&mut b_words) {
        if u64::from_ne_bytes(x.try_into().expect("8 bytes")) != u64::from_ne_bytes(y.try_into().expect("8 bytes")) {
            return false;
        }
    }
    a_words.remainder().iter().zip(b_words.remainder()).all(|(x, y)| x == y)
}

pub(crate) struct KeyTable<T> {
    /// Every key of the table, back to back.
    arena: Vec<u8>,
    /// Entries in insertion order.
    slots: Vec<Slot<T>>,
    /// Index into `slots` by the hash of the key bytes.
    index: HashTable<u32>,
    hasher: FixedState,
    /// Number of slots after the last compaction.
    compacted: usize,
}

impl<T> KeyTable<T> {
    pub fn new() -> Self {
        KeyTable {
            arena: Vec::new(),
            slots: Vec::new(),
            index: HashTable::new(),
            hasher: FixedState::default(),
            compacted: 0,
        }
    }

    /// Empties the table, keeping its capacity.
    pub fn clear(&mut self) {
        self.arena.clear();
        self.slots.clear();
        self.index.clear();
    }

    /// The slot of `key`, added (with no value) if absent.
    #[inline]
    pub fn slot(&mut self, key: &[u8]) -> &mut Slot<T> {
        let hash = self.hasher.hash_one(key);
        let Self { arena, slots, index, hasher, .. } = self;
        let key_of = |i: u32| {
            let (start, end) = slots[i as usize].key;
            &arena[start as usize..end as usize]
        };
        if let Some(&i) = index.find(hash, |&i| bytes_eq(key_of(i), key)) {
            return &mut slots[i as usize];
        }
        let i = slots.len() as u32;
        let start = arena.len() as u32;
        arena.extend_from_slice(key);
        slots.push(Slot { key: (start, arena.len() as u32), value: None, changed: false });
        index.insert_unique(hash, i, |&j| {
            let (start, end) = slots[j as usize].key;
            hasher.hash_one(&arena[start as usize..end as usize])
        });
        &mut slots[i as usize]
    }

    /// Every entry that has a value, as (key, value).
    pub fn live(&self) -> impl Iterator<Item = (&[u8], &T)> {
        self.slots.iter().filter_map(|s| {
            let key = &self.arena[s.key.0 as usize..s.key.1 as usize];
            s.value.as_ref().map(|v| (key, v))
        })
    }

    /// Drops the entries with no value once there are as many slots
    /// again as after the last compaction (and at least 1,024 more), so
    /// a kept table stays proportional to its live entries at an
    /// amortised constant cost per added key. Marks every entry unchanged.
    pub fn compact_if_sparse(&mut self) {
        if self.slots.len() < 2 * self.compacted + 1024 {
            return;
        }
        let old_arena = std::mem::take(&mut self.arena);
        let old_slots = std::mem::take(&mut self.slots);
        self.index.clear();
        for slot in old_slots {
            if let Some(value) = slot.value {
                let key = &old_arena[slot.key.0 as usize..slot.key.1 as usize];
                self.slot(key).value = Some(value);
            }
        }
        self.compacted = self.slots.len();
    }

    /// Number of slots, cleared ones included.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Every entry changed in this call, cleared ones (`None`) included.
    pub fn changed_all(&self) -> impl Iterator<Item = (&[u8], Option<&T>)> {
        self.slots.iter().filter(|s| s.changed).map(|s| {
            let key = &self.arena[s.key.0 as usize..s.key.1 as usize];
            (key, s.value.as_ref())
        })
    }

    /// The entries changed in this call, as (key, value).
    pub fn changed(&self) -> impl Iterator<Item = (&[u8], &T)> {
        self.slots.iter().filter(|s| s.changed).filter_map(|s| {
            let key = &self.arena[s.key.0 as usize..s.key.1 as usize];
            s.value.as_ref().map(|v| (key, v))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_it_added_and_reports_only_changed_ones() {
        let mut table = KeyTable::<i64>::new();
        table.slot(b"a").value = Some(1);
        let b = table.slot(b"b");
        b.value = Some(2);
        b.changed = true;
        assert_eq!(table.slot(b"a").value, Some(1));
        for i in 0..1000i64 {
            let slot = table.slot(&i.to_le_bytes());
            slot.value = Some(i);
            slot.changed = true;
        }
        assert_eq!(table.slot(&7i64.to_le_bytes()).value, Some(7));
        assert_eq!(table.changed().count(), 1001);
        table.clear();
        assert_eq!(table.slot(b"b").value, None);
    }

    #[test]
    fn word_wise_equality_agrees_with_slice_equality() {
        let samples: [&[u8]; 6] = [b"", b"a", b"abcdefgh", b"abcdefghi", b"abcdefgx", b"abcdefghij"];
        for a in samples {
            for b in samples {
                assert_eq!(bytes_eq(a, b), a == b, "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn compaction_keeps_live_entries_and_drops_cleared_ones() {
        let mut table = KeyTable::<i64>::new();
        for i in 0..3000i64 {
            table.slot(&i.to_le_bytes()).value = (i % 3 == 0).then_some(i);
        }
        table.compact_if_sparse();
        assert_eq!(table.len(), 1000);
        assert_eq!(table.live().count(), 1000);
        assert_eq!(table.slot(&300i64.to_le_bytes()).value, Some(300));
        assert_eq!(table.slot(&301i64.to_le_bytes()).value, None, "a cleared key is gone");
        table.compact_if_sparse();
        assert_eq!(table.len(), 1001, "no compaction until the table doubled again");
    }
}
