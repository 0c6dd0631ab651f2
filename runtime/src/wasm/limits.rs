//! The memory budget of a slot, shared by the guests of every task placed
//! in it: a guest that grows its memory past what is left traps instead
//! of taking the process down.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The memory budget of one slot.
#[derive(Debug)]
pub struct SlotMemory {
    limit: usize,
    used: AtomicUsize,
}

impl SlotMemory {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(SlotMemory { limit, used: AtomicUsize::new(0) })
    }

    /// Bytes of guest memory in use in this slot.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The budget in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    fn reserve(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }

    fn release(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// The limiter of one guest store, charging its growth to the slot.
pub(crate) struct GuestLimiter {
    slot: Arc<SlotMemory>,
    charged: usize,
}

/// Most table entries a guest may have (function pointers); far above
/// what real jobs use.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl GuestLimiter {
    pub(crate) fn new(slot: Arc<SlotMemory>) -> Self {
        GuestLimiter { slot, charged: 0 }
    }
}

impl wasmtime::ResourceLimiter for GuestLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if maximum.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        let delta = desired.saturating_sub(current);
        if !self.slot.reserve(delta) {
            return Ok(false);
        }
        self.charged += delta;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS && maximum.is_none_or(|max| desired <= max))
    }
}

impl Drop for GuestLimiter {
    fn drop(&mut self) {
        self.slot.release(self.charged);
    }
}
