//! The functions of a stream connected to a broadcast stream
//! ([`BroadcastProcessFunction`], [`KeyedBroadcastProcessFunction`]),
//! their contexts, and the views of the broadcast state they get: read
//! only for the processed input ([`ReadOnlyBroadcastState`]), writable for
//! the broadcast input ([`BroadcastState`]), as in Flink.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use crate::apply_to_keyed_state::KeyedStateHandle;
use crate::broadcast::MapStateDescriptor;
use crate::codec::{decode, encode_into};
use crate::context::StateError;
use crate::process::Context;
use crate::{Data, JobError};

/// A function of a stream and a broadcast stream (Flink's
/// `BroadcastProcessFunction`): each record of the stream goes to
/// `process_element`, which reads the broadcast state; each record of the
/// broadcast stream goes, in every subtask, to `process_broadcast_element`,
/// which writes it.
pub trait BroadcastProcessFunction<I, B, O>: 'static {
    /// Handles one record of the processed stream; emit through `ctx`.
    fn process_element(&mut self, value: I, ctx: &mut ReadOnlyBroadcastContext<'_, O>) -> Result<(), JobError>;
    /// Handles one record of the broadcast stream, in every subtask.
    fn process_broadcast_element(&mut self, value: B, ctx: &mut BroadcastContext<'_, O>) -> Result<(), JobError>;
}

/// A function of a keyed stream and a broadcast stream (Flink's
/// `KeyedBroadcastProcessFunction`): as [`BroadcastProcessFunction`], with
/// keyed state (fields of type [`ValueState`](crate::ValueState) and
/// friends) and timers for the records of the keyed stream. A broadcast
/// record has no key, so keyed state and timers are out of its reach.
pub trait KeyedBroadcastProcessFunction<I, B, O>: 'static {
    /// Handles one record of the keyed stream, for its key.
    fn process_element(&mut self, value: I, ctx: &mut ReadOnlyBroadcastContext<'_, O>) -> Result<(), JobError>;
    /// Handles one record of the broadcast stream, in every subtask.
    fn process_broadcast_element(&mut self, value: B, ctx: &mut BroadcastContext<'_, O>) -> Result<(), JobError>;
    /// Called when a timer of the current key fires; `timestamp` is the
    /// time it was registered for.
    fn on_timer(&mut self, timestamp: i64, ctx: &mut ReadOnlyBroadcastContext<'_, O>) -> Result<(), JobError> {
        let _ = (timestamp, ctx);
        Ok(())
    }
}

/// The broadcast states of one subtask: by state id, encoded key to
/// encoded value, in key order (so snapshots are deterministic).
#[derive(Default)]
pub(crate) struct BroadcastStore {
    pub maps: BTreeMap<u32, BTreeMap<Vec<u8>, Vec<u8>>>,
}

/// What `process_element` and `on_timer` get: a [`Context`] (emit, time,
/// timers) plus read-only access to the broadcast state.
pub struct ReadOnlyBroadcastContext<'a, O> {
    pub(crate) inner: Context<'a, O>,
    pub(crate) store: &'a BroadcastStore,
}

/// What `process_broadcast_element` gets: a [`Context`] (emit, time) plus
/// write access to the broadcast state and, in a keyed function, every
/// key's keyed state through [`apply_to_keyed_state`](Self::apply_to_keyed_state).
pub struct BroadcastContext<'a, O> {
    pub(crate) inner: Context<'a, O>,
    pub(crate) store: &'a mut BroadcastStore,
    /// Whether the function is keyed (so keyed state exists).
    pub(crate) keyed: bool,
}

impl<'a, O> ReadOnlyBroadcastContext<'a, O> {
    /// The broadcast state named by `descriptor`, to read.
    pub fn broadcast_state<K: Data, V: Data>(
        &self,
        descriptor: &MapStateDescriptor<K, V>,
    ) -> ReadOnlyBroadcastState<'_, K, V> {
        ReadOnlyBroadcastState { map: self.store.maps.get(&descriptor.id), _types: PhantomData }
    }
}

