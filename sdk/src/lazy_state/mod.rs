//! Lazy keyed state: [`LazyMapState`] and [`LazyListState`], for state too
//! large to travel with every batch.
//!
//! The plain handles ([`MapState`](crate::MapState), [`ListState`](crate::ListState))
//! get their key's whole state with each batch, which is the fast path for
//! small state. A lazy state is declared `lazy` in the plan instead: the
//! host leaves it out of the batch, and the handle reads it per call
//! through the host's `state` import — one entry at a time (`get`) or one
//! page at a time (`iter`). Writes cost no host call: they go back with
//! the call's output, as for every state, and the call sees its own
//! writes at once.
//!
//! A host call costs far more than a record's whole budget on the fast
//! path, so use lazy state for what is read rarely or in part (a large
//! per-key history, a big lookup map), not for a counter per record.

pub(crate) mod host;
mod scan;

use std::marker::PhantomData;

use crate::Data;
use crate::codec::decode;
use crate::context::{self, StateError};
use crate::plan::StateKind;
use crate::state::{declare, encode, write_bytes};
use scan::RawScan;

/// Entries fetched per host call when iterating, unless set with `with_page_size`.
pub const DEFAULT_PAGE_SIZE: u32 = 256;

/// The current key's value at `user_key`: what this call wrote, else what
/// the host stores (remembered for the rest of the call).
fn read_raw(state_id: u32, user_key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
    context::with(|c| {
        if !c.keyed {
            return Err(StateError::NoKeyedContext);
        }
        c.load();
        if let Some(known) = c.store.lookup(state_id, &c.key, &c.namespace, user_key) {
            return Ok(known.map(<[u8]>::to_vec));
        }
        let stored = host::get(state_id, &c.key, &c.namespace, user_key)?;
        let context::CallContext { store, key, namespace, .. } = c;
        store.set(state_id, key, namespace, user_key, stored.clone(), false);
        Ok(stored)
    })
}

fn decode_state<T: Data>(bytes: &[u8]) -> Result<T, StateError> {
    decode(bytes).map_err(|e| StateError::Decode(e.to_string()))
}

