//! Bounded channels between tasks. A full channel blocks the sender: that
//! is backpressure, and the time spent blocked is measured. Blocking waits
//! wake up regularly so a cancelled task never hangs on a channel.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, SendTimeoutError, Sender};

use super::StreamMessage;

/// Batches buffered per channel before the sender blocks.
pub const CHANNEL_CAPACITY: usize = 16;

/// How often a blocked send or receive checks for cancellation.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// Creates a channel into one downstream subtask.
pub fn bounded() -> (OutputChannel, Receiver<StreamMessage>) {
    let (tx, rx) = crossbeam_channel::bounded(CHANNEL_CAPACITY);
    (OutputChannel { tx }, rx)
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
}

/// The sending side of a channel into one downstream subtask.
#[derive(Clone)]
pub struct OutputChannel {
    tx: Sender<StreamMessage>,
}

impl OutputChannel {
    /// Sends `message`, blocking while the channel is full; returns how
    /// long it was blocked (the backpressured time).
    pub fn send(&self, mut message: StreamMessage, cancelled: &AtomicBool) -> Result<Duration, SendError> {
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

/// The receiving side of a task: one channel shared by all upstream
/// subtasks, which each end with [`StreamMessage::EndOfInput`].
pub struct InputGate {
    rx: Receiver<StreamMessage>,
    open_upstreams: usize,
    upstreams: usize,
}

/// What [`InputGate::next`] found.
pub enum GateEvent {
    /// A message from some upstream subtask.
    Message(StreamMessage),
    /// Nothing arrived before the deadline.
    Timeout,
    /// Every upstream subtask has ended.
    Ended,
    /// This task was cancelled, or every sender vanished without ending.
    Closed,
}

impl InputGate {
    /// A gate expecting `upstreams` subtasks to send into `rx`.
    pub fn new(rx: Receiver<StreamMessage>, upstreams: usize) -> Self {
        InputGate { rx, open_upstreams: upstreams, upstreams }
    }

    /// How many upstream subtasks send into this gate.
    pub fn upstreams(&self) -> usize {
        self.upstreams
    }

    /// Waits for the next message until `deadline` (forever if `None`),
    /// checking `cancelled` regularly.
    pub fn next(&mut self, deadline: Option<Instant>, cancelled: &AtomicBool) -> GateEvent {
        loop {
            if self.open_upstreams == 0 {
                return GateEvent::Ended;
            }
            if cancelled.load(Ordering::Relaxed) {
                return GateEvent::Closed;
            }
            let now = Instant::now();
            let wait = match deadline {
                Some(d) if d <= now => match self.rx.try_recv() {
                    Ok(m) => return self.count(m),
                    Err(crossbeam_channel::TryRecvError::Empty) => return GateEvent::Timeout,
                    Err(crossbeam_channel::TryRecvError::Disconnected) => return GateEvent::Closed,
                },
                Some(d) => (d - now).min(CANCEL_POLL),
                None => CANCEL_POLL,
            };
            match self.rx.recv_timeout(wait) {
                Ok(message) => return self.count(message),
                Err(RecvTimeoutError::Timeout) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return GateEvent::Timeout;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return GateEvent::Closed,
            }
        }
    }

    fn count(&mut self, message: StreamMessage) -> GateEvent {
        if matches!(message, StreamMessage::EndOfInput) {
            self.open_upstreams -= 1;
        }
        GateEvent::Message(message)
    }
}
