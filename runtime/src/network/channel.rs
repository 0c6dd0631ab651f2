//! Bounded channels between tasks. A full channel blocks the sender: that
//! is backpressure, and the time spent blocked is measured. Blocking waits
//! wake up regularly so a cancelled task never hangs on a channel. Every
//! message is tagged with the sending subtask's index ([`Tagged`]).
//!
//! A receiver waits for the next message parked, woken by the sender that
//! sends it ([`TaggedSender`] rings the receiver's doorbell), never by
//! crossbeam's own blocking receive: that one calls `sched_yield` a few
//! times before it parks, and on a busy machine a yield hands the core to
//! another process for up to a scheduler tick (4 ms), while the message
//! that came meanwhile waits, since a yielded thread is not woken by it.

use std::sync::atomic::{AtomicBool, Ordering, fence};
use std::sync::{Arc, Mutex};
use std::thread::Thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, SendTimeoutError, Sender, TryRecvError, TrySendError};

use super::{StreamMessage, Tagged};

/// Batches buffered per channel before the sender blocks.
pub const CHANNEL_CAPACITY: usize = 16;

/// How often a blocked send or receive checks for cancellation.
pub(super) const CANCEL_POLL: Duration = Duration::from_millis(50);

/// Creates a channel into one downstream subtask, for sends by upstream
/// subtask `upstream`.
pub fn bounded(upstream: u32) -> (OutputChannel, TaggedReceiver) {
    let (tx, rx) = tagged_channel(CHANNEL_CAPACITY);
    (OutputChannel { tx, upstream }, rx)
}

/// A bounded channel of tagged messages whose receiver parks until a sender rings.
pub fn tagged_channel(capacity: usize) -> (TaggedSender, TaggedReceiver) {
    let (tx, rx) = crossbeam_channel::bounded(capacity);
    let bell = Arc::new(Doorbell::default());
    (TaggedSender { tx: Some(tx), bell: bell.clone() }, TaggedReceiver { rx, bell, spin: Duration::ZERO })
}

/// How a sender wakes the receiver parked on an empty channel.
#[derive(Default)]
struct Doorbell {
    /// The receiver is parked, or about to park.
    parked: AtomicBool,
    /// The receiving thread, set when it first waits.
    receiver: Mutex<Option<Thread>>,
}

impl Doorbell {
    /// Wakes the receiver if it is parked (after a send, or a sender's end).
    fn ring(&self) {
        // Pairs with the fence in `TaggedReceiver::park`: either the receiver sees the message, or this sees it parked.
        fence(Ordering::SeqCst);
        if self.parked.load(Ordering::Relaxed)
            && let Some(thread) = &*self.receiver.lock().unwrap_or_else(|e| e.into_inner())
        {
            thread.unpark();
        }
    }
}

/// The sending side of a tagged channel; every message it sends wakes the receiver if it waits.
#[derive(Clone)]
pub struct TaggedSender {
    /// Always set until `drop` takes it: the bell must ring after the
    /// sender is gone, or the receiver could look, find the channel still
    /// connected, and park past the disconnection.
    tx: Option<Sender<Tagged>>,
    bell: Arc<Doorbell>,
}

impl TaggedSender {
    /// Sends `message`, blocking while the channel is full; fails once the receiver is gone.
    pub fn send(&self, message: Tagged) -> Result<(), SendError> {
        let tx = self.tx.as_ref().ok_or(SendError::Disconnected)?;
        tx.send(message).map_err(|_| SendError::Disconnected)?;
        self.bell.ring();
        Ok(())
    }
}

impl Drop for TaggedSender {
    /// The last sender's end disconnects the channel: the receiver wakes to see it.
    fn drop(&mut self) {
        drop(self.tx.take());
        self.bell.ring();
    }
}

/// How long a receiver in low-latency mode polls an empty channel before
/// it parks: a futex wake-up costs the next message 5-15 µs on a virtual
/// machine, more than the gap between two records at 100,000 a second.
pub const LOW_LATENCY_SPIN: Duration = Duration::from_micros(100);

