//! Operators: the type-erased user nodes the plan keeps, and how they turn
//! into emitters when a chain is opened.
//!
//! The plan stores nodes of different record types side by side, so each
//! hands its emitter over as `Box<dyn Any>` holding a `Box<dyn Emitter<T>>`;
//! the upstream node downcasts it to its own output type, once, at `open`.

use std::any::{Any, type_name};
use std::marker::PhantomData;

use super::emitter::{Emitter, FilterEmitter, FlatMapEmitter, MapEmitter};
use super::output::{BorrowedKeyEncoder, KeyedEncoder, PartitionEncoder, SharedOutput, ValueEncoder};
use super::{Batch, ChainInput, KeyedState};
use crate::codec::decode_record;
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
    /// The partitions a partition-custom node ending the chain picks
    /// among (the next node's parallelism, from `open`); 0 otherwise.
    pub custom_partitions: u32,
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

/// Builds the emitter of a node that ends its chain, around the chain's
/// output, given the chain's environment and the node's label.
type MakeEnding<T> = Box<dyn FnOnce(SharedOutput, &ChainEnv, &str) -> Result<Box<dyn Emitter<T>>, JobError>>;

/// A node that must end its chain, since the edge leaving it partitions
/// records by what it computes: a key-by (hash) or a partition-custom.
struct Ending<T> {
    /// What the node is, for the error when it does not end its chain.
    role: &'static str,
    make: MakeEnding<T>,
}

impl<T: Data> Operator for Ending<T> {
    fn into_emitter(self: Box<Self>, down: Downstream, label: &str, env: &ChainEnv) -> Result<AnyEmitter, JobError> {
        let Downstream::Output(out) = down else {
            return Err(JobError::invalid_plan(format!("{label} is {}, which must end its chain", self.role)));
        };
        let emitter: Box<dyn Emitter<T>> = (self.make)(out, env, label)?;
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

/// What a key-by is, in errors.
const KEY_BY: &str = "a key-by (the edge leaving it is hash-partitioned)";

/// The operator of a `key_by` node.
pub(crate) fn key_by_operator<T: Data, K: Key>(key: impl FnMut(&T) -> K + 'static) -> Box<dyn Operator> {
    Box::new(Ending::<T> { role: KEY_BY, make: Box::new(move |out, _, _| Ok(Box::new(KeyedEncoder { key, out }))) })
}

/// The operator of a `key_by_ref` node: the key is borrowed from the record.
pub(crate) fn key_by_ref_operator<T: Data, K: Key + ?Sized, F>(key: F) -> Box<dyn Operator>
where
    F: for<'a> FnMut(&'a T) -> &'a K + 'static,
{
    let make: MakeEnding<T> =
        Box::new(move |out, _, _| Ok(Box::new(BorrowedKeyEncoder { key, out, _key: PhantomData })));
    Box::new(Ending::<T> { role: KEY_BY, make })
}

/// The operator of a `partition_custom` node: `partitioner` picks, from
/// the key `key` computes, the subtask of the next node each record goes
/// to, among the chain's custom partitions (the next node's parallelism).
pub(crate) fn partition_custom_operator<T: Data, K: 'static>(
    partitioner: impl FnMut(&K, usize) -> usize + 'static,
    key: impl FnMut(&T) -> K + 'static,
) -> Box<dyn Operator> {
    let make: MakeEnding<T> = Box::new(move |out, env, label| {
        if env.custom_partitions == 0 {
            return Err(JobError::invalid_plan(format!(
                "{label} is a partition_custom, but the host gave its chain no partitions to pick among"
            )));
        }
        let partitions = env.custom_partitions as usize;
        Ok(Box::new(PartitionEncoder { key, partitioner, partitions, label: label.to_owned(), out }))
    });
    Box::new(Ending::<T> { role: "a partition_custom (the edge leaving it is custom-partitioned)", make })
}

/// A node that ends its chain by encoding records with their field names
/// (structs as maps), for sinks whose format needs the names.
struct NamedFields<T>(PhantomData<fn(T)>);

impl<T: Data> Operator for NamedFields<T> {
    fn into_emitter(self: Box<Self>, down: Downstream, label: &str, _env: &ChainEnv) -> Result<AnyEmitter, JobError> {
        let emitter: Box<dyn Emitter<T>> = match down {
            Downstream::Output(out) => Box::new(super::output::NamedEncoder { out, _records: PhantomData }),
            // A side output keeps the usual encoding.
            other => downstream::<T>(other, label)?,
        };
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

/// The operator of the node a formatted sink reads through.
pub(crate) fn named_fields_operator<T: Data>() -> Box<dyn Operator> {
    Box::new(NamedFields::<T>(PhantomData))
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
            let value = decode_record::<T>(bytes).map_err(|e| decode_error::<T>(&self.label, e))?;
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
