//! The host's `state` import: one read, one page of a scan, or one page
//! of a state's keys per call.
//!
//! Off the wasm target (the SDK's own unit tests) there is no host; the
//! same functions then read a thread-local map that tests fill with
//! [`test_store`], so the handles' logic is tested without a runtime.

#[cfg(target_arch = "wasm32")]
use crate::context::StateError;

/// One page of a scan: (user key, value) in ascending user-key order.
pub(crate) type Page = Vec<(Vec<u8>, Vec<u8>)>;

/// The stored value at (`state_id`, `key`, `namespace`, `user_key`) as of
/// the start of the current call.
#[cfg(target_arch = "wasm32")]
pub(crate) fn get(state_id: u32, key: &[u8], namespace: &[u8], user_key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
    crate::export::bindings::wflink::job::state::get(state_id as i32, key, namespace, user_key).map_err(from_wit)
}

/// Up to `limit` stored entries of (`state_id`, `key`, `namespace`) after
/// the user key `after` (from the first when `None`).
#[cfg(target_arch = "wasm32")]
pub(crate) fn scan(
    state_id: u32,
    key: &[u8],
    namespace: &[u8],
    after: Option<&[u8]>,
    limit: u32,
) -> Result<Page, StateError> {
    use crate::chain::slices;
    let e = crate::export::bindings::wflink::job::state::scan(state_id as i32, key, namespace, after, limit)
        .map_err(from_wit)?;
    let malformed = || StateError::Host("the host returned malformed state entries (a host bug)".into());
    if e.user_key_ends.len() != e.value_ends.len()
        || e.user_key_ends.last().is_some_and(|&end| end as usize > e.user_keys.len())
        || e.value_ends.last().is_some_and(|&end| end as usize > e.values.len())
        || e.user_key_ends.windows(2).any(|w| w[0] > w[1])
        || e.value_ends.windows(2).any(|w| w[0] > w[1])
    {
        return Err(malformed());
    }
    Ok(slices(&e.user_keys, &e.user_key_ends)
        .zip(slices(&e.values, &e.value_ends))
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect())
}

/// Up to about `limit` keys holding an entry of `state_id`, from key group
/// `from_group` on, and the group the next page starts at (`None` at the end).
#[cfg(target_arch = "wasm32")]
pub(crate) fn keys(state_id: u32, from_group: u32, limit: u32) -> Result<(Vec<Vec<u8>>, Option<u32>), StateError> {
    use crate::chain::slices;
    let page =
        crate::export::bindings::wflink::job::state::keys(state_id as i32, from_group, limit).map_err(from_wit)?;
    if page.key_ends.last().is_some_and(|&end| end as usize > page.keys.len())
        || page.key_ends.windows(2).any(|w| w[0] > w[1])
        || page.next_group.is_some_and(|next| next <= from_group)
    {
        return Err(StateError::Host("the host returned a malformed page of keys (a host bug)".into()));
    }
    Ok((slices(&page.keys, &page.key_ends).map(<[u8]>::to_vec).collect(), page.next_group))
}

#[cfg(target_arch = "wasm32")]
fn from_wit(error: crate::export::bindings::wflink::job::types::StateError) -> StateError {
    use crate::export::bindings::wflink::job::types::StateError as W;
    match error {
        W::NoKeyedContext => StateError::NoKeyedContext,
        W::ForeignKey => StateError::Host("the key belongs to another subtask".into()),
        W::UnknownState(id) => StateError::Host(format!("state id {id} is not declared by this operator")),
        W::Other(message) => StateError::Host(message),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) use off_wasm::test_store;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use off_wasm::{get, keys, scan};

#[cfg(not(target_arch = "wasm32"))]
mod off_wasm {
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::ops::Bound;

    use super::Page;
    use crate::context::StateError;

    /// (state id, key, namespace, user key) → value.
    type Address = (u32, Vec<u8>, Vec<u8>, Vec<u8>);

    thread_local! {
        static STORE: RefCell<BTreeMap<Address, Vec<u8>>> = const { RefCell::new(BTreeMap::new()) };
    }

    /// Runs `f` on the stand-in for the host's store (unit tests only).
    pub(crate) fn test_store<R>(f: impl FnOnce(&mut BTreeMap<Address, Vec<u8>>) -> R) -> R {
        STORE.with(|s| f(&mut s.borrow_mut()))
    }

    pub(crate) fn get(
        state_id: u32,
        key: &[u8],
        namespace: &[u8],
        user_key: &[u8],
    ) -> Result<Option<Vec<u8>>, StateError> {
        Ok(test_store(|s| s.get(&(state_id, key.to_vec(), namespace.to_vec(), user_key.to_vec())).cloned()))
    }

    /// Pages over the distinct keys in key order; a "key group" here is
    /// the index of the page's first key.
    pub(crate) fn keys(state_id: u32, from_group: u32, limit: u32) -> Result<(Vec<Vec<u8>>, Option<u32>), StateError> {
        let all: std::collections::BTreeSet<Vec<u8>> =
            test_store(|s| s.keys().filter(|(id, ..)| *id == state_id).map(|(_, key, ..)| key.clone()).collect());
        let page: Vec<Vec<u8>> = all.iter().skip(from_group as usize).take(limit as usize).cloned().collect();
        let next = from_group as usize + page.len();
        Ok((page, (next < all.len()).then_some(next as u32)))
    }

    pub(crate) fn scan(
        state_id: u32,
        key: &[u8],
        namespace: &[u8],
        after: Option<&[u8]>,
        limit: u32,
    ) -> Result<Page, StateError> {
        let prefix = |user_key: Vec<u8>| (state_id, key.to_vec(), namespace.to_vec(), user_key);
        let start = match after {
            Some(after) => Bound::Excluded(prefix(after.to_vec())),
            None => Bound::Included(prefix(Vec::new())),
        };
        Ok(test_store(|s| {
            s.range((start, Bound::Unbounded))
                .take_while(|((id, k, n, _), _)| *id == state_id && k == key && n == namespace)
                .take(limit as usize)
                .map(|((_, _, _, u), v)| (u.clone(), v.clone()))
                .collect()
        }))
    }
}
