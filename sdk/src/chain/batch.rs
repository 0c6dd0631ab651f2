//! Batches and keyed state as flat buffers: the SDK's own copies of the WIT
//! `batch` and `keyed-state` records, so the chain can be tested on the host.

use crate::JobError;

/// Records as flat buffers: record `i`'s value is
/// `values[value_ends[i-1]..value_ends[i]]` (keys likewise).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Batch {
    /// All values, back to back.
    pub values: Vec<u8>,
    /// End offset of each value; its length is the number of records.
    pub value_ends: Vec<u32>,
    /// All keys, back to back; empty when not keyed.
    pub keys: Vec<u8>,
    /// End offset of each key: empty or one per record.
    pub key_ends: Vec<u32>,
    /// Event time of each record in ms: empty or one per record.
    pub timestamps: Vec<i64>,
}

/// State entries as flat buffers: entry `i` is key `i` with value `i`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct KeyedState {
    /// All keys, back to back.
    pub keys: Vec<u8>,
    /// End offset of each key, one per entry.
    pub key_ends: Vec<u32>,
    /// All state values (MessagePack), back to back.
    pub values: Vec<u8>,
    /// End offset of each value, one per entry.
    pub value_ends: Vec<u32>,
}

impl Batch {
    /// Checks the offsets once, so the per-record loop can slice freely.
    pub fn check(&self) -> Result<(), JobError> {
        let n = self.value_ends.len();
        check_ends("batch values", &self.values, &self.value_ends)?;
        if !self.key_ends.is_empty() {
            check_len("batch key-ends", self.key_ends.len(), n)?;
            check_ends("batch keys", &self.keys, &self.key_ends)?;
        }
        if !self.timestamps.is_empty() {
            check_len("batch timestamps", self.timestamps.len(), n)?;
        }
        Ok(())
    }

    /// Empties the batch, keeping its capacity.
    pub fn clear(&mut self) {
        self.values.clear();
        self.value_ends.clear();
        self.keys.clear();
        self.key_ends.clear();
        self.timestamps.clear();
    }

    /// Appends a record (tests build input batches with it).
    #[cfg(test)]
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
}

impl KeyedState {
    /// Checks the offsets once, so entries can be sliced freely.
    pub fn check(&self) -> Result<(), JobError> {
        check_len("state value-ends", self.value_ends.len(), self.key_ends.len())?;
        check_ends("state keys", &self.keys, &self.key_ends)?;
        check_ends("state values", &self.values, &self.value_ends)
    }

    /// The entries as (key, value) byte slices. Call [`KeyedState::check`] first.
    pub fn entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        slices(&self.keys, &self.key_ends).zip(slices(&self.values, &self.value_ends))
    }

    /// Appends an entry whose value the caller has just written to `values`.
    pub fn push_key(&mut self, key: &[u8]) {
        self.keys.extend_from_slice(key);
        self.key_ends.push(self.keys.len() as u32);
        self.value_ends.push(self.values.len() as u32);
    }
}

/// The slices of `buf` that `ends` delimits. Call only on checked offsets.
pub(crate) fn slices<'a>(buf: &'a [u8], ends: &'a [u32]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut start = 0usize;
    ends.iter().map(move |&end| {
        let slice = &buf[start..end as usize];
        start = end as usize;
        slice
    })
}

fn check_ends(what: &str, buf: &[u8], ends: &[u32]) -> Result<(), JobError> {
    let mut previous = 0u32;
    for &end in ends {
        if end < previous || end as usize > buf.len() {
            return Err(JobError::Other(format!(
                "malformed {what}: end offset {end} after {previous} in {} bytes (a host bug)",
                buf.len()
            )));
        }
        previous = end;
    }
    Ok(())
}

fn check_len(what: &str, len: usize, records: usize) -> Result<(), JobError> {
    if len == records {
        return Ok(());
    }
    Err(JobError::Other(format!("malformed {what}: {len} entries for {records} records (a host bug)")))
}
