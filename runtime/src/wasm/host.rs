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
    /// The backend holding `state_id`, or why the guest may not read it now.
    fn backend(&self, state_id: u32) -> Result<&dyn NamedStateBackend, types::StateError> {
        let backend = match (&self.backend, self.in_call) {
            (Some(backend), true) => backend.as_ref(),
            _ => return Err(types::StateError::NoKeyedContext),
        };
        if !self.declared.contains(&state_id) {
            return Err(types::StateError::UnknownState(state_id));
        }
        Ok(backend)
    }

    /// The backend and key group of `key`, or why the guest may not read it.
    fn reach<'k>(
        &self,
        state_id: u32,
        key: &'k [u8],
    ) -> Result<(&dyn NamedStateBackend, StateKey<'k>), types::StateError> {
        let backend = self.backend(state_id)?;
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
        state_id: i32,
        key: Vec<u8>,
        namespace: Vec<u8>,
        user_key: Vec<u8>,
    ) -> Result<Option<Vec<u8>>, types::StateError> {
        // The WIT passes the u32 id's bits as s32 (see `wit/state.wit`).
        let state_id = state_id as u32;
        let (backend, key) = self.keyed.reach(state_id, &key)?;
        let address = EntryAddress { state_id, namespace: &namespace, user_key: &user_key };
        Ok(backend.get(key, address).map(<[u8]>::to_vec))
    }

    fn scan(
        &mut self,
        state_id: i32,
        key: Vec<u8>,
        namespace: Vec<u8>,
        after: Option<Vec<u8>>,
        limit: u32,
    ) -> Result<types::StateEntries, types::StateError> {
        let state_id = state_id as u32;
        let (backend, key) = self.keyed.reach(state_id, &key)?;
        let mut out = StateEntries::default();
        backend.scan(key, state_id, &namespace, after.as_deref(), limit.min(MAX_PAGE) as usize, &mut out);
        Ok(super::context::entries_to_wit(out))
    }

    fn keys(&mut self, state_id: i32, from_group: u32, limit: u32) -> Result<state::KeyPage, types::StateError> {
        let state_id = state_id as u32;
        let backend = self.keyed.backend(state_id)?;
        Ok(keys_page(backend, state_id, from_group..self.keyed.max_parallelism, limit.clamp(1, MAX_PAGE) as usize))
    }
}

/// The most entries or keys one page of a `state` import asks for.
const MAX_PAGE: u32 = 65_536;

/// The distinct keys of `backend` holding an entry of `state_id`, key
/// group by key group over the owned groups of `groups`, until a group
/// brings the page to `limit` keys (`state.keys`).
fn keys_page(
    backend: &dyn NamedStateBackend,
    state_id: u32,
    groups: std::ops::Range<u32>,
    limit: usize,
) -> state::KeyPage {
    let mut page = state::KeyPage { keys: Vec::new(), key_ends: Vec::new(), next_group: None };
    let mut seen = hashbrown::HashSet::<Vec<u8>>::new();
    for group in groups {
        if page.key_ends.len() >= limit {
            page.next_group = Some(group);
            break;
        }
        if !backend.owns(group) {
            continue;
        }
        seen.clear();
        backend.for_each_in_group(group, &mut |key, address, _| {
            if address.state_id == state_id && !seen.contains(key) {
                seen.insert(key.to_vec());
                page.keys.extend_from_slice(key);
                page.key_ends.push(page.keys.len() as u32);
            }
        });
    }
    page
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

    /// `state.keys` lists each key holding the state once, whatever its
    /// number of entries, skips keys holding only other states, and pages
    /// by whole key groups until the last page, which has no next group.
    #[test]
    fn the_keys_of_a_state_come_once_each_in_pages_of_whole_key_groups() {
        use crate::state::MemoryNamedBackend;
        let max_parallelism = 16;
        let mut backend = MemoryNamedBackend::new(0..max_parallelism);
        let keys: Vec<Vec<u8>> = (0..40u32).map(|k| format!("key-{k}").into_bytes()).collect();
        for (i, key) in keys.iter().enumerate() {
            let key = StateKey::new(key, max_parallelism);
            for user_key in [b"a".as_slice(), b"b"] {
                backend.write(key, EntryAddress { state_id: 7, namespace: &[], user_key }, Some(b"v"));
            }
            if i % 4 == 0 {
                backend.write(key, EntryAddress { state_id: 9, namespace: &[], user_key: &[] }, Some(b"w"));
            }
        }
        let mut listed = Vec::new();
        let mut from = 0;
        let mut pages = 0;
        loop {
            let page = keys_page(&backend, 7, from..max_parallelism, 5);
            pages += 1;
            let mut start = 0;
            for &end in &page.key_ends {
                listed.push(page.keys[start as usize..end as usize].to_vec());
                start = end;
            }
            match page.next_group {
                Some(next) => from = next,
                None => break,
            }
        }
        let (mut expected, mut got) = (keys.clone(), listed.clone());
        expected.sort();
        got.sort();
        assert_eq!(got, expected, "every key once");
        assert!(pages > 1, "40 keys in pages of about 5 keys take several pages");
        let other = keys_page(&backend, 9, 0..max_parallelism, 1000);
        assert_eq!(other.key_ends.len(), 10);
        assert_eq!(other.next_group, None);
    }
}
