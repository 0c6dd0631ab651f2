//! The WIT `keyed-state`: the state of each key a batch touches, for the
//! keyed reduce (its value per key travels with the batch).

use alloc::vec::Vec;

use crate::ends::{LayoutError, check_count, check_ends, slice, slices};

/// Entries as flat buffers: entry `i` is key `i` with value `i`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyedState {
    /// Keys back to back.
    pub keys: Vec<u8>,
    /// End offset of each key, one per entry.
    pub key_ends: Vec<u32>,
    /// Values (MessagePack) back to back.
    pub values: Vec<u8>,
    /// End offset of each value, one per entry.
    pub value_ends: Vec<u32>,
}

impl KeyedState {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.key_ends.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.key_ends.is_empty()
    }

    /// Appends one entry.
    pub fn push(&mut self, key: &[u8], value: &[u8]) {
        self.values.extend_from_slice(value);
        self.push_key(key);
    }

    /// Appends an entry whose value the caller has just written to
    /// `values` (so a value can be encoded in place).
    pub fn push_key(&mut self, key: &[u8]) {
        self.keys.extend_from_slice(key);
        self.key_ends.push(self.keys.len() as u32);
        self.value_ends.push(self.values.len() as u32);
    }

    /// Entry `i` as (key, value). Check entries from the other side first.
    pub fn get(&self, i: usize) -> (&[u8], &[u8]) {
        (slice(&self.keys, &self.key_ends, i), slice(&self.values, &self.value_ends, i))
    }

    /// Every entry as (key, value), in order. Check entries from the other side first.
    pub fn entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        slices(&self.keys, &self.key_ends).zip(slices(&self.values, &self.value_ends))
    }

    /// Empties the buffers, keeping their allocations.
    pub fn clear(&mut self) {
        self.keys.clear();
        self.key_ends.clear();
        self.values.clear();
        self.value_ends.clear();
    }

    /// Checks lengths and offsets, so entries from the other side cannot
    /// make this one panic.
    pub fn check(&self) -> Result<(), LayoutError> {
        check_count("state value-ends", self.value_ends.len(), self.key_ends.len())?;
        check_ends("state key", &self.key_ends, self.keys.len())?;
        check_ends("state value", &self.value_ends, self.values.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_uneven_lists_are_refused() {
        let mut state = KeyedState::default();
        state.push(b"a", b"1");
        state.values.extend_from_slice(b"22");
        state.push_key(b"bb");
        assert!(state.check().is_ok());
        assert_eq!(state.get(1), (&b"bb"[..], &b"22"[..]));
        assert_eq!(state.entries().count(), 2);
        state.value_ends.pop();
        assert!(state.check().is_err());
    }
}
