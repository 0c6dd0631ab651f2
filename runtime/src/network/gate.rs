//! The receiving side of a task: one channel shared by all upstream
//! subtasks, each message tagged with its sender. A task of a
//! multi-input operator (union, connect) has one gate for all its
//! inputs: its upstream channels are numbered across the inputs, and the
//! gate knows which input each feeds, so barriers align and watermarks
//! combine over every channel of every input alike. The gate aligns
//! checkpoint barriers: once upstream `u` delivered barrier `n`, what `u`
//! sends next is held back (in arrival order) until every other open
//! upstream delivered `n` too; then the gate reports the barrier, and the
//! held messages come out first, in the order they arrived. So the task's
//! snapshot holds exactly the records before the barrier, from every
//! upstream. Holding is per message (a batch), never per record, and
//! costs nothing while no checkpoint is in flight.
//!
//! Held messages are kept in memory rather than blocking the fast
//! upstreams (they share one channel): barriers are injected at all
//! sources at once, so what piles up is what the fast upstreams send
//! while the slow ones catch up.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crossbeam_channel::{RecvTimeoutError, TryRecvError};

use super::channel::{CANCEL_POLL, TaggedReceiver};
use super::{StreamMessage, Tagged};
use crate::checkpoint::{CheckpointBarrier, CheckpointId};

/// The receiving side of a task, expecting `upstreams` subtasks that each
/// end with [`StreamMessage::EndOfInput`].
pub struct InputGate {
    rx: TaggedReceiver,
    upstreams: usize,
    /// The operator input (0 or 1) each upstream channel feeds.
    inputs: Vec<u32>,
    open_upstreams: usize,
    /// Whether each upstream sent its end of input.
    ended: Vec<bool>,
    /// The barrier being aligned, if any.
    aligning: Option<CheckpointBarrier>,
    /// Upstreams that delivered the barrier being aligned.
    blocked: Vec<bool>,
    /// Messages of blocked upstreams, in arrival order.
    held: VecDeque<Tagged>,
    /// Messages released by an alignment, read before the channel.
    replay: VecDeque<Tagged>,
    /// The last barrier this gate reported (older ones are stale).
    last_barrier: Option<CheckpointId>,
}

/// What [`InputGate::next`] found.
#[derive(Debug)]
pub enum GateEvent {
    /// A batch of records from an upstream subtask feeding operator input `input`.
    Records {
        /// The operator input (0 but for the second input of a two-input operator).
        input: u32,
        /// The records.
        batch: crate::network::Batch,
    },
    /// A control message from some upstream subtask (never a barrier or a batch).
    Message(StreamMessage),
    /// Every open upstream delivered this barrier: snapshot now.
    Barrier(CheckpointBarrier),
    /// Nothing arrived before the deadline.
    Timeout,
    /// Every upstream subtask has ended.
    Ended,
    /// This task was cancelled, or every sender vanished without ending.
    Closed,
}

impl InputGate {
    /// A gate whose upstream channel `c` (the sender's tag) feeds operator
    /// input `inputs[c]`, all sending into `rx`.
    pub fn new(rx: TaggedReceiver, inputs: Vec<u32>) -> Self {
        let upstreams = inputs.len();
        InputGate {
            rx,
            upstreams,
            inputs,
            open_upstreams: upstreams,
            ended: vec![false; upstreams],
            aligning: None,
            blocked: vec![false; upstreams],
            held: VecDeque::new(),
            replay: VecDeque::new(),
            last_barrier: None,
        }
    }

    /// How many upstream subtasks send into this gate.
    pub fn upstreams(&self) -> usize {
        self.upstreams
    }

    /// Waits for the next event until `deadline` (forever if `None`),
    /// checking `cancelled` regularly.
    pub fn next(&mut self, deadline: Option<Instant>, cancelled: &AtomicBool) -> GateEvent {
        loop {
            if let Some(barrier) = self.complete_alignment() {
                return GateEvent::Barrier(barrier);
            }
            if self.open_upstreams == 0 && self.replay.is_empty() {
                return GateEvent::Ended;
            }
            let (upstream, message) = match self.replay.pop_front() {
                Some(tagged) => tagged,
                None => match self.receive(deadline, cancelled) {
                    Ok(tagged) => tagged,
                    Err(event) => return event,
                },
            };
            // With one upstream (a forward edge) the sender's own index is not 0.
            let upstream = if self.upstreams == 1 { 0 } else { upstream as usize };
            if upstream >= self.upstreams {
                tracing::warn!(
                    upstream,
                    upstreams = self.upstreams,
                    "message from an unknown upstream subtask ignored"
                );
                continue;
            }
            if self.blocked[upstream] {
                self.held.push_back((upstream as u32, message));
                continue;
            }
            match message {
                StreamMessage::Barrier(barrier) => self.on_barrier(upstream, barrier),
                StreamMessage::EndOfInput => {
                    if !self.ended[upstream] {
                        self.ended[upstream] = true;
                        self.open_upstreams -= 1;
                    }
                    return GateEvent::Message(StreamMessage::EndOfInput);
                }
                StreamMessage::Watermark { timestamp, .. } => {
                    return GateEvent::Message(StreamMessage::Watermark { upstream: upstream as u32, timestamp });
                }
                StreamMessage::WatermarkStatus { idle, .. } => {
                    return GateEvent::Message(StreamMessage::WatermarkStatus { upstream: upstream as u32, idle });
                }
                StreamMessage::Batch(batch) => return GateEvent::Records { input: self.inputs[upstream], batch },
            }
        }
    }

