//! A Task runs one subtask of a vertex: input (a source or the channel
//! from upstream) → the guest chain (one call per batch, with the state of
//! the batch's keys) → output (a sink or the channels downstream). It runs
//! on its own thread and reports its state changes to the JobManager.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::broadcast_state::BroadcastStates;
use super::checkpoints::{self, Restored, TaskCheckpoints};
use super::messages::{TaskControl, TaskDeployment, TaskInput, TaskOutput};
use super::running_values::RunningValues;
use crate::checkpoint::{CheckpointId, StopMode, TaskCommand, TaskStateHandle};
use crate::connectors::sinks::{self, SinkRecovery, SinkWriter};
use crate::connectors::sources::{self, SourceReader, SourceStatus};
use crate::graph::partition::key_group_range;
use crate::graph::{JobVertex, StateDescriptor};
use crate::metrics::TaskMetrics;
use crate::network::{Batch, GateEvent, InputGate, OutputWriter, StreamMessage};
use crate::operator::{Aggregator, ChainContext, Emit, FieldKeys, TaskError};
use crate::protocol::{FailureKind, TaskFailure, TaskState, TaskStateChanged};
use crate::state::MemoryNamedBackend;
use crate::wasm::{GuestInstance, InstanceSettings, JobComponent, SlotMemory};

mod pipeline_state;
mod source_run;

use source_run::SourceRun;

/// How long a task waits for a command while nothing else happens.
const COMMAND_POLL: Duration = Duration::from_millis(50);
/// How often the guest's own counters are copied where the TaskManager reads them (a lock and a copy, so not
/// per batch).
const PUBLISH_COUNTERS: Duration = Duration::from_secs(1);

/// A deployed subtask, ready to run.
pub struct Task {
    deployment: Option<TaskDeployment>,
    memory: Arc<SlotMemory>,
}

/// How a task's input ended, and so how the task ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputEnd {
    /// The input ran out, or a stop-with-savepoint `--drain` completed: the
    /// chain finishes (every timer fires, the end of time goes downstream).
    Finished,
    /// A stop-with-savepoint without `--drain` completed: the task ends as
    /// the savepoint left it, so a job restored from it goes on from there.
    Suspended,
}

impl From<StopMode> for InputEnd {
    fn from(mode: StopMode) -> Self {
        match mode {
            StopMode::Drain => InputEnd::Finished,
            StopMode::Suspend => InputEnd::Suspended,
        }
    }
}

/// Where the chain's output goes.
enum Output {
    Sink(Box<dyn SinkWriter>),
    /// Channels to the next vertex, and the host's key-by by field that
    /// keys the records first when the chain ends in one.
    Channels(OutputWriter, Option<FieldKeys>),
}

/// The running parts of a task: the guest chain, its keyed state and the output.
struct Pipeline {
    guest: Option<GuestInstance>,
    /// The host's built-in aggregation heading the chain, if any.
    aggregator: Option<Aggregator>,
    /// The running values of a keyed chain without context, or of the
    /// host's aggregation.
    keyed_state: Option<RunningValues>,
    output: Output,
    /// Watermarks, timers, named state and side outputs.
    time: ChainContext,
    /// The broadcast states of the chain, if it has any.
    broadcast: Option<BroadcastStates>,
    /// The key groups this subtask owns.
    key_groups: Range<u32>,
    max_parallelism: u32,
    /// The chain's named states with a time to live, whose expired
    /// entries its snapshots leave out.
    states_with_ttl: Vec<StateDescriptor>,
    metrics: Arc<TaskMetrics>,
    /// When the guest's counters are published next.
    publish_counters_at: Instant,
}

impl Task {
    /// A task for `deployment`, its guest charged to `memory`.
    pub fn new(deployment: TaskDeployment, memory: Arc<SlotMemory>) -> Self {
        Task { deployment: Some(deployment), memory }
    }

