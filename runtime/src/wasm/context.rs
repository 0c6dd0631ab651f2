//! Calls into chains that use time, named keyed state, timers or side
//! outputs (`process-with-context`, `on-timers`), and the conversions of
//! their flat buffers. Buffers are moved, never copied per record.

use super::WasmError;
use super::bindings::{operator, types};
use super::instance::{GuestInstance, convert_output, job_error};
use crate::network::Batch;
use crate::state::{NamedStateBackend, StateEntries};
use crate::time::{TimeDomain, Timers};

/// What a contextual call returned, checked.
#[derive(Debug, Default)]
pub struct ContextOutput {
    /// Main output records.
    pub records: Batch,
    /// Side output records and the tag of each.
    pub side_records: Batch,
    /// Tag of each side output record.
    pub side_tags: Vec<u32>,
    /// State entries written (empty value: deleted).
    pub state: StateEntries,
    /// Timers registered.
    pub timers_registered: Timers,
    /// Timers deleted.
    pub timers_deleted: Timers,
}

/// The time a call is made at.
#[derive(Debug, Clone, Copy)]
pub struct CallTime {
    /// The operator's current watermark.
    pub watermark: i64,
    /// The wall clock in ms.
    pub processing_time: i64,
    /// The input of a two-input operator the batch came from (0 otherwise).
    pub input: u32,
}

impl GuestInstance {
    /// Hands the chain its named keyed state, so the `state` import can
    /// read lazy states during calls.
    pub fn set_named_state(&mut self, backend: Box<dyn NamedStateBackend>, declared: Vec<u32>, max_parallelism: u32) {
        let keyed = &mut self.store.data_mut().keyed;
        keyed.backend = Some(backend);
        keyed.declared = declared;
        keyed.max_parallelism = max_parallelism;
    }

    /// The chain's named keyed state, if it has any.
    pub fn named_state(&mut self) -> Option<&mut (dyn NamedStateBackend + 'static)> {
        self.store.data_mut().keyed.backend.as_deref_mut()
    }

    /// Runs `input` with the entries of its keys through the chain
    /// (`process-with-context`). `input` and `state` come back emptied.
    pub fn process_with_context(
        &mut self,
        input: &mut Batch,
        state: &mut StateEntries,
        time: CallTime,
    ) -> Result<ContextOutput, WasmError> {
        let batch = batch_to_wit(std::mem::take(input));
        let entries = entries_to_wit(std::mem::take(state));
        self.begin_call();
        self.store.data_mut().keyed.in_call = true;
        let result = self.job.wflink_job_operator().call_process_with_context(
            &mut self.store,
            &batch,
            &entries,
            time_to_wit(time),
        );
        self.store.data_mut().keyed.in_call = false;
        *input = batch_from_wit(batch);
        input.clear();
        *state = entries_from_wit(entries);
        state.clear();
        let output = self.check("process-with-context", result)?.map_err(job_error)?;
        convert_context_output("process-with-context", output)
    }

    /// Asks the chain to keep its named keyed state in its own memory
    /// (`keep-state`); true when it will, so the host sends each entry at
    /// most once and asks for the whole state at checkpoints.
    pub fn keep_state(&mut self) -> Result<bool, WasmError> {
        self.begin_call();
        let result = self.job.wflink_job_operator().call_keep_state(&mut self.store);
        self.check("keep-state", result)
    }

    /// Every entry the chain keeps in its memory (`snapshot-state`), checked.
    pub fn snapshot_state(&mut self) -> Result<StateEntries, WasmError> {
        self.begin_call();
        let result = self.job.wflink_job_operator().call_snapshot_state(&mut self.store);
        let entries = entries_from_wit(self.check("snapshot-state", result)?.map_err(job_error)?);
        entries.check().map_err(|e| WasmError::Contract { function: "snapshot-state", detail: e.to_string() })?;
        Ok(entries)
    }

    /// Fires `timers` with the entries of their keys (`on-timers`).
    pub fn on_timers(
        &mut self,
        timers: &Timers,
        state: &mut StateEntries,
        time: CallTime,
    ) -> Result<ContextOutput, WasmError> {
        let fired = timers_to_wit(timers.clone());
        let entries = entries_to_wit(std::mem::take(state));
        self.begin_call();
        self.store.data_mut().keyed.in_call = true;
        let result =
            self.job.wflink_job_operator().call_on_timers(&mut self.store, &fired, &entries, time_to_wit(time));
        self.store.data_mut().keyed.in_call = false;
        *state = entries_from_wit(entries);
        state.clear();
        let output = self.check("on-timers", result)?.map_err(job_error)?;
        convert_context_output("on-timers", output)
    }
}

