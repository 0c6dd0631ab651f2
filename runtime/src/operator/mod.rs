//! The context a task's guest chain runs in: watermarks in and out,
//! timers, named keyed state and side outputs around the chain, and the
//! error a task stops with ([`TaskError`]).
//!
//! Every task has a [`ChainContext`]. For a plain chain (wordcount) it only
//! combines the watermarks of the upstream channels and passes them on.
//! For a chain that needs context (a timestamp assigner, a process or
//! keyed-process node) it also runs the batches through
//! `process-with-context` with the entries of their keys, keeps the
//! chain's timers and fires them in batches through `on-timers` when the
//! watermark or the wall clock passes them, generates watermarks after an
//! assigner, and writes side outputs to their sinks.
//!
//! As in Flink, an assigner's watermark leaves periodically
//! (`pipeline.auto-watermark-interval`), not after every batch: a
//! watermark is a control message to every downstream subtask, which cuts
//! their batches short. Watermarks from upstream are passed on as soon as
//! they advance the combined watermark.

mod aggregate;
mod field_key;
mod record_field;
mod side_sinks;
mod task_error;

pub use aggregate::{AggregateError, Aggregator};
pub use field_key::{FieldKeyError, FieldKeys};
pub use side_sinks::SideSinks;
pub use task_error::TaskError;

use std::time::{Duration, Instant};

use crate::connectors::ConnectorError;
use crate::graph::JobVertex;
use crate::network::{Batch, StreamMessage};
use crate::protocol::SideSinkState;
use crate::state::{NamedStateBackend, StateEntries, apply_named, gather_named, take_named};
use crate::time::watermarks::TrackerChange;
use crate::time::{
    END_OF_TIME, NO_WATERMARK, TimeDomain, TimerService, Timers, WatermarkGenerator, WatermarkTracker,
    processing_time_now,
};
use crate::wasm::{CallTime, ContextOutput, GuestInstance};

/// Most timers fired in one `on-timers` call.
const TIMERS_PER_CALL: usize = 4096;

/// What the keeper hands back to the task: records for the main output,
/// or a control message for every downstream subtask.
pub enum Emit {
    /// Records of the main output.
    Records(Batch),
    /// A watermark or watermark status, sent after everything before it.
    Control(StreamMessage),
}

/// A chain that broke the rules of state and timers (a bug in the SDK or
/// the job, not a failure of the host).
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// The guest wrote state or set timers it may not (a bug in the SDK
    /// or the job); retrying does not help.
    #[error("the job broke the state contract: {0}")]
    Contract(String),
}

/// Watermarks, timers, named state and side outputs of one subtask.
pub struct ChainContext {
    /// Index of this subtask, named in the watermarks it sends.
    subtask: u32,
    max_parallelism: u32,
    /// Whether batches go through `process-with-context`.
    needs_context: bool,
    /// Whether the chain has named keyed state and timers.
    keyed: bool,
    /// States not sent with batches.
    lazy: Vec<u32>,
    /// Whether the chain keeps its named state in its own memory
    /// (`keep-state`): entries then leave the backend once, and
    /// checkpoints ask the chain for them.
    guest_keeps_state: bool,
    /// Combines the upstream channels' watermarks (channel input only).
    tracker: Option<WatermarkTracker>,
    /// Makes watermarks after a timestamp assigner.
    generator: Option<WatermarkGenerator>,
    /// The watermark the chain's operators see.
    watermark: i64,
    /// The last watermark sent downstream.
    sent: i64,
    /// How often the generator's watermark is sent (`None`: only at the end).
    emit_interval: Option<Duration>,
    /// When the generator's watermark is sent next, if it advanced: one
    /// interval after the task starts, then every interval (as Flink's
    /// periodic emitter).
    next_emit: Instant,
    /// Whether this subtask told downstream it is idle.
    idle_sent: bool,
    timers: TimerService,
    side_sinks: SideSinks,
    /// Reused buffers.
    state_in: StateEntries,
    fired: Timers,
}

