//! Event time: how a job tells the host where its timestamps are and how
//! late records may come ([`WatermarkStrategy`]).

use std::time::Duration;

use crate::plan;

/// How watermarks follow the timestamps a stream's assigner extracts
/// (Flink's `WatermarkStrategy`); pass it to
/// [`DataStream::assign_timestamps_and_watermarks`](crate::DataStream::assign_timestamps_and_watermarks).
///
/// The host makes the watermarks: after seeing timestamps up to `t`, the
/// watermark is `t - out_of_orderness - 1`, sent downstream in line with
/// the records after each batch. Where streams meet (a key-by after a
/// parallel source), each task takes the minimum over its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatermarkStrategy {
    out_of_orderness: Duration,
    idleness: Option<Duration>,
}

impl WatermarkStrategy {
    /// Records may come up to `max` later than the newest one seen.
    pub fn for_bounded_out_of_orderness(max: Duration) -> Self {
        WatermarkStrategy { out_of_orderness: max, idleness: None }
    }

    /// Timestamps never go back (out-of-orderness zero).
    pub fn for_monotonous_timestamps() -> Self {
        Self::for_bounded_out_of_orderness(Duration::ZERO)
    }

    /// A source subtask without records for `timeout` (wall clock) is
    /// marked idle, so it does not hold back the watermark of the tasks
    /// it feeds, until it has records again.
    pub fn with_idleness(mut self, timeout: Duration) -> Self {
        self.idleness = Some(timeout);
        self
    }

    pub(crate) fn spec(&self) -> plan::WatermarkStrategy {
        plan::WatermarkStrategy {
            max_out_of_orderness_ms: self.out_of_orderness.as_millis() as u64,
            idle_timeout_ms: self.idleness.map(|d| d.as_millis().max(1) as u64),
        }
    }
}
