//! One instance of a job's component in its own store: the sandbox a
//! subtask chain runs in. Every call gets a deadline; a trap, a timeout or
//! a broken contract becomes a [`WasmError`] and never a host panic.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::Store;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use super::bindings::{StreamJob as Job, operator, types};
use super::context::{batch_from_wit, batch_to_wit};
use super::engine::EPOCH_TICK;
use super::host::{GUEST_OUTPUT_CAPACITY, HostState};
use super::limits::{GuestLimiter, SlotMemory};
use super::{JobComponent, WasmError};
use crate::graph::StreamGraph;
use crate::ids::NodeId;
use crate::network::RecordBatch;
use crate::state::StateEntries;

/// What an instance needs besides its component.
#[derive(Clone)]
pub struct InstanceSettings {
    /// Name of the task, for logs.
    pub task: String,
    /// The slot's memory budget.
    pub memory: Arc<SlotMemory>,
    /// Deadline of each guest call.
    pub call_timeout: Duration,
    /// How many times the job restarted before this run; the guest reads
    /// it as the environment variable `WFLINK_ATTEMPT` (e.g. to fail only
    /// on the first attempt in a test).
    pub attempt: u32,
}

/// An instantiated job component.
pub struct GuestInstance {
    pub(super) store: Store<HostState>,
    pub(super) job: Job,
    pub(super) deadline_ticks: u64,
    call_timeout: Duration,
}

