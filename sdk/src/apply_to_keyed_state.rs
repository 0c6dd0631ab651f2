//! Flink's `applyToKeyedState`: a keyed broadcast process function
//! reaching every key's state from a broadcast record, which has no key
//! of its own (a rule change that resets or rescales what every key has
//! gathered, say).
//!
//! The host holds a keyed broadcast chain's state, so the keys come from
//! it a page at a time (the `state.keys` import) and each key's entries of
//! the state are read (`state.scan`) into the call's store before the
//! function runs for that key. What the function writes goes back with
//! the call's output, as every keyed write does. This costs host calls per
//! key: it is for rare control records, not for every record.

use crate::codec::decode;
use crate::context::{self, StateError};
use crate::lazy_state::host;
use crate::{Data, JobError};

/// Keys asked for per `state.keys` call.
const KEYS_PER_PAGE: u32 = 1024;
/// Entries asked for per `state.scan` call while loading a key.
const ENTRIES_PER_PAGE: u32 = 1024;

/// A keyed state handle that
/// [`BroadcastContext::apply_to_keyed_state`](crate::BroadcastContext::apply_to_keyed_state)
/// can run a function over, key by key: [`ValueState`](crate::ValueState),
/// [`ListState`](crate::ListState), [`MapState`](crate::MapState),
/// [`ReducingState`](crate::ReducingState),
/// [`AggregatingState`](crate::AggregatingState),
/// [`LazyMapState`](crate::LazyMapState) and
/// [`LazyListState`](crate::LazyListState).
pub trait KeyedStateHandle: sealed::Sealed {
    /// The id the state is declared under in the plan.
    #[doc(hidden)]
    fn state_id(&self) -> u32;
    /// Whether the handle reads from the host itself (a lazy state), so
    /// its entries need not be loaded before the function runs.
    #[doc(hidden)]
    fn reads_lazily(&self) -> bool {
        false
    }
}

pub(crate) mod sealed {
    /// Only the SDK's own state handles can be walked.
    pub trait Sealed {}
}

/// Runs `f` for every key of this subtask holding `state`, with that key
/// current; returns the number of keys visited. Afterwards no key is
/// current again, as for any broadcast record.
pub(crate) fn apply<K: Data, S: KeyedStateHandle>(
    state: &S,
    mut f: impl FnMut(K, &S) -> Result<(), JobError>,
) -> Result<usize, JobError> {
    let timestamp = context::with(|c| c.timestamp);
    let mut visit = || -> Result<usize, JobError> {
        let id = state.state_id();
        let mut visited = 0;
        let mut next_group = Some(0);
        while let Some(group) = next_group {
            let (keys, next) = host::keys(id, group, KEYS_PER_PAGE)?;
            next_group = next;
            for key_bytes in keys {
                let key: K = decode(&key_bytes).map_err(|e| {
                    JobError::User(format!(
                        "apply_to_keyed_state cannot decode a key of the keyed state as {}: {e}",
                        std::any::type_name::<K>()
                    ))
                })?;
                context::set_key(&key_bytes, timestamp);
                if !state.reads_lazily() {
                    load_key(id, &key_bytes)?;
                }
                f(key, state)?;
                visited += 1;
            }
        }
        Ok(visited)
    };
    let visited = visit();
    context::with(|c| {
        c.keyed = false;
        c.key.clear();
    });
    visited
}

/// Reads every stored entry of state `id` of `key` into the call's store,
/// leaving alone the addresses this call already knows (it wrote them).
fn load_key(id: u32, key: &[u8]) -> Result<(), StateError> {
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = host::scan(id, key, &[], after.as_deref(), ENTRIES_PER_PAGE)?;
        let last_page = page.len() < ENTRIES_PER_PAGE as usize;
        after = page.last().map(|(user_key, _)| user_key.clone());
        context::with(|c| {
            c.load();
            for (user_key, value) in page {
                if c.store.lookup(id, key, &[], &user_key).is_none() {
                    c.store.set(id, key, &[], &user_key, Some(value), false);
                }
            }
        });
        if last_page {
            return Ok(());
        }
    }
}
