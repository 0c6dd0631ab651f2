//! The WIT `state-entries`: named, namespaced keyed state (what process
//! functions and windows keep), addressed by (state id, key, namespace,
//! user key). An empty value means the entry is deleted.

use alloc::vec::Vec;

use crate::ends::{LayoutError, check_count, check_ends, slice, slices};

/// Entries as flat buffers, one state id and one of each slice per entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateEntries {
    /// State id of each entry (its index among the job's declared states).
    pub state_ids: Vec<u32>,
    /// Record keys back to back.
    pub keys: Vec<u8>,
    /// End offset of each key.
    pub key_ends: Vec<u32>,
    /// Namespaces (an encoded window, or empty) back to back.
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

impl StateEntries {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.state_ids.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.state_ids.is_empty()
    }

    /// Appends one entry (an empty value deletes it).
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

    /// Entry `i` as (key, address, value). Check entries from the other
    /// side first.
    pub fn get(&self, i: usize) -> (&[u8], EntryAddress<'_>, &[u8]) {
        let address = EntryAddress {
            state_id: self.state_ids[i],
            namespace: slice(&self.namespaces, &self.namespace_ends, i),
            user_key: slice(&self.user_keys, &self.user_key_ends, i),
        };
        (slice(&self.keys, &self.key_ends, i), address, slice(&self.values, &self.value_ends, i))
    }

    /// Every entry as (key, address, value), in order. Check entries from
    /// the other side first.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], EntryAddress<'_>, &[u8])> {
        self.state_ids
            .iter()
            .zip(slices(&self.keys, &self.key_ends))
            .zip(slices(&self.namespaces, &self.namespace_ends))
            .zip(slices(&self.user_keys, &self.user_key_ends))
            .zip(slices(&self.values, &self.value_ends))
            .map(|((((&state_id, key), namespace), user_key), value)| {
                (key, EntryAddress { state_id, namespace, user_key }, value)
            })
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

    /// Checks lengths and offsets, so entries from the other side cannot
    /// make this one panic.
    pub fn check(&self) -> Result<(), LayoutError> {
        let n = self.state_ids.len();
        check_count("state key-ends", self.key_ends.len(), n)?;
        check_count("state namespace-ends", self.namespace_ends.len(), n)?;
        check_count("state user-key-ends", self.user_key_ends.len(), n)?;
        check_count("state value-ends", self.value_ends.len(), n)?;
        check_ends("state key", &self.key_ends, self.keys.len())?;
        check_ends("state namespace", &self.namespace_ends, self.namespaces.len())?;
        check_ends("state user key", &self.user_key_ends, self.user_keys.len())?;
        check_ends("state value", &self.value_ends, self.values.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_uneven_lists_are_refused() {
        let mut entries = StateEntries::default();
        let address = EntryAddress { state_id: 3, namespace: b"w", user_key: b"" };
        entries.push(b"k", address, b"v");
        assert!(entries.check().is_ok());
        assert_eq!(entries.get(0), (&b"k"[..], address, &b"v"[..]));
        assert_eq!(entries.iter().next(), Some((&b"k"[..], address, &b"v"[..])));
        entries.namespace_ends.push(9);
        assert!(entries.check().is_err());
    }
}
