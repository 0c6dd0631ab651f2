//! The chain's output: the batch being filled and the emitters that end a
//! chain by encoding records into it.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;

use serde::Serialize;

use super::Batch;
use super::emitter::Emitter;
use crate::codec::encode_into;

/// The output of the current `process` call, shared by the chain's last
/// emitter (which writes records) and the chain's input (which sets the
/// timestamp of the record being processed).
pub(crate) type SharedOutput = Rc<RefCell<OutputBuffer>>;

#[derive(Default)]
pub(crate) struct OutputBuffer {
    /// Records produced so far in this call.
    pub batch: Batch,
    /// Timestamp of the input record being processed, given to each output
    /// record it produces; `None` when the input has no timestamps.
    pub timestamp: Option<i64>,
    /// First encoding failure of this call; encoders cannot return errors
    /// per record, so the call fails with it at the end.
    pub error: Option<String>,
}

impl OutputBuffer {
    /// Appends an unkeyed record.
    #[inline]
    pub fn push<T: Serialize>(&mut self, value: &T) {
        let batch = &mut self.batch;
        if let Err(e) = encode_into(&mut batch.values, value) {
            self.error.get_or_insert(e);
            return;
        }
        batch.value_ends.push(batch.values.len() as u32);
        if let Some(ts) = self.timestamp {
            batch.timestamps.push(ts);
        }
    }

    /// Appends an unkeyed record, structs encoded as maps by field name.
    #[inline]
    pub fn push_named<T: Serialize>(&mut self, value: &T) {
        let batch = &mut self.batch;
        let start = batch.values.len();
        if let Err(e) = rmp_serde::encode::write_named(&mut batch.values, value) {
            batch.values.truncate(start);
            self.error.get_or_insert(format!("cannot encode {} as MessagePack: {e}", std::any::type_name::<T>()));
            return;
        }
        batch.value_ends.push(batch.values.len() as u32);
        if let Some(ts) = self.timestamp {
            batch.timestamps.push(ts);
        }
    }

    /// Appends a keyed record.
    #[inline]
    pub fn push_keyed<K: Serialize + ?Sized, T: Serialize>(&mut self, key: &K, value: &T) {
        let key_start = self.batch.keys.len();
        if let Err(e) = encode_into(&mut self.batch.keys, key) {
            self.error.get_or_insert(e);
            return;
        }
        self.push(value);
        if self.batch.value_ends.len() == self.batch.key_ends.len() {
            // The value failed to encode: drop its key too.
            self.batch.keys.truncate(key_start);
            return;
        }
        self.batch.key_ends.push(self.batch.keys.len() as u32);
    }

    /// Appends a record for the subtask `partition` of the next node: the
    /// partition travels as the record's key, 4 bytes little-endian.
    #[inline]
    pub fn push_partitioned<T: Serialize>(&mut self, partition: u32, value: &T) {
        let records = self.batch.value_ends.len();
        self.push(value);
        if self.batch.value_ends.len() > records {
            self.batch.keys.extend_from_slice(&partition.to_le_bytes());
            self.batch.key_ends.push(self.batch.keys.len() as u32);
        }
    }
}

/// Ends a chain whose last node's records leave unkeyed.
pub(crate) struct ValueEncoder<T> {
    pub out: SharedOutput,
    pub _records: PhantomData<fn(T)>,
}

impl<T: Serialize> Emitter<T> for ValueEncoder<T> {
    #[inline]
    fn emit(&mut self, value: T) {
        self.emit_ref(&value);
    }
    #[inline]
    fn emit_ref(&mut self, value: &T) {
        self.out.borrow_mut().push(value);
    }
}

/// Ends a chain before a formatted sink: structs as maps by field name.
pub(crate) struct NamedEncoder<T> {
    pub out: SharedOutput,
    pub _records: PhantomData<fn(T)>,
}

impl<T: Serialize> Emitter<T> for NamedEncoder<T> {
    #[inline]
    fn emit(&mut self, value: T) {
        self.emit_ref(&value);
    }
    #[inline]
    fn emit_ref(&mut self, value: &T) {
        self.out.borrow_mut().push_named(value);
    }
}

/// Ends a chain whose last node is a key-by: computes each record's key.
pub(crate) struct KeyedEncoder<F> {
    pub key: F,
    pub out: SharedOutput,
}

impl<T: Serialize, K: Serialize, F: FnMut(&T) -> K> Emitter<T> for KeyedEncoder<F> {
    #[inline]
    fn emit(&mut self, value: T) {
        self.emit_ref(&value);
    }
    #[inline]
    fn emit_ref(&mut self, value: &T) {
        let key = (self.key)(value);
        self.out.borrow_mut().push_keyed(&key, value);
    }
}

/// Ends a chain whose last node is a key-by that borrows each record's key
/// from the record (`key_by_ref`): no key value is built per record.
pub(crate) struct BorrowedKeyEncoder<F, K: ?Sized> {
    pub key: F,
    pub out: SharedOutput,
    pub _key: PhantomData<fn(&K)>,
}

impl<T: Serialize, K: Serialize + ?Sized, F: for<'a> FnMut(&'a T) -> &'a K> Emitter<T> for BorrowedKeyEncoder<F, K> {
    #[inline]
    fn emit(&mut self, value: T) {
        self.emit_ref(&value);
    }
    #[inline]
    fn emit_ref(&mut self, value: &T) {
        let key = (self.key)(value);
        self.out.borrow_mut().push_keyed(key, value);
    }
}

/// Ends a chain whose last node is a partition-custom: picks each
/// record's subtask of the next node from its key.
pub(crate) struct PartitionEncoder<F, P> {
    pub key: F,
    pub partitioner: P,
    /// The number of partitions (the next node's parallelism).
    pub partitions: usize,
    /// Names the node in the error of a partition out of range.
    pub label: String,
    pub out: SharedOutput,
}

impl<T: Serialize, K, F: FnMut(&T) -> K, P: FnMut(&K, usize) -> usize> Emitter<T> for PartitionEncoder<F, P> {
    #[inline]
    fn emit(&mut self, value: T) {
        self.emit_ref(&value);
    }
    #[inline]
    fn emit_ref(&mut self, value: &T) {
        let key = (self.key)(value);
        let partition = (self.partitioner)(&key, self.partitions);
        let mut out = self.out.borrow_mut();
        if partition >= self.partitions {
            let (label, partitions) = (&self.label, self.partitions);
            out.error.get_or_insert_with(|| {
                format!(
                    "{label}: the partitioner returned partition {partition}, but the next operator has {partitions} \
                     subtasks (partitions 0 to {})",
                    partitions - 1
                )
            });
            return;
        }
        out.push_partitioned(partition as u32, value);
    }
}