    /// Whether nothing is waiting to be read: the task has caught up with
    /// its upstreams (and may send what it holds before it waits).
    pub fn is_drained(&self) -> bool {
        self.replay.is_empty() && self.rx.is_empty()
    }

    /// Takes the next message off the channel.
    fn receive(&mut self, deadline: Option<Instant>, cancelled: &AtomicBool) -> Result<Tagged, GateEvent> {
        loop {
            if cancelled.load(Ordering::Relaxed) {
                return Err(GateEvent::Closed);
            }
            let now = Instant::now();
            let wait = match deadline {
                Some(d) if d <= now => {
                    return match self.rx.try_recv() {
                        Ok(tagged) => Ok(tagged),
                        Err(TryRecvError::Empty) => Err(GateEvent::Timeout),
                        Err(TryRecvError::Disconnected) => Err(GateEvent::Closed),
                    };
                }
                Some(d) => (d - now).min(CANCEL_POLL),
                None => CANCEL_POLL,
            };
            match self.rx.recv_timeout(wait) {
                Ok(tagged) => return Ok(tagged),
                Err(RecvTimeoutError::Timeout) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Err(GateEvent::Timeout);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return Err(GateEvent::Closed),
            }
        }
    }

    fn on_barrier(&mut self, upstream: usize, barrier: CheckpointBarrier) {
        if self.last_barrier.is_some_and(|last| barrier.id <= last) {
            return; // An abandoned checkpoint's barrier, arriving late.
        }
        match self.aligning {
            Some(current) if barrier.id < current.id => return,
            Some(current) if barrier.id > current.id => {
                // Some upstream moved on without `current`: it will never
                // align. Let everything held go and align the newer one.
                tracing::debug!(abandoned = current.id, newer = barrier.id, "checkpoint alignment abandoned");
                self.release();
                self.aligning = Some(barrier);
            }
            Some(_) => {}
            None => self.aligning = Some(barrier),
        }
        self.blocked[upstream] = true;
    }

    /// Reports the barrier being aligned once every open upstream
    /// delivered it, releasing what was held.
    fn complete_alignment(&mut self) -> Option<CheckpointBarrier> {
        let barrier = self.aligning?;
        if (0..self.upstreams).any(|u| !self.blocked[u] && !self.ended[u]) {
            return None;
        }
        self.aligning = None;
        self.last_barrier = Some(barrier.id);
        self.release();
        Some(barrier)
    }

