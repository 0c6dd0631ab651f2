//! One instance of a job's component in its own store: the sandbox a
//! subtask chain runs in. Every call gets a deadline; a trap, a timeout or
//! a broken contract becomes a [`WasmError`] and never a host panic.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::Store;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::WasiCtxBuilder;

use super::bindings::{StreamJob as Job, operator, types};
use super::context::{batch_from_wit, batch_to_wit};
use super::guest_output::GuestOutput;
use super::host::HostState;
use super::interrupt::{CallLimits, CancelFlag, Cancelled, GuestClock, watch_calls};
use super::limits::{GuestLimiter, SlotMemory};
use super::{JobComponent, WasmError};
use crate::graph::StreamGraph;
use crate::ids::NodeId;
use crate::network::Batch;
use crate::state::KeyedState;

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
    /// The task's cancel flag: setting it stops a running call within
    /// about a tick, even a sleeping one.
    pub cancel: CancelFlag,
}

/// An instantiated job component.
pub struct GuestInstance {
    pub(super) store: Store<HostState>,
    pub(super) job: Job,
    call_timeout: Duration,
}

impl GuestInstance {
    /// Instantiates `component` in a fresh store.
    pub fn new(component: &JobComponent, settings: InstanceSettings) -> Result<Self, WasmError> {
        let task: std::sync::Arc<str> = settings.task.as_str().into();
        let (stdout, stderr) = (GuestOutput::new("stdout", task.clone()), GuestOutput::new("stderr", task));
        let clock = GuestClock::new();
        let wasi = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .monotonic_clock(clock)
            .env("WFLINK_ATTEMPT", settings.attempt.to_string())
            .build();
        let state = HostState {
            wasi,
            table: ResourceTable::new(),
            limiter: GuestLimiter::new(settings.memory),
            limits: CallLimits { deadline: None, cancel: settings.cancel },
            clock,
            stdout,
            stderr,
            task: settings.task,
            counters: Default::default(),
            keyed: Default::default(),
        };
        let mut store = Store::new(&component.engine, state);
        store.limiter(|state| &mut state.limiter);
        watch_calls(&mut store);
        // Instantiation runs the guest's start-up code: it has a deadline too.
        start_call(&mut store, settings.call_timeout);
        let job = component.pre.instantiate(&mut store);
        match job {
            Ok(job) => Ok(GuestInstance { store, job, call_timeout: settings.call_timeout }),
            Err(error) => {
                let failed = classify(&store, "instantiate", settings.call_timeout, error);
                Err(match failed {
                    WasmError::Trap { message, stderr, .. } => {
                        WasmError::Instantiate(format!("{message}{}", super::error::stderr_suffix(&stderr)))
                    }
                    other => other,
                })
            }
        }
    }

    /// Starts the clock of a guest call: its deadline is `wasm.call-timeout` from now.
    pub(super) fn begin_call(&mut self) {
        start_call(&mut self.store, self.call_timeout);
    }

    /// Calls `describe` and returns the job's StreamGraph.
    pub fn describe(&mut self, args: &[String]) -> Result<StreamGraph, WasmError> {
        self.begin_call();
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
        self.begin_call();
        let result = self.job.wflink_job_operator().call_open(&mut self.store, args, node_ids, subtask);
        self.check("open", result)?.map_err(job_error)
    }

