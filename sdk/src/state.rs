//! Keyed state handles, scoped to the current key, as in Flink:
//! [`ValueState`], [`ListState`], [`MapState`], [`ReducingState`] and
//! [`AggregatingState`].
//!
//! Create them as fields of a keyed process function (`ValueState::new("flag")`);
//! each is declared in the plan under its name. Their values travel with
//! each batch (the host sends the stored state of the batch's keys and
//! takes back what changed), so reading and writing costs no host call.
//! Used outside a keyed function they return [`StateError::NoKeyedContext`].
//! For state too large to travel with every batch, see
//! [`LazyMapState`](crate::LazyMapState) and [`LazyListState`](crate::LazyListState).

use std::cell::RefCell;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::{decode, encode_into};
use crate::context::{self, StateError};
use crate::plan::{StateDescriptor, StateKind};
use crate::state_ttl::{self, StateTtlConfig};
use crate::{AggregateFunction, Data};

thread_local! {
    /// States created since the last keyed operator was added to the plan.
    static DECLARED: RefCell<Vec<StateDescriptor>> = const { RefCell::new(Vec::new()) };
}

/// Takes the states declared since the last call (the builder attaches
/// them to the keyed operator being added).
pub(crate) fn take_declared() -> Vec<StateDescriptor> {
    DECLARED.with(|d| std::mem::take(&mut *d.borrow_mut()))
}

/// The id of a state named `name`: a stable hash, so the plan and every
/// task agree without a registry.
pub(crate) fn state_id(name: &str) -> u32 {
    // FNV-1a, 32 bits.
    name.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ b as u32).wrapping_mul(0x0100_0193))
}

pub(crate) fn declare(name: &str, kind: StateKind, lazy: bool) -> u32 {
    let id = state_id(name);
    DECLARED.with(|d| {
        let mut d = d.borrow_mut();
        if !d.iter().any(|s| s.id == id) {
            d.push(StateDescriptor { id, name: name.to_owned(), kind, lazy, ttl_ms: None });
        }
    });
    id
}

/// Changes the id of the state declared as `old` to `new` and gives it
/// the time to live `ttl_ms` (a state with a time to live gets its own
/// id, see `state_ttl::register`).
pub(crate) fn redeclare(old: u32, new: u32, ttl_ms: i64) {
    DECLARED.with(|d| {
        let mut d = d.borrow_mut();
        if let Some(state) = d.iter_mut().rev().find(|s| s.id == old) {
            state.id = new;
            state.ttl_ms = Some(ttl_ms as u64);
        }
    });
}

fn read<T: DeserializeOwned>(id: u32, ttl: Option<&StateTtlConfig>, user_key: &[u8]) -> Result<Option<T>, StateError> {
    if let Some(config) = ttl {
        return match state_ttl::read_live(id, config, user_key)? {
            Some(bytes) => decode(&bytes).map(Some).map_err(|e| StateError::Decode(e.to_string())),
            None => Ok(None),
        };
    }
    context::with(|c| {
        if !c.keyed {
            return Err(StateError::NoKeyedContext);
        }
        c.load();
        match c.store.get(id, &c.key, &c.namespace, user_key) {
            Some(bytes) => decode(bytes).map(Some).map_err(|e| StateError::Decode(e.to_string())),
            None => Ok(None),
        }
    })
}

pub(crate) fn write_bytes(id: u32, user_key: &[u8], value: Option<Vec<u8>>) -> Result<(), StateError> {
    context::with(|c| {
        if !c.keyed {
            return Err(StateError::NoKeyedContext);
        }
        c.load();
        let context::CallContext { store, key, namespace, .. } = c;
        store.set(id, key, namespace, user_key, value, true);
        Ok(())
    })
}

/// Stores `value` at `user_key` of the current key's state `id`, with the
/// time of the write when the state has a time to live.
fn put<T: Serialize + ?Sized>(
    id: u32,
    ttl: Option<&StateTtlConfig>,
    user_key: &[u8],
    value: &T,
) -> Result<(), StateError> {
    let bytes = encode(value)?;
    write_bytes(id, user_key, Some(if ttl.is_some() { state_ttl::stamp(bytes) } else { bytes }))
}

pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, StateError> {
    let mut buf = Vec::new();
    encode_into(&mut buf, value).map_err(StateError::Encode)?;
    Ok(buf)
}

/// One value per key.
pub struct ValueState<T> {
    id: u32,
    ttl: Option<StateTtlConfig>,
    _value: PhantomData<fn() -> T>,
}

impl<T: Data> ValueState<T> {
    /// Declares the value state `name`.
    pub fn new(name: &str) -> Self {
        ValueState { id: declare(name, StateKind::Value, false), ttl: None, _value: PhantomData }
    }

    /// Gives the value a time to live (see [`StateTtlConfig`]).
    pub fn with_ttl(mut self, config: StateTtlConfig) -> Self {
        self.id = state_ttl::register(self.id, &config, false);
        self.ttl = Some(config);
        self
    }

    /// The current key's value, if set (and not expired).
    pub fn value(&self) -> Result<Option<T>, StateError> {
        read(self.id, self.ttl.as_ref(), &[])
    }

    /// Sets the current key's value.
    pub fn update(&self, value: &T) -> Result<(), StateError> {
        put(self.id, self.ttl.as_ref(), &[], value)
    }

    /// Removes the current key's value.
    pub fn clear(&self) -> Result<(), StateError> {
        write_bytes(self.id, &[], None)
    }
}

/// A list of values per key. Stored as the elements' MessagePack
/// encodings back to back, so `add` appends without decoding the list
/// (with a time to live, each element with its own stamp, see
/// [`wflink_abi::ttl`]).
pub struct ListState<T> {
    id: u32,
    ttl: Option<StateTtlConfig>,
    _value: PhantomData<fn() -> T>,
}

impl<T: Data> ListState<T> {
    /// Declares the list state `name`.
    pub fn new(name: &str) -> Self {
        ListState { id: declare(name, StateKind::List, false), ttl: None, _value: PhantomData }
    }

    /// Gives each element of the list its own time to live (see
    /// [`StateTtlConfig`]), as Flink's list state with a TTL: an element
    /// expires `ttl` after it was added (or, with
    /// [`UpdateType::OnReadAndWrite`](crate::UpdateType::OnReadAndWrite),
    /// last read), and expired elements are never returned.
    pub fn with_ttl(mut self, config: StateTtlConfig) -> Self {
        self.id = state_ttl::register(self.id, &config, true);
        self.ttl = Some(config);
        self
    }

    /// The current key's elements, in insertion order (empty if none;
    /// with a time to live, the elements not expired).
    pub fn get(&self) -> Result<Vec<T>, StateError> {
        if let Some(config) = &self.ttl {
            return state_ttl::read_list(self.id, config, |bytes| {
                decode(bytes).map_err(|e| StateError::Decode(e.to_string()))
            });
        }
        context::with(|c| {
            if !c.keyed {
                return Err(StateError::NoKeyedContext);
            }
            c.load();
            let Some(mut bytes) = c.store.get(self.id, &c.key, &c.namespace, &[]) else {
                return Ok(Vec::new());
            };
            let mut items = Vec::new();
            while !bytes.is_empty() {
                let mut de = rmp_serde::Deserializer::new(&mut bytes);
                items.push(T::deserialize(&mut de).map_err(|e| StateError::Decode(e.to_string()))?);
            }
            Ok(items)
        })
    }

    /// Appends `value` to the current key's list.
    pub fn add(&self, value: &T) -> Result<(), StateError> {
        let encoded = encode(value)?;
        let stamped = self.ttl.is_some();
        context::with(|c| {
            if !c.keyed {
                return Err(StateError::NoKeyedContext);
            }
            c.load();
            let (key, namespace, now) = (c.key.clone(), c.namespace.clone(), c.processing_time);
            let store = &mut c.store;
            let mut bytes = store.get(self.id, &key, &namespace, &[]).map(<[u8]>::to_vec).unwrap_or_default();
            match stamped {
                true => wflink_abi::ttl::push_element(&mut bytes, now, &encoded),
                false => bytes.extend_from_slice(&encoded),
            }
            store.set(self.id, &key, &namespace, &[], Some(bytes), true);
            Ok(())
        })
    }

