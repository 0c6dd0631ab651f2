//! Broadcast state, as in Flink: a stream turned into a
//! [`BroadcastStream`] with [`DataStream::broadcast_state`] reaches every
//! subtask of the operator it is connected to, which keeps the map states
//! it writes (named by [`MapStateDescriptor`]s) the same in every subtask.
//! The other input, keyed or not, reads them.
//!
//! ```
//! # use wflink_sdk::prelude::*;
//! # fn job(clicks: DataStream<(String, String)>, names: DataStream<(String, String)>) -> DataStream<String> {
//! let names_by_user = MapStateDescriptor::<String, String>::new("names");
//! clicks.connect(names.broadcast_state(&names_by_user)).process(Enrich { names: names_by_user })
//! # }
//! struct Enrich {
//!     names: MapStateDescriptor<String, String>,
//! }
//!
//! impl BroadcastProcessFunction<(String, String), (String, String), String> for Enrich {
//!     fn process_element(
//!         &mut self,
//!         (user, page): (String, String),
//!         ctx: &mut ReadOnlyBroadcastContext<'_, String>,
//!     ) -> Result<(), JobError> {
//!         let name = ctx.broadcast_state(&self.names).get(&user)?.unwrap_or_default();
//!         ctx.collect(format!("{name} visited {page}"));
//!         Ok(())
//!     }
//!
//!     fn process_broadcast_element(
//!         &mut self,
//!         (user, name): (String, String),
//!         ctx: &mut BroadcastContext<'_, String>,
//!     ) -> Result<(), JobError> {
//!         ctx.broadcast_state(&self.names).put(&user, &name)?;
//!         Ok(())
//!     }
//! }
//! ```
//!
//! Each subtask snapshots its own copy at every checkpoint; a restore at
//! any parallelism gives new subtask `i` the copy of old subtask
//! `i mod old parallelism`, as Flink does. The copies are the same only if
//! `process_broadcast_element` depends on nothing but the broadcast
//! records (not on the other input, nor on the subtask).

use std::marker::PhantomData;

use crate::broadcast_process::{Keyed, KeyedBroadcastProcessFunction, Plain};
use crate::chain::broadcast_operator;
use crate::connected::ConnectWith;
use crate::plan::{BroadcastProcessSpec, KeyedProcessSpec, NodeKind, StateDescriptor, StateKind};
use crate::{BroadcastProcessFunction, Data, DataStream, Key, KeyedStream};

/// Names a broadcast map state from keys `K` to values `V` (Flink's
/// `MapStateDescriptor`). Create it once in the build function, pass it to
/// [`DataStream::broadcast_state`] and keep a clone in the process
/// function to reach the state through its context.
pub struct MapStateDescriptor<K, V> {
    pub(crate) id: u32,
    pub(crate) name: String,
    _types: PhantomData<fn(K, V)>,
}

impl<K, V> Clone for MapStateDescriptor<K, V> {
    fn clone(&self) -> Self {
        MapStateDescriptor { id: self.id, name: self.name.clone(), _types: PhantomData }
    }
}

impl<K: Data, V: Data> MapStateDescriptor<K, V> {
    /// A descriptor named `name`, unique among the states of its operator;
    /// a savepoint's broadcast state is matched to it by this name.
    pub fn new(name: &str) -> Self {
        MapStateDescriptor { id: crate::state::state_id(name), name: name.to_owned(), _types: PhantomData }
    }

    /// The state's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn declared(&self) -> StateDescriptor {
        StateDescriptor { id: self.id, name: self.name.clone(), kind: StateKind::Map, lazy: false, ttl_ms: None }
    }
}

/// A stream whose records go to every subtask of the operator it is
/// connected to, with the broadcast states they write there (Flink's
/// `BroadcastStream`). Connect a stream to it with `connect`.
pub struct BroadcastStream<B> {
    stream: DataStream<B>,
    states: Vec<StateDescriptor>,
}

