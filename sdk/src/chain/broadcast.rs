//! The operator of a stream connected to a broadcast stream: a broadcast
//! process function, keyed or not, always the first node of its chain.
//! Input 0 is the processed stream, input 1 the broadcast stream.
//!
//! The broadcast states live in the instance ([`BroadcastStore`]) and are
//! handed to the host whole in `snapshot-state`, as entries with an empty
//! key and namespace; a restored copy comes back in a call with an empty
//! batch, before any record.

use std::collections::BTreeSet;
use std::marker::PhantomData;

use super::emitter::Emitter;
use super::operator::{AnyEmitter, ChainEnv, Downstream, Operator, decode_error, downstream};
use super::output::SharedOutput;
use super::timed::with_label;
use super::{Batch, ChainInput, KeyedState, slices};
use crate::broadcast_process::{BroadcastContext, BroadcastFunction, BroadcastStore, ReadOnlyBroadcastContext};
use crate::codec::decode;
use crate::context::{self, EntryAddress, StateEntries, Timers};
use crate::process::{Context, SharedSides};
use crate::{Data, JobError};

/// A broadcast process node before its chain is composed.
struct BroadcastProcess<I, B, O, F> {
    f: F,
    keyed: bool,
    _types: PhantomData<fn(I, B) -> O>,
}

/// The operator of a `broadcast-process` node.
pub(crate) fn broadcast_operator<I: Data, B: Data, O: Data, F: BroadcastFunction<I, B, O>>(
    f: F,
    keyed: bool,
) -> Box<dyn Operator> {
    Box::new(BroadcastProcess { f, keyed, _types: PhantomData::<fn(I, B) -> O> })
}

impl<I: Data, B: Data, O: Data, F: BroadcastFunction<I, B, O>> Operator for BroadcastProcess<I, B, O, F> {
    fn into_emitter(self: Box<Self>, _down: Downstream, label: &str, _env: &ChainEnv) -> Result<AnyEmitter, JobError> {
        Err(JobError::invalid_plan(format!(
            "{label} reads two inputs, so it must start its chain (a host bug if it does not)"
        )))
    }

    fn into_input(
        self: Box<Self>,
        down: Downstream,
        label: &str,
        env: &ChainEnv,
    ) -> Result<Box<dyn ChainInput>, JobError> {
        Ok(Box::new(BroadcastInput {
            f: self.f,
            keyed: self.keyed,
            store: BroadcastStore::default(),
            down: downstream::<O>(down, label)?,
            sides: env.sides.clone(),
            label: label.to_owned(),
            _input: PhantomData::<fn(I, B)>,
        }))
    }
}

struct BroadcastInput<I, B, O, F> {
    f: F,
    keyed: bool,
    /// This subtask's copy of the broadcast states.
    store: BroadcastStore,
    down: Box<dyn Emitter<O>>,
    sides: SharedSides,
    label: String,
    _input: PhantomData<fn(I, B)>,
}

impl<I: Data, B: Data, O: Data, F: BroadcastFunction<I, B, O>> BroadcastInput<I, B, O, F> {
    /// Runs the records of the processed stream, each with its key when keyed.
    fn elements(&mut self, input: &Batch, out: &SharedOutput) -> Result<(), JobError> {
        if self.keyed && input.key_ends.len() != input.value_ends.len() {
            return Err(JobError::Other(format!("{} received records without keys (a host bug)", self.label)));
        }
        let mut keys = slices(&input.keys, &input.key_ends);
        for (i, bytes) in slices(&input.values, &input.value_ends).enumerate() {
            let value = decode::<I>(bytes).map_err(|e| decode_error::<I>(&self.label, e))?;
            let timestamp = input.timestamps.get(i).copied();
            out.borrow_mut().timestamp = timestamp;
            if self.keyed
                && let Some(key) = keys.next()
            {
                context::set_key(key, timestamp);
            }
            let inner = Context { down: &mut *self.down, sides: &self.sides, timestamp };
            let mut ctx = ReadOnlyBroadcastContext { inner, store: &self.store };
            self.f.element(value, &mut ctx).map_err(|e| with_label(&self.label, e))?;
        }
        Ok(())
    }

    /// Runs the records of the broadcast stream, which have no key: keyed
    /// state and timers are out of their reach.
    fn broadcasts(&mut self, input: &Batch, out: &SharedOutput) -> Result<(), JobError> {
        context::with(|c| c.keyed = false);
        for (i, bytes) in slices(&input.values, &input.value_ends).enumerate() {
            let value = decode::<B>(bytes).map_err(|e| decode_error::<B>(&self.label, e))?;
            let timestamp = input.timestamps.get(i).copied();
            out.borrow_mut().timestamp = timestamp;
            let inner = Context { down: &mut *self.down, sides: &self.sides, timestamp };
            let mut ctx = BroadcastContext { inner, store: &mut self.store, keyed: self.keyed };
            self.f.broadcast(value, &mut ctx).map_err(|e| with_label(&self.label, e))?;
        }
        Ok(())
    }

    /// Takes the restored copy of the broadcast states from the call's
    /// entries (those with an empty key), replacing what the store held.
    fn restore(&mut self) {
        context::with(|c| {
            let mut restored = BTreeSet::new();
            for (key, address, value) in c.raw.iter() {
                if !key.is_empty() {
                    continue;
                }
                let map = self.store.maps.entry(address.state_id).or_default();
                if restored.insert(address.state_id) {
                    map.clear();
                }
                map.insert(address.user_key.to_vec(), value.to_vec());
            }
        });
    }
}

impl<I: Data, B: Data, O: Data, F: BroadcastFunction<I, B, O>> ChainInput for BroadcastInput<I, B, O, F> {
    fn process(&mut self, input: &Batch, _state: &KeyedState, out: &SharedOutput) -> Result<KeyedState, JobError> {
        if input.value_ends.is_empty() {
            self.restore();
            return Ok(KeyedState::default());
        }
        match super::co::current_input() {
            0 => self.elements(input, out)?,
            1 => self.broadcasts(input, out)?,
            other => return Err(JobError::Other(format!("{} has two inputs, not input {other}", self.label))),
        }
        Ok(KeyedState::default())
    }

    fn snapshot_state(&mut self, out: &mut StateEntries) -> Result<(), JobError> {
        for (&state_id, map) in &self.store.maps {
            for (user_key, value) in map {
                out.push(&[], EntryAddress { state_id, namespace: &[], user_key }, value);
            }
        }
        Ok(())
    }

    fn on_timers(&mut self, timers: &Timers, out: &SharedOutput) -> Result<(), JobError> {
        let keys = slices(&timers.keys, &timers.key_ends);
        for (key, &timestamp) in keys.zip(&timers.timestamps) {
            out.borrow_mut().timestamp = Some(timestamp);
            context::set_key(key, Some(timestamp));
            let inner = Context { down: &mut *self.down, sides: &self.sides, timestamp: Some(timestamp) };
            let mut ctx = ReadOnlyBroadcastContext { inner, store: &self.store };
            match self.f.timer(timestamp, &mut ctx) {
                Some(result) => result.map_err(|e| with_label(&self.label, e))?,
                None => return Err(JobError::Other(format!("{} sets no timers (a host bug)", self.label))),
            }
        }
        Ok(())
    }
}
