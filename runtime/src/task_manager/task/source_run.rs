//! The loop of a task that starts at a source: read batches, ask for watermarks, carry out commands, and end
//! through one more checkpoint, or through a stop-with-savepoint.

use super::*;

/// A source task's loop: read batches and carry out the JobManager's
/// commands until the input ends. With periodic checkpoints, a source that
/// ran out waits for one more completed checkpoint that records it as
/// ended, so the sinks commit everything through the two-phase commit.
/// A stop-with-savepoint ends it too: it reads nothing after the
/// savepoint's barrier and ends once the savepoint completed.
pub(super) struct SourceRun {
    pub(super) reader: Box<dyn SourceReader>,
    /// The input has ended.
    pub(super) ended: bool,
    /// The checkpoint triggered after the end, whose completion ends the task.
    pub(super) final_checkpoint: Option<CheckpointId>,
    /// The stop-with-savepoint whose barrier was sent: nothing is read or
    /// emitted after it, and its completion ends the task.
    pub(super) stopping: Option<(CheckpointId, StopMode)>,
    pub(super) periodic_checkpoints: bool,
    /// How often the source's own watermark is asked for.
    pub(super) watermark_interval: Duration,
    pub(super) next_watermark: Instant,
}

impl SourceRun {
    pub(super) fn run(
        &mut self,
        pipeline: &mut Pipeline,
        checkpoints: &mut TaskCheckpoints,
        metrics: &TaskMetrics,
        cancelled: &AtomicBool,
    ) -> Result<InputEnd, TaskError> {
        let mut batch = Batch::default();
        loop {
            if cancelled.load(Ordering::Relaxed) {
                return Err(TaskError::Cancelled);
            }
            let waiting = self.ended || self.stopping.is_some();
            let command = if waiting { checkpoints.wait(COMMAND_POLL) } else { checkpoints.poll() };
            match command {
                Some(command) => {
                    if let Some(end) = self.on_command(command, pipeline, checkpoints)? {
                        return Ok(end);
                    }
                    continue;
                }
                // After a stop's barrier nothing leaves, not even a watermark: it would be past the savepoint.
                None if self.stopping.is_some() => continue,
                None if self.ended => {
                    pipeline.flush_due()?;
                    continue;
                }
                None => {}
            }
            let reading = Instant::now();
            let status = self.reader.next_batch(&mut batch, cancelled)?;
            // Less than a full batch: the source has caught up with its input, and its next call may wait (a
            // socket, Kafka, a rate): what the output holds goes first, so it does not wait too.
            let caught_up = !sources::batch_full(&batch);
            metrics.set_skipped_records(self.reader.skipped_records());
            if batch.is_empty() {
                metrics.add_idle(reading.elapsed());
            } else {
                metrics.add_in(batch.len(), batch.byte_len());
                pipeline.process(&mut batch, 0)?;
            }
            if Instant::now() >= self.next_watermark {
                self.next_watermark = Instant::now() + self.watermark_interval;
                if let Some(watermark) = self.reader.watermark() {
                    pipeline.on_source_watermark(watermark)?;
                }
            }
            if caught_up {
                pipeline.flush_output()?;
            }
            pipeline.flush_due()?;
            if status == SourceStatus::Ended {
                if !self.periodic_checkpoints {
                    return Ok(InputEnd::Finished);
                }
                self.ended = true;
            }
        }
    }

    /// Carries out one command; says how the task ends once the checkpoint that ends it completed.
    fn on_command(
        &mut self,
        command: TaskCommand,
        pipeline: &mut Pipeline,
        checkpoints: &mut TaskCheckpoints,
    ) -> Result<Option<InputEnd>, TaskError> {
        match command {
            TaskCommand::TriggerCheckpoint(barrier) => {
                if barrier.stop == Some(StopMode::Drain) {
                    pipeline.drain()?;
                }
                pipeline.checkpoint(barrier, Some(&mut *self.reader), checkpoints)?;
                self.final_checkpoint = self.final_checkpoint.or(self.ended.then_some(barrier.id));
                self.stopping = self.stopping.or(barrier.stop.map(|mode| (barrier.id, mode)));
            }
            TaskCommand::NotifyComplete(id) => {
                pipeline.commit(id)?;
                self.reader.checkpoint_complete(id);
                if let Some((stop, mode)) = self.stopping
                    && id >= stop
                {
                    tracing::info!(savepoint = stop, ?mode, "stopped with a savepoint");
                    return Ok(Some(InputEnd::from(mode)));
                }
                return Ok(self.final_checkpoint.is_some_and(|last| id >= last).then_some(InputEnd::Finished));
            }
            TaskCommand::NotifyAborted(id) => {
                if self.final_checkpoint == Some(id) {
                    self.final_checkpoint = None;
                }
                match self.stopping {
                    Some((stop, StopMode::Drain)) if stop == id => return Err(TaskError::DrainAborted(id)),
                    // The job goes on, as Flink's does when a stop's savepoint fails.
                    Some((stop, StopMode::Suspend)) if stop == id => self.stopping = None,
                    _ => {}
                }
            }
        }
        Ok(None)
    }
}
