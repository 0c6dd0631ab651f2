//! The loop of a task that starts at a source: read batches, ask for watermarks, carry out commands, and end
//! through one more checkpoint.

use super::*;

/// A source task's loop: read batches and carry out the JobManager's
/// commands until the input ends. With periodic checkpoints, a source that
/// ran out waits for one more completed checkpoint that records it as
/// ended, so the sinks commit everything through the two-phase commit.
pub(super) struct SourceRun {
    pub(super) reader: Box<dyn SourceReader>,
    /// The input has ended.
    pub(super) ended: bool,
    /// The checkpoint triggered after the end, whose completion ends the task.
    pub(super) final_checkpoint: Option<CheckpointId>,
    pub(super) periodic_checkpoints: bool,
    /// How often the source's own watermark is asked for.
    pub(super) watermark_interval: Duration,
    pub(super) next_watermark: Instant,
}

impl SourceRun {
    pub(super) fn run(
        mut self,
        pipeline: &mut Pipeline,
        checkpoints: &mut TaskCheckpoints,
        metrics: &TaskMetrics,
        cancelled: &AtomicBool,
    ) -> Result<(), TaskError> {
        let mut batch = Batch::default();
        loop {
            if cancelled.load(Ordering::Relaxed) {
                return Err(TaskError::Cancelled);
            }
            let command = if self.ended { checkpoints.wait(COMMAND_POLL) } else { checkpoints.poll() };
            match command {
                Some(command) => {
                    if self.on_command(command, pipeline, checkpoints)? {
                        return Ok(());
                    }
                    continue;
                }
                None if self.ended => {
                    pipeline.flush_due()?;
                    continue;
                }
                None => {}
            }
            let reading = Instant::now();
            let status = self.reader.next_batch(&mut batch, cancelled)?;
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
            pipeline.flush_due()?;
            if status == SourceStatus::Ended {
                if !self.periodic_checkpoints {
                    return Ok(());
                }
                self.ended = true;
            }
        }
    }

    /// Carries out one command; true when the final checkpoint completed.
    fn on_command(
        &mut self,
        command: TaskCommand,
        pipeline: &mut Pipeline,
        checkpoints: &mut TaskCheckpoints,
    ) -> Result<bool, TaskError> {
        match command {
            TaskCommand::TriggerCheckpoint(barrier) => {
                pipeline.checkpoint(barrier, Some(&mut *self.reader), checkpoints)?;
                self.final_checkpoint = self.final_checkpoint.or(self.ended.then_some(barrier.id));
            }
            TaskCommand::NotifyComplete(id) => {
                pipeline.commit(id)?;
                self.reader.checkpoint_complete(id);
                return Ok(self.final_checkpoint.is_some_and(|last| id >= last));
            }
            TaskCommand::NotifyAborted(id) => {
                if self.final_checkpoint == Some(id) {
                    self.final_checkpoint = None;
                }
            }
        }
        Ok(false)
    }
}
