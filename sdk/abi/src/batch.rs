//! The WIT `batch`: records as flat buffers, the unit of work that crosses
//! the boundary and travels between tasks.

use alloc::vec::Vec;

use crate::ends::{LayoutError, check_count, check_ends, slice};

/// Records back to back: values (and optionally keys and timestamps) with
/// the end offset of each.
///
/// With the `serde` feature, a batch is [checked](Self::check) as it is
/// decoded: a peer's offsets beyond the buffers or out of order are a
/// decode error naming them, never a batch whose records panic when read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "UncheckedBatch"))]
pub struct Batch {
    /// All values back to back.
    #[cfg_attr(feature = "serde", serde(with = "serde_bytes"))]
    pub values: Vec<u8>,
    /// End offset of each value; its length is the number of records.
    pub value_ends: Vec<u32>,
    /// All keys back to back; empty for an unkeyed batch.
    #[cfg_attr(feature = "serde", serde(with = "serde_bytes"))]
    pub keys: Vec<u8>,
    /// End offset of each key; empty or one per record.
    pub key_ends: Vec<u32>,
    /// Event timestamps in ms since the epoch; empty or one per record.
    pub timestamps: Vec<i64>,
}

impl Batch {
    /// An empty batch with room for about `records` records of `bytes` bytes.
    pub fn with_capacity(records: usize, bytes: usize) -> Self {
        Batch { values: Vec::with_capacity(bytes), value_ends: Vec::with_capacity(records), ..Default::default() }
    }

    /// Number of records.
    #[inline]
    pub fn len(&self) -> usize {
        self.value_ends.len()
    }

    /// Whether the batch holds no record.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.value_ends.is_empty()
    }

    /// Whether records carry keys.
    #[inline]
    pub fn is_keyed(&self) -> bool {
        !self.key_ends.is_empty()
    }

    /// Size of the payload in bytes (values and keys).
    pub fn byte_len(&self) -> usize {
        self.values.len() + self.keys.len()
    }

    /// The value of record `i`.
    #[inline]
    pub fn value(&self, i: usize) -> &[u8] {
        slice(&self.values, &self.value_ends, i)
    }

    /// The key of record `i` (empty if the batch is not keyed).
    #[inline]
    pub fn key(&self, i: usize) -> &[u8] {
        if self.key_ends.is_empty() { &[] } else { slice(&self.keys, &self.key_ends, i) }
    }

    /// Appends one record.
    #[inline]
    pub fn push(&mut self, key: Option<&[u8]>, value: &[u8], timestamp: Option<i64>) {
        self.values.extend_from_slice(value);
        self.value_ends.push(self.values.len() as u32);
        if let Some(key) = key {
            self.keys.extend_from_slice(key);
            self.key_ends.push(self.keys.len() as u32);
        }
        if let Some(ts) = timestamp {
            self.timestamps.push(ts);
        }
    }

    /// Appends record `i` of `other`, keeping its key and timestamp.
    #[inline]
    pub fn push_from(&mut self, other: &Batch, i: usize) {
        let key = other.is_keyed().then(|| other.key(i));
        self.push(key, other.value(i), other.timestamps.get(i).copied());
    }

    /// Removes every record, keeping the allocations.
    pub fn clear(&mut self) {
        self.values.clear();
        self.value_ends.clear();
        self.keys.clear();
        self.key_ends.clear();
        self.timestamps.clear();
    }

    /// Checks that offsets are in bounds and non-decreasing and that keys
    /// and timestamps are none or one per record, so a batch from the
    /// other side cannot make this one read out of bounds or panic.
    pub fn check(&self) -> Result<(), LayoutError> {
        check_ends("batch value", &self.value_ends, self.values.len())?;
        if self.is_keyed() {
            check_count("batch key-ends", self.key_ends.len(), self.len())?;
            check_ends("batch key", &self.key_ends, self.keys.len())?;
        }
        if !self.timestamps.is_empty() {
            check_count("batch timestamps", self.timestamps.len(), self.len())?;
        }
        Ok(())
    }
}

/// A batch as it arrives, before its offsets are checked: what [`Batch`]
/// decodes through (the same fields, so the same encoding).
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct UncheckedBatch {
    #[serde(with = "serde_bytes")]
    values: Vec<u8>,
    value_ends: Vec<u32>,
    #[serde(with = "serde_bytes")]
    keys: Vec<u8>,
    key_ends: Vec<u32>,
    timestamps: Vec<i64>,
}

#[cfg(feature = "serde")]
impl TryFrom<UncheckedBatch> for Batch {
    type Error = alloc::string::String;

    fn try_from(raw: UncheckedBatch) -> Result<Self, Self::Error> {
        let UncheckedBatch { values, value_ends, keys, key_ends, timestamps } = raw;
        let batch = Batch { values, value_ends, keys, key_ends, timestamps };
        batch.check().map_err(|e| alloc::format!("malformed record batch: {e}"))?;
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_with_keys_and_timestamps() {
        let mut batch = Batch::default();
        batch.push(Some(b"k1"), b"hello", Some(5));
        batch.push(Some(b""), b"", Some(6));
        batch.push(Some(b"k3"), b"world", Some(7));
        assert_eq!(batch.len(), 3);
        assert_eq!((batch.key(0), batch.value(0)), (&b"k1"[..], &b"hello"[..]));
        assert_eq!(batch.value(1), b"");
        assert_eq!(batch.key(2), b"k3");
        assert!(batch.check().is_ok());
        let mut copy = Batch::default();
        copy.push_from(&batch, 2);
        assert_eq!((copy.key(0), copy.value(0), copy.timestamps[0]), (&b"k3"[..], &b"world"[..], 7));
    }

    #[test]
    fn check_refuses_offsets_beyond_the_buffer_and_uneven_lists() {
        let batch = Batch { values: alloc::vec![1, 2], value_ends: alloc::vec![1, 5], ..Default::default() };
        assert!(batch.check().is_err());
        let batch = Batch { values: alloc::vec![1, 2], value_ends: alloc::vec![2, 1], ..Default::default() };
        assert!(batch.check().is_err());
        let batch = Batch {
            values: alloc::vec![1],
            value_ends: alloc::vec![1],
            timestamps: alloc::vec![1, 2],
            ..Default::default()
        };
        assert!(batch.check().is_err());
    }
}