impl GuestInstance {
    /// Instantiates `component` in a fresh store.
    pub fn new(component: &JobComponent, settings: InstanceSettings) -> Result<Self, WasmError> {
        let stderr = MemoryOutputPipe::new(GUEST_OUTPUT_CAPACITY);
        let wasi = WasiCtxBuilder::new()
            .stdout(MemoryOutputPipe::new(GUEST_OUTPUT_CAPACITY))
            .stderr(stderr.clone())
            .env("WFLINK_ATTEMPT", settings.attempt.to_string())
            .build();
        let state = HostState {
            wasi,
            table: ResourceTable::new(),
            limiter: GuestLimiter::new(settings.memory),
            stderr,
            task: settings.task,
            counters: Default::default(),
            keyed: Default::default(),
        };
        let mut store = Store::new(&component.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_trap();
        let deadline_ticks = (settings.call_timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64 + 1;
        store.set_epoch_deadline(deadline_ticks);
        let job = component.pre.instantiate(&mut store).map_err(|e| WasmError::Instantiate(format!("{e:#}")))?;
        Ok(GuestInstance { store, job, deadline_ticks, call_timeout: settings.call_timeout })
    }

    /// Calls `describe` and returns the job's StreamGraph.
    pub fn describe(&mut self, args: &[String]) -> Result<StreamGraph, WasmError> {
        self.store.set_epoch_deadline(self.deadline_ticks);
        let result = self.job.wflink_job_job().call_describe(&mut self.store, args);
        let plan = self.check("describe", result)?.map_err(job_error)?;
        Ok(super::plan::stream_graph(plan))
    }

    /// Opens the chain of `node_ids` for one subtask.
    pub fn open(
        &mut self,
        args: &[String],
        node_ids: &[NodeId],
        subtask: operator::SubtaskInfo,
    ) -> Result<(), WasmError> {
        self.store.set_epoch_deadline(self.deadline_ticks);
        let result = self.job.wflink_job_operator().call_open(&mut self.store, args, node_ids, subtask);
        self.check("open", result)?.map_err(job_error)
    }

    /// Runs `input` (and the state of its keys) through the chain; returns
    /// the output records and the changed state. Input buffers are handed
    /// back through `input` emptied, so their allocations are reused.
    pub fn process(
        &mut self,
        input: &mut RecordBatch,
        state: &mut StateEntries,
    ) -> Result<(RecordBatch, StateEntries), WasmError> {
        let batch = batch_to_wit(std::mem::take(input));
        let keyed_state = types::KeyedState {
            keys: std::mem::take(&mut state.keys),
            key_ends: std::mem::take(&mut state.key_ends),
            values: std::mem::take(&mut state.values),
            value_ends: std::mem::take(&mut state.value_ends),
        };
        self.store.set_epoch_deadline(self.deadline_ticks);
        let result = self.job.wflink_job_operator().call_process(&mut self.store, &batch, &keyed_state);
        // Give the buffers back, emptied, for the next batch.
        *input = batch_from_wit(batch);
        input.clear();
        *state = state_from_wit(keyed_state);
        state_clear(state);
        let output = self.check("process", result)?.map_err(job_error)?;
        convert_output("process", output)
    }

    /// Tells the chain that its input has ended; returns what it flushes.
    pub fn finish(&mut self) -> Result<(RecordBatch, StateEntries), WasmError> {
        self.store.set_epoch_deadline(self.deadline_ticks);
        let result = self.job.wflink_job_operator().call_finish(&mut self.store);
        let output = self.check("finish", result)?.map_err(job_error)?;
        convert_output("finish", output)
    }

    /// User counters the guest added through the metrics import.
    pub fn counters(&self) -> &std::collections::HashMap<String, u64> {
        &self.store.data().counters
    }

    /// Turns a wasmtime error into a trap or timeout naming the function.
    pub(super) fn check<T>(&self, function: &'static str, result: wasmtime::Result<T>) -> Result<T, WasmError> {
        result.map_err(|error| {
            if matches!(error.downcast_ref::<wasmtime::Trap>(), Some(wasmtime::Trap::Interrupt)) {
                return WasmError::Timeout { function, timeout: self.call_timeout };
            }
            let stderr = self.store.data().stderr.contents();
            let stderr = tidy_guest_output(&String::from_utf8_lossy(&stderr));
            // Keep the end: the panic message comes last.
            let tail: String = {
                let start = stderr.len().saturating_sub(2000);
                let start = (start..stderr.len()).find(|i| stderr.is_char_boundary(*i)).unwrap_or(stderr.len());
                stderr[start..].to_string()
            };
            let message = match error.downcast_ref::<wasmtime::Trap>() {
                Some(trap) => trap.to_string(),
                None => format!("{error:#}").lines().next().unwrap_or_default().to_string(),
            };
            WasmError::Trap { function, message, stderr: tail }
        })
    }
}

/// A guest's stderr on one line, without the advice Rust's panic
/// handler adds for a terminal (backtraces cannot be enabled in a guest).
fn tidy_guest_output(stderr: &str) -> String {
    stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("note: run with `RUST_BACKTRACE"))
        .map(|line| line.strip_prefix("thread '<unnamed>' (1) ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Moves keyed state's buffers out of the WIT type (no copy).
fn state_from_wit(state: types::KeyedState) -> StateEntries {
    StateEntries { keys: state.keys, key_ends: state.key_ends, values: state.values, value_ends: state.value_ends }
}

fn state_clear(state: &mut StateEntries) {
    state.keys.clear();
    state.key_ends.clear();
    state.values.clear();
    state.value_ends.clear();
}

pub(super) fn convert_output(
    function: &'static str,
    output: operator::ChainOutput,
) -> Result<(RecordBatch, StateEntries), WasmError> {
    let records = batch_from_wit(output.records);
    let state = state_from_wit(output.state);
    records.check().map_err(|detail| WasmError::Contract { function, detail })?;
    state.check().map_err(|detail| WasmError::Contract { function, detail })?;
    Ok((records, state))
}

pub(super) fn job_error(error: types::JobError) -> WasmError {
    WasmError::Job(match error {
        types::JobError::InvalidArguments(m) => format!("invalid job arguments: {m}"),
        types::JobError::InvalidPlan(m) => format!("invalid job plan: {m}"),
        types::JobError::User(m) => format!("user function failed: {m}"),
        types::JobError::Other(m) => m,
    })
}