    /// Runs the task to its end and reports the outcome. Never panics
    /// out: a bug in the runtime fails the task, not the process.
    pub fn run(mut self) {
        let deployment = self.deployment.take().expect("a task runs once");
        let report = deployment.control.report.clone();
        let subtask = deployment.subtask;
        let cancelled = deployment.control.cancelled.clone();
        let span = tracing::info_span!(
            "task",
            job = %deployment.job_id,
            vertex = %deployment.vertex.name,
            subtask = subtask.index
        );
        let _entered = span.enter();
        let memory = self.memory.clone();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || run_task(deployment, memory)));
        let (state, error, final_state) = match outcome {
            Ok(Ok(final_state)) => (TaskState::Finished, None, final_state),
            Ok(Err(TaskError::Cancelled)) => (TaskState::Canceled, None, None),
            // A neighbour vanishing after a cancel is the cancel's doing;
            // any other error is the task's own, even if a cancel came
            // meanwhile (the cancel may have followed from this very
            // failure, reported by a neighbour first).
            Ok(Err(TaskError::Disconnected(_))) if cancelled.load(Ordering::Relaxed) => {
                (TaskState::Canceled, None, None)
            }
            Ok(Err(error)) => (TaskState::Failed, Some(error.failure()), None),
            Err(panic) => {
                let message = crate::panics::panic_message(&*panic);
                let message = format!("internal error (this is likely a bug): task panicked: {message}");
                (TaskState::Failed, Some(TaskFailure::new(FailureKind::Internal, message)), None)
            }
        };
        match &error {
            Some(error) => tracing::warn!(%error, "task failed"),
            None => tracing::debug!(?state, "task ended"),
        }
        report.do_send(TaskStateChanged { subtask, state, error, final_state });
    }
}

/// A task's life: open its guest and pipeline (restoring its state), run
/// its source or its input channels to their end, then finish. Returns
/// the state a task whose input ended finishes with (see
/// [`checkpoints::final_handle`]); none for one stopped with a savepoint.
fn run_task(deployment: TaskDeployment, memory: Arc<SlotMemory>) -> Result<Option<Box<TaskStateHandle>>, TaskError> {
    let TaskDeployment {
        job_id,
        subtask,
        vertex,
        component,
        args,
        input,
        output,
        buffer_timeout,
        call_timeout,
        checkpoint_storage,
        periodic_checkpoints,
        restore,
        attempt,
        control: TaskControl { cancelled, metrics, report, commands, checkpoints },
    } = deployment;
    let changed = |state| report.do_send(TaskStateChanged { subtask, state, error: None, final_state: None });
    changed(TaskState::Initializing);
    let mut checkpoints =
        TaskCheckpoints::new(job_id, subtask, vertex.id.clone(), checkpoint_storage, commands, checkpoints);
    let restored = match &restore {
        Some(restore) => checkpoints::load(restore)?,
        None => Restored::default(),
    };
    let key_groups = key_group_range(subtask.index, vertex.parallelism, vertex.max_parallelism);
    let guest = match &component {
        Some(component) if !vertex.user_nodes.is_empty() => {
            let settings = InstanceSettings {
                task: format!("{} ({}/{})", vertex.name, subtask.index + 1, vertex.parallelism),
                memory,
                call_timeout,
                attempt,
                cancel: cancelled.clone(),
            };
            let info = crate::wasm::SubtaskInfo {
                index: subtask.index,
                parallelism: vertex.parallelism,
                max_parallelism: vertex.max_parallelism,
                custom_partitions: output.custom_partitions(),
            };
            Some(open_guest(component, settings, &args, &vertex, info, &key_groups)?)
        }
        _ => None,
    };
    let upstreams = match &input {
        TaskInput::Channel(gate) => Some(gate.upstreams()),
        TaskInput::Source(_) => None,
    };
    let opening = Opening { subtask: subtask.index, vertex: &vertex, key_groups, buffer_timeout, restored: &restored };
    let recovering = restore.is_some() || attempt > 0;
    let mut pipeline = Pipeline::open(opening, guest, upstreams, output, recovering, &metrics, &cancelled)?;
    if let Some(restore) = &restore {
        pipeline.restore_keyed(&restored.keyed, restore.checkpoint_id)?;
        pipeline.restore_broadcast(&restored.broadcast, subtask.index, restore.checkpoint_id)?;
    }
    let (end, source_end) = match input {
        TaskInput::Source(connector) => {
            let reader = sources::open(&connector, subtask.index, vertex.parallelism, &restored.sources)?;
            changed(TaskState::Running);
            let watermark_interval = Duration::from_millis(vertex.auto_watermark_interval_ms.max(1));
            let mut run = SourceRun {
                reader,
                ended: false,
                final_checkpoint: None,
                stopping: None,
                periodic_checkpoints,
                watermark_interval,
                next_watermark: Instant::now(),
            };
            let end = run.run(&mut pipeline, &mut checkpoints, &metrics, &cancelled)?;
            // Where the source ended (nothing left to read), for no checkpoint in particular.
            let position = (end == InputEnd::Finished).then(|| run.reader.snapshot(CheckpointId::MAX)).flatten();
            (end, position)
        }
        TaskInput::Channel(gate) => {
            changed(TaskState::Running);
            (run_inputs(gate, &mut pipeline, &mut checkpoints, &metrics, &cancelled)?, None)
        }
    };
    match end {
        InputEnd::Finished => pipeline.finish().map(|()| Some(Box::new(checkpoints::final_handle(source_end)))),
        InputEnd::Suspended => pipeline.suspend().map(|()| None),
    }
}