fn time_to_wit(time: CallTime) -> types::TimeContext {
    types::TimeContext { watermark: time.watermark, processing_time: time.processing_time, input: time.input }
}

/// Moves a batch's buffers into the WIT type (no copy).
pub(super) fn batch_to_wit(b: Batch) -> types::Batch {
    types::Batch {
        values: b.values,
        value_ends: b.value_ends,
        keys: b.keys,
        key_ends: b.key_ends,
        timestamps: b.timestamps,
    }
}

/// Moves a WIT batch's buffers into the runtime type (no copy).
pub(super) fn batch_from_wit(b: types::Batch) -> Batch {
    Batch { values: b.values, value_ends: b.value_ends, keys: b.keys, key_ends: b.key_ends, timestamps: b.timestamps }
}

pub(super) fn entries_to_wit(e: StateEntries) -> types::StateEntries {
    types::StateEntries {
        state_ids: e.state_ids,
        keys: e.keys,
        key_ends: e.key_ends,
        namespaces: e.namespaces,
        namespace_ends: e.namespace_ends,
        user_keys: e.user_keys,
        user_key_ends: e.user_key_ends,
        values: e.values,
        value_ends: e.value_ends,
    }
}

fn entries_from_wit(e: types::StateEntries) -> StateEntries {
    StateEntries {
        state_ids: e.state_ids,
        keys: e.keys,
        key_ends: e.key_ends,
        namespaces: e.namespaces,
        namespace_ends: e.namespace_ends,
        user_keys: e.user_keys,
        user_key_ends: e.user_key_ends,
        values: e.values,
        value_ends: e.value_ends,
    }
}

fn timers_to_wit(t: Timers) -> types::Timers {
    types::Timers {
        keys: t.keys,
        key_ends: t.key_ends,
        namespaces: t.namespaces,
        namespace_ends: t.namespace_ends,
        timestamps: t.timestamps,
        domains: t
            .domains
            .into_iter()
            .map(|d| match d {
                TimeDomain::EventTime => types::TimeDomain::EventTime,
                TimeDomain::ProcessingTime => types::TimeDomain::ProcessingTime,
            })
            .collect(),
    }
}

fn timers_from_wit(t: types::Timers) -> Timers {
    Timers {
        keys: t.keys,
        key_ends: t.key_ends,
        namespaces: t.namespaces,
        namespace_ends: t.namespace_ends,
        timestamps: t.timestamps,
        domains: t
            .domains
            .into_iter()
            .map(|d| match d {
                types::TimeDomain::EventTime => TimeDomain::EventTime,
                types::TimeDomain::ProcessingTime => TimeDomain::ProcessingTime,
            })
            .collect(),
    }
}

fn convert_context_output(function: &'static str, output: operator::ContextOutput) -> Result<ContextOutput, WasmError> {
    let contract = |detail: String| WasmError::Contract { function, detail };
    let layout = |error: wflink_abi::LayoutError| contract(error.to_string());
    let (records, _) = convert_output(
        function,
        operator::ChainOutput {
            records: output.records,
            state: types::KeyedState { keys: vec![], key_ends: vec![], values: vec![], value_ends: vec![] },
        },
    )?;
    let side_records = batch_from_wit(output.side_outputs.records);
    side_records.check().map_err(layout)?;
    if output.side_outputs.tags.len() != side_records.len() {
        return Err(contract(format!(
            "{} side output tags for {} side output records",
            output.side_outputs.tags.len(),
            side_records.len()
        )));
    }
    let state = entries_from_wit(output.state);
    state.check().map_err(layout)?;
    let timers_registered = timers_from_wit(output.timers_registered);
    timers_registered.check().map_err(layout)?;
    let timers_deleted = timers_from_wit(output.timers_deleted);
    timers_deleted.check().map_err(layout)?;
    Ok(ContextOutput {
        records,
        side_records,
        side_tags: output.side_outputs.tags,
        state,
        timers_registered,
        timers_deleted,
    })
}
