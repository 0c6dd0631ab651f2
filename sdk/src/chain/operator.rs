//! Operators: the type-erased user nodes the plan keeps, and how they turn
//! into emitters when a chain is opened.
//!
//! The plan stores nodes of different record types side by side, so each
//! hands its emitter over as `Box<dyn Any>` holding a `Box<dyn Emitter<T>>`;
//! the upstream node downcasts it to its own output type, once, at `open`.

use std::any::{Any, type_name};
use std::marker::PhantomData;

use super::emitter::{Emitter, FilterEmitter, FlatMapEmitter, MapEmitter};
use super::output::{BorrowedKeyEncoder, KeyedEncoder, SharedOutput, ValueEncoder};
use super::{Batch, ChainInput, KeyedState};
use crate::codec::decode;
use crate::{Collector, Data, JobError, Key};

/// A `Box<dyn Emitter<T>>` for the record type `T` of some edge, as `Any`.
pub(crate) type AnyEmitter = Box<dyn Any>;

/// What every operator of a chain may need when it is composed: the
/// chain's output buffer (to set record timestamps) and its side outputs.
#[derive(Clone)]
pub(crate) struct ChainEnv {
    /// The main output of the chain.
    pub out: SharedOutput,
    /// The chain's side output emitters.
    pub sides: crate::process::SharedSides,
}

/// What follows a node in its chain.
pub(crate) enum Downstream {
    /// Nothing: the node's records are the chain's output.
    Output(SharedOutput),
    /// The next node's emitter.
    Next(AnyEmitter),
    /// Nothing: the records go to the side output `tag` of the call.
    Side {
        /// The side output tag.
        tag: u32,
        /// The chain's main output (for the current timestamp and errors).
        out: SharedOutput,
    },
}

/// A user node of the plan, before its chain is composed.
pub(crate) trait Operator {
    /// Wraps this node around `down`, for a node that is not first in its
    /// chain. `label` names the node in errors.
    fn into_emitter(self: Box<Self>, down: Downstream, label: &str, env: &ChainEnv) -> Result<AnyEmitter, JobError>;

    /// Wraps this node around `down` as the first node of its chain, which
    /// decodes its input records from the batch.
    fn into_input(
        self: Box<Self>,
        down: Downstream,
        label: &str,
        env: &ChainEnv,
    ) -> Result<Box<dyn ChainInput>, JobError>;
}

/// The emitter a node with output type `T` hands its records to.
pub(crate) fn downstream<T: Data>(down: Downstream, label: &str) -> Result<Box<dyn Emitter<T>>, JobError> {
    match down {
        Downstream::Output(out) => Ok(Box::new(ValueEncoder { out, _records: PhantomData })),
        Downstream::Side { tag, out } => {
            Ok(Box::new(super::timed::SideEncoder::<T> { tag, out, _records: PhantomData }))
        }
        Downstream::Next(any) => any.downcast::<Box<dyn Emitter<T>>>().map(|boxed| *boxed).map_err(|_| {
            JobError::invalid_plan(format!(
                "{label} produces {} but the next node of its chain reads another type",
                type_name::<T>()
            ))
        }),
    }
}

/// A node of one record in, any records out: map, flat-map, filter.
struct Stateless<In, Out, M> {
    /// Builds the node's emitter around the next one.
    make: M,
    _types: PhantomData<fn(In) -> Out>,
}

impl<In: Data, Out: Data, M> Operator for Stateless<In, Out, M>
where
    M: FnOnce(Box<dyn Emitter<Out>>) -> Box<dyn Emitter<In>> + 'static,
{
    fn into_emitter(self: Box<Self>, down: Downstream, label: &str, _env: &ChainEnv) -> Result<AnyEmitter, JobError> {
        Ok(Box::new((self.make)(downstream::<Out>(down, label)?)))
    }

    fn into_input(
        self: Box<Self>,
        down: Downstream,
        label: &str,
        env: &ChainEnv,
    ) -> Result<Box<dyn ChainInput>, JobError> {
        let first = (self.make)(downstream::<Out>(down, label)?);
        let _ = env;
        Ok(Box::new(Decoder { first, label: label.to_owned() }))
    }
}