impl ChainContext {
    /// The keeper of subtask `subtask` of `vertex`, with `upstreams` input
    /// channels (none for a source); its side output sinks recover from
    /// `side_sinks` when `recovering` (see [`SideSinks::open`]).
    pub fn new(
        vertex: &JobVertex,
        subtask: u32,
        upstreams: Option<usize>,
        side_sinks: &[SideSinkState],
        recovering: bool,
    ) -> Result<Self, ConnectorError> {
        let keyed = vertex.needs_context && vertex.guest_keyed();
        let emit_interval =
            (vertex.auto_watermark_interval_ms > 0).then(|| Duration::from_millis(vertex.auto_watermark_interval_ms));
        Ok(ChainContext {
            subtask,
            max_parallelism: vertex.max_parallelism,
            needs_context: vertex.needs_context,
            keyed,
            lazy: vertex.named_states.iter().filter(|s| s.lazy).map(|s| s.id).collect(),
            guest_keeps_state: false,
            tracker: upstreams.map(WatermarkTracker::new),
            generator: vertex.watermark_strategy.as_ref().map(WatermarkGenerator::new),
            watermark: NO_WATERMARK,
            sent: NO_WATERMARK,
            emit_interval,
            next_emit: Instant::now() + emit_interval.unwrap_or_default(),
            idle_sent: false,
            timers: TimerService::new(),
            side_sinks: SideSinks::open(&vertex.side_sinks, subtask, vertex.parallelism, side_sinks, recovering)?,
            state_in: StateEntries::default(),
            fired: Timers::default(),
        })
    }

    /// The watermark the chain's operators have seen and the last one sent on (Flink's `currentInputWatermark`
    /// and `currentOutputWatermark`); a generator's own watermark counts as seen once it is sent.
    pub fn watermarks(&self) -> (i64, i64) {
        (self.watermark.max(if self.generator.is_some() { self.sent } else { i64::MIN }), self.sent)
    }

    /// Whether batches must go through [`ChainContext::process`] instead of
    /// the plain `process` call.
    pub fn needs_context(&self) -> bool {
        self.needs_context
    }

    /// Runs one batch from input `input` (0 but for the second input of
    /// a two-input operator) through a chain that needs context; `batch`
    /// comes back emptied.
    pub fn process(
        &mut self,
        guest: &mut GuestInstance,
        batch: &mut Batch,
        input: u32,
        emit: &mut dyn FnMut(Emit) -> Result<(), TaskError>,
    ) -> Result<(), TaskError> {
        if self.keyed
            && let Some(backend) = guest.named_state()
        {
            self.send_state(backend, &batch.keys, &batch.key_ends);
        }
        let time = CallTime { input, ..self.call_time() };
        let output = guest.process_with_context(batch, &mut self.state_in, time)?;
        self.take_output(guest, output, emit)?;
        self.after_input(emit)
    }

    /// Hands a restored copy of the broadcast state to the chain, before
    /// any record: a `process-with-context` call of the broadcast input
    /// with an empty batch and the copy's entries.
    pub fn restore_broadcast(
        &mut self,
        guest: &mut GuestInstance,
        copy: StateEntries,
        emit: &mut dyn FnMut(Emit) -> Result<(), TaskError>,
    ) -> Result<(), TaskError> {
        self.state_in = copy;
        let time = CallTime { input: 1, ..self.call_time() };
        let output = guest.process_with_context(&mut Batch::default(), &mut self.state_in, time)?;
        self.take_output(guest, output, emit)
    }

    /// Asks a keyed chain to keep its state in its own memory (once,
    /// after `open`); see [`GuestInstance::keep_state`].
    pub fn offer_state_keeping(&mut self, guest: &mut GuestInstance) -> Result<(), TaskError> {
        if self.keyed {
            self.guest_keeps_state = guest.keep_state()?;
        }
        Ok(())
    }

