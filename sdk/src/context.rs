//! The context of the current `process-with-context` or `on-timers` call:
//! the named keyed state that travelled with it, the current key and
//! namespace, the time, and the timers and side outputs the call produces.
//!
//! It is one value per instance (a thread local: a guest instance runs one
//! chain on one thread), so state handles can read "the current key's
//! value" without a context argument, as in Flink. Outside a keyed call
//! there is no current key, and state access returns
//! [`StateError::NoKeyedContext`].

use std::cell::RefCell;
use std::hash::BuildHasher;
use std::ops::Range;

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use wflink_abi::ttl::Pruned;

use crate::chain::{Batch, bytes_eq};

/// Why a state access failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateError {
    /// State was used outside a keyed operator's `process_element` or
    /// `on_timer` (e.g. in a map function, or while building the job).
    NoKeyedContext,
    /// The stored value could not be decoded as the state's type (the job
    /// changed the state's type under the same name).
    Decode(String),
    /// The value could not be encoded.
    Encode(String),
    /// The host refused a lazy state access (`LazyMapState`,
    /// `LazyListState`), with its reason; a bug in the job or the host,
    /// so retrying does not help.
    Host(String),
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateError::NoKeyedContext => {
                write!(f, "keyed state accessed outside a keyed context (use it in a keyed process function or window)")
            }
            StateError::Decode(m) => write!(f, "cannot decode keyed state: {m}"),
            StateError::Encode(m) => write!(f, "cannot encode keyed state: {m}"),
            StateError::Host(m) => write!(f, "the host refused the keyed state access: {m}"),
        }
    }
}

impl std::error::Error for StateError {}

impl From<StateError> for crate::JobError {
    fn from(error: StateError) -> Self {
        crate::JobError::User(error.to_string())
    }
}

/// Timers, named state entries and their clocks as flat buffers: the
/// layouts of the WIT `timers` and `state-entries`, shared with the runtime.
pub(crate) use wflink_abi::{EntryAddress, StateEntries, TimeDomain, Timers};

/// One entry of the per-call store.
struct Entry {
    state_id: u32,
    /// Where key, namespace and user key lie in the arena.
    key: Range<u32>,
    namespace: Range<u32>,
    user_key: Range<u32>,
    /// MessagePack value; `None` once cleared.
    value: Option<Vec<u8>>,
    /// Whether this call wrote it.
    dirty: bool,
}

/// The named state of the current call, addressed by (state id, key,
/// namespace, user key), with no allocation per lookup.
#[derive(Default)]
pub(crate) struct Store {
    arena: Vec<u8>,
    entries: Vec<Entry>,
    index: HashTable<u32>,
    hasher: FixedState,
}

fn hash_address(hasher: &FixedState, state_id: u32, key: &[u8], namespace: &[u8], user_key: &[u8]) -> u64 {
    hasher.hash_one((state_id, key, namespace, user_key))
}

impl Store {
    fn clear(&mut self) {
        self.arena.clear();
        self.entries.clear();
        self.index.clear();
    }

    fn find(&self, state_id: u32, key: &[u8], namespace: &[u8], user_key: &[u8]) -> Option<usize> {
        let hash = hash_address(&self.hasher, state_id, key, namespace, user_key);
        let arena = &self.arena;
        let at = |r: &Range<u32>| &arena[r.start as usize..r.end as usize];
        self.index
            .find(hash, |&i| {
                let e = &self.entries[i as usize];
                e.state_id == state_id
                    && bytes_eq(at(&e.key), key)
                    && bytes_eq(at(&e.namespace), namespace)
                    && bytes_eq(at(&e.user_key), user_key)
            })
            .map(|&i| i as usize)
    }

    /// The value at an address, if any.
    pub fn get(&self, state_id: u32, key: &[u8], namespace: &[u8], user_key: &[u8]) -> Option<&[u8]> {
        self.find(state_id, key, namespace, user_key).and_then(|i| self.entries[i].value.as_deref())
    }

