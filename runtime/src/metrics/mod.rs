//! Built-in task metrics, updated per batch by the task thread and read
//! by whoever reports them (the JobManager, the REST API, Prometheus).
//!
//! - this file: a task's counters ([`TaskMetrics`]) and their snapshot;
//! - [`rates`]: counters into rates per second over a window of samples;
//! - [`process`]: the process's own memory, CPU and threads;
//! - [`named`]: all of these under Flink's metric names;
//! - [`prometheus`]: the Prometheus endpoint that serves them.

pub mod named;
pub mod process;
pub mod prometheus;
mod rates;

pub use rates::{MetricRates, RateWindow};

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::time::NO_WATERMARK;

/// Counters of one subtask. Updated once per batch, never per record; the
/// guest's own counters are copied in at an interval ([`TaskMetrics::set_counters`]).
#[derive(Debug)]
pub struct TaskMetrics {
    records_in: AtomicU64,
    records_out: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    backpressured_ns: AtomicU64,
    busy_ns: AtomicU64,
    idle_ns: AtomicU64,
    input_watermark: AtomicI64,
    output_watermark: AtomicI64,
    /// Bad records a source skipped (`bad-records=skip`), as its reader counts them.
    skipped_records: AtomicU64,
    /// The guest's counters as of their last publication (a handful, bounded by the host).
    counters: Mutex<Vec<(String, u64)>>,
}

impl Default for TaskMetrics {
    fn default() -> Self {
        TaskMetrics {
            records_in: AtomicU64::new(0),
            records_out: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            backpressured_ns: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
            idle_ns: AtomicU64::new(0),
            input_watermark: AtomicI64::new(NO_WATERMARK),
            output_watermark: AtomicI64::new(NO_WATERMARK),
            skipped_records: AtomicU64::new(0),
            counters: Mutex::new(Vec::new()),
        }
    }
}

/// A point-in-time copy of [`TaskMetrics`], named as Flink's REST API names them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub struct MetricsSnapshot {
    /// Records received by the task.
    pub read_records: u64,
    /// Records sent by the task.
    pub write_records: u64,
    /// Bytes received.
    pub read_bytes: u64,
    /// Bytes sent.
    pub write_bytes: u64,
    /// Milliseconds blocked on a full output channel.
    pub accumulated_backpressured_time: u64,
    /// Milliseconds spent processing.
    pub accumulated_busy_time: u64,
    /// Milliseconds spent waiting for input.
    pub accumulated_idle_time: u64,
    /// The watermark the chain's operators have seen (`i64::MIN`: none yet).
    pub input_watermark: i64,
    /// The last watermark the task sent on (`i64::MIN`: none yet).
    pub output_watermark: i64,
    /// Bad records the task's source skipped (`bad-records=skip`); Flink's `numRecordsInErrors`.
    #[serde(default)]
    pub skipped_records: u64,
    /// The guest's own counters (the `metrics` import), by name.
    pub counters: Vec<(String, u64)>,
}

impl Default for MetricsSnapshot {
    fn default() -> Self {
        MetricsSnapshot {
            read_records: 0,
            write_records: 0,
            read_bytes: 0,
            write_bytes: 0,
            accumulated_backpressured_time: 0,
            accumulated_busy_time: 0,
            accumulated_idle_time: 0,
            input_watermark: NO_WATERMARK,
            output_watermark: NO_WATERMARK,
            skipped_records: 0,
            counters: Vec::new(),
        }
    }
}

impl TaskMetrics {
    /// Counts records and bytes that entered the task.
    pub fn add_in(&self, records: usize, bytes: usize) {
        self.records_in.fetch_add(records as u64, Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Relaxed);
    }

    /// Counts records and bytes that left the task.
    pub fn add_out(&self, records: usize, bytes: usize) {
        self.records_out.fetch_add(records as u64, Relaxed);
        self.bytes_out.fetch_add(bytes as u64, Relaxed);
    }

    /// Adds time blocked on output.
    pub fn add_backpressured(&self, blocked: Duration) {
        if !blocked.is_zero() {
            self.backpressured_ns.fetch_add(blocked.as_nanos() as u64, Relaxed);
        }
    }

    /// Adds time spent processing.
    pub fn add_busy(&self, busy: Duration) {
        self.busy_ns.fetch_add(busy.as_nanos() as u64, Relaxed);
    }

    /// Adds time spent waiting for input.
    pub fn add_idle(&self, idle: Duration) {
        self.idle_ns.fetch_add(idle.as_nanos() as u64, Relaxed);
    }