/// The receiving side of a tagged channel (one thread receives).
pub struct TaggedReceiver {
    rx: Receiver<Tagged>,
    bell: Arc<Doorbell>,
    /// How long to poll an empty channel before parking (zero: park at once).
    spin: Duration,
}

impl TaggedReceiver {
    /// The next message, if one is there.
    pub fn try_recv(&self) -> Result<Tagged, TryRecvError> {
        self.rx.try_recv()
    }

    /// Whether no message is waiting.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// Polls an empty channel for `spin` before parking, for a task whose
    /// job asked for the lowest latency (`execution.buffer-timeout: 0`):
    /// the next message is then seen within a microsecond instead of after
    /// a wake-up, at the price of a core kept busy for `spin` each time
    /// the channel runs dry.
    pub fn set_spin(&mut self, spin: Duration) {
        self.spin = spin;
    }

    /// The next message, waiting for it at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Tagged, RecvTimeoutError> {
        let deadline = Instant::now() + timeout;
        if let Some(outcome) = self.spin_for(self.spin.min(timeout)) {
            return outcome;
        }
        loop {
            if let Some(outcome) = self.look() {
                return outcome;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(RecvTimeoutError::Timeout);
            }
            self.announce_parked();
            // Looks again once parked is visible: a sender that sent or
            // ended before this look rang too early to be seen, and this
            // look sees what it did; one after it sees `parked` and rings.
            let outcome = self.look();
            if outcome.is_none() {
                std::thread::park_timeout(deadline - now);
            }
            self.bell.parked.store(false, Ordering::Relaxed);
            if let Some(outcome) = outcome {
                return outcome;
            }
        }
    }

    /// Looks for a message or the channel's end until `spin` has passed.
    fn spin_for(&self, spin: Duration) -> Option<Result<Tagged, RecvTimeoutError>> {
        if spin.is_zero() {
            return None;
        }
        let started = Instant::now();
        loop {
            // A few polls between clock reads: a look costs tens of nanoseconds.
            for _ in 0..16 {
                if let Some(outcome) = self.look() {
                    return Some(outcome);
                }
                std::hint::spin_loop();
            }
            if started.elapsed() >= spin {
                return None;
            }
        }
    }

    /// A message, the channel's end, or none while it is empty and connected.
    fn look(&self) -> Option<Result<Tagged, RecvTimeoutError>> {
        match self.rx.try_recv() {
            Ok(message) => Some(Ok(message)),
            Err(TryRecvError::Disconnected) => Some(Err(RecvTimeoutError::Disconnected)),
            Err(TryRecvError::Empty) => None,
        }
    }

    /// The next message, waiting as long as it takes; an error once every sender is gone.
    pub fn recv(&self) -> Result<Tagged, crossbeam_channel::RecvError> {
        loop {
            match self.recv_timeout(CANCEL_POLL) {
                Ok(message) => return Ok(message),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(crossbeam_channel::RecvError),
            }
        }
    }

    /// Tells senders this thread is about to park, so the next send or end rings for it.
    fn announce_parked(&self) {
        {
            let mut receiver = self.bell.receiver.lock().unwrap_or_else(|e| e.into_inner());
            let current = std::thread::current();
            if receiver.as_ref().is_none_or(|t| t.id() != current.id()) {
                *receiver = Some(current);
            }
        }
        self.bell.parked.store(true, Ordering::Relaxed);
        // Pairs with the fence in `Doorbell::ring`: either the look after this sees the message or the end, or the
        // ring sees `parked`.
        fence(Ordering::SeqCst);
    }
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
    tx: TaggedSender,
    upstream: u32,
}

impl OutputChannel {
    /// Wraps the sending side of a bounded channel for upstream subtask `upstream`.
    pub(crate) fn from_sender(tx: TaggedSender, upstream: u32) -> Self {
        OutputChannel { tx, upstream }
    }