    /// Whether the chain keeps its named state itself, so a snapshot must
    /// ask it for its entries.
    pub fn guest_keeps_state(&self) -> bool {
        self.guest_keeps_state
    }

    /// Puts into `state_in` the entries the chain needs for the keys
    /// `keys`: every entry of them, or, for a chain that keeps its state,
    /// those it has not seen yet (moved out of the backend, so normally
    /// none and no lookup at all).
    fn send_state(&mut self, backend: &mut dyn NamedStateBackend, keys: &[u8], key_ends: &[u32]) {
        if !self.guest_keeps_state {
            gather_named(backend, keys, key_ends, &self.lazy, self.max_parallelism, &mut self.state_in);
        } else if !backend.is_empty() {
            take_named(backend, keys, key_ends, &self.lazy, self.max_parallelism, &mut self.state_in);
        }
    }

    /// Watermarks leaving a chain that assigns timestamps follow its
    /// output; call after every batch of the plain path too.
    pub fn observe_output(&mut self, records: &Batch) -> Option<StreamMessage> {
        let generator = self.generator.as_mut()?;
        if generator.observe(&records.timestamps) && self.idle_sent {
            self.idle_sent = false;
            return Some(StreamMessage::WatermarkStatus { upstream: self.subtask, idle: false });
        }
        None
    }

    /// Sends the generator's watermark if it advanced and the emit
    /// interval has passed since the last one.
    fn after_input(&mut self, emit: &mut dyn FnMut(Emit) -> Result<(), TaskError>) -> Result<(), TaskError> {
        let now = Instant::now();
        match self.emit_interval {
            Some(interval) if now >= self.next_emit => {
                self.next_emit = now + interval;
                self.send_generated(emit)
            }
            _ => Ok(()),
        }
    }

    /// Sends the generator's watermark if it advanced since the last one sent.
    fn send_generated(&mut self, emit: &mut dyn FnMut(Emit) -> Result<(), TaskError>) -> Result<(), TaskError> {
        if let Some(generator) = &self.generator {
            let watermark = generator.current();
            if watermark > self.sent {
                self.sent = watermark;
                emit(Emit::Control(StreamMessage::Watermark { upstream: self.subtask, timestamp: watermark }))?;
            }
        }
        Ok(())
    }

    /// Whether the generator holds a watermark not sent yet.
    fn generated_pending(&self) -> bool {
        self.generator.as_ref().is_some_and(|g| g.current() > self.sent)
    }

    /// Takes a watermark or status message from upstream: fires the event
    /// timers it makes due and passes the combined watermark on.
    pub fn on_control(
        &mut self,
        guest: Option<&mut GuestInstance>,
        message: StreamMessage,
        emit: &mut dyn FnMut(Emit) -> Result<(), TaskError>,
    ) -> Result<(), TaskError> {
        let Some(tracker) = &mut self.tracker else { return Ok(()) };
        let change = match message {
            StreamMessage::Watermark { upstream, timestamp } => tracker.watermark(upstream, timestamp),
            StreamMessage::WatermarkStatus { upstream, idle } => tracker.status(upstream, idle),
            _ => TrackerChange::None,
        };
        match change {
            TrackerChange::Advanced(watermark) => self.advance(guest, watermark, emit),
            TrackerChange::AdvancedAndIdle(watermark) => {
                self.advance(guest, watermark, emit)?;
                match self.generator {
                    None => emit(Emit::Control(StreamMessage::WatermarkStatus { upstream: self.subtask, idle: true })),
                    Some(_) => Ok(()),
                }
            }
            TrackerChange::Idle(idle) if self.generator.is_none() => {
                emit(Emit::Control(StreamMessage::WatermarkStatus { upstream: self.subtask, idle }))
            }
            _ => Ok(()),
        }
    }

