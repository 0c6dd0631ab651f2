//! The keyed running reduce: always the first node of its chain, as it
//! reads the hash-partitioned output of a key-by.
//!
//! Its state lives in the instance once the host asked it to keep it
//! (WIT `keep-state`, which the host does for every keyed chain): the node
//! updates a [`KeyTable`] kept for the life of the instance, takes from the
//! host only entries restored from a checkpoint (each once), returns no
//! changes, and hands its whole table over at each checkpoint barrier
//! (`snapshot-state`). Without `keep-state` it falls back to the per-call
//! protocol: the host passes the current values of the batch's keys and
//! gets the changed entries back when the call ends.

use std::any::type_name;
use std::marker::PhantomData;

use super::emitter::Emitter;
use super::key_table::KeyTable;
use super::operator::{AnyEmitter, ChainEnv, Downstream, Operator, decode_error, downstream};
use super::output::SharedOutput;
use super::{Batch, ChainInput, KeyedState, batch::slices};
use crate::codec::{decode, encode_into};
use crate::context::{EntryAddress, StateEntries};
use crate::{Data, JobError};

struct Reduce<T, F> {
    f: F,
    _records: PhantomData<fn(T) -> T>,
}

/// The operator of a `reduce` (or `sum_by`) node.
pub(crate) fn reduce_operator<T: Data>(f: impl FnMut(T, T) -> T + 'static) -> Box<dyn Operator> {
    Box::new(Reduce { f, _records: PhantomData })
}

impl<T: Data, F: FnMut(T, T) -> T + 'static> Operator for Reduce<T, F> {
    fn into_emitter(self: Box<Self>, _down: Downstream, label: &str, _env: &ChainEnv) -> Result<AnyEmitter, JobError> {
        Err(JobError::invalid_plan(format!(
            "{label} is a reduce, which must start its chain (it reads the hash-partitioned output of a key-by)"
        )))
    }

    fn into_input(
        self: Box<Self>,
        down: Downstream,
        label: &str,
        _env: &ChainEnv,
    ) -> Result<Box<dyn ChainInput>, JobError> {
        Ok(Box::new(ReduceInput {
            f: self.f,
            down: downstream::<T>(down, label)?,
            table: KeyTable::new(),
            keep: false,
            label: label.to_owned(),
        }))
    }
}

/// A reduce node running as its chain's input.
struct ReduceInput<T, F> {
    /// The user's reduce function.
    f: F,
    /// The rest of the chain.
    down: Box<dyn Emitter<T>>,
    /// State of the keys seen in the current call, or of every key of the
    /// subtask when `keep`.
    table: KeyTable<T>,
    /// Whether the table is kept between calls (after `keep-state`).
    keep: bool,
    /// Names the node in errors.
    label: String,
}

impl<T: Data, F: FnMut(T, T) -> T> ChainInput for ReduceInput<T, F> {
    fn keep_state(&mut self) -> bool {
        self.keep = true;
        true
    }

    /// The running values as entries of state 0 with no namespace: the
    /// host writes them where it writes the running values it holds.
    fn snapshot_state(&mut self, out: &mut StateEntries) -> Result<(), JobError> {
        let mut value = Vec::new();
        let address = EntryAddress { state_id: 0, namespace: &[], user_key: &[] };
        for (key, current) in self.table.live() {
            value.clear();
            encode_into(&mut value, current).map_err(JobError::User)?;
            out.push(key, address, &value);
        }
        Ok(())
    }

    fn process(&mut self, input: &Batch, state: &KeyedState, out: &SharedOutput) -> Result<KeyedState, JobError> {
        if input.key_ends.is_empty() && !input.value_ends.is_empty() {
            return Err(JobError::Other(format!(
                "{} received records without keys; a reduce reads the output of a key-by (a host bug)",
                self.label
            )));
        }
        let Self { f, down, table, keep, label } = self;
        if !*keep {
            table.clear();
        }
        for (key, bytes) in state.entries() {
            let value = decode::<T>(bytes).map_err(|e| {
                JobError::Other(format!("{label} could not decode its state as {}: {e}", type_name::<T>()))
            })?;
            table.slot(key).value = Some(value);
        }

        let keys = slices(&input.keys, &input.key_ends);
        let values = slices(&input.values, &input.value_ends);
        for (i, (key, bytes)) in keys.zip(values).enumerate() {
            let record = decode::<T>(bytes).map_err(|e| decode_error::<T>(label, e))?;
            if let Some(&ts) = input.timestamps.get(i) {
                out.borrow_mut().timestamp = Some(ts);
            }
            let slot = table.slot(key);
            let new = match slot.value.take() {
                Some(current) => f(current, record),
                None => record,
            };
            down.emit_ref(&new);
            slot.value = Some(new);
            slot.changed = !*keep;
        }

        let mut changed = KeyedState::default();
        if *keep {
            return Ok(changed);
        }
        for (key, value) in table.changed() {
            encode_into(&mut changed.values, value).map_err(JobError::User)?;
            changed.push_key(key);
        }
        table.clear();
        Ok(changed)
    }
}