    /// Replaces the current key's list.
    pub fn update(&self, values: &[T]) -> Result<(), StateError> {
        let mut bytes = Vec::new();
        let now = self.ttl.is_some().then(|| context::with(|c| c.processing_time));
        for v in values {
            match now {
                Some(now) => wflink_abi::ttl::push_element(&mut bytes, now, &encode(v)?),
                None => encode_into(&mut bytes, v).map_err(StateError::Encode)?,
            }
        }
        write_bytes(self.id, &[], (!bytes.is_empty()).then_some(bytes))
    }

    /// Removes the current key's list.
    pub fn clear(&self) -> Result<(), StateError> {
        write_bytes(self.id, &[], None)
    }
}

/// A map per key: one state entry per map key, so the host can also
/// serve it piece by piece.
pub struct MapState<K, V> {
    id: u32,
    ttl: Option<StateTtlConfig>,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K: Data, V: Data> MapState<K, V> {
    /// Declares the map state `name`.
    pub fn new(name: &str) -> Self {
        MapState { id: declare(name, StateKind::Map, false), ttl: None, _types: PhantomData }
    }

    /// Gives each entry of the map its own time to live (see [`StateTtlConfig`]).
    pub fn with_ttl(mut self, config: StateTtlConfig) -> Self {
        self.id = state_ttl::register(self.id, &config, false);
        self.ttl = Some(config);
        self
    }

    /// The value of `key` in the current key's map (if not expired).
    pub fn get(&self, key: &K) -> Result<Option<V>, StateError> {
        read(self.id, self.ttl.as_ref(), &encode(key)?)
    }

    /// Sets `key` to `value` in the current key's map.
    pub fn put(&self, key: &K, value: &V) -> Result<(), StateError> {
        put(self.id, self.ttl.as_ref(), &encode(key)?, value)
    }

    /// Removes `key` from the current key's map.
    pub fn remove(&self, key: &K) -> Result<(), StateError> {
        write_bytes(self.id, &encode(key)?, None)
    }

    /// Whether the current key's map holds `key`.
    pub fn contains(&self, key: &K) -> Result<bool, StateError> {
        Ok(self.get(key)?.is_some())
    }

    /// Every entry of the current key's map (in no particular order; with
    /// a time to live, the entries not expired).
    pub fn entries(&self) -> Result<Vec<(K, V)>, StateError> {
        if let Some(config) = &self.ttl {
            let keys = self.user_keys()?;
            let mut entries = Vec::with_capacity(keys.len());
            for k in keys {
                if let Some(v) = state_ttl::read_live(self.id, config, &k)? {
                    let k = decode(&k).map_err(|e| StateError::Decode(e.to_string()))?;
                    entries.push((k, decode(&v).map_err(|e| StateError::Decode(e.to_string()))?));
                }
            }
            return Ok(entries);
        }
        context::with(|c| {
            if !c.keyed {
                return Err(StateError::NoKeyedContext);
            }
            c.load();
            c.store
                .scan(self.id, &c.key, &c.namespace)
                .map(|(k, v)| {
                    let k = decode(k).map_err(|e| StateError::Decode(e.to_string()))?;
                    let v = decode(v).map_err(|e| StateError::Decode(e.to_string()))?;
                    Ok((k, v))
                })
                .collect()
        })
    }

    /// Removes every entry of the current key's map.
    pub fn clear(&self) -> Result<(), StateError> {
        self.user_keys()?.into_iter().try_for_each(|k| write_bytes(self.id, &k, None))
    }

    /// The encoded keys of the current key's map.
    fn user_keys(&self) -> Result<Vec<Vec<u8>>, StateError> {
        context::with(|c| {
            if !c.keyed {
                return Err(StateError::NoKeyedContext);
            }
            c.load();
            Ok(c.store.scan(self.id, &c.key, &c.namespace).map(|(k, _)| k.to_vec()).collect())
        })
    }
}

/// One value per key, folded with a reduce function on `add`.
pub struct ReducingState<T, F> {
    id: u32,
    ttl: Option<StateTtlConfig>,
    f: F,
    _value: PhantomData<fn() -> T>,
}

impl<T: Data, F: Fn(T, T) -> T> ReducingState<T, F> {
    /// Declares the reducing state `name`, folding with `f`.
    pub fn new(name: &str, f: F) -> Self {
        ReducingState { id: declare(name, StateKind::Reducing, false), ttl: None, f, _value: PhantomData }
    }

