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

    /// Appends a keyed record.
    #[inline]
    pub fn push_keyed<K: Serialize, T: Serialize>(&mut self, key: &K, value: &T) {
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
pub(crate) struct BorrowedKeyEncoder<F, K> {
    pub key: F,
    pub out: SharedOutput,
    pub _key: PhantomData<fn(&K)>,
}

impl<T: Serialize, K: Serialize, F: for<'a> FnMut(&'a T) -> &'a K> Emitter<T> for BorrowedKeyEncoder<F, K> {
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
