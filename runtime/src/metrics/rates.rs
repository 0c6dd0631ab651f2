//! A subtask's counters as rates per second (Flink's `…PerSecond` meters), from samples its JobManager takes at
//! an interval.

use serde::Serialize;

use super::MetricsSnapshot;

/// A subtask's counters as rates per second, over the last few seconds (Flink's `…PerSecond` meters).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct MetricRates {
    /// `numRecordsInPerSecond`.
    pub records_in: f64,
    /// `numRecordsOutPerSecond`.
    pub records_out: f64,
    /// `numBytesInPerSecond`.
    pub bytes_in: f64,
    /// `numBytesOutPerSecond`.
    pub bytes_out: f64,
    /// `busyTimeMsPerSecond`: ms of each second spent processing.
    pub busy_ms: f64,
    /// `idleTimeMsPerSecond`: ms of each second spent waiting for input.
    pub idle_ms: f64,
    /// `backPressuredTimeMsPerSecond`: ms of each second blocked on a full output.
    pub backpressured_ms: f64,
}

/// The counters of one sample that rates are made of.
#[derive(Debug, Clone, Copy)]
struct Sample([u64; 7]);

impl Sample {
    fn of(m: &MetricsSnapshot) -> Self {
        Sample([
            m.read_records,
            m.write_records,
            m.read_bytes,
            m.write_bytes,
            m.accumulated_busy_time,
            m.accumulated_idle_time,
            m.accumulated_backpressured_time,
        ])
    }
}

/// The last few samples of a job's subtask counters, taken at an interval by its JobManager, which turn into
/// rates per second over the window they span. Plain data, no clock of its own: the caller passes the time.
#[derive(Debug)]
pub struct RateWindow {
    /// Oldest first; each holds one sample per subtask, in the order they were given.
    samples: std::collections::VecDeque<(std::time::Instant, Vec<Sample>)>,
    /// How many samples are kept.
    capacity: usize,
}

impl RateWindow {
    /// A window of `capacity` samples (at least two, to make one difference).
    pub fn new(capacity: usize) -> Self {
        RateWindow { samples: std::collections::VecDeque::with_capacity(capacity), capacity: capacity.max(2) }
    }

    /// Adds a sample of every subtask's counters, taken `at`; the oldest sample leaves a full window.
    pub fn record<'a>(&mut self, at: std::time::Instant, subtasks: impl Iterator<Item = &'a MetricsSnapshot>) {
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back((at, subtasks.map(Sample::of).collect()));
    }

    /// Forgets every sample (a new attempt starts its counters at zero).
    pub fn clear(&mut self) {
        self.samples.clear();
    }

    /// Rates per subtask over the window, in the order of the samples; zero until two samples exist. Time
    /// shares are capped so that busy + idle + back-pressured never exceed 1000 ms per second.
    pub fn rates(&self) -> Vec<MetricRates> {
        let (Some((first_at, first)), Some((last_at, last))) = (self.samples.front(), self.samples.back()) else {
            return Vec::new();
        };
        let seconds = last_at.duration_since(*first_at).as_secs_f64();
        if seconds <= 0.0 || first.len() != last.len() {
            return vec![MetricRates::default(); last.len()];
        }
        let per_second = |a: u64, b: u64| b.saturating_sub(a) as f64 / seconds;
        first
            .iter()
            .zip(last)
            .map(|(a, b)| {
                let r: Vec<f64> = (0..7).map(|i| per_second(a.0[i], b.0[i])).collect();
                let backpressured_ms = r[6].min(1000.0);
                let busy_ms = r[4].min(1000.0 - backpressured_ms);
                let idle_ms = r[5].min(1000.0 - backpressured_ms - busy_ms);
                MetricRates {
                    records_in: r[0],
                    records_out: r[1],
                    bytes_in: r[2],
                    bytes_out: r[3],
                    busy_ms,
                    idle_ms,
                    backpressured_ms,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn snapshot(records: u64, busy: u64, backpressured: u64) -> MetricsSnapshot {
        MetricsSnapshot {
            read_records: records,
            accumulated_busy_time: busy,
            accumulated_backpressured_time: backpressured,
            ..Default::default()
        }
    }

    /// Rates are the difference between the oldest and newest sample over the time between them, and the time
    /// shares never add up to more than a second per second.
    #[test]
    fn rates_span_the_window_and_time_shares_are_capped() {
        let mut window = RateWindow::new(3);
        let start = Instant::now();
        assert!(window.rates().is_empty());
        window.record(start, [snapshot(0, 0, 0)].iter());
        assert_eq!(window.rates(), vec![MetricRates::default()]);
        window.record(start + Duration::from_secs(1), [snapshot(100, 100, 0)].iter());
        window.record(start + Duration::from_secs(2), [snapshot(400, 5000, 300)].iter());
        let rates = window.rates()[0];
        assert_eq!(rates.records_in, 200.0);
        assert_eq!(rates.backpressured_ms, 150.0);
        assert_eq!(rates.busy_ms, 850.0);
        assert_eq!(rates.idle_ms, 0.0);
        // The first sample left the window of three.
        window.record(start + Duration::from_secs(3), [snapshot(700, 5000, 300)].iter());
        assert_eq!(window.rates()[0].records_in, 300.0);
    }
}
