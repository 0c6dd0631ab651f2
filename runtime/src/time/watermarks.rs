//! Watermarks: generated after a timestamp assigner, combined across a
//! task's upstream channels.

use std::time::{Duration, Instant};

use super::NO_WATERMARK;
use crate::graph::WatermarkStrategy;

/// Flink's bounded-out-of-orderness generator: after seeing timestamps up
/// to `max`, the watermark is `max - out_of_orderness - 1`. It also tells
/// when its subtask has been without records for the idle timeout.
#[derive(Debug)]
pub struct WatermarkGenerator {
    out_of_orderness: i64,
    idle_timeout: Option<Duration>,
    /// Highest timestamp seen.
    max_timestamp: i64,
    /// When the last record came.
    last_record: Instant,
    /// Whether the subtask is currently marked idle.
    idle: bool,
}

impl WatermarkGenerator {
    /// A generator for `strategy`.
    pub fn new(strategy: &WatermarkStrategy) -> Self {
        WatermarkGenerator {
            out_of_orderness: strategy.max_out_of_orderness_ms.min(i64::MAX as u64 / 2) as i64,
            idle_timeout: strategy.idle_timeout_ms.map(Duration::from_millis),
            max_timestamp: NO_WATERMARK,
            last_record: Instant::now(),
            idle: false,
        }
    }

    /// Observes the timestamps of a batch leaving the assigner. Returns
    /// `true` when the subtask was idle and is active again.
    pub fn observe(&mut self, timestamps: &[i64]) -> bool {
        if timestamps.is_empty() {
            return false;
        }
        if let Some(&max) = timestamps.iter().max() {
            self.max_timestamp = self.max_timestamp.max(max);
        }
        self.last_record = Instant::now();
        std::mem::replace(&mut self.idle, false)
    }

    /// The current watermark.
    pub fn current(&self) -> i64 {
        if self.max_timestamp == NO_WATERMARK {
            return NO_WATERMARK;
        }
        self.max_timestamp.saturating_sub(self.out_of_orderness).saturating_sub(1)
    }

    /// Marks the subtask idle when it has had no record for the idle
    /// timeout; returns `true` at the moment it becomes idle.
    pub fn check_idle(&mut self, now: Instant) -> bool {
        match self.idle_timeout {
            Some(timeout) if !self.idle && now >= self.last_record + timeout => {
                self.idle = true;
                true
            }
            _ => false,
        }
    }

    /// When [`check_idle`](Self::check_idle) may next turn the subtask idle.
    pub fn idle_deadline(&self) -> Option<Instant> {
        self.idle_timeout.filter(|_| !self.idle).map(|t| self.last_record + t)
    }
}

/// What changed when the tracker took a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackerChange {
    /// The combined watermark advanced to this value.
    Advanced(i64),
    /// Every upstream channel is idle now (or active again: `false`).
    Idle(bool),
    /// The last active channel went idle: no channel will hold time back,
    /// so the watermark jumps to the highest of all channels (as Flink's
    /// valve flushes), and every channel is idle.
    AdvancedAndIdle(i64),
    /// Nothing to pass on.
    None,
}

/// Combines the watermarks of a task's upstream subtasks: the task's
/// watermark is the minimum over the channels that are not idle, and it
/// never goes back.
#[derive(Debug)]
pub struct WatermarkTracker {
    /// Last watermark of each upstream subtask.
    channels: Vec<i64>,
    /// Whether each upstream subtask is idle.
    idle: Vec<bool>,
    /// The combined watermark so far.
    combined: i64,
    /// Whether every channel was idle at the last change.
    all_idle: bool,
}

impl WatermarkTracker {
    /// A tracker over `upstreams` channels, none seen yet.
    pub fn new(upstreams: usize) -> Self {
        WatermarkTracker {
            channels: vec![NO_WATERMARK; upstreams],
            idle: vec![false; upstreams],
            combined: NO_WATERMARK,
            all_idle: false,
        }
    }