    /// Runs `input` (and the state of its keys) through the chain; returns
    /// the output records and the changed state. Input buffers are handed
    /// back through `input` emptied, so their allocations are reused.
    pub fn process(&mut self, input: &mut Batch, state: &mut KeyedState) -> Result<(Batch, KeyedState), WasmError> {
        let batch = batch_to_wit(std::mem::take(input));
        let keyed_state = types::KeyedState {
            keys: std::mem::take(&mut state.keys),
            key_ends: std::mem::take(&mut state.key_ends),
            values: std::mem::take(&mut state.values),
            value_ends: std::mem::take(&mut state.value_ends),
        };
        self.begin_call();
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
    pub fn finish(&mut self) -> Result<(Batch, KeyedState), WasmError> {
        self.begin_call();
        let result = self.job.wflink_job_operator().call_finish(&mut self.store);
        let output = self.check("finish", result)?.map_err(job_error)?;
        convert_output("finish", output)
    }

    /// User counters the guest added through the metrics import.
    pub fn counters(&self) -> &std::collections::HashMap<String, u64> {
        &self.store.data().counters
    }

    /// Turns a wasmtime error into the [`WasmError`] that names what
    /// happened in `function`, and logs what the call left unfinished on
    /// its output.
    pub(super) fn check<T>(&self, function: &'static str, result: wasmtime::Result<T>) -> Result<T, WasmError> {
        let state = self.store.data();
        state.stdout.flush_line();
        state.stderr.flush_line();
        result.map_err(|error| classify(&self.store, function, self.call_timeout, error))
    }
}

fn start_call(store: &mut Store<HostState>, call_timeout: Duration) {
    store.data_mut().limits.deadline = std::time::Instant::now().checked_add(call_timeout);
    store.set_epoch_deadline(1);
}

/// What a failed call of `function` means for the user.
fn classify(store: &Store<HostState>, function: &'static str, timeout: Duration, error: wasmtime::Error) -> WasmError {
    if error.downcast_ref::<Cancelled>().is_some() {
        return WasmError::Cancelled { function };
    }
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return WasmError::Exit { function, code: exit.0 };
    }
    let trap = error.downcast_ref::<wasmtime::Trap>();
    if matches!(trap, Some(wasmtime::Trap::Interrupt)) {
        return WasmError::Timeout { function, timeout };
    }
    let stderr = tidy_guest_output(&String::from_utf8_lossy(&store.data().stderr.tail()));
    // Keep the end: the panic message comes last.
    let tail: String = {
        let start = stderr.len().saturating_sub(2000);
        let start = (start..stderr.len()).find(|i| stderr.is_char_boundary(*i)).unwrap_or(stderr.len());
        stderr[start..].to_string()
    };
    let message = match trap {
        Some(wasmtime::Trap::StackOverflow) => "stack overflow (the guest recursed too deeply)".to_string(),
        Some(wasmtime::Trap::MemoryOutOfBounds) if is_deep_recursion(&error) => {
            "stack overflow (out of bounds memory access deep in a recursion: the guest's stack ran out)".to_string()
        }
        Some(trap) => trap.to_string(),
        None => format!("{error:#}").lines().next().unwrap_or_default().to_string(),
    };
    WasmError::Trap { function, message, stderr: tail }
}

/// Whether a trap's backtrace is one function calling itself: how a
/// guest whose stack lives in its linear memory (Rust, C) overflows it.
fn is_deep_recursion(error: &wasmtime::Error) -> bool {
    let Some(backtrace) = error.downcast_ref::<wasmtime::WasmBacktrace>() else { return false };
    let frames = backtrace.frames();
    frames.len() >= 16 && frames.windows(2).filter(|w| w[0].func_index() == w[1].func_index()).count() >= 12
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
fn state_from_wit(state: types::KeyedState) -> KeyedState {
    KeyedState { keys: state.keys, key_ends: state.key_ends, values: state.values, value_ends: state.value_ends }
}

fn state_clear(state: &mut KeyedState) {
    state.keys.clear();
    state.key_ends.clear();
    state.values.clear();
    state.value_ends.clear();
}

pub(super) fn convert_output(
    function: &'static str,
    output: operator::ChainOutput,
) -> Result<(Batch, KeyedState), WasmError> {
    let records = batch_from_wit(output.records);
    let state = state_from_wit(output.state);
    records.check().map_err(|e| WasmError::Contract { function, detail: e.to_string() })?;
    state.check().map_err(|e| WasmError::Contract { function, detail: e.to_string() })?;
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