    /// A source's own watermark (Kafka's, per partition): moves the
    /// operators' watermark like one from upstream, and tells downstream
    /// when the source turns idle or active.
    pub fn on_source_watermark(
        &mut self,
        guest: Option<&mut GuestInstance>,
        source: crate::connectors::sources::SourceWatermark,
        emit: &mut dyn FnMut(Emit) -> Result<(), TaskError>,
    ) -> Result<(), TaskError> {
        let own_status = self.generator.is_none();
        if !source.idle && self.idle_sent && own_status {
            self.idle_sent = false;
            emit(Emit::Control(StreamMessage::WatermarkStatus { upstream: self.subtask, idle: false }))?;
        }
        if source.watermark > self.watermark {
            self.advance(guest, source.watermark, emit)?;
        }
        if source.idle && !self.idle_sent && own_status {
            self.idle_sent = true;
            emit(Emit::Control(StreamMessage::WatermarkStatus { upstream: self.subtask, idle: true }))?;
        }
        Ok(())
    }

    /// Moves the operators' watermark to `watermark`: fires due event
    /// timers, then sends it on (unless an assigner makes its own).
    fn advance(
        &mut self,
        guest: Option<&mut GuestInstance>,
        watermark: i64,
        emit: &mut dyn FnMut(Emit) -> Result<(), TaskError>,
    ) -> Result<(), TaskError> {
        self.watermark = self.watermark.max(watermark);
        if let Some(guest) = guest {
            self.fire(guest, TimeDomain::EventTime, self.watermark, emit)?;
        }
        // An assigner makes its own watermarks, but passes the end of time on (as Flink's does), so a drain
        // fires the windows after it too.
        let passes_on = self.generator.is_none() || self.watermark == END_OF_TIME;
        if passes_on && self.watermark > self.sent {
            self.sent = self.watermark;
            emit(Emit::Control(StreamMessage::Watermark { upstream: self.subtask, timestamp: self.watermark }))?;
        }
        Ok(())
    }

    /// Fires every timer of `domain` due at `now`, in batches, including
    /// timers the firing itself registers.
    fn fire(
        &mut self,
        guest: &mut GuestInstance,
        domain: TimeDomain,
        now: i64,
        emit: &mut dyn FnMut(Emit) -> Result<(), TaskError>,
    ) -> Result<(), TaskError> {
        if !self.keyed {
            return Ok(());
        }
        loop {
            self.fired.clear();
            if self.timers.pop_due(domain, now, TIMERS_PER_CALL, &mut self.fired) == 0 {
                return Ok(());
            }
            if let Some(backend) = guest.named_state() {
                let fired = std::mem::take(&mut self.fired);
                self.send_state(backend, &fired.keys, &fired.key_ends);
                self.fired = fired;
            }
            let time = self.call_time();
            let output = guest.on_timers(&self.fired, &mut self.state_in, time)?;
            self.take_output(guest, output, emit)?;
        }
    }

    /// Processing time: fires due processing-time timers, sends the
    /// generator's watermark when its interval is up, and checks whether
    /// the source side went idle. Call regularly.
    pub fn tick(
        &mut self,
        guest: Option<&mut GuestInstance>,
        emit: &mut dyn FnMut(Emit) -> Result<(), TaskError>,
    ) -> Result<(), TaskError> {
        if let Some(guest) = guest
            && self.timers.next_processing_time().is_some_and(|t| t <= processing_time_now())
        {
            self.fire(guest, TimeDomain::ProcessingTime, processing_time_now(), emit)?;
        }
        self.after_input(emit)?;
        if let Some(generator) = &mut self.generator
            && generator.check_idle(Instant::now())
        {
            // What the subtask saw before going quiet leaves first: a
            // watermark after the idle status would wake the channel.
            self.send_generated(emit)?;
            self.idle_sent = true;
            emit(Emit::Control(StreamMessage::WatermarkStatus { upstream: self.subtask, idle: true }))?;
        }
        Ok(())
    }

