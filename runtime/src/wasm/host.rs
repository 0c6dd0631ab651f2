//! What a guest's store holds, and the host side of the imports the
//! `wflink:job` world declares (logging, metrics).

use std::collections::HashMap;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{logging, metrics, plan, state, types};
use super::guest_output::GuestOutput;
use super::interrupt::{CallLimits, GuestClock};
use super::limits::GuestLimiter;
use crate::state::{EntryAddress, NamedStateBackend, StateEntries, StateKey};

/// The data of one guest store.
pub(crate) struct HostState {
    /// WASI context: no preopened directories, no network; stdout and
    /// stderr go to the log.
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    /// Charges memory growth to the slot's budget.
    pub limiter: GuestLimiter,
    /// The running call's deadline and the task's cancel flag.
    pub limits: CallLimits,
    /// The clock WASI's monotonic clock reads.
    pub clock: GuestClock,
    /// Guest stdout, logged line by line.
    pub stdout: GuestOutput,
    /// Guest stderr, logged, and its end read back when a call traps.
    pub stderr: GuestOutput,
    /// Name of the task, for log lines.
    pub task: String,
    /// User counters added through the metrics import.
    pub counters: HashMap<String, u64>,
    /// Named keyed state of the chain, reachable by the `state` import
    /// while a keyed call runs.
    pub keyed: KeyedContext,
}

/// The named keyed state a guest may read per call (the `state` import).
#[derive(Default)]
pub(crate) struct KeyedContext {
    /// The chain's named state, for a chain with a keyed-process node.
    pub backend: Option<Box<dyn NamedStateBackend>>,
    /// Whether a keyed call (`process-with-context`, `on-timers`) runs now.
    pub in_call: bool,
    /// Number of key groups.
    pub max_parallelism: u32,
    /// State ids the chain declared.
    pub declared: Vec<u32>,
}

impl KeyedContext {
    /// The backend and key group of `key`, or why the guest may not read it.
    fn reach<'k>(
        &self,
        state_id: u32,
        key: &'k [u8],
    ) -> Result<(&dyn NamedStateBackend, StateKey<'k>), types::StateError> {
        let backend = match (&self.backend, self.in_call) {
            (Some(backend), true) => backend.as_ref(),
            _ => return Err(types::StateError::NoKeyedContext),
        };
        if !self.declared.contains(&state_id) {
            return Err(types::StateError::UnknownState(state_id));
        }
        let key = StateKey::new(key, self.max_parallelism);
        if !backend.owns(key.group) {
            return Err(types::StateError::ForeignKey);
        }
        Ok((backend, key))
    }
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

/// At most this many distinct counters per task: each is reported with every heartbeat and kept by the JobManager,
/// so a guest inventing names cannot grow either without bound. Further names are dropped.
pub(crate) const MAX_COUNTERS: usize = 64;
/// Longer counter names are dropped, for the same reason.
pub(crate) const MAX_COUNTER_NAME: usize = 128;

impl metrics::Host for HostState {
    fn counter_add(&mut self, name: String, delta: u64) {
        if !add_counter(&mut self.counters, name, delta) {
            tracing::debug!(task = self.task.as_str(), "counter dropped: too many counters or too long a name");
        }
    }
}

/// Adds `delta` to counter `name`, saturating; a new name only within [`MAX_COUNTERS`] and [`MAX_COUNTER_NAME`].
/// False when the counter was dropped.
fn add_counter(counters: &mut HashMap<String, u64>, name: String, delta: u64) -> bool {
    if let Some(count) = counters.get_mut(&name) {
        *count = count.saturating_add(delta);
    } else if counters.len() < MAX_COUNTERS && name.len() <= MAX_COUNTER_NAME {
        counters.insert(name, delta);
    } else {
        return false;
    }
    true
}

impl state::Host for HostState {
    fn get(
        &mut self,
        state_id: u32,
        key: Vec<u8>,
        namespace: Vec<u8>,
        user_key: Vec<u8>,
    ) -> Result<Option<Vec<u8>>, types::StateError> {
        let (backend, key) = self.keyed.reach(state_id, &key)?;
        let address = EntryAddress { state_id, namespace: &namespace, user_key: &user_key };
        Ok(backend.get(key, address).map(<[u8]>::to_vec))
    }

    fn scan(
        &mut self,
        state_id: u32,
        key: Vec<u8>,
        namespace: Vec<u8>,
        after: Option<Vec<u8>>,
        limit: u32,
    ) -> Result<types::StateEntries, types::StateError> {
        let (backend, key) = self.keyed.reach(state_id, &key)?;
        let mut out = StateEntries::default();
        backend.scan(key, state_id, &namespace, after.as_deref(), limit.min(65_536) as usize, &mut out);
        Ok(super::context::entries_to_wit(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A guest cannot grow its counters without bound: new names beyond the cap, and overlong names, are dropped;
    /// known counters keep counting, saturating.
    #[test]
    fn counters_are_capped_in_number_and_name_length() {
        let mut counters = HashMap::new();
        for i in 0..MAX_COUNTERS {
            assert!(add_counter(&mut counters, format!("c{i}"), 1));
        }
        assert!(!add_counter(&mut counters, "one-too-many".into(), 1));
        assert!(add_counter(&mut counters, "c0".into(), u64::MAX));
        assert_eq!((counters.len(), counters["c0"]), (MAX_COUNTERS, u64::MAX));
        let mut fresh = HashMap::new();
        assert!(!add_counter(&mut fresh, "x".repeat(MAX_COUNTER_NAME + 1), 1));
    }
}