    /// Records the task's input and output watermarks (each only moves forward, so a plain store).
    pub fn set_watermarks(&self, input: i64, output: i64) {
        self.input_watermark.store(input, Relaxed);
        self.output_watermark.store(output, Relaxed);
    }

    /// Records how many bad records the task's source has skipped in all (its reader keeps the count).
    pub fn set_skipped_records(&self, total: u64) {
        self.skipped_records.store(total, Relaxed);
    }

    /// Publishes the guest's counters; called at an interval by the task thread, never per batch.
    pub fn set_counters<'a>(&self, counters: impl IntoIterator<Item = (&'a String, &'a u64)>) {
        let mut published = self.counters.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        published.clear();
        published.extend(counters.into_iter().map(|(name, count)| (name.clone(), *count)));
        published.sort();
    }

    /// Overwrites every counter with `snapshot`, as reported by the
    /// TaskManager that runs the subtask.
    pub fn set(&self, snapshot: &MetricsSnapshot) {
        self.records_in.store(snapshot.read_records, Relaxed);
        self.records_out.store(snapshot.write_records, Relaxed);
        self.bytes_in.store(snapshot.read_bytes, Relaxed);
        self.bytes_out.store(snapshot.write_bytes, Relaxed);
        self.backpressured_ns.store(snapshot.accumulated_backpressured_time * 1_000_000, Relaxed);
        self.busy_ns.store(snapshot.accumulated_busy_time * 1_000_000, Relaxed);
        self.idle_ns.store(snapshot.accumulated_idle_time * 1_000_000, Relaxed);
        self.set_watermarks(snapshot.input_watermark, snapshot.output_watermark);
        self.set_skipped_records(snapshot.skipped_records);
        let counters = snapshot.counters.iter().map(|(name, count)| (name, count));
        self.set_counters(counters);
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            read_records: self.records_in.load(Relaxed),
            write_records: self.records_out.load(Relaxed),
            read_bytes: self.bytes_in.load(Relaxed),
            write_bytes: self.bytes_out.load(Relaxed),
            accumulated_backpressured_time: self.backpressured_ns.load(Relaxed) / 1_000_000,
            accumulated_busy_time: self.busy_ns.load(Relaxed) / 1_000_000,
            accumulated_idle_time: self.idle_ns.load(Relaxed) / 1_000_000,
            input_watermark: self.input_watermark.load(Relaxed),
            output_watermark: self.output_watermark.load(Relaxed),
            skipped_records: self.skipped_records.load(Relaxed),
            counters: self.counters.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone(),
        }
    }
}

/// Sums of counters and times; watermarks take the lowest (a vertex is as far as its slowest subtask); the guests'
/// counters add up by name.
impl std::ops::AddAssign<&MetricsSnapshot> for MetricsSnapshot {
    fn add_assign(&mut self, other: &MetricsSnapshot) {
        self.read_records += other.read_records;
        self.write_records += other.write_records;
        self.read_bytes += other.read_bytes;
        self.write_bytes += other.write_bytes;
        self.accumulated_backpressured_time += other.accumulated_backpressured_time;
        self.accumulated_busy_time += other.accumulated_busy_time;
        self.accumulated_idle_time += other.accumulated_idle_time;
        self.input_watermark = self.input_watermark.min(other.input_watermark);
        self.output_watermark = self.output_watermark.min(other.output_watermark);
        self.skipped_records += other.skipped_records;
        for (name, count) in &other.counters {
            match self.counters.iter_mut().find(|(n, _)| n == name) {
                Some((_, total)) => *total += count,
                None => self.counters.push((name.clone(), *count)),
            }
        }
    }
}

/// A `kB` value of a `/proc` file in bytes, e.g. `proc_kb("/proc/meminfo", "MemTotal:")`
/// (0 if the file or the key is missing).
pub fn proc_kb(file: &str, key: &str) -> u64 {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with(key))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024)
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vertex's watermark is its slowest subtask's, and the guests' counters add up by name.
    #[test]
    fn snapshots_add_up_by_name_and_keep_the_lowest_watermark() {
        let mut a = MetricsSnapshot { input_watermark: 5, counters: vec![("x".into(), 1)], ..Default::default() };
        let b = MetricsSnapshot {
            input_watermark: 3,
            counters: vec![("x".into(), 2), ("y".into(), 4)],
            ..Default::default()
        };
        a += &b;
        assert_eq!(a.input_watermark, 3);
        assert_eq!(a.counters, vec![("x".to_string(), 3), ("y".to_string(), 4)]);
    }
}
