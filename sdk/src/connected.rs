//! Streams of several inputs: `union` merges streams of one type, and
//! `connect` pairs two streams, of any types, for a function of two
//! inputs ([`ConnectedStreams`]; keyed: [`KeyedConnectedStreams`]).
//! A node of several inputs starts a new task chain, as in Flink.

use std::marker::PhantomData;

use crate::chain;
use crate::co_process::{CoFlatMap, CoMap, CoProcessFunction, KeyedCoProcessFunction};
use crate::plan::{KeyedProcessSpec, NodeKind};
use crate::{Collector, Data, DataStream, Key, KeyedStream};

impl<T: Data> DataStream<T> {
    /// Merges this stream with `others`, all of type `T`, into one stream
    /// with the records of all of them (Flink's `union`). Records of one
    /// input keep their order; between inputs there is none.
    ///
    /// ```
    /// # use wflink_sdk::prelude::*;
    /// # fn all(a: DataStream<String>, b: DataStream<String>, c: DataStream<String>) -> DataStream<String> {
    /// a.union([b, c])
    /// # }
    /// ```
    pub fn union(self, others: impl IntoIterator<Item = DataStream<T>>) -> DataStream<T> {
        let mut inputs = vec![self.input()];
        inputs.extend(others.into_iter().map(|s| s.input()));
        if inputs.len() == 1 {
            return self;
        }
        let id = self.plan.borrow_mut().add_reading(NodeKind::Union, "Union", &inputs, None);
        DataStream::new(self.plan, id)
    }

    /// Pairs this stream with `other` for a function of two inputs
    /// (Flink's `connect`). With a [`DataStream`]: `map` and `flat_map`
    /// with one function per input, or a [`CoProcessFunction`]; `key_by`
    /// for keyed state and timers shared by both inputs. With a
    /// [`BroadcastStream`](crate::BroadcastStream): a
    /// [`BroadcastProcessFunction`](crate::BroadcastProcessFunction).
    pub fn connect<C: ConnectWith<Self>>(self, other: C) -> C::Connected {
        other.connect_to(self)
    }
}

impl<T: Data, K: Key> KeyedStream<T, K> {
    /// Pairs this keyed stream with `other`: a keyed stream with the same
    /// key type, for a [`KeyedCoProcessFunction`], or a
    /// [`BroadcastStream`](crate::BroadcastStream), for a
    /// [`KeyedBroadcastProcessFunction`](crate::KeyedBroadcastProcessFunction).
    pub fn connect<C: ConnectWith<Self>>(self, other: C) -> C::Connected {
        other.connect_to(self)
    }
}

/// What `connect` pairs a stream `S` with: another stream, or a broadcast
/// stream; `Connected` is what the pair offers (Flink's `connect`
/// overloads).
pub trait ConnectWith<S> {
    /// The connected pair.
    type Connected;
    /// Pairs `first` (input 0) with `self` (input 1).
    fn connect_to(self, first: S) -> Self::Connected;
}

impl<T: Data, U: Data> ConnectWith<DataStream<T>> for DataStream<U> {
    type Connected = ConnectedStreams<T, U>;
    fn connect_to(self, first: DataStream<T>) -> Self::Connected {
        ConnectedStreams { first, second: self }
    }
}

impl<T: Data, U: Data, K: Key> ConnectWith<KeyedStream<T, K>> for KeyedStream<U, K> {
    type Connected = KeyedConnectedStreams<T, U, K>;
    fn connect_to(self, first: KeyedStream<T, K>) -> Self::Connected {
        KeyedConnectedStreams { first: first.into_stream(), second: self.into_stream(), _key: PhantomData }
    }
}

/// Two streams paired by [`DataStream::connect`].
pub struct ConnectedStreams<A, B> {
    first: DataStream<A>,
    second: DataStream<B>,
}

/// Adds the node of two inputs reading `first` and `second`.
fn two_inputs<A, B, O>(
    first: DataStream<A>,
    second: DataStream<B>,
    kind: NodeKind,
    name: &str,
    operator: Box<dyn chain::Operator>,
) -> DataStream<O> {
    let inputs = [first.input(), second.input()];
    let id = first.plan.borrow_mut().add_reading(kind, name, &inputs, Some(operator));
    DataStream::new(first.plan, id)
}

impl<A: Data, B: Data> ConnectedStreams<A, B> {
    /// Turns each record of the first input into one record with `f1`,
    /// each of the second with `f2` (Flink's CoMap).
    pub fn map<O, F1, F2>(self, f1: F1, f2: F2) -> DataStream<O>
    where
        O: Data,
        F1: FnMut(A) -> O + 'static,
        F2: FnMut(B) -> O + 'static,
    {
        self.process_named("Co-Map", CoMap { f1, f2, _types: PhantomData })
    }

    /// Turns each record of the first input into any number of records
    /// with `f1`, each of the second with `f2` (Flink's CoFlatMap).
    pub fn flat_map<O, F1, F2>(self, f1: F1, f2: F2) -> DataStream<O>
    where
        O: Data,
        F1: FnMut(A, &mut Collector<'_, O>) + 'static,
        F2: FnMut(B, &mut Collector<'_, O>) + 'static,
    {
        self.process_named("Co-Flat Map", CoFlatMap { f1, f2, _types: PhantomData })
    }

    /// Runs a [`CoProcessFunction`] on the records of both inputs.
    pub fn process<O, F>(self, f: F) -> DataStream<O>
    where
        O: Data,
        F: CoProcessFunction<A, B, O>,
    {
        self.process_named("Co-Process", f)
    }

    /// Keys the first input by `key1` and the second by `key2`, which
    /// must compute the same key type: records of both inputs with equal
    /// keys meet in one subtask and share that key's state and timers.
    pub fn key_by<K, F1, F2>(self, key1: F1, key2: F2) -> KeyedConnectedStreams<A, B, K>
    where
        K: Key,
        F1: FnMut(&A) -> K + 'static,
        F2: FnMut(&B) -> K + 'static,
    {
        self.first.key_by(key1).connect(self.second.key_by(key2))
    }

    fn process_named<O: Data>(self, name: &str, f: impl CoProcessFunction<A, B, O>) -> DataStream<O> {
        two_inputs(self.first, self.second, NodeKind::CoProcess, name, chain::co_process_operator(f))
    }
}

/// Two keyed streams paired by [`KeyedStream::connect`] or
/// [`ConnectedStreams::key_by`].
pub struct KeyedConnectedStreams<A, B, K> {
    first: DataStream<A>,
    second: DataStream<B>,
    _key: PhantomData<fn() -> K>,
}

impl<A: Data, B: Data, K: Key> KeyedConnectedStreams<A, B, K> {
    /// Runs a [`KeyedCoProcessFunction`] on the records of both inputs,
    /// with the state handles created for `f` and timers, per key.
    pub fn process<O, F>(self, f: F) -> DataStream<O>
    where
        O: Data,
        F: KeyedCoProcessFunction<A, B, O>,
    {
        let states = crate::state::take_declared();
        let kind = NodeKind::KeyedCoProcess(KeyedProcessSpec { states, window: None });
        two_inputs(self.first, self.second, kind, "Keyed Co-Process", chain::keyed_co_process_operator(f))
    }
}
