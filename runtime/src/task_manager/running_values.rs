//! The running values of a keyed chain without context (a reduce, `sum`):
//! where they live between batches and how they reach a checkpoint.
//!
//! The host offers the chain to keep them in its own memory (WIT
//! `keep-state`), as Flink's heap backend keeps state in the task. A chain
//! that accepts receives only entries restored from a checkpoint (all of
//! them with the first batch after the restore, each once), returns no
//! changes, and hands its whole table over at each barrier
//! (`snapshot-state`). A chain that declines (the Python, JavaScript and C
//! libraries) keeps the per-call protocol: the host gathers the state of
//! each batch's keys before the call and writes the changed entries back.
//! The host's built-in aggregations keep their running records here too
//! (the guest is not involved).

use std::ops::Range;

use crate::network::Batch;
use crate::operator::{Aggregator, ContractError, TaskError};
use crate::state::{self, EntryPosition, GroupedEntries, KeyedState, KeyedStateBackend, MemoryStateBackend};
use crate::wasm::GuestInstance;

/// The running values of one subtask's keyed chain.
pub(super) struct RunningValues {
    /// What the host holds: every value (per-call protocol), or the
    /// restored values not handed over yet (kept by the guest).
    backend: MemoryStateBackend,
    /// Whether the guest keeps the values (it answered `keep-state`).
    kept_by_guest: bool,
    /// Reused buffer for the values sent with a batch.
    state_in: KeyedState,
    /// Where each entry of `state_in` sits in the backend (per-call protocol).
    positions: Vec<EntryPosition>,
    key_groups: Range<u32>,
    max_parallelism: u32,
}

impl RunningValues {
    /// Empty values for the key groups `key_groups`.
    pub fn new(key_groups: Range<u32>, max_parallelism: u32) -> Self {
        RunningValues {
            backend: MemoryStateBackend::new(key_groups.clone()),
            kept_by_guest: false,
            state_in: KeyedState::default(),
            positions: Vec::new(),
            key_groups,
            max_parallelism,
        }
    }

    /// Asks the chain to keep the values itself (once, after `open`).
    pub fn offer_keeping(&mut self, guest: &mut GuestInstance) -> Result<(), TaskError> {
        self.kept_by_guest = guest.keep_state()?;
        Ok(())
    }

    /// Runs `batch` through the chain with the values it needs; returns
    /// the records. `batch` comes back emptied.
    pub fn process(&mut self, guest: &mut GuestInstance, batch: &mut Batch) -> Result<Batch, TaskError> {
        if !self.kept_by_guest {
            state::gather(&self.backend, batch, self.max_parallelism, &mut self.state_in, &mut self.positions);
        } else if !self.backend.is_empty() {
            self.hand_over_restored();
        }
        let (records, changed) = guest.process(batch, &mut self.state_in)?;
        self.apply(&changed, true)?;
        Ok(records)
    }

    /// Folds `batch` into the running records of the host's aggregation,
    /// appending its output to `out`.
    pub fn aggregate(&mut self, aggregator: &mut Aggregator, batch: &Batch, out: &mut Batch) -> Result<(), TaskError> {
        aggregator.process(&mut self.backend, batch, out)?;
        Ok(())
    }

    /// Takes the changes of the chain's last call (`finish`).
    pub fn finish(&mut self, changed: &KeyedState) -> Result<(), TaskError> {
        self.apply(changed, false)
    }

    /// Writes back what a call changed (per-call protocol); a chain that
    /// keeps its values must return none.
    fn apply(&mut self, changed: &KeyedState, in_place: bool) -> Result<(), TaskError> {
        if changed.is_empty() {
            return Ok(());
        }
        if self.kept_by_guest {
            let detail = "the chain keeps its running values but returned changed entries".to_owned();
            return Err(ContractError::Contract(detail).into());
        }
        let positions = if in_place { &self.positions[..] } else { &[] };
        state::apply(&mut self.backend, changed, self.max_parallelism, positions).map_err(ContractError::Contract)?;
        Ok(())
    }

    /// Moves every restored value into `state_in`, to go with the next call.
    fn hand_over_restored(&mut self) {
        for group in self.key_groups.clone() {
            let out = &mut self.state_in;
            self.backend.for_each_in_group(group, &mut |key, value| out.push(key, value));
        }
        tracing::debug!(entries = self.backend.len(), "restored running values handed over to the chain");
        self.backend = MemoryStateBackend::new(self.key_groups.clone());
    }

    /// The values the host holds (for snapshots).
    pub fn backend(&self) -> &dyn KeyedStateBackend {
        &self.backend
    }

    /// Where restored values go.
    pub fn backend_mut(&mut self) -> &mut dyn KeyedStateBackend {
        &mut self.backend
    }

    /// For a chain that keeps its values: every value it holds, by key
    /// group, for a checkpoint (the backend holds the rest).
    pub fn kept(&self, guest: &mut GuestInstance) -> Result<Option<GroupedEntries>, TaskError> {
        if !self.kept_by_guest {
            return Ok(None);
        }
        let held = guest.snapshot_state()?;
        let kept = GroupedEntries::new(held, self.key_groups.clone(), self.max_parallelism)
            .map_err(ContractError::Contract)?;
        tracing::debug!(entries = kept.len(), "running values handed over by the chain");
        Ok(Some(kept))
    }

    /// Number of values the host holds.
    pub fn len(&self) -> usize {
        self.backend.len()
    }
}