/// Instantiates the chain's guest for one subtask and opens its chain,
/// with the named keyed state of a keyed chain that uses it.
fn open_guest(
    component: &JobComponent,
    settings: InstanceSettings,
    args: &[String],
    vertex: &JobVertex,
    info: crate::wasm::SubtaskInfo,
    key_groups: &Range<u32>,
) -> Result<GuestInstance, TaskError> {
    let mut guest = GuestInstance::new(component, settings)?;
    guest.open(args, &vertex.user_nodes, info)?;
    if vertex.needs_context && vertex.guest_keyed() {
        let declared = vertex.named_states.iter().map(|s| s.id).collect();
        let backend = Box::new(MemoryNamedBackend::new(key_groups.clone()));
        guest.set_named_state(backend, declared, vertex.max_parallelism);
    }
    Ok(guest)
}

/// What a pipeline is opened with, besides its guest and output.
struct Opening<'a> {
    subtask: u32,
    vertex: &'a JobVertex,
    key_groups: Range<u32>,
    buffer_timeout: Duration,
    restored: &'a Restored,
}

/// A task fed by channels: process what arrives (barriers aligned by the
/// gate) and carry out commands until every upstream ended. After the
/// barrier of a stop-with-savepoint without `--drain` it emits nothing
/// more (no timer fires), and it ends suspended unless that savepoint fails.
fn run_inputs(
    mut gate: InputGate,
    pipeline: &mut Pipeline,
    checkpoints: &mut TaskCheckpoints,
    metrics: &TaskMetrics,
    cancelled: &AtomicBool,
) -> Result<InputEnd, TaskError> {
    let mut suspended: Option<CheckpointId> = None;
    loop {
        // Wake up now and then to read commands while no record comes.
        let poll = Instant::now() + COMMAND_POLL;
        let due = pipeline.next_deadline().filter(|_| suspended.is_none());
        let deadline = due.map_or(poll, |d| d.min(poll));
        let waiting = Instant::now();
        let event = gate.next(Some(deadline), cancelled);
        metrics.add_idle(waiting.elapsed());
        match event {
            GateEvent::Records { input, mut batch } => {
                metrics.add_in(batch.len(), batch.byte_len());
                pipeline.process(&mut batch, input)?;
                if gate.is_drained() {
                    pipeline.flush_output()?;
                }
                pipeline.flush_due()?;
            }
            GateEvent::Message(StreamMessage::EndOfInput) => {}
            GateEvent::Message(control) => pipeline.on_control(control)?,
            GateEvent::Barrier(barrier) => {
                pipeline.checkpoint(barrier, None, checkpoints)?;
                if barrier.stop == Some(StopMode::Suspend) {
                    suspended = Some(barrier.id);
                }
            }
            GateEvent::Timeout if suspended.is_some() => {}
            GateEvent::Timeout => pipeline.flush_due()?,
            GateEvent::Ended if suspended.is_some() => return Ok(InputEnd::Suspended),
            GateEvent::Ended => return Ok(InputEnd::Finished),
            GateEvent::Closed if cancelled.load(Ordering::Relaxed) => return Err(TaskError::Cancelled),
            GateEvent::Closed => {
                return Err(TaskError::Disconnected("every upstream task vanished before ending".into()));
            }
        }
        while let Some(command) = checkpoints.poll() {
            match command {
                TaskCommand::NotifyComplete(id) => pipeline.commit(id)?,
                // The stop failed: the job goes on.
                TaskCommand::NotifyAborted(id) if suspended == Some(id) => suspended = None,
                TaskCommand::NotifyAborted(_) => {}
                TaskCommand::TriggerCheckpoint(barrier) => {
                    checkpoints.decline(barrier.id, "only source tasks are triggered; this one aligns barriers".into())
                }
            }
        }
    }
}