    /// The combined watermark.
    pub fn current(&self) -> i64 {
        self.combined
    }

    /// Takes a watermark from upstream subtask `upstream`. A watermark also
    /// marks its channel active.
    pub fn watermark(&mut self, upstream: u32, watermark: i64) -> TrackerChange {
        let Some(slot) = self.channels.get_mut(upstream as usize) else {
            tracing::warn!(upstream, "watermark from an unknown upstream subtask ignored");
            return TrackerChange::None;
        };
        *slot = (*slot).max(watermark);
        self.idle[upstream as usize] = false;
        self.recompute()
    }

    /// Takes an idle (or active again) status from upstream subtask `upstream`.
    pub fn status(&mut self, upstream: u32, idle: bool) -> TrackerChange {
        let Some(slot) = self.idle.get_mut(upstream as usize) else {
            return TrackerChange::None;
        };
        *slot = idle;
        self.recompute()
    }

    fn recompute(&mut self) -> TrackerChange {
        let active_min = self.channels.iter().zip(&self.idle).filter(|(_, idle)| !**idle).map(|(w, _)| *w).min();
        match active_min {
            None => {
                if self.all_idle {
                    return TrackerChange::None;
                }
                self.all_idle = true;
                let max = self.channels.iter().copied().max().unwrap_or(NO_WATERMARK);
                if max > self.combined {
                    self.combined = max;
                    return TrackerChange::AdvancedAndIdle(max);
                }
                TrackerChange::Idle(true)
            }
            Some(min) if min > self.combined => {
                self.all_idle = false;
                self.combined = min;
                TrackerChange::Advanced(min)
            }
            Some(_) if self.all_idle => {
                self.all_idle = false;
                TrackerChange::Idle(false)
            }
            Some(_) => TrackerChange::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_out_of_orderness_lags_the_highest_timestamp() {
        let mut generator =
            WatermarkGenerator::new(&WatermarkStrategy { max_out_of_orderness_ms: 2000, idle_timeout_ms: None });
        assert_eq!(generator.current(), NO_WATERMARK);
        generator.observe(&[5000, 12000, 9000]);
        assert_eq!(generator.current(), 9999);
        generator.observe(&[11000]);
        assert_eq!(generator.current(), 9999, "an older timestamp never moves the watermark back");
    }

    #[test]
    fn the_combined_watermark_is_the_minimum_of_the_active_channels() {
        let mut tracker = WatermarkTracker::new(2);
        assert_eq!(tracker.watermark(0, 100), TrackerChange::None, "channel 1 has not spoken");
        assert_eq!(tracker.watermark(1, 50), TrackerChange::Advanced(50));
        assert_eq!(tracker.watermark(1, 200), TrackerChange::Advanced(100));
        assert_eq!(tracker.watermark(1, 300), TrackerChange::None);
        assert_eq!(tracker.status(0, true), TrackerChange::Advanced(300), "an idle channel does not hold time back");
        assert_eq!(tracker.status(1, true), TrackerChange::Idle(true));
        assert_eq!(tracker.watermark(0, 150), TrackerChange::Idle(false), "never goes back");
        assert_eq!(tracker.current(), 300);
    }

    #[test]
    fn when_the_last_active_channel_goes_idle_the_highest_watermark_wins() {
        let mut tracker = WatermarkTracker::new(2);
        tracker.watermark(0, 500);
        assert_eq!(tracker.status(0, true), TrackerChange::None, "channel 1 still holds time back");
        assert_eq!(tracker.status(1, true), TrackerChange::AdvancedAndIdle(500));
    }

    #[test]
    fn an_idle_generator_says_so_once_and_wakes_with_records() {
        let mut generator =
            WatermarkGenerator::new(&WatermarkStrategy { max_out_of_orderness_ms: 0, idle_timeout_ms: Some(10) });
        let later = Instant::now() + Duration::from_millis(20);
        assert!(generator.check_idle(later));
        assert!(!generator.check_idle(later));
        assert!(generator.observe(&[1]));
    }
}
