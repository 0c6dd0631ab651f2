//! The tasks a TaskManager process runs, as its Prometheus endpoint reports them: each task's counters (the
//! ones the task updates) with Flink's labels, and a window of samples taken at every heartbeat for the
//! `…PerSecond` gauges. A scrape reads them under one lock; the tasks never take it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::graph::SubtaskId;
use crate::ids::JobId;
use crate::metrics::named::{self, Value};
use crate::metrics::process::ProcessStats;
use crate::metrics::prometheus::{self, Series};
use crate::metrics::{MetricRates, RateWindow, TaskMetrics};
use crate::protocol::TaskDescriptor;

/// Samples kept per task: rates over the last five heartbeats.
const RATE_SAMPLES: usize = 6;

/// One running task.
struct ReportedTask {
    /// `job_id`, `job_name`, `task_id`, `task_name`, `subtask_index`, `task_attempt_num`.
    labels: Vec<(String, String)>,
    /// Its chain, for its operators' metrics.
    vertex: crate::graph::JobVertex,
    metrics: Arc<TaskMetrics>,
    window: RateWindow,
}

/// The tasks of this process.
#[derive(Default)]
pub struct ReportedTasks {
    tasks: Mutex<HashMap<(JobId, SubtaskId), ReportedTask>>,
    /// The guests' linear memory as of the last heartbeat, bytes.
    guest_memory: AtomicU64,
}

impl ReportedTasks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(JobId, SubtaskId), ReportedTask>> {
        self.tasks.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A task starts, counting into `metrics`.
    pub fn insert(&self, descriptor: &TaskDescriptor, metrics: Arc<TaskMetrics>) {
        let vertex = &descriptor.vertex;
        let labels = prometheus::task_labels(
            &descriptor.job_id.to_string(),
            &descriptor.job_name,
            vertex,
            descriptor.subtask.index,
            descriptor.attempt,
        );
        let task = ReportedTask { labels, vertex: vertex.clone(), metrics, window: RateWindow::new(RATE_SAMPLES) };
        self.lock().insert((descriptor.job_id, descriptor.subtask), task);
    }

    /// A task ended.
    pub fn remove(&self, job_id: JobId, subtask: SubtaskId) {
        self.lock().remove(&(job_id, subtask));
    }

    /// Samples every task's counters for its rates, and the guests' memory (at each heartbeat).
    pub fn sample(&self, guest_memory: u64) {
        self.guest_memory.store(guest_memory, Relaxed);
        let now = Instant::now();
        for task in self.lock().values_mut() {
            let snapshot = task.metrics.snapshot();
            task.window.record(now, std::iter::once(&snapshot));
        }
    }

    /// The series of a scrape: the process's `Status.*` and every task's and operator's metrics, labelled with
    /// `tm_id` and `host` besides.
    pub fn series(&self, tm_id: &str, host: &str, process: &ProcessStats, budget: u64) -> Vec<Series> {
        let base = vec![("host".to_string(), host.to_string()), ("tm_id".to_string(), tm_id.to_string())];
        let status = named::taskmanager(process, self.guest_memory.load(Relaxed), budget);
        let mut series: Vec<Series> = status.into_iter().map(|(name, v)| one("taskmanager", name, &base, v)).collect();
        for task in self.lock().values() {
            let snapshot = task.metrics.snapshot();
            let rates = task.window.rates().first().copied().unwrap_or_else(MetricRates::default);
            let labels: Vec<(String, String)> = base.iter().chain(&task.labels).cloned().collect();
            series.extend(prometheus::task_series(&task.vertex, &labels, &snapshot, &rates));
        }
        series
    }
}

/// `flink_<scope>_<name>` (dots become `_` when encoded).
fn one(scope: &str, name: &str, labels: &[(String, String)], value: Value) -> Series {
    Series { name: format!("flink_{scope}_{name}"), labels: labels.to_vec(), value: value.as_f64() }
}
