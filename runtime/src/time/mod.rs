//! Event time and timers in the host.
//!
//! - [`watermarks`]: the bounded-out-of-orderness generator that runs after
//!   a chain with a timestamp assigner, and the tracker that combines the
//!   watermarks of a task's upstream channels (the minimum of the active
//!   ones; idle channels do not hold time back).
//! - [`timers`]: event- and processing-time timers of keyed operators, by
//!   key group, fired in timestamp order.
//!
//! Watermarks travel in line with batches as
//! [`StreamMessage::Watermark`](crate::network::StreamMessage), so a
//! downstream task sees every record sent before a watermark first.

pub mod timers;
pub mod watermarks;

pub use timers::{TimeDomain, TimerService, Timers};
pub use watermarks::{WatermarkGenerator, WatermarkTracker};

/// The watermark before any has been seen: every timestamp is on time.
pub const NO_WATERMARK: i64 = i64::MIN;

/// The watermark a subtask sends when its input has ended: every timer fires.
pub const END_OF_TIME: i64 = i64::MAX;

/// Milliseconds since the epoch, for the times the cluster reports
/// (submit, heartbeats, checkpoints).
pub fn now_millis() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The wall clock in ms since the epoch (processing time).
pub fn processing_time_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