    /// Writes (or with `None` clears) the value at an address.
    pub fn set(
        &mut self,
        state_id: u32,
        key: &[u8],
        namespace: &[u8],
        user_key: &[u8],
        value: Option<Vec<u8>>,
        dirty: bool,
    ) {
        if let Some(i) = self.find(state_id, key, namespace, user_key) {
            let entry = &mut self.entries[i];
            entry.value = value;
            entry.dirty |= dirty;
            return;
        }
        let mut push = |bytes: &[u8]| {
            let start = self.arena.len() as u32;
            self.arena.extend_from_slice(bytes);
            start..self.arena.len() as u32
        };
        let entry =
            Entry { state_id, key: push(key), namespace: push(namespace), user_key: push(user_key), value, dirty };
        let i = self.entries.len() as u32;
        self.entries.push(entry);
        let hash = hash_address(&self.hasher, state_id, key, namespace, user_key);
        let Self { arena, entries, hasher, index } = self;
        index.insert_unique(hash, i, |&j| {
            let e = &entries[j as usize];
            let at = |r: &Range<u32>| &arena[r.start as usize..r.end as usize];
            hash_address(hasher, e.state_id, at(&e.key), at(&e.namespace), at(&e.user_key))
        });
    }

    /// What this call knows of an address: `None` when untouched,
    /// `Some(None)` when cleared, `Some(Some(value))` when set or read.
    pub fn lookup(&self, state_id: u32, key: &[u8], namespace: &[u8], user_key: &[u8]) -> Option<Option<&[u8]>> {
        self.find(state_id, key, namespace, user_key).map(|i| self.entries[i].value.as_deref())
    }

    /// Every entry this call knows of (state id, key, namespace), cleared
    /// ones included (as `None`), sorted by user key.
    pub fn known_sorted(&self, state_id: u32, key: &[u8], namespace: &[u8]) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let at = |r: &Range<u32>| &self.arena[r.start as usize..r.end as usize];
        let mut known: Vec<_> = self
            .entries
            .iter()
            .filter(|e| e.state_id == state_id && at(&e.key) == key && at(&e.namespace) == namespace)
            .map(|e| (at(&e.user_key).to_vec(), e.value.clone()))
            .collect();
        known.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        known
    }

    /// The user keys and values of (state id, key, namespace), in no order.
    pub fn scan<'a>(
        &'a self,
        state_id: u32,
        key: &'a [u8],
        namespace: &'a [u8],
    ) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let at = move |r: &Range<u32>| &self.arena[r.start as usize..r.end as usize];
        self.entries.iter().filter_map(move |e| {
            let hit = e.state_id == state_id && at(&e.key) == key && at(&e.namespace) == namespace;
            match (&e.value, hit) {
                (Some(v), true) => Some((at(&e.user_key), v.as_slice())),
                _ => None,
            }
        })
    }

    /// Appends the entries written in this call to `out`.
    fn drain_changes(&self, out: &mut StateEntries) {
        let at = |r: &Range<u32>| &self.arena[r.start as usize..r.end as usize];
        for e in self.entries.iter().filter(|e| e.dirty) {
            let value = e.value.as_deref().unwrap_or_default();
            let address = EntryAddress { state_id: e.state_id, namespace: at(&e.namespace), user_key: at(&e.user_key) };
            out.push(at(&e.key), address, value);
        }
    }
}

/// Everything the current call knows and produces besides records.
#[derive(Default)]
pub(crate) struct CallContext {
    /// Whether a keyed operator runs now (state is reachable).
    pub keyed: bool,
    /// Key of the record or timer being processed (MessagePack).
    pub key: Vec<u8>,
    /// Namespace of the state being used (an encoded window, or empty).
    pub namespace: Vec<u8>,
    /// The watermark at the call.
    pub watermark: i64,
    /// The wall clock at the call.
    pub processing_time: i64,
    /// Timestamp of the record being processed, or of the firing timer.
    pub timestamp: Option<i64>,
    /// The state entries that came with the call, as sent.
    pub raw: StateEntries,
    /// Whether `store` holds `raw` yet (loaded on first handle access).
    pub loaded: bool,
    /// The call's state, for state handles.
    pub store: Store,
    /// Entries operators wrote straight, bypassing `store` (windows).
    pub direct_changes: StateEntries,
    /// Timers registered and deleted by the call.
    pub timers_registered: Timers,
    pub timers_deleted: Timers,
    /// Side output records and their tags.
    pub side_records: Batch,
    pub side_tags: Vec<u32>,
}