/// A map per key, read from the host entry by entry or page by page
/// instead of travelling with each batch.
///
/// ```
/// use wflink_sdk::prelude::*;
///
/// /// Keeps every item a user ever bought, with its quantity.
/// struct Purchases {
///     items: LazyMapState<String, u32>,
/// }
///
/// impl KeyedProcessFunction<(String, String), String> for Purchases {
///     fn process_element(&mut self, (_user, item): (String, String), ctx: &mut Context<'_, String>) -> Result<(), JobError> {
///         let bought = self.items.get(&item)?.unwrap_or(0) + 1;
///         self.items.put(&item, &bought)?;
///         if bought == 1 {
///             ctx.collect(format!("first {item}"));
///         }
///         Ok(())
///     }
/// }
/// # let _ = Purchases { items: LazyMapState::new("items") };
/// ```
pub struct LazyMapState<K, V> {
    id: u32,
    page_size: u32,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K: Data, V: Data> LazyMapState<K, V> {
    /// Declares the lazy map state `name` (create it before passing its
    /// function to `KeyedStream::process`).
    pub fn new(name: &str) -> Self {
        LazyMapState { id: declare(name, StateKind::Map, true), page_size: DEFAULT_PAGE_SIZE, _types: PhantomData }
    }

    /// Sets how many entries [`iter`](Self::iter) fetches per host call
    /// (at least 1; the host caps it at 65,536).
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// The value of `key` in the current key's map (one host call, unless
    /// this call already read or wrote it).
    pub fn get(&self, key: &K) -> Result<Option<V>, StateError> {
        read_raw(self.id, &encode(key)?)?.map(|v| decode_state(&v)).transpose()
    }

    /// Sets `key` to `value` in the current key's map.
    pub fn put(&self, key: &K, value: &V) -> Result<(), StateError> {
        write_bytes(self.id, &encode(key)?, Some(encode(value)?))
    }

    /// Removes `key` from the current key's map.
    pub fn remove(&self, key: &K) -> Result<(), StateError> {
        write_bytes(self.id, &encode(key)?, None)
    }

    /// Whether the current key's map holds `key`.
    pub fn contains(&self, key: &K) -> Result<bool, StateError> {
        Ok(read_raw(self.id, &encode(key)?)?.is_some())
    }

    /// Iterates the current key's map, fetching a page of entries per host
    /// call. Entries come in the byte order of the keys' MessagePack
    /// encodings (stable, but not `K`'s own order) and include this call's
    /// writes made before `iter`; writes made while iterating are not seen.
    pub fn iter(&self) -> Result<LazyMapIter<K, V>, StateError> {
        Ok(LazyMapIter { raw: RawScan::start(self.id, self.page_size, None)?, _types: PhantomData })
    }

    /// Whether the current key's map has no entry (fetches one).
    pub fn is_empty(&self) -> Result<bool, StateError> {
        Ok(RawScan::start(self.id, 1, None)?.next().transpose()?.is_none())
    }

    /// Removes every entry of the current key's map (reads its keys page
    /// by page).
    pub fn clear(&self) -> Result<(), StateError> {
        for entry in RawScan::start(self.id, self.page_size, None)? {
            let (user_key, _) = entry?;
            write_bytes(self.id, &user_key, None)?;
        }
        Ok(())
    }
}

/// The entries of a [`LazyMapState`], fetched page by page; an error ends
/// the iteration after it is returned.
pub struct LazyMapIter<K, V> {
    raw: RawScan,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K: Data, V: Data> Iterator for LazyMapIter<K, V> {
    type Item = Result<(K, V), StateError>;

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.raw.next()?;
        Some(entry.and_then(|(k, v)| Ok((decode_state(&k)?, decode_state(&v)?))))
    }
}

/// A list per key, read from the host element by element or page by page
/// instead of travelling with each batch.
///
/// Each element is its own state entry (under its index), and the length
/// is one more, so `add` costs one host read (the length, once per key and
/// call) and no copy of the list.
pub struct LazyListState<T> {
    id: u32,
    page_size: u32,
    _value: PhantomData<fn() -> T>,
}

/// The user key of the list's length: empty, so it sorts before every element.
const LENGTH: &[u8] = &[];

/// The user key of element `index`: big-endian, so elements sort by index.
fn element(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

impl<T: Data> LazyListState<T> {
    /// Declares the lazy list state `name` (create it before passing its
    /// function to `KeyedStream::process`).
    pub fn new(name: &str) -> Self {
        LazyListState { id: declare(name, StateKind::List, true), page_size: DEFAULT_PAGE_SIZE, _value: PhantomData }
    }

    /// Sets how many elements [`iter`](Self::iter) fetches per host call
    /// (at least 1; the host caps it at 65,536).
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Number of elements of the current key's list.
    pub fn len(&self) -> Result<u64, StateError> {
        read_raw(self.id, LENGTH)?.map_or(Ok(0), |v| decode_state(&v))
    }

    /// Whether the current key's list has no element.
    pub fn is_empty(&self) -> Result<bool, StateError> {
        Ok(self.len()? == 0)
    }

    /// Element `index` of the current key's list, if the list is that long.
    pub fn get(&self, index: u64) -> Result<Option<T>, StateError> {
        read_raw(self.id, &element(index))?.map(|v| decode_state(&v)).transpose()
    }

    /// Appends `value` to the current key's list.
    pub fn add(&self, value: &T) -> Result<(), StateError> {
        self.add_all(std::slice::from_ref(value))
    }

    /// Appends every element of `values`, in order.
    pub fn add_all(&self, values: &[T]) -> Result<(), StateError> {
        let mut len = self.len()?;
        for value in values {
            write_bytes(self.id, &element(len), Some(encode(value)?))?;
            len += 1;
        }
        write_bytes(self.id, LENGTH, Some(encode(&len)?))
    }

    /// Replaces the current key's list with `values`.
    pub fn update(&self, values: &[T]) -> Result<(), StateError> {
        self.clear()?;
        self.add_all(values)
    }

    /// Iterates the current key's list in insertion order, fetching a page
    /// of elements per host call; it includes this call's earlier writes.
    pub fn iter(&self) -> Result<LazyListIter<T>, StateError> {
        let raw = RawScan::start(self.id, self.page_size, Some(LENGTH.to_vec()))?;
        Ok(LazyListIter { raw, _value: PhantomData })
    }

    /// Removes the current key's list (one write per element, no read
    /// besides the length).
    pub fn clear(&self) -> Result<(), StateError> {
        let len = self.len()?;
        for index in 0..len {
            write_bytes(self.id, &element(index), None)?;
        }
        write_bytes(self.id, LENGTH, None)
    }
}

/// The elements of a [`LazyListState`], fetched page by page; an error
/// ends the iteration after it is returned.
pub struct LazyListIter<T> {
    raw: RawScan,
    _value: PhantomData<fn() -> T>,
}

impl<T: Data> Iterator for LazyListIter<T> {
    type Item = Result<T, StateError>;

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.raw.next()?;
        Some(entry.and_then(|(_, v)| decode_state(&v)))
    }
}

mod walkable {
    use super::{LazyListState, LazyMapState};
    use crate::apply_to_keyed_state::{KeyedStateHandle, sealed::Sealed};

    impl<K, V> Sealed for LazyMapState<K, V> {}
    impl<K, V> KeyedStateHandle for LazyMapState<K, V> {
        fn state_id(&self) -> u32 {
            self.id
        }
        fn reads_lazily(&self) -> bool {
            true
        }
    }

    impl<T> Sealed for LazyListState<T> {}
    impl<T> KeyedStateHandle for LazyListState<T> {
        fn state_id(&self) -> u32 {
            self.id
        }
        fn reads_lazily(&self) -> bool {
            true
        }
    }
}

#[cfg(test)]
mod tests;