    /// Unblocks every upstream; held messages go first, in arrival order.
    fn release(&mut self) {
        self.blocked.iter_mut().for_each(|b| *b = false);
        while let Some(tagged) = self.held.pop_back() {
            self.replay.push_front(tagged);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::SnapshotKind;
    use crate::network::{Batch, OutputChannel};

    fn barrier(id: CheckpointId) -> StreamMessage {
        StreamMessage::Barrier(CheckpointBarrier { id, timestamp: 0, kind: SnapshotKind::Checkpoint, stop: None })
    }

    fn batch(value: u8) -> StreamMessage {
        let mut batch = Batch::default();
        batch.push(None, &[value], None);
        StreamMessage::Batch(batch)
    }

    /// Drains the gate into a readable trace: `b<value>`, `B<id>`, `end`.
    fn trace(gate: &mut InputGate) -> Vec<String> {
        let never = AtomicBool::new(false);
        let mut seen = Vec::new();
        loop {
            match gate.next(Some(Instant::now()), &never) {
                GateEvent::Records { input: 0, batch: b } => seen.push(format!("b{}", b.value(0)[0])),
                GateEvent::Records { input, batch: b } => seen.push(format!("b{}@{input}", b.value(0)[0])),
                GateEvent::Message(StreamMessage::EndOfInput) => seen.push("end".into()),
                GateEvent::Message(other) => seen.push(format!("{other:?}")),
                GateEvent::Barrier(b) => seen.push(format!("B{}", b.id)),
                GateEvent::Ended | GateEvent::Timeout | GateEvent::Closed => return seen,
            }
        }
    }

    fn gate(upstreams: u32) -> (InputGate, Vec<OutputChannel>) {
        let (tx, rx) = crate::network::channel::tagged_channel(64);
        let senders = (0..upstreams).map(|u| OutputChannel::from_sender(tx.clone(), u)).collect();
        (InputGate::new(rx, vec![0; upstreams as usize]), senders)
    }

    fn send(channel: &OutputChannel, message: StreamMessage) {
        channel.send(message, &AtomicBool::new(false)).unwrap();
    }

    #[test]
    fn records_after_a_barrier_wait_until_every_upstream_delivered_it() {
        let (mut gate, up) = gate(2);
        send(&up[0], batch(1));
        send(&up[0], barrier(1));
        send(&up[0], batch(2)); // after barrier 1 on upstream 0: held
        send(&up[1], batch(3)); // before barrier 1 on upstream 1: goes through
        send(&up[0], batch(4));
        send(&up[1], barrier(1));
        send(&up[1], batch(5));
        for u in &up {
            send(u, StreamMessage::EndOfInput);
        }
        assert_eq!(trace(&mut gate), ["b1", "b3", "B1", "b2", "b4", "b5", "end", "end"]);
    }

    #[test]
    fn an_ended_upstream_does_not_hold_alignment_back() {
        let (mut gate, up) = gate(3);
        send(&up[2], StreamMessage::EndOfInput);
        send(&up[0], barrier(7));
        send(&up[0], batch(1));
        send(&up[1], batch(2));
        send(&up[1], barrier(7));
        send(&up[0], StreamMessage::EndOfInput);
        send(&up[1], StreamMessage::EndOfInput);
        assert_eq!(trace(&mut gate), ["end", "b2", "B7", "b1", "end", "end"]);
    }

    #[test]
    fn consecutive_barriers_queue_up_in_order_and_stale_ones_are_dropped() {
        let (mut gate, up) = gate(2);
        send(&up[0], barrier(1));
        send(&up[0], batch(1));
        send(&up[0], barrier(2)); // held behind barrier 1
        send(&up[0], batch(2));
        send(&up[1], barrier(1));
        send(&up[1], batch(3));
        send(&up[1], barrier(2));
        send(&up[1], barrier(2)); // a duplicate after alignment: stale
        for u in &up {
            send(u, StreamMessage::EndOfInput);
        }
        assert_eq!(trace(&mut gate), ["B1", "b1", "b3", "B2", "b2", "end", "end"]);
    }

    #[test]
    fn a_newer_barrier_abandons_an_alignment_that_cannot_finish() {
        let (mut gate, up) = gate(2);
        send(&up[0], barrier(1));
        send(&up[0], batch(1));
        send(&up[1], barrier(2)); // upstream 1 never saw checkpoint 1
        send(&up[0], barrier(2));
        for u in &up {
            send(u, StreamMessage::EndOfInput);
        }
        assert_eq!(trace(&mut gate), ["b1", "B2", "end", "end"]);
    }

    #[test]
    fn channels_of_two_inputs_align_together_and_name_their_input() {
        let (tx, rx) = crate::network::channel::tagged_channel(64);
        // Input 0 from two upstream subtasks (channels 0, 1), input 1 from one (channel 2).
        let mut gate = InputGate::new(rx, vec![0, 0, 1]);
        let up: Vec<_> = (0..3).map(|u| OutputChannel::from_sender(tx.clone(), u)).collect();
        send(&up[2], batch(7));
        send(&up[0], barrier(1));
        send(&up[0], batch(1)); // held until input 1 delivered the barrier too
        send(&up[1], barrier(1));
        send(&up[2], barrier(1));
        send(&up[2], batch(8));
        for u in &up {
            send(u, StreamMessage::EndOfInput);
        }
        assert_eq!(trace(&mut gate), ["b7@1", "B1", "b1", "b8@1", "end", "end", "end"]);
    }

    #[test]
    fn a_forward_gate_takes_any_sender_index_as_its_one_upstream() {
        let (tx, rx) = crate::network::channel::tagged_channel(8);
        let mut gate = InputGate::new(rx, vec![0]);
        let up = OutputChannel::from_sender(tx, 5);
        send(&up, StreamMessage::Watermark { upstream: 5, timestamp: 10 });
        send(&up, barrier(1));
        send(&up, StreamMessage::EndOfInput);
        let seen = trace(&mut gate);
        assert_eq!(seen, ["Watermark { upstream: 0, timestamp: 10 }", "B1", "end"]);
    }
}
