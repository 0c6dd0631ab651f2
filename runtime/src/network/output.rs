//! The output side of a task: records are partitioned into one buffer
//! per downstream subtask, and a buffer is sent when it is full, when its
//! first record has waited `execution.buffer-timeout`, or when the task is
//! about to wait for input ([`OutputWriter::flush_all`]): a buffer fills up
//! only while input keeps coming, and no record waits while its task waits.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::{Batch, OutputChannel, SendError, StreamMessage};
use crate::graph::Partitioning;
use crate::graph::partition::{key_group, subtask_for_key_group};
use crate::metrics::TaskMetrics;

/// A buffer is sent once it holds this many records...
pub const BATCH_RECORDS: usize = 4096;
/// ...or this many bytes.
pub const BATCH_BYTES: usize = 128 * 1024;

/// Partitions and buffers a task's output towards the next vertex.
pub struct OutputWriter {
    partitioning: Partitioning,
    /// One channel per downstream subtask (a single one for forward).
    channels: Vec<OutputChannel>,
    /// One pending batch per channel.
    buffers: Vec<Batch>,
    /// When the first record of each pending batch arrived.
    pending_since: Vec<Option<Instant>>,
    buffer_timeout: Duration,
    max_parallelism: u32,
    /// Next channel for rebalance and rescale.
    round_robin: usize,
    /// State of the random choice of shuffle.
    random: u64,
    metrics: Arc<TaskMetrics>,
    cancelled: Arc<AtomicBool>,
}

impl OutputWriter {
    /// A writer sending into `channels` by `partitioning`.
    pub fn new(
        partitioning: Partitioning,
        channels: Vec<OutputChannel>,
        buffer_timeout: Duration,
        max_parallelism: u32,
        metrics: Arc<TaskMetrics>,
        cancelled: Arc<AtomicBool>,
    ) -> Self {
        let n = channels.len();
        OutputWriter {
            partitioning,
            channels,
            buffers: (0..n).map(|_| Batch::default()).collect(),
            pending_since: vec![None; n],
            buffer_timeout,
            max_parallelism,
            round_robin: 0,
            random: 0x9E37_79B9_7F4A_7C15,
            metrics,
            cancelled,
        }
    }

