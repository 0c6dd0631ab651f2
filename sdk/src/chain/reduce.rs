//! The keyed running reduce, and any other [`KeyedStep`] (one state value
//! per key, updated record by record, e.g. a count window): always the
//! first node of its chain, as it reads the hash-partitioned output of a
//! key-by.
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

/// What a node on the keyed-reduce path does with one record: it reads
/// and replaces its key's state (`None` before the key's first record)
/// and emits what it emits. A running reduce is one; a count window
/// (`window::count`) is another.
pub(crate) trait KeyedStep: 'static {
    /// The records it reads.
    type In: Data;
    /// The state it keeps per key.
    type State: Data;
    /// The records it emits.
    type Out: Data;
    /// Handles one record of the key whose bytes are `key`.
    fn step(
        &mut self,
        key: &[u8],
        state: &mut Option<Self::State>,
        record: Self::In,
        down: &mut dyn Emitter<Self::Out>,
    ) -> Result<(), JobError>;
}

/// A running reduce: the state is the key's reduced value, emitted after
/// every record.
struct ReduceStep<T, F> {
    f: F,
    _records: PhantomData<fn(T) -> T>,
}

impl<T: Data, F: FnMut(T, T) -> T + 'static> KeyedStep for ReduceStep<T, F> {
    type In = T;
    type State = T;
    type Out = T;
    #[inline]
    fn step(
        &mut self,
        _key: &[u8],
        state: &mut Option<T>,
        record: T,
        down: &mut dyn Emitter<T>,
    ) -> Result<(), JobError> {
        let new = match state.take() {
            Some(current) => (self.f)(current, record),
            None => record,
        };
        down.emit_ref(&new);
        *state = Some(new);
        Ok(())
    }
}

/// The operator of a `reduce` (or `sum_by`, `min`, ...) node.
pub(crate) fn reduce_operator<T: Data>(f: impl FnMut(T, T) -> T + 'static) -> Box<dyn Operator> {
    keyed_step_operator(ReduceStep { f, _records: PhantomData })
}

/// The operator of a node on the keyed-reduce path.
pub(crate) fn keyed_step_operator<S: KeyedStep>(step: S) -> Box<dyn Operator> {
    Box::new(KeyedStepOperator(step))
}

struct KeyedStepOperator<S>(S);

impl<S: KeyedStep> Operator for KeyedStepOperator<S> {
    fn into_emitter(self: Box<Self>, _down: Downstream, label: &str, _env: &ChainEnv) -> Result<AnyEmitter, JobError> {
        Err(JobError::invalid_plan(format!(
            "{label} is a keyed reduce, which must start its chain (it reads the hash-partitioned output of a key-by)"
        )))
    }

    fn into_input(
        self: Box<Self>,
        down: Downstream,
        label: &str,
        _env: &ChainEnv,
    ) -> Result<Box<dyn ChainInput>, JobError> {
        Ok(Box::new(ReduceInput {
            step: self.0,
            down: downstream::<S::Out>(down, label)?,
            table: KeyTable::new(),
            keep: false,
            label: label.to_owned(),
        }))
    }
}

/// A keyed-reduce node running as its chain's input.
struct ReduceInput<S: KeyedStep> {
    /// What the node does with a record.
    step: S,
    /// The rest of the chain.
    down: Box<dyn Emitter<S::Out>>,
    /// State of the keys seen in the current call, or of every key of the
    /// subtask when `keep`.
    table: KeyTable<S::State>,
    /// Whether the table is kept between calls (after `keep-state`).
    keep: bool,
    /// Names the node in errors.
    label: String,
}

impl<S: KeyedStep> ChainInput for ReduceInput<S> {
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
        let Self { step, down, table, keep, label } = self;
        if !*keep {
            table.clear();
        }
        for (key, bytes) in state.entries() {
            let value = decode::<S::State>(bytes).map_err(|e| {
                JobError::Other(format!("{label} could not decode its state as {}: {e}", type_name::<S::State>()))
            })?;
            table.slot(key).value = Some(value);
        }

        let keys = slices(&input.keys, &input.key_ends);
        let values = slices(&input.values, &input.value_ends);
        for (i, (key, bytes)) in keys.zip(values).enumerate() {
            let record = decode::<S::In>(bytes).map_err(|e| decode_error::<S::In>(label, e))?;
            if let Some(&ts) = input.timestamps.get(i) {
                out.borrow_mut().timestamp = Some(ts);
            }
            let slot = table.slot(key);
            step.step(key, &mut slot.value, record, &mut **down)?;
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
