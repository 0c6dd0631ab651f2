//! Iterating a lazy state in pages: the host's entries as of the start of
//! the call, fetched `page_size` at a time through the `state` import,
//! merged in user-key order with what the current call already wrote
//! (a write wins over the stored entry; a removal hides it).

use std::cmp::Ordering;
use std::collections::VecDeque;

use super::host;
use crate::context::{self, StateError};

/// A stored (user key, value) entry.
type Entry = (Vec<u8>, Vec<u8>);

/// The raw (user key, value) entries of one (state, key, namespace).
pub(crate) struct RawScan {
    state_id: u32,
    key: Vec<u8>,
    namespace: Vec<u8>,
    page_size: u32,
    /// The stored entries fetched and not yet returned.
    page: VecDeque<Entry>,
    /// The user key after which the next page starts (`None`: from the first).
    after: Option<Vec<u8>>,
    /// Whether the host has no entry after `page`.
    host_done: bool,
    /// What the call wrote, sorted by user key (`None`: removed).
    written: VecDeque<(Vec<u8>, Option<Vec<u8>>)>,
    /// Set after an error, so the iterator ends.
    failed: bool,
}

impl RawScan {
    /// Entries of `state_id` for the current key and namespace, with user
    /// keys strictly after `after` (all when `None`).
    pub(crate) fn start(state_id: u32, page_size: u32, after: Option<Vec<u8>>) -> Result<Self, StateError> {
        context::with(|c| {
            if !c.keyed {
                return Err(StateError::NoKeyedContext);
            }
            c.load();
            let mut written = c.store.known_sorted(state_id, &c.key, &c.namespace);
            if let Some(after) = &after {
                written.retain(|(user_key, _)| user_key > after);
            }
            Ok(RawScan {
                state_id,
                key: c.key.clone(),
                namespace: c.namespace.clone(),
                page_size: page_size.max(1),
                page: VecDeque::new(),
                after,
                host_done: false,
                written: written.into(),
                failed: false,
            })
        })
    }

    /// Fetches the next page when the current one is used up.
    fn fill(&mut self) -> Result<(), StateError> {
        if !self.page.is_empty() || self.host_done {
            return Ok(());
        }
        let page = host::scan(self.state_id, &self.key, &self.namespace, self.after.as_deref(), self.page_size)?;
        self.host_done = page.len() < self.page_size as usize;
        if let Some((last, _)) = page.last() {
            self.after = Some(last.clone());
        }
        self.page.extend(page);
        Ok(())
    }

    fn step(&mut self) -> Result<Option<Entry>, StateError> {
        loop {
            self.fill()?;
            let order = match (self.page.front(), self.written.front()) {
                (None, None) => return Ok(None),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some((stored, _)), Some((written, _))) => stored.cmp(written),
            };
            if order == Ordering::Equal {
                // The call's write replaces (or removes) the stored entry.
                self.page.pop_front();
            }
            let take_written = order != Ordering::Less;
            if !take_written {
                return Ok(self.page.pop_front());
            }
            if let Some((user_key, Some(value))) = self.written.pop_front() {
                return Ok(Some((user_key, value)));
            }
        }
    }
}

impl Iterator for RawScan {
    type Item = Result<Entry, StateError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let next = self.step();
        self.failed = next.is_err();
        next.transpose()
    }
}
