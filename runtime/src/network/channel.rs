//! Bounded channels between tasks. A full channel blocks the sender: that
//! is backpressure, and the time spent blocked is measured. Blocking waits
//! wake up regularly so a cancelled task never hangs on a channel. Every
//! message is tagged with the sending subtask's index ([`Tagged`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, SendTimeoutError, Sender};

use super::{StreamMessage, Tagged};

/// Batches buffered per channel before the sender blocks.
pub const CHANNEL_CAPACITY: usize = 16;

/// How often a blocked send or receive checks for cancellation.
pub(super) const CANCEL_POLL: Duration = Duration::from_millis(50);

/// Creates a channel into one downstream subtask, for sends by upstream
/// subtask `upstream`.
pub fn bounded(upstream: u32) -> (OutputChannel, Receiver<Tagged>) {
    let (tx, rx) = crossbeam_channel::bounded(CHANNEL_CAPACITY);
    (OutputChannel { tx, upstream }, rx)
}

/// Why a send did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The downstream task is gone (it failed or was cancelled).
    #[error("the downstream task is gone")]
    Disconnected,
    /// This task was cancelled while waiting for room.
    #[error("cancelled while waiting for the downstream task")]
    Cancelled,
    /// A record cannot go anywhere: the partition its chain picked
    /// (`partition_custom`) is not a subtask of the next operator.
    #[error("{0}")]
    Partition(String),
}

/// The sending side of a channel into one downstream subtask, used by
/// upstream subtask `upstream`.
#[derive(Clone)]
pub struct OutputChannel {
    tx: Sender<Tagged>,
    upstream: u32,
}

impl OutputChannel {
    /// Wraps the sending side of a bounded channel for upstream subtask `upstream`.
    pub(crate) fn from_sender(tx: Sender<Tagged>, upstream: u32) -> Self {
        OutputChannel { tx, upstream }
    }

    /// Sends `message`, blocking while the channel is full; returns how
    /// long it was blocked (the backpressured time).
    pub fn send(&self, message: StreamMessage, cancelled: &AtomicBool) -> Result<Duration, SendError> {
        let mut message = (self.upstream, message);
        match self.tx.try_send(message) {
            Ok(()) => return Ok(Duration::ZERO),
            Err(crossbeam_channel::TrySendError::Disconnected(_)) => return Err(SendError::Disconnected),
            Err(crossbeam_channel::TrySendError::Full(back)) => message = back,
        }
        let started = Instant::now();
        loop {
            if cancelled.load(Ordering::Relaxed) {
                return Err(SendError::Cancelled);
            }
            match self.tx.send_timeout(message, CANCEL_POLL) {
                Ok(()) => return Ok(started.elapsed()),
                Err(SendTimeoutError::Timeout(back)) => message = back,
                Err(SendTimeoutError::Disconnected(_)) => return Err(SendError::Disconnected),
            }
        }
    }
}