impl<B> BroadcastStream<B> {
    /// Declares one more broadcast map state written by this stream.
    pub fn with_state<K: Data, V: Data>(mut self, descriptor: &MapStateDescriptor<K, V>) -> Self {
        self.states.push(descriptor.declared());
        self
    }
}

impl<T: Data> DataStream<T> {
    /// Broadcasts this stream with the map state `descriptor` (Flink's
    /// `broadcast(descriptor)`): connected to another stream, every record
    /// goes to every subtask of the operator, whose
    /// `process_broadcast_element` writes the state. More states:
    /// [`BroadcastStream::with_state`].
    pub fn broadcast_state<K: Data, V: Data>(self, descriptor: &MapStateDescriptor<K, V>) -> BroadcastStream<T> {
        BroadcastStream { stream: self.broadcast(), states: vec![descriptor.declared()] }
    }
}

/// A stream connected to a [`BroadcastStream`]: run a
/// [`BroadcastProcessFunction`] with `process`.
pub struct BroadcastConnectedStream<T, B> {
    first: DataStream<T>,
    broadcast: BroadcastStream<B>,
}

/// A keyed stream connected to a [`BroadcastStream`]: run a
/// [`KeyedBroadcastProcessFunction`] with `process`.
pub struct KeyedBroadcastConnectedStream<T, B, K> {
    first: DataStream<T>,
    broadcast: BroadcastStream<B>,
    _key: PhantomData<fn() -> K>,
}

impl<T: Data, B: Data> ConnectWith<DataStream<T>> for BroadcastStream<B> {
    type Connected = BroadcastConnectedStream<T, B>;
    fn connect_to(self, first: DataStream<T>) -> Self::Connected {
        BroadcastConnectedStream { first, broadcast: self }
    }
}

impl<T: Data, B: Data, K: Key> ConnectWith<KeyedStream<T, K>> for BroadcastStream<B> {
    type Connected = KeyedBroadcastConnectedStream<T, B, K>;
    fn connect_to(self, first: KeyedStream<T, K>) -> Self::Connected {
        KeyedBroadcastConnectedStream { first: first.into_stream(), broadcast: self, _key: PhantomData }
    }
}

/// Adds the broadcast process node reading `first` (input 0) and the
/// broadcast stream (input 1).
fn add_node<T, B, O>(
    first: DataStream<T>,
    broadcast: BroadcastStream<B>,
    name: &str,
    keyed: Option<KeyedProcessSpec>,
    operator: Box<dyn crate::chain::Operator>,
) -> DataStream<O> {
    let spec = BroadcastProcessSpec { broadcast_states: broadcast.states, keyed };
    let inputs = [first.input(), broadcast.stream.input()];
    let id = first.plan.borrow_mut().add_reading(NodeKind::BroadcastProcess(spec), name, &inputs, Some(operator));
    DataStream::new(first.plan, id)
}

impl<T: Data, B: Data> BroadcastConnectedStream<T, B> {
    /// Runs `f` on both inputs: `process_element` for the records of this
    /// stream, `process_broadcast_element` for those of the broadcast one.
    pub fn process<O: Data, F: BroadcastProcessFunction<T, B, O>>(self, f: F) -> DataStream<O> {
        let operator = broadcast_operator::<T, B, O, _>(Plain(f), false);
        add_node(self.first, self.broadcast, "Broadcast-Process", None, operator)
    }
}

impl<T: Data, B: Data, K: Key> KeyedBroadcastConnectedStream<T, B, K> {
    /// Runs `f` on both inputs, with the keyed states created for `f` and
    /// timers on the keyed side.
    pub fn process<O: Data, F: KeyedBroadcastProcessFunction<T, B, O>>(self, f: F) -> DataStream<O> {
        let keyed = KeyedProcessSpec { states: crate::state::take_declared(), window: None };
        let operator = broadcast_operator::<T, B, O, _>(Keyed(f), true);
        add_node(self.first, self.broadcast, "Keyed Broadcast-Process", Some(keyed), operator)
    }
}