fn stateless<In: Data, Out: Data, M>(make: M) -> Box<dyn Operator>
where
    M: FnOnce(Box<dyn Emitter<Out>>) -> Box<dyn Emitter<In>> + 'static,
{
    Box::new(Stateless { make, _types: PhantomData })
}

/// The operator of a `map` node.
pub(crate) fn map_operator<T: Data, U: Data>(f: impl FnMut(T) -> U + 'static) -> Box<dyn Operator> {
    stateless::<T, U, _>(move |down| Box::new(MapEmitter { f, down }))
}

/// The operator of a `flat_map` node.
pub(crate) fn flat_map_operator<T: Data, U: Data>(
    f: impl FnMut(T, &mut Collector<'_, U>) + 'static,
) -> Box<dyn Operator> {
    stateless::<T, U, _>(move |down| Box::new(FlatMapEmitter { f, down }))
}

/// The operator of a `filter` node.
pub(crate) fn filter_operator<T: Data>(f: impl FnMut(&T) -> bool + 'static) -> Box<dyn Operator> {
    stateless::<T, T, _>(move |down| Box::new(FilterEmitter { f, down }))
}

/// Builds a key-by's emitter around the chain's output.
type MakeKeyEncoder<T> = Box<dyn FnOnce(SharedOutput) -> Box<dyn Emitter<T>>>;

/// A key-by node: always last in its chain, since the edge leaving it is hash.
struct KeyBy<T> {
    make: MakeKeyEncoder<T>,
}

impl<T: Data> Operator for KeyBy<T> {
    fn into_emitter(self: Box<Self>, down: Downstream, label: &str, _env: &ChainEnv) -> Result<AnyEmitter, JobError> {
        let Downstream::Output(out) = down else {
            return Err(JobError::invalid_plan(format!(
                "{label} is a key-by, which must end its chain (the edge leaving it is hash-partitioned)"
            )));
        };
        let emitter: Box<dyn Emitter<T>> = (self.make)(out);
        Ok(Box::new(emitter))
    }

    fn into_input(
        self: Box<Self>,
        down: Downstream,
        label: &str,
        env: &ChainEnv,
    ) -> Result<Box<dyn ChainInput>, JobError> {
        let first = *self.into_emitter(down, label, env)?.downcast::<Box<dyn Emitter<T>>>().expect("built above");
        Ok(Box::new(Decoder { first, label: label.to_owned() }))
    }
}

/// The operator of a `key_by` node.
pub(crate) fn key_by_operator<T: Data, K: Key>(key: impl FnMut(&T) -> K + 'static) -> Box<dyn Operator> {
    Box::new(KeyBy::<T> { make: Box::new(move |out| Box::new(KeyedEncoder { key, out })) })
}

/// The operator of a `key_by_ref` node: the key is borrowed from the record.
pub(crate) fn key_by_ref_operator<T: Data, K: Key, F>(key: F) -> Box<dyn Operator>
where
    F: for<'a> FnMut(&'a T) -> &'a K + 'static,
{
    Box::new(KeyBy::<T> { make: Box::new(move |out| Box::new(BorrowedKeyEncoder { key, out, _key: PhantomData })) })
}

/// The input of a chain whose first node is stateless: decodes each value
/// as `T` and pushes it down the chain.
pub(crate) struct Decoder<T> {
    /// The first node's emitter.
    pub first: Box<dyn Emitter<T>>,
    /// Names the first node in decode errors.
    pub label: String,
}

impl<T: Data> ChainInput for Decoder<T> {
    fn process(&mut self, input: &Batch, _state: &KeyedState, out: &SharedOutput) -> Result<KeyedState, JobError> {
        let values = super::batch::slices(&input.values, &input.value_ends);
        for (i, bytes) in values.enumerate() {
            let value = decode::<T>(bytes).map_err(|e| decode_error::<T>(&self.label, e))?;
            if let Some(&ts) = input.timestamps.get(i) {
                out.borrow_mut().timestamp = Some(ts);
            }
            self.first.emit(value);
        }
        Ok(KeyedState::default())
    }
}

/// The `user` error for a record the first node cannot read.
pub(crate) fn decode_error<T>(label: &str, error: rmp_serde::decode::Error) -> JobError {
    JobError::User(format!("{label} could not decode its input as {}: {error}", type_name::<T>()))
}