impl<'a, O> BroadcastContext<'a, O> {
    /// The broadcast state named by `descriptor`, to read and write.
    pub fn broadcast_state<K: Data, V: Data>(
        &mut self,
        descriptor: &MapStateDescriptor<K, V>,
    ) -> BroadcastState<'_, K, V> {
        BroadcastState { map: self.store.maps.entry(descriptor.id).or_default(), _types: PhantomData }
    }

    /// Runs `f` once for every key of this subtask that holds `state`,
    /// with `state` reading and writing that key's value (Flink's
    /// `applyToKeyedState`): a broadcast record has no key, so this is how
    /// it changes what every key has kept, e.g. clearing counts when a
    /// rule changes. `f` gets the key (decoded as `K`, the type of the
    /// `key_by` key) and the handle; returns the number of keys visited.
    ///
    /// The keys are those holding the state before this call, in no fixed
    /// order, each once. It costs a few host calls per key, so it suits
    /// control records, not every record. Only a
    /// [`KeyedBroadcastProcessFunction`] has keyed state; elsewhere it
    /// returns an error.
    ///
    /// ```
    /// use wflink_sdk::prelude::*;
    ///
    /// /// Sums amounts per user; a broadcast "reset" clears every sum.
    /// struct Sums {
    ///     sum: ValueState<i64>,
    /// }
    ///
    /// impl KeyedBroadcastProcessFunction<(String, i64), String, String> for Sums {
    ///     fn process_element(&mut self, (_, amount): (String, i64), _: &mut ReadOnlyBroadcastContext<'_, String>) -> Result<(), JobError> {
    ///         self.sum.update(&(self.sum.value()?.unwrap_or(0) + amount))?;
    ///         Ok(())
    ///     }
    ///
    ///     fn process_broadcast_element(&mut self, command: String, ctx: &mut BroadcastContext<'_, String>) -> Result<(), JobError> {
    ///         if command == "reset" {
    ///             let mut reset = Vec::new();
    ///             ctx.apply_to_keyed_state(&self.sum, |user: String, sum| {
    ///                 reset.push(format!("{user} had {}", sum.value()?.unwrap_or(0)));
    ///                 Ok(sum.clear()?)
    ///             })?;
    ///             reset.into_iter().for_each(|line| ctx.collect(line));
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # let _ = Sums { sum: ValueState::new("sum") };
    /// ```
    pub fn apply_to_keyed_state<K: Data, S: KeyedStateHandle>(
        &mut self,
        state: &S,
        f: impl FnMut(K, &S) -> Result<(), JobError>,
    ) -> Result<usize, JobError> {
        if !self.keyed {
            return Err(JobError::User(
                "apply_to_keyed_state needs a KeyedBroadcastProcessFunction: a stream that is not keyed has no keyed \
                 state"
                    .into(),
            ));
        }
        crate::apply_to_keyed_state::apply(state, f)
    }
}

impl<'a, O> Deref for ReadOnlyBroadcastContext<'a, O> {
    type Target = Context<'a, O>;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl<O> DerefMut for ReadOnlyBroadcastContext<'_, O> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

impl<'a, O> Deref for BroadcastContext<'a, O> {
    type Target = Context<'a, O>;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl<O> DerefMut for BroadcastContext<'_, O> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

/// A broadcast map state, read only (Flink's `ReadOnlyBroadcastState`).
pub struct ReadOnlyBroadcastState<'a, K, V> {
    map: Option<&'a BTreeMap<Vec<u8>, Vec<u8>>>,
    _types: PhantomData<fn(K, V)>,
}

/// A broadcast map state, to read and write (Flink's `BroadcastState`).
pub struct BroadcastState<'a, K, V> {
    map: &'a mut BTreeMap<Vec<u8>, Vec<u8>>,
    _types: PhantomData<fn(K, V)>,
}

fn key_bytes<K: Data>(key: &K) -> Result<Vec<u8>, StateError> {
    let mut bytes = Vec::new();
    encode_into(&mut bytes, key).map_err(StateError::Encode)?;
    Ok(bytes)
}

fn value_of<V: Data>(bytes: &[u8]) -> Result<V, StateError> {
    decode(bytes).map_err(|e| StateError::Decode(e.to_string()))
}

fn get<K: Data, V: Data>(map: Option<&BTreeMap<Vec<u8>, Vec<u8>>>, key: &K) -> Result<Option<V>, StateError> {
    let Some(map) = map else { return Ok(None) };
    map.get(&key_bytes(key)?).map(|bytes| value_of(bytes)).transpose()
}

