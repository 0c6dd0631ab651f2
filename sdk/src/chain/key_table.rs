//! A table from key bytes to a keyed node's state value: per call, or
//! kept for the life of the instance by an operator that keeps its state.
//!
//! Keys are copied into one byte arena and the slots live in the hash
//! table itself, both cleared (not freed) between calls, so looking up or
//! adding a key never allocates once the buffers have grown to the batch
//! size, and a lookup touches the table's control bytes, the slot and the
//! key's bytes: a window task with tens of thousands of open windows
//! spends most of its lookup waiting on those cache misses. A kept table
//! drops its cleared entries by compacting once they outnumber the live.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

/// The state of one key during a call.
pub(crate) struct Slot<T> {
    /// Where the key lies in the arena.
    key: (u32, u32),
    /// The key's hash, so the table grows without reading keys again.
    hash: u64,
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
    /// The slots, by the hash of their key's bytes.
    table: HashTable<Slot<T>>,
    hasher: FixedState,
    /// Number of slots after the last compaction.
    compacted: usize,
}

impl<T> KeyTable<T> {
    pub fn new() -> Self {
        KeyTable { arena: Vec::new(), table: HashTable::new(), hasher: FixedState::default(), compacted: 0 }
    }

    /// Empties the table, keeping its capacity.
    pub fn clear(&mut self) {
        self.arena.clear();
        self.table.clear();
    }

    /// The slot of `key`, added (with no value) if absent.
    #[inline]
    pub fn slot(&mut self, key: &[u8]) -> &mut Slot<T> {
        let hash = self.hasher.hash_one(key);
        let Self { arena, table, .. } = self;
        let keys = &*arena;
        let entry = table.entry(
            hash,
            |s| s.hash == hash && bytes_eq(&keys[s.key.0 as usize..s.key.1 as usize], key),
            |s| s.hash,
        );
        match entry {
            Entry::Occupied(slot) => slot.into_mut(),
            Entry::Vacant(vacant) => {
                let start = arena.len() as u32;
                arena.extend_from_slice(key);
                let slot = Slot { key: (start, arena.len() as u32), hash, value: None, changed: false };
                vacant.insert(slot).into_mut()
            }
        }
    }

    /// The key bytes of `slot`.
    fn key_of<'a>(&'a self, slot: &Slot<T>) -> &'a [u8] {
        &self.arena[slot.key.0 as usize..slot.key.1 as usize]
    }

    /// Every entry that has a value, as (key, value).
    pub fn live(&self) -> impl Iterator<Item = (&[u8], &T)> {
        self.table.iter().filter_map(|s| s.value.as_ref().map(|v| (self.key_of(s), v)))
    }

    /// Drops the entries with no value once there are as many slots
    /// again as after the last compaction (and at least 1,024 more), so
    /// a kept table stays proportional to its live entries at an
    /// amortised constant cost per added key.
    pub fn compact_if_sparse(&mut self) {
        if self.table.len() < 2 * self.compacted + 1024 {
            return;
        }
        self.table.retain(|s| s.value.is_some());
        let old_arena = std::mem::take(&mut self.arena);
        for slot in self.table.iter_mut() {
            let start = self.arena.len() as u32;
            self.arena.extend_from_slice(&old_arena[slot.key.0 as usize..slot.key.1 as usize]);
            slot.key = (start, self.arena.len() as u32);
        }
        self.compacted = self.table.len();
    }

    /// Number of slots, cleared ones included.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Every entry changed in this call, cleared ones (`None`) included.
    pub fn changed_all(&self) -> impl Iterator<Item = (&[u8], Option<&T>)> {
        self.table.iter().filter(|s| s.changed).map(|s| (self.key_of(s), s.value.as_ref()))
    }

    /// The entries changed in this call, as (key, value).
    pub fn changed(&self) -> impl Iterator<Item = (&[u8], &T)> {
        self.table.iter().filter(|s| s.changed).filter_map(|s| s.value.as_ref().map(|v| (self.key_of(s), v)))
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