    /// Takes the records of `batch` towards their subtasks.
    pub fn write(&mut self, batch: Batch) -> Result<(), SendError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.metrics.add_out(batch.len(), batch.byte_len());
        let target = match self.partitioning {
            // With one downstream subtask every key goes there: skip hashing.
            Partitioning::Hash if self.channels.len() > 1 => return self.write_hashed(&batch),
            Partitioning::Shuffle if self.channels.len() > 1 => return self.write_shuffled(&batch),
            Partitioning::Broadcast => return self.write_to_all(batch),
            Partitioning::Custom => return self.write_custom(&batch),
            // Rebalance and rescale are round-robin by batch over their channels.
            Partitioning::Rebalance | Partitioning::Rescale => {
                self.round_robin = (self.round_robin + 1) % self.channels.len();
                self.round_robin
            }
            // Forward has one channel; global sends to the first subtask.
            Partitioning::Hash
            | Partitioning::Shuffle
            | Partitioning::Forward
            | Partitioning::ForwardStrict
            | Partitioning::Global => 0,
        };
        self.write_whole(target, batch)
    }

    /// Takes `batch` whole to channel `target`.
    fn write_whole(&mut self, target: usize, batch: Batch) -> Result<(), SendError> {
        if self.buffers[target].is_empty() && batch.len() >= BATCH_RECORDS / 4 {
            return self.send(target, StreamMessage::Batch(batch));
        }
        for i in 0..batch.len() {
            self.append(target, &batch, i)?;
        }
        Ok(())
    }

    /// Every record to every channel.
    fn write_to_all(&mut self, batch: Batch) -> Result<(), SendError> {
        for target in 1..self.channels.len() {
            self.write_whole(target, batch.clone())?;
        }
        self.write_whole(0, batch)
    }

    /// Each record to a channel picked at random (xorshift; no need for
    /// more than an even spread).
    fn write_shuffled(&mut self, batch: &Batch) -> Result<(), SendError> {
        let channels = self.channels.len() as u64;
        for i in 0..batch.len() {
            let s = &mut self.random;
            *s ^= *s << 13;
            *s ^= *s >> 7;
            *s ^= *s << 17;
            let target = (*s % channels) as usize;
            self.append(target, batch, i)?;
        }
        Ok(())
    }

    /// Each record to the channel its key names: the subtask the chain's
    /// partition-custom node picked, as 4 bytes little-endian. The key
    /// only says where the record goes, so it does not travel on.
    fn write_custom(&mut self, batch: &Batch) -> Result<(), SendError> {
        let partitions = self.channels.len();
        for i in 0..batch.len() {
            let key = batch.key(i);
            let picked = <[u8; 4]>::try_from(key).map(u32::from_le_bytes);
            let target = match picked {
                Ok(target) if (target as usize) < partitions => target as usize,
                Ok(target) => {
                    return Err(SendError::Partition(format!(
                        "the custom partitioner picked partition {target}, but the next operator has {partitions} \
                         subtasks (partitions 0 to {})",
                        partitions - 1
                    )));
                }
                Err(_) => {
                    return Err(SendError::Partition(format!(
                        "a record leaving a partition_custom carries a key of {} bytes, not the 4 bytes of the \
                         partition its partitioner picked",
                        key.len()
                    )));
                }
            };
            self.append_with(target, |buffer| buffer.push(None, batch.value(i), batch.timestamps.get(i).copied()))?;
        }
        Ok(())
    }

    fn write_hashed(&mut self, batch: &Batch) -> Result<(), SendError> {
        let parallelism = self.channels.len() as u32;
        for i in 0..batch.len() {
            let group = key_group(batch.key(i), self.max_parallelism);
            let target = subtask_for_key_group(group, parallelism, self.max_parallelism) as usize;
            self.append(target, batch, i)?;
        }
        Ok(())
    }

    /// Appends record `i` of `batch` to channel `target`'s buffer.
    #[inline]
    fn append(&mut self, target: usize, batch: &Batch, i: usize) -> Result<(), SendError> {
        self.append_with(target, |buffer| buffer.push_from(batch, i))
    }

    /// Appends one record to channel `target`'s buffer with `push`, and
    /// sends the buffer once it is full.
    #[inline]
    fn append_with(&mut self, target: usize, push: impl FnOnce(&mut Batch)) -> Result<(), SendError> {
        let buffer = &mut self.buffers[target];
        if buffer.is_empty() {
            self.pending_since[target] = Some(Instant::now());
        }
        push(buffer);
        if buffer.len() >= BATCH_RECORDS || buffer.byte_len() >= BATCH_BYTES {
            self.flush(target)?;
        }
        Ok(())
    }

    /// The moment the oldest pending buffer is due, if any is pending.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending_since.iter().flatten().min().map(|since| *since + self.buffer_timeout)
    }

    /// Sends every buffer whose first record has waited the buffer timeout.
    pub fn flush_due(&mut self) -> Result<(), SendError> {
        let now = Instant::now();
        for target in 0..self.buffers.len() {
            if self.pending_since[target].is_some_and(|since| now >= since + self.buffer_timeout) {
                self.flush(target)?;
            }
        }
        Ok(())
    }

    /// Sends every pending buffer now: the task has caught up with its input
    /// and may wait for more, so what it holds would only wait with it.
    pub fn flush_all(&mut self) -> Result<(), SendError> {
        for target in 0..self.buffers.len() {
            self.flush(target)?;
        }
        Ok(())
    }

    /// Sends what is pending and tells every downstream subtask that this
    /// one has ended.
    pub fn finish(&mut self) -> Result<(), SendError> {
        for target in 0..self.buffers.len() {
            self.flush(target)?;
            self.send(target, StreamMessage::EndOfInput)?;
        }
        Ok(())
    }

    /// Sends what is pending, then `message` to every downstream subtask,
    /// so it stays in line after the records written before it
    /// (watermarks and their status).
    pub fn broadcast(&mut self, message: StreamMessage) -> Result<(), SendError> {
        for target in 0..self.buffers.len() {
            self.flush(target)?;
            self.send(target, message.clone())?;
        }
        Ok(())
    }

    fn flush(&mut self, target: usize) -> Result<(), SendError> {
        self.pending_since[target] = None;
        if self.buffers[target].is_empty() {
            return Ok(());
        }
        let capacity = self.buffers[target].len();
        let bytes = self.buffers[target].values.capacity();
        let full = std::mem::replace(&mut self.buffers[target], Batch::with_capacity(capacity, bytes));
        self.send(target, StreamMessage::Batch(full))
    }

    fn send(&mut self, target: usize, message: StreamMessage) -> Result<(), SendError> {
        let blocked = self.channels[target].send(message, &self.cancelled)?;
        self.metrics.add_backpressured(blocked);
        Ok(())
    }
}