    /// When [`tick`](Self::tick) has something to do next.
    pub fn next_deadline(&self) -> Option<Instant> {
        let timer = self.timers.next_processing_time().map(|t| {
            let wait = t.saturating_sub(processing_time_now()).max(0) as u64;
            Instant::now() + Duration::from_millis(wait)
        });
        let idle = self.generator.as_ref().and_then(WatermarkGenerator::idle_deadline);
        let watermark = (self.emit_interval.is_some() && self.generated_pending()).then_some(self.next_emit);
        timer.into_iter().chain(idle).chain(watermark).min()
    }

    /// End of input: the watermark goes to the end of time (every event
    /// timer fires), pending processing-time timers fire too, and the end
    /// of time is sent downstream.
    pub fn finish(
        &mut self,
        guest: Option<&mut GuestInstance>,
        emit: &mut dyn FnMut(Emit) -> Result<(), TaskError>,
    ) -> Result<(), TaskError> {
        self.watermark = END_OF_TIME;
        if let Some(guest) = guest {
            self.fire(guest, TimeDomain::EventTime, END_OF_TIME, emit)?;
            self.fire(guest, TimeDomain::ProcessingTime, END_OF_TIME, emit)?;
        }
        self.send_end_of_time(emit)?;
        self.side_sinks.finish()?;
        Ok(())
    }

    /// Stop-with-savepoint `--drain`, before the barrier: the watermark goes to the end of time, so every
    /// event-time timer (every window) fires, and the end of time is sent downstream, where the rest fire.
    pub fn drain(
        &mut self,
        guest: Option<&mut GuestInstance>,
        emit: &mut dyn FnMut(Emit) -> Result<(), TaskError>,
    ) -> Result<(), TaskError> {
        self.watermark = END_OF_TIME;
        if let Some(guest) = guest {
            self.fire(guest, TimeDomain::EventTime, END_OF_TIME, emit)?;
        }
        self.send_end_of_time(emit)
    }

    fn send_end_of_time(&mut self, emit: &mut dyn FnMut(Emit) -> Result<(), TaskError>) -> Result<(), TaskError> {
        if self.sent < END_OF_TIME {
            self.sent = END_OF_TIME;
            emit(Emit::Control(StreamMessage::Watermark { upstream: self.subtask, timestamp: END_OF_TIME }))?;
        }
        Ok(())
    }

    fn call_time(&self) -> CallTime {
        CallTime { watermark: self.watermark, processing_time: processing_time_now(), input: 0 }
    }

    /// Applies what a contextual call returned: state, timers, side
    /// outputs, then the main records.
    fn take_output(
        &mut self,
        guest: &mut GuestInstance,
        output: ContextOutput,
        emit: &mut dyn FnMut(Emit) -> Result<(), TaskError>,
    ) -> Result<(), TaskError> {
        if !output.state.is_empty() {
            let backend = guest.named_state().ok_or_else(|| {
                ContractError::Contract("the chain wrote keyed state but declares no keyed state".into())
            })?;
            apply_named(backend, &output.state, self.max_parallelism).map_err(ContractError::Contract)?;
        }
        if !output.timers_registered.is_empty() || !output.timers_deleted.is_empty() {
            if !self.keyed {
                return Err(ContractError::Contract("timers can only be set by a keyed process function".into()).into());
            }
            self.timers.apply(&output.timers_registered, &output.timers_deleted, self.max_parallelism);
        }
        if !output.side_tags.is_empty() {
            self.side_sinks.write(&output.side_records, &output.side_tags)?;
        }
        if let Some(status) = self.observe_output(&output.records) {
            emit(Emit::Control(status))?;
        }
        emit(Emit::Records(output.records))
    }

    /// The side output sinks (they take part in checkpoints).
    pub fn side_sinks(&mut self) -> &mut SideSinks {
        &mut self.side_sinks
    }

    /// The chain's timers (for snapshots).
    pub fn timers(&self) -> &TimerService {
        &self.timers
    }

    /// The chain's timers (for restores).
    pub fn timers_mut(&mut self) -> &mut TimerService {
        &mut self.timers
    }

    /// Number of registered timers.
    pub fn timer_count(&self) -> usize {
        self.timers.len()
    }
}
