//! A pipeline's state at checkpoints: what it snapshots at a barrier
//! (keyed state, the guest's kept state, broadcast copies, the source's
//! position, the sinks' prepared files), what it commits when a checkpoint
//! completes, and what it loads back on restore.

use super::{Output, Pipeline, emit_to};
use crate::checkpoint::{CheckpointBarrier, CheckpointId, KeyGroupOffset, StateFile};
use crate::connectors::sources::SourceReader;
use crate::network::StreamMessage;
use crate::operator::TaskError;
use crate::state::snapshot::{KeyedParts, KeyedTargets};
use crate::state::{self, ExpiredFilter, GroupedEntries};
use crate::task_manager::checkpoints::{OperatorState, TaskCheckpoints};
use crate::task_manager::running_values::RunningValues;
use crate::time::processing_time_now;
use std::time::Instant;

impl Pipeline {
    /// Snapshots the task at `barrier` (aligned, or triggered at a
    /// source): keyed state, the source's position, the sink's prepared
    /// files; sends the barrier on, then stores and acknowledges.
    pub(super) fn checkpoint(
        &mut self,
        barrier: CheckpointBarrier,
        source: Option<&mut dyn SourceReader>,
        checkpoints: &mut TaskCheckpoints,
    ) -> Result<(), TaskError> {
        let started = Instant::now();
        let (kept, broadcast) = self.state_held_by_guest()?;
        let values_kept = match (&self.keyed_state, &mut self.guest) {
            (Some(values), Some(guest)) => values.kept(guest)?,
            _ => None,
        };
        let expired = ExpiredFilter::new(&self.states_with_ttl, processing_time_now());
        let keyed = {
            let named = self.guest.as_mut().and_then(|g| g.named_state()).map(|b| &*b);
            let parts = KeyedParts {
                values: self.keyed_state.as_ref().map(RunningValues::backend),
                values_kept: values_kept.as_ref(),
                named,
                named_kept: kept.as_ref(),
                timers: self.time.needs_context().then(|| self.time.timers()),
                expired: expired.as_ref(),
            };
            state::snapshot::write(self.key_groups.clone(), &parts)
        };
        let mut operator = OperatorState {
            source: source.and_then(|s| s.snapshot(barrier.id)),
            sink: None,
            side_sinks: self.time.side_sinks().pre_commit(barrier.id)?,
            broadcast,
        };
        if let Output::Sink(sink) = &mut self.output {
            operator.sink = sink.pre_commit(barrier.id)?;
        }
        self.emit_control(StreamMessage::Barrier(barrier))?;
        let bytes = keyed.as_ref().map_or(0, |k| k.bytes.len());
        checkpoints.acknowledge(barrier.id, keyed, operator);
        tracing::debug!(checkpoint = barrier.id, bytes, took = ?started.elapsed(), "checkpoint taken");
        Ok(())
    }

    /// For a chain that keeps its named state in its own memory: the
    /// entries it hands over, by key group (the backend holds the rest:
    /// lazy states, and restored entries whose keys have not come by since).
    /// For a chain with broadcast state: its copy, encoded.
    fn state_held_by_guest(&mut self) -> Result<(Option<GroupedEntries>, Option<Vec<u8>>), TaskError> {
        let keeps = self.time.guest_keeps_state();
        let Some(guest) = self.guest.as_mut().filter(|_| keeps || self.broadcast.is_some()) else {
            return Ok((None, None));
        };
        let mut held = guest.snapshot_state()?;
        let copy = self.broadcast.as_ref().map(|b| b.take_copy(&mut held));
        if !keeps {
            return Ok((None, copy));
        }
        let kept = GroupedEntries::new(held, self.key_groups.clone(), self.max_parallelism)
            .map_err(crate::operator::ContractError::Contract)?;
        tracing::debug!(entries = kept.len(), "named state handed over by the chain");
        Ok((Some(kept), copy))
    }

    /// Hands this subtask's restored copy of the broadcast state (old
    /// subtask `subtask mod old parallelism`'s) to the chain.
    pub(super) fn restore_broadcast(
        &mut self,
        copies: &[Vec<u8>],
        subtask: u32,
        checkpoint: CheckpointId,
    ) -> Result<(), TaskError> {
        let (Some(states), Some(guest)) = (&self.broadcast, &mut self.guest) else { return Ok(()) };
        let copy = states.pick(copies, subtask).map_err(|detail| TaskError::Restore { checkpoint, detail })?;
        let Some(copy) = copy else { return Ok(()) };
        tracing::info!(
            checkpoint,
            entries = copy.len(),
            from = subtask as usize % copies.len(),
            "broadcast state restored"
        );
        let Pipeline { time, output, metrics, .. } = self;
        time.restore_broadcast(guest, copy, &mut |e| emit_to(output, metrics, e))
    }

    /// Checkpoint `id` completed: the sinks (main and side outputs) commit what it covers.
    pub(super) fn commit(&mut self, id: CheckpointId) -> Result<(), TaskError> {
        if let Output::Sink(sink) = &mut self.output {
            sink.commit(id)?;
        }
        self.time.side_sinks().commit(id)?;
        Ok(())
    }

    /// Loads this subtask's key groups from the restored state files.
    pub(super) fn restore_keyed(
        &mut self,
        files: &[(Vec<u8>, StateFile)],
        checkpoint: CheckpointId,
    ) -> Result<(), TaskError> {
        let mut targets = KeyedTargets {
            values: self.keyed_state.as_mut().map(RunningValues::backend_mut),
            named: match self.guest.as_mut().and_then(|g| g.named_state()) {
                Some(backend) => Some(backend),
                None => None,
            },
            timers: Some(self.time.timers_mut()),
        };
        let mut entries = 0;
        for (bytes, file) in files {
            let groups: Vec<KeyGroupOffset> =
                file.key_groups.iter().filter(|g| self.key_groups.contains(&g.key_group)).copied().collect();
            entries +=
                state::snapshot::read(bytes, &groups, self.key_groups.clone(), self.max_parallelism, &mut targets)
                    .map_err(|e| TaskError::Restore { checkpoint, detail: format!("state file {}: {e}", file.path) })?;
        }
        tracing::info!(checkpoint, entries, files = files.len(), "keyed state restored");
        Ok(())
    }
}