    /// Gives the folded value a time to live (see [`StateTtlConfig`]).
    pub fn with_ttl(mut self, config: StateTtlConfig) -> Self {
        self.id = state_ttl::register(self.id, &config, false);
        self.ttl = Some(config);
        self
    }

    /// The current key's folded value (if not expired).
    pub fn get(&self) -> Result<Option<T>, StateError> {
        read(self.id, self.ttl.as_ref(), &[])
    }

    /// Folds `value` into the current key's value.
    pub fn add(&self, value: T) -> Result<(), StateError> {
        let next = match self.get()? {
            Some(current) => (self.f)(current, value),
            None => value,
        };
        put(self.id, self.ttl.as_ref(), &[], &next)
    }

    /// Removes the current key's value.
    pub fn clear(&self) -> Result<(), StateError> {
        write_bytes(self.id, &[], None)
    }
}

/// One accumulator per key, folded with an [`AggregateFunction`] on `add`.
pub struct AggregatingState<A> {
    id: u32,
    ttl: Option<StateTtlConfig>,
    function: RefCell<A>,
}

impl<A: AggregateFunction> AggregatingState<A> {
    /// Declares the aggregating state `name`.
    pub fn new(name: &str, function: A) -> Self {
        let id = declare(name, StateKind::Aggregating, false);
        AggregatingState { id, ttl: None, function: RefCell::new(function) }
    }

    /// Gives the accumulator a time to live (see [`StateTtlConfig`]).
    pub fn with_ttl(mut self, config: StateTtlConfig) -> Self {
        self.id = state_ttl::register(self.id, &config, false);
        self.ttl = Some(config);
        self
    }

    /// The current key's result, if anything was added (and not expired).
    pub fn get(&self) -> Result<Option<A::Out>, StateError> {
        let acc: Option<A::Acc> = read(self.id, self.ttl.as_ref(), &[])?;
        Ok(acc.map(|acc| self.function.borrow_mut().get_result(acc)))
    }

    /// Adds `value` to the current key's accumulator.
    pub fn add(&self, value: A::In) -> Result<(), StateError> {
        let mut f = self.function.borrow_mut();
        let acc = read(self.id, self.ttl.as_ref(), &[])?.unwrap_or_else(|| f.create_accumulator());
        let acc = f.add(value, acc);
        put(self.id, self.ttl.as_ref(), &[], &acc)
    }

    /// Removes the current key's accumulator.
    pub fn clear(&self) -> Result<(), StateError> {
        write_bytes(self.id, &[], None)
    }
}

/// The handles [`apply_to_keyed_state`](crate::BroadcastContext::apply_to_keyed_state) can walk.
mod walkable {
    use super::*;
    use crate::apply_to_keyed_state::{KeyedStateHandle, sealed::Sealed};

    macro_rules! walkable {
        ($($handle:ty => [$($generics:tt)*]),* $(,)?) => {$(
            impl<$($generics)*> Sealed for $handle {}
            impl<$($generics)*> KeyedStateHandle for $handle {
                fn state_id(&self) -> u32 {
                    self.id
                }
            }
        )*};
    }

    walkable! {
        ValueState<T> => [T],
        ListState<T> => [T],
        MapState<K, V> => [K, V],
        ReducingState<T, F> => [T, F],
        AggregatingState<A> => [A],
    }
}