thread_local! {
    static CONTEXT: RefCell<CallContext> = RefCell::new(CallContext {
        watermark: i64::MIN,
        ..CallContext::default()
    });
}

/// Runs `f` on the call context.
pub(crate) fn with<R>(f: impl FnOnce(&mut CallContext) -> R) -> R {
    CONTEXT.with(|c| f(&mut c.borrow_mut()))
}

/// Starts a call: loads `state`, sets the time, clears the outputs.
pub(crate) fn begin(state: StateEntries, watermark: i64, processing_time: i64) {
    with(|c| {
        c.keyed = false;
        c.key.clear();
        c.namespace.clear();
        c.watermark = watermark;
        c.processing_time = processing_time;
        c.timestamp = None;
        c.store.clear();
        c.raw = state;
        c.loaded = false;
        c.direct_changes = StateEntries::default();
        c.timers_registered.clear();
        c.timers_deleted.clear();
        c.side_records.clear();
        c.side_tags.clear();
    });
}

/// What a call produced besides its main records.
#[derive(Default)]
pub(crate) struct CallOutput {
    pub state: StateEntries,
    pub timers_registered: Timers,
    pub timers_deleted: Timers,
    pub side_records: Batch,
    pub side_tags: Vec<u32>,
}

/// Ends a call: hands over the written state, timers and side outputs.
pub(crate) fn end() -> CallOutput {
    with(|c| {
        c.keyed = false;
        let mut out = CallOutput { state: std::mem::take(&mut c.direct_changes), ..Default::default() };
        c.store.drain_changes(&mut out.state);
        c.store.clear();
        out.timers_registered = std::mem::take(&mut c.timers_registered);
        out.timers_deleted = std::mem::take(&mut c.timers_deleted);
        out.side_records = std::mem::take(&mut c.side_records);
        out.side_tags = std::mem::take(&mut c.side_tags);
        out
    })
}

impl CallContext {
    /// Loads the call's entries into the store on first use.
    pub fn load(&mut self) {
        if !self.loaded {
            self.loaded = true;
            for (key, address, value) in self.raw.iter() {
                let EntryAddress { state_id, namespace, user_key } = address;
                // An entry (or list element) whose time to live ended is removed as
                // the call loads it (incremental cleanup over the keys of the call).
                match crate::state_ttl::prune(state_id, value, self.processing_time) {
                    Pruned::Whole => self.store.set(state_id, key, namespace, user_key, Some(value.to_vec()), false),
                    Pruned::Expired => self.store.set(state_id, key, namespace, user_key, None, true),
                    Pruned::Part(live) => self.store.set(state_id, key, namespace, user_key, Some(live), true),
                }
            }
        }
    }
}

/// Sets the current key (keyed operators, per record or timer).
pub(crate) fn set_key(key: &[u8], timestamp: Option<i64>) {
    with(|c| {
        c.keyed = true;
        c.key.clear();
        c.key.extend_from_slice(key);
        c.namespace.clear();
        c.timestamp = timestamp;
    });
}

/// Registers a timer for the current key and namespace.
pub(crate) fn register_timer(domain: TimeDomain, timestamp: i64) -> Result<(), StateError> {
    with(|c| {
        if !c.keyed {
            return Err(StateError::NoKeyedContext);
        }
        let CallContext { key, namespace, timers_registered, .. } = c;
        timers_registered.push(domain, timestamp, key, namespace);
        Ok(())
    })
}

/// Deletes a timer of the current key and namespace.
pub(crate) fn delete_timer(domain: TimeDomain, timestamp: i64) -> Result<(), StateError> {
    with(|c| {
        if !c.keyed {
            return Err(StateError::NoKeyedContext);
        }
        let CallContext { key, namespace, timers_deleted, .. } = c;
        timers_deleted.push(domain, timestamp, key, namespace);
        Ok(())
    })
}