impl Pipeline {
    /// The running parts of a task around its (opened) guest: time and
    /// side outputs, keyed state, and its sink or output channels.
    fn open(
        opening: Opening<'_>,
        mut guest: Option<GuestInstance>,
        upstreams: Option<usize>,
        output: TaskOutput,
        recovering: bool,
        metrics: &Arc<TaskMetrics>,
        cancelled: &Arc<AtomicBool>,
    ) -> Result<Self, TaskError> {
        let Opening { subtask, vertex, key_groups, buffer_timeout, restored } = opening;
        let mut time = ChainContext::new(vertex, subtask, upstreams, &restored.side_sinks, recovering)?;
        if let Some(guest) = &mut guest {
            time.offer_state_keeping(guest)?;
        }
        let aggregator = vertex
            .aggregation
            .as_ref()
            .map(|a| Aggregator::new(a.aggregation.clone(), a.node.clone(), vertex.max_parallelism));
        let mut keyed_state = (vertex.keyed && (aggregator.is_some() || !vertex.needs_context))
            .then(|| RunningValues::new(key_groups.clone(), vertex.max_parallelism));
        if let (Some(values), Some(guest), None) = (&mut keyed_state, &mut guest, &aggregator) {
            values.offer_keeping(guest)?;
        }
        let output = match output {
            TaskOutput::Sink(connector) => {
                let recovery = SinkRecovery { states: restored.sinks.clone(), recovering };
                Output::Sink(sinks::open(&connector, subtask, vertex.parallelism, &recovery)?)
            }
            TaskOutput::Channels { partitioning, channels } => Output::Channels(
                OutputWriter::new(
                    partitioning,
                    channels,
                    buffer_timeout,
                    vertex.max_parallelism,
                    metrics.clone(),
                    cancelled.clone(),
                ),
                vertex.key_by_field.as_ref().map(|k| FieldKeys::new(k.node.clone(), k.field.clone())),
            ),
        };
        Ok(Pipeline {
            guest,
            aggregator,
            keyed_state,
            output,
            time,
            broadcast: BroadcastStates::of(vertex),
            key_groups,
            max_parallelism: vertex.max_parallelism,
            states_with_ttl: vertex.named_states.iter().filter(|s| s.ttl_ms.is_some()).cloned().collect(),
            metrics: metrics.clone(),
            publish_counters_at: Instant::now(),
        })
    }
}

impl Pipeline {
    /// Runs one batch of operator input `input` (0 but for the second
    /// input of a two-input operator) through the chain and hands the
    /// result to the output. `batch` comes back emptied, its buffers ready
    /// for reuse.
    fn process(&mut self, batch: &mut Batch, input: u32) -> Result<(), TaskError> {
        let started = Instant::now();
        if let (Some(aggregator), Some(values)) = (&mut self.aggregator, &mut self.keyed_state) {
            // The host's aggregation first; the guest runs the rest of the chain on its output.
            let mut out = Batch::with_capacity(batch.len(), batch.values.len());
            values.aggregate(aggregator, batch, &mut out)?;
            *batch = out;
        }
        if let (Some(guest), true) = (&mut self.guest, self.time.needs_context()) {
            let Pipeline { time, output, metrics, .. } = self;
            time.process(guest, batch, input, &mut |e| emit_to(output, metrics, e))?;
            self.metrics.add_busy(started.elapsed());
            self.publish(started);
            return Ok(());
        }
        let records = match (&mut self.guest, &mut self.keyed_state) {
            (Some(guest), Some(values)) if self.aggregator.is_none() => values.process(guest, batch)?,
            (Some(guest), _) => guest.process(batch, &mut Default::default())?.0,
            (None, _) => std::mem::take(batch),
        };
        self.metrics.add_busy(started.elapsed());
        let status = self.time.observe_output(&records);
        self.emit(records)?;
        if let Some(status) = status {
            self.emit_control(status)?;
        }
        self.publish(started);
        Ok(())
    }

    /// Publishes the watermarks (two stores) and, once per [`PUBLISH_COUNTERS`], the guest's own counters.
    fn publish(&mut self, now: Instant) {
        let (input, output) = self.time.watermarks();
        self.metrics.set_watermarks(input, output);
        if now >= self.publish_counters_at {
            self.publish_counters_at = now + PUBLISH_COUNTERS;
            if let Some(guest) = &self.guest {
                self.metrics.set_counters(guest.counters());
            }
        }
    }

    fn emit(&mut self, records: Batch) -> Result<(), TaskError> {
        emit_to(&mut self.output, &self.metrics, Emit::Records(records))
    }

    fn emit_control(&mut self, message: StreamMessage) -> Result<(), TaskError> {
        emit_to(&mut self.output, &self.metrics, Emit::Control(message))
    }