fn entries<K: Data, V: Data>(map: Option<&BTreeMap<Vec<u8>, Vec<u8>>>) -> Result<Vec<(K, V)>, StateError> {
    map.into_iter().flatten().map(|(k, v)| Ok((value_of(k)?, value_of(v)?))).collect()
}

impl<K: Data, V: Data> ReadOnlyBroadcastState<'_, K, V> {
    /// The value of `key`, if it has one.
    pub fn get(&self, key: &K) -> Result<Option<V>, StateError> {
        get(self.map, key)
    }

    /// Whether `key` has a value.
    pub fn contains(&self, key: &K) -> Result<bool, StateError> {
        let key = key_bytes(key)?;
        Ok(self.map.is_some_and(|m| m.contains_key(&key)))
    }

    /// Every entry, in the order of the keys' encodings.
    pub fn entries(&self) -> Result<Vec<(K, V)>, StateError> {
        entries(self.map)
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.map.map_or(0, BTreeMap::len)
    }

    /// Whether the state has no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Data, V: Data> BroadcastState<'_, K, V> {
    /// The value of `key`, if it has one.
    pub fn get(&self, key: &K) -> Result<Option<V>, StateError> {
        get(Some(self.map), key)
    }

    /// Whether `key` has a value.
    pub fn contains(&self, key: &K) -> Result<bool, StateError> {
        Ok(self.map.contains_key(&key_bytes(key)?))
    }

    /// Every entry, in the order of the keys' encodings.
    pub fn entries(&self) -> Result<Vec<(K, V)>, StateError> {
        entries(Some(self.map))
    }

    /// Sets the value of `key`.
    pub fn put(&mut self, key: &K, value: &V) -> Result<(), StateError> {
        let mut bytes = Vec::new();
        encode_into(&mut bytes, value).map_err(StateError::Encode)?;
        self.map.insert(key_bytes(key)?, bytes);
        Ok(())
    }

    /// Removes `key` and its value.
    pub fn remove(&mut self, key: &K) -> Result<(), StateError> {
        self.map.remove(&key_bytes(key)?);
        Ok(())
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the state has no entry.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Keyed and non-keyed broadcast process functions, seen alike by the chain.
pub(crate) trait BroadcastFunction<I, B, O>: 'static {
    fn element(&mut self, value: I, ctx: &mut ReadOnlyBroadcastContext<'_, O>) -> Result<(), JobError>;
    fn broadcast(&mut self, value: B, ctx: &mut BroadcastContext<'_, O>) -> Result<(), JobError>;
    /// `None` for a function without timers.
    fn timer(&mut self, timestamp: i64, ctx: &mut ReadOnlyBroadcastContext<'_, O>) -> Option<Result<(), JobError>>;
}

/// A [`BroadcastProcessFunction`].
pub(crate) struct Plain<F>(pub F);

impl<I, B, O, F: BroadcastProcessFunction<I, B, O>> BroadcastFunction<I, B, O> for Plain<F> {
    fn element(&mut self, value: I, ctx: &mut ReadOnlyBroadcastContext<'_, O>) -> Result<(), JobError> {
        self.0.process_element(value, ctx)
    }
    fn broadcast(&mut self, value: B, ctx: &mut BroadcastContext<'_, O>) -> Result<(), JobError> {
        self.0.process_broadcast_element(value, ctx)
    }
    fn timer(&mut self, _: i64, _: &mut ReadOnlyBroadcastContext<'_, O>) -> Option<Result<(), JobError>> {
        None
    }
}

/// A [`KeyedBroadcastProcessFunction`].
pub(crate) struct Keyed<F>(pub F);

impl<I, B, O, F: KeyedBroadcastProcessFunction<I, B, O>> BroadcastFunction<I, B, O> for Keyed<F> {
    fn element(&mut self, value: I, ctx: &mut ReadOnlyBroadcastContext<'_, O>) -> Result<(), JobError> {
        self.0.process_element(value, ctx)
    }
    fn broadcast(&mut self, value: B, ctx: &mut BroadcastContext<'_, O>) -> Result<(), JobError> {
        self.0.process_broadcast_element(value, ctx)
    }
    fn timer(&mut self, timestamp: i64, ctx: &mut ReadOnlyBroadcastContext<'_, O>) -> Option<Result<(), JobError>> {
        Some(self.0.on_timer(timestamp, ctx))
    }
}
