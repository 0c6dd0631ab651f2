//! What makes a running guest stoppable, whatever it is doing: its call's
//! deadline and its task's cancel reach it within about a tick.
//!
//! - **Computing.** Every store gets an epoch callback, run each
//!   [`EPOCH_TICK`] of guest execution: it stops the call when the task was
//!   cancelled ([`Cancelled`]) or the call's deadline passed (a
//!   [`wasmtime::Trap::Interrupt`]).
//! - **Sleeping.** Epochs only reach wasm code, not a host call blocked in a
//!   WASI sleep, so the monotonic clock's `subscribe-duration` and
//!   `subscribe-instant` are replaced by [`GuestSleep`]: a sleep that wakes
//!   at its time, at the call's deadline or at a cancel, whichever comes
//!   first. The guest then runs on into the epoch callback, which stops it.
//!
//! What neither can reach (a host call stuck in the kernel) is left to the
//! TaskManager's watchdog, `task.cancellation.timeout`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasmtime::component::{Linker, Resource};
use wasmtime::{StoreContextMut, UpdateDeadline};
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};

use super::host::HostState;

/// Interval between epoch ticks: the resolution of guest call deadlines
/// and of cancels reaching a computing guest.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// How often a sleeping guest looks at its cancel flag.
const SLEEP_CHECK: Duration = Duration::from_millis(20);

/// The WASI interface whose sleeps are replaced. Its version is the one
/// wasmtime-wasi defines; guests importing an older 0.2 minor version are
/// linked to it by semver, so they get these sleeps too.
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// The error a guest call ends with when its task was cancelled.
#[derive(Debug, thiserror::Error)]
#[error("the task was cancelled while the guest ran")]
pub struct Cancelled;

/// A task's cancel flag as the guest's store sees it: set once, by the
/// task's slot, and never cleared.
pub type CancelFlag = Arc<AtomicBool>;

/// When the running call must end, and the flag that cancels it.
#[derive(Default)]
pub(crate) struct CallLimits {
    /// The running call's deadline (`None` between calls).
    pub deadline: Option<Instant>,
    /// Set when the task is cancelled.
    pub cancel: CancelFlag,
}

impl CallLimits {
    /// Why the running call must stop now, if it must.
    fn check(&self) -> wasmtime::Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(wasmtime::Error::new(Cancelled));
        }
        if self.deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return Err(wasmtime::Trap::Interrupt.into());
        }
        Ok(())
    }
}

/// Makes `store` check its [`CallLimits`] every epoch tick.
pub(crate) fn watch_calls(store: &mut wasmtime::Store<HostState>) {
    store.epoch_deadline_callback(|store| {
        store.data().limits.check()?;
        Ok(UpdateDeadline::Continue(1))
    });
    store.set_epoch_deadline(1);
}

/// Replaces the WASI sleeps of `linker` (already holding wasmtime-wasi's)
/// with [`GuestSleep`]s.
pub(crate) fn add_interruptible_sleeps(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap("subscribe-duration", |store: StoreContextMut<'_, HostState>, (nanos,): (u64,)| {
        Ok((sleep_for(store, Duration::from_nanos(nanos))?,))
    })?;
    clock.func_wrap("subscribe-instant", |store: StoreContextMut<'_, HostState>, (when,): (u64,)| {
        let now = store.data().clock.nanos();
        Ok((sleep_for(store, Duration::from_nanos(when.saturating_sub(now)))?,))
    })?;
    linker.allow_shadowing(false);
    Ok(())
}

fn sleep_for(mut store: StoreContextMut<'_, HostState>, duration: Duration) -> wasmtime::Result<Resource<DynPollable>> {
    let state = store.data_mut();
    let sleep = GuestSleep {
        until: Instant::now().checked_add(duration),
        deadline: state.limits.deadline,
        cancel: state.limits.cancel.clone(),
        yielded: false,
    };
    let sleep = state.table.push(sleep)?;
    subscribe(&mut state.table, sleep)
}

/// A guest's sleep: ready at its time, at the call's deadline, or as soon
/// as the task is cancelled.
pub(crate) struct GuestSleep {
    /// When the guest asked to wake (`None`: never).
    until: Option<Instant>,
    /// The deadline of the call that made the sleep.
    deadline: Option<Instant>,
    cancel: CancelFlag,
    /// Whether a sleep already due has yielded once to the runtime, so a
    /// guest polling in a loop with a zero timeout cannot starve it.
    yielded: bool,
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestSleep {
    async fn ready(&mut self) {
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return;
            }
            let wake = match (self.until, self.deadline) {
                (Some(until), Some(deadline)) => Some(until.min(deadline)),
                (until, deadline) => until.or(deadline),
            };
            let left = wake.map_or(SLEEP_CHECK, |wake| wake.saturating_duration_since(Instant::now()));
            if left.is_zero() {
                if !self.yielded {
                    self.yielded = true;
                    tokio::task::yield_now().await;
                }
                return;
            }
            tokio::time::sleep(left.min(SLEEP_CHECK)).await;
        }
    }
}

/// The guest's monotonic clock: nanoseconds since its store was made.
/// Shared with WASI's `now` so `subscribe-instant` measures on the same
/// clock the guest read.
#[derive(Clone, Copy)]
pub(crate) struct GuestClock {
    start: Instant,
}

impl GuestClock {
    pub(crate) fn new() -> Self {
        GuestClock { start: Instant::now() }
    }

    fn nanos(&self) -> u64 {
        self.start.elapsed().as_nanos().min(u64::MAX as u128) as u64
    }
}

impl wasmtime_wasi::HostMonotonicClock for GuestClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        self.nanos()
    }
}