    /// The source's own watermark.
    fn on_source_watermark(&mut self, watermark: sources::SourceWatermark) -> Result<(), TaskError> {
        let Pipeline { guest, time, output, metrics, .. } = self;
        time.on_source_watermark(guest.as_mut(), watermark, &mut |e| emit_to(output, metrics, e))
    }

    /// A watermark or watermark status from upstream.
    fn on_control(&mut self, message: StreamMessage) -> Result<(), TaskError> {
        let Pipeline { guest, time, output, metrics, .. } = self;
        time.on_control(guest.as_mut(), message, &mut |e| emit_to(output, metrics, e))?;
        let (input, output) = self.time.watermarks();
        self.metrics.set_watermarks(input, output);
        Ok(())
    }

    fn next_deadline(&self) -> Option<Instant> {
        let output = match &self.output {
            Output::Channels(writer, _) => writer.next_deadline(),
            Output::Sink(_) => None,
        };
        output.into_iter().chain(self.time.next_deadline()).min()
    }

    /// Sends everything the output holds: the task caught up with its input
    /// and may now wait for more (see [`OutputWriter::flush_all`]).
    fn flush_output(&mut self) -> Result<(), TaskError> {
        if let Output::Channels(writer, _) = &mut self.output {
            writer.flush_all()?;
        }
        Ok(())
    }

    fn flush_due(&mut self) -> Result<(), TaskError> {
        let Pipeline { guest, time, output, metrics, .. } = self;
        time.tick(guest.as_mut(), &mut |e| emit_to(output, metrics, e))?;
        if let Output::Channels(writer, _) = &mut self.output {
            writer.flush_due()?;
        }
        Ok(())
    }

    /// Stop-with-savepoint `--drain`, before the barrier: every event-time timer fires and the end of time goes
    /// downstream.
    fn drain(&mut self) -> Result<(), TaskError> {
        let Pipeline { guest, time, output, metrics, .. } = self;
        time.drain(guest.as_mut(), &mut |e| emit_to(output, metrics, e))
    }

    /// Stop-with-savepoint without `--drain`, once it completed: the output ends (its sink closes, downstream
    /// tasks hear the end), but no timer fires and the guest is not finished: what is still open stays in the
    /// savepoint.
    fn suspend(mut self) -> Result<(), TaskError> {
        self.time.side_sinks().finish()?;
        match &mut self.output {
            Output::Sink(sink) => sink.finish()?,
            Output::Channels(writer, _) => writer.finish()?,
        }
        self.publish_counters_at = Instant::now();
        self.publish(Instant::now());
        tracing::debug!(timers = self.time.timer_count(), "task suspended after its savepoint");
        Ok(())
    }

    /// End of input: let the guest flush, then end the output.
    fn finish(mut self) -> Result<(), TaskError> {
        {
            let Pipeline { guest, time, output, metrics, .. } = &mut self;
            time.finish(guest.as_mut(), &mut |e| emit_to(output, metrics, e))?;
        }
        if let Some(guest) = &mut self.guest {
            let (records, changed) = guest.finish()?;
            if let Some(values) = &mut self.keyed_state {
                values.finish(&changed)?;
            }
            self.emit(records)?;
        }
        match &mut self.output {
            Output::Sink(sink) => sink.finish()?,
            Output::Channels(writer, _) => writer.finish()?,
        }
        self.publish_counters_at = Instant::now();
        self.publish(Instant::now());
        let keys = self.keyed_state.as_ref().map_or(0, RunningValues::len);
        tracing::debug!(keys, timers = self.time.timer_count(), "task input ended");
        Ok(())
    }
}

/// Hands records or a control message to the task's output. Control
/// messages go to every downstream subtask after what is buffered; a sink
/// has no use for them.
fn emit_to(output: &mut Output, metrics: &TaskMetrics, emit: Emit) -> Result<(), TaskError> {
    match (output, emit) {
        (Output::Sink(sink), Emit::Records(records)) => {
            metrics.add_out(records.len(), records.byte_len());
            sink.write(&records)?;
        }
        (Output::Channels(writer, keys), Emit::Records(mut records)) => {
            if let Some(keys) = keys {
                keys.apply(&mut records)?;
            }
            writer.write(records)?
        }
        (Output::Channels(writer, _), Emit::Control(message)) => writer.broadcast(message)?,
        (Output::Sink(_), Emit::Control(_)) => {}
    }
    Ok(())
}
