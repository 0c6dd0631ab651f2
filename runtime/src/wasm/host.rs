//! What a guest's store holds, and the host side of the imports the
//! `wflink:job` world declares (logging, metrics).

use std::collections::HashMap;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{logging, metrics, plan, state, types};
use super::limits::GuestLimiter;

/// Most bytes of a guest's stdout/stderr kept for error messages.
pub(crate) const GUEST_OUTPUT_CAPACITY: usize = 1 << 20;

/// The data of one guest store.
pub(crate) struct HostState {
    /// WASI context: no preopened directories, no network; stdout and
    /// stderr captured so a panic message can be reported.
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    /// Charges memory growth to the slot's budget.
    pub limiter: GuestLimiter,
    /// Guest stderr, read back when a call traps.
    pub stderr: MemoryOutputPipe,
    /// Name of the task, for log lines.
    pub task: String,
    /// User counters added through the metrics import.
    pub counters: HashMap<String, u64>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl types::Host for HostState {}
impl plan::Host for HostState {}

impl logging::Host for HostState {
    fn log(&mut self, level: logging::Level, message: String) {
        let task = self.task.as_str();
        match level {
            logging::Level::Trace => tracing::trace!(target: "wflink::guest", task, "{message}"),
            logging::Level::Debug => tracing::debug!(target: "wflink::guest", task, "{message}"),
            logging::Level::Info => tracing::info!(target: "wflink::guest", task, "{message}"),
            logging::Level::Warn => tracing::warn!(target: "wflink::guest", task, "{message}"),
            logging::Level::Error => tracing::error!(target: "wflink::guest", task, "{message}"),
        }
    }
}

impl metrics::Host for HostState {
    fn counter_add(&mut self, name: String, delta: u64) {
        *self.counters.entry(name).or_default() += delta;
    }
}

impl state::Host for HostState {
    fn get(
        &mut self,
        state_id: u32,
        key: Vec<u8>,
        namespace: Vec<u8>,
        user_key: Vec<u8>,
    ) -> Result<Option<Vec<u8>>, types::StateError> {
        let _ = (state_id, key, namespace, user_key);
        Err(types::StateError::NoKeyedContext)
    }

    fn scan(
        &mut self,
        state_id: u32,
        key: Vec<u8>,
        namespace: Vec<u8>,
        after: Option<Vec<u8>>,
        limit: u32,
    ) -> Result<types::StateEntries, types::StateError> {
        let _ = (state_id, key, namespace, after, limit);
        Err(types::StateError::NoKeyedContext)
    }
}