    /// Sends `message`, blocking while the channel is full; returns how
    /// long it was blocked (the backpressured time).
    pub fn send(&self, message: StreamMessage, cancelled: &AtomicBool) -> Result<Duration, SendError> {
        let mut message = (self.upstream, message);
        // Crossbeam's own sends, each followed by a ring of the receiver's doorbell.
        let TaggedSender { tx, bell } = &self.tx;
        let tx = tx.as_ref().ok_or(SendError::Disconnected)?;
        match tx.try_send(message) {
            Ok(()) => {
                bell.ring();
                return Ok(Duration::ZERO);
            }
            Err(TrySendError::Disconnected(_)) => return Err(SendError::Disconnected),
            Err(TrySendError::Full(back)) => message = back,
        }
        let started = Instant::now();
        loop {
            if cancelled.load(Ordering::Relaxed) {
                return Err(SendError::Cancelled);
            }
            match tx.send_timeout(message, CANCEL_POLL) {
                Ok(()) => {
                    bell.ring();
                    return Ok(started.elapsed());
                }
                Err(SendTimeoutError::Timeout(back)) => message = back,
                Err(SendTimeoutError::Disconnected(_)) => return Err(SendError::Disconnected),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parked receiver wakes for the message a sender sends, and for the last sender's end, not at its timeout.
    #[test]
    fn a_parked_receiver_wakes_for_a_send_and_for_the_last_senders_end() {
        let (tx, rx) = tagged_channel(4);
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tx.send((3, StreamMessage::EndOfInput)).unwrap();
            std::thread::sleep(Duration::from_millis(20));
        });
        let started = Instant::now();
        let (upstream, _) = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(upstream, 3);
        assert!(matches!(rx.recv_timeout(Duration::from_secs(30)), Err(RecvTimeoutError::Disconnected)));
        assert!(started.elapsed() < Duration::from_secs(20), "woken only by the timeout: {:?}", started.elapsed());
        sender.join().unwrap();
    }

    /// The last sender's end is never missed: the bell rings after the
    /// channel is disconnected, so a receiver that looks between the two
    /// cannot park past it (it did once in a few hundred runs before).
    #[test]
    fn a_receiver_never_parks_past_the_last_senders_end() {
        for round in 0..300 {
            let (tx, rx) = tagged_channel(4);
            let sender = std::thread::spawn(move || tx.send((1, StreamMessage::EndOfInput)).unwrap());
            assert!(rx.recv_timeout(Duration::from_secs(30)).is_ok());
            let waited = Instant::now();
            let end = rx.recv_timeout(Duration::from_secs(5));
            assert!(matches!(end, Err(RecvTimeoutError::Disconnected)), "round {round}: no end: {end:?}");
            assert!(waited.elapsed() < Duration::from_secs(2), "round {round}: parked past the end");
            sender.join().unwrap();
        }
    }

    /// A low-latency receiver takes what comes while it polls, still
    /// parks and wakes for what comes later, and times out on time.
    #[test]
    fn a_spinning_receiver_gets_messages_during_and_after_its_spin_and_times_out() {
        let (tx, mut rx) = tagged_channel(4);
        rx.set_spin(Duration::from_millis(200));
        let sender = std::thread::spawn(move || {
            tx.send((1, StreamMessage::EndOfInput)).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            tx.send((2, StreamMessage::EndOfInput)).unwrap();
        });
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap().0, 1);
        let waited = Instant::now();
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap().0, 2, "after the spin, parked and woken");
        assert!(waited.elapsed() < Duration::from_secs(20), "woken only by the timeout");
        assert!(matches!(rx.recv_timeout(Duration::from_secs(30)), Err(RecvTimeoutError::Disconnected)));
        sender.join().unwrap();

        let (_tx, mut rx) = tagged_channel(4);
        rx.set_spin(Duration::from_secs(60));
        let waited = Instant::now();
        assert!(matches!(rx.recv_timeout(Duration::from_millis(5)), Err(RecvTimeoutError::Timeout)));
        assert!(waited.elapsed() < Duration::from_secs(10), "the spin outlasted the timeout");
    }
}
