//! Built-in task metrics, updated per batch by the task thread and read
//! by whoever reports them (the JobManager, the REST API).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Counters of one subtask. Updated once per batch, never per record.
#[derive(Debug, Default)]
pub struct TaskMetrics {
    records_in: AtomicU64,
    records_out: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    backpressured_ns: AtomicU64,
    busy_ns: AtomicU64,
}

/// A point-in-time copy of [`TaskMetrics`], named as Flink's REST API names them.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
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

    /// Overwrites every counter with `snapshot`, as reported by the
    /// TaskManager that runs the subtask.
    pub fn set(&self, snapshot: &MetricsSnapshot) {
        self.records_in.store(snapshot.read_records, Relaxed);
        self.records_out.store(snapshot.write_records, Relaxed);
        self.bytes_in.store(snapshot.read_bytes, Relaxed);
        self.bytes_out.store(snapshot.write_bytes, Relaxed);
        self.backpressured_ns.store(snapshot.accumulated_backpressured_time * 1_000_000, Relaxed);
        self.busy_ns.store(snapshot.accumulated_busy_time * 1_000_000, Relaxed);
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
        }
    }
}

impl std::ops::AddAssign for MetricsSnapshot {
    fn add_assign(&mut self, other: Self) {
        self.read_records += other.read_records;
        self.write_records += other.write_records;
        self.read_bytes += other.read_bytes;
        self.write_bytes += other.write_bytes;
        self.accumulated_backpressured_time += other.accumulated_backpressured_time;
        self.accumulated_busy_time += other.accumulated_busy_time;
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
