//! What each component reports as metrics, in Flink's names: a job (uptime, restarts, checkpoints), a subtask
//! (records, bytes, time shares, watermarks, and its operators' scoped metrics, the guest's counters among
//! them), a TaskManager and the JobManager (`Status.JVM.*` equivalents of the process). Rates come from the
//! JobManager's window of samples; everything else from the latest heartbeat or the task itself.

use super::metric_query::{Metrics, Value};
use crate::graph::JobVertex;
use crate::job_manager::{JobDetails, SubtaskDetails};
use crate::metrics::process::ProcessStats;
use crate::protocol::{JobStatus, TaskManagerUsage};
use crate::time::now_millis;

/// A job's metrics (`/jobs/:id/metrics`).
pub fn job(details: &JobDetails) -> Metrics {
    let now = now_millis() as i64;
    let since = |status: JobStatus| details.timestamps.get(&status).map(|t| *t as i64);
    let ended = details.status.is_terminal();
    // Flink: ms since RUNNING while running, 0 before, -1 once ended.
    let uptime = match (details.status, since(JobStatus::Running)) {
        (JobStatus::Running, Some(at)) => now - at,
        _ if ended => -1,
        _ => 0,
    };
    let time_in = |status: JobStatus| match since(status) {
        Some(at) if details.status == status => now - at,
        _ => 0,
    };
    let checkpoints = &details.checkpoints;
    let last = checkpoints.latest_completed.as_ref();
    let in_progress = checkpoints.total.saturating_sub(checkpoints.completed + checkpoints.failed);
    let int = |name: &str, v: i64| (name.to_string(), Value::Int(v));
    vec![
        int("uptime", uptime),
        int("downtime", time_in(JobStatus::Restarting).max(time_in(JobStatus::Failing))),
        int("restartingTime", time_in(JobStatus::Restarting)),
        int("runningTime", time_in(JobStatus::Running)),
        int("cancellingTime", time_in(JobStatus::Cancelling)),
        int("failingTime", time_in(JobStatus::Failing)),
        int("numRestarts", details.restarts as i64),
        int("numberOfCompletedCheckpoints", checkpoints.completed as i64),
        int("numberOfFailedCheckpoints", checkpoints.failed as i64),
        int("numberOfInProgressCheckpoints", in_progress as i64),
        int("totalNumberOfCheckpoints", checkpoints.total as i64),
        int("lastCheckpointDuration", last.map_or(-1, |c| c.end_to_end_duration as i64)),
        int("lastCheckpointSize", last.map_or(-1, |c| c.state_size as i64)),
        int("lastCheckpointFullSize", last.map_or(-1, |c| c.state_size as i64)),
        int("lastCompletedCheckpointId", last.map_or(-1, |c| c.id as i64)),
        int("lastCheckpointCompletedTimestamp", last.map_or(-1, |c| c.latest_ack_timestamp as i64)),
        int(
            "lastCheckpointRestoreTimestamp",
            checkpoints.latest_restored.as_ref().map_or(-1, |r| r.restore_timestamp as i64),
        ),
    ]
}

/// The names of a chain's operators as Flink scopes metrics by them: each node's name with ` `, `.`, `:` and `,`
/// replaced by `_` (`Source: Read` → `Source__Read`).
pub fn operator_scopes(vertex: &JobVertex) -> Vec<String> {
    let names: Vec<&str> = vertex.name.split(" -> ").collect();
    let names =
        if names.len() == vertex.nodes.len() || vertex.nodes.is_empty() { names } else { vec![vertex.name.as_str()] };
    names.iter().map(|n| n.replace([' ', '.', ':', ','], "_")).collect()
}

/// A subtask's metrics (`/jobs/:id/vertices/:vid/subtasks/:i/metrics`): the task's own, then its operators'
/// under their scope — the head's input, the tail's output and watermark — and the guest's counters under the
/// scope of the chain's first user operator (a guest's one call runs the whole chain, so a counter cannot be told
/// apart by operator).
pub fn subtask(vertex: &JobVertex, scopes: &[String], s: &SubtaskDetails) -> Metrics {
    let (m, r) = (&s.metrics, &s.rates);
    let int = |name: &str, v: u64| (name.to_string(), Value::Int(v.min(i64::MAX as u64) as i64));
    let float = |name: &str, v: f64| (name.to_string(), Value::Float(v));
    let mut metrics = vec![
        int("numRecordsIn", m.read_records),
        int("numRecordsOut", m.write_records),
        int("numBytesIn", m.read_bytes),
        int("numBytesOut", m.write_bytes),
        float("numRecordsInPerSecond", r.records_in),
        float("numRecordsOutPerSecond", r.records_out),
        float("numBytesInPerSecond", r.bytes_in),
        float("numBytesOutPerSecond", r.bytes_out),
        float("busyTimeMsPerSecond", r.busy_ms.round()),
        int("idleTimeMsPerSecond", r.idle_ms.round() as u64),
        int("backPressuredTimeMsPerSecond", r.backpressured_ms.round() as u64),
        int("accumulateBusyTimeMs", m.accumulated_busy_time),
        int("accumulateIdleTimeMs", m.accumulated_idle_time),
        int("accumulateBackPressuredTimeMs", m.accumulated_backpressured_time),
        ("currentInputWatermark".to_string(), Value::Int(m.input_watermark)),
    ];
    if let (Some(head), Some(tail)) = (scopes.first(), scopes.last()) {
        metrics.push(int(&format!("{head}.numRecordsIn"), m.read_records));
        metrics.push(float(&format!("{head}.numRecordsInPerSecond"), r.records_in));
        metrics.push((format!("{head}.currentInputWatermark"), Value::Int(m.input_watermark)));
        metrics.push(int(&format!("{tail}.numRecordsOut"), m.write_records));
        metrics.push(float(&format!("{tail}.numRecordsOutPerSecond"), r.records_out));
        metrics.push((format!("{tail}.currentOutputWatermark"), Value::Int(m.output_watermark)));
    }
    let user = vertex.nodes.iter().position(|n| vertex.user_nodes.contains(n)).and_then(|i| scopes.get(i));
    if let Some(scope) = user.or(scopes.first()) {
        for (name, count) in &m.counters {
            metrics.push(int(&format!("{scope}.{name}"), *count));
        }
    }
    metrics
}

/// A vertex's metrics (`/jobs/:id/vertices/:vid/metrics`): every subtask's, prefixed with its index (`0.numRecordsIn`).
pub fn vertex(vertex: &JobVertex, subtasks: &[SubtaskDetails]) -> Metrics {
    let scopes = operator_scopes(vertex);
    subtasks
        .iter()
        .flat_map(|s| subtask(vertex, &scopes, s).into_iter().map(move |(id, v)| (format!("{}.{id}", s.index), v)))
        .collect()
}

/// A process's `Status.*` metrics; `heap` is what stands for the JVM heap (used, max).
fn process(stats: &ProcessStats, heap: (u64, u64)) -> Metrics {
    let int = |name: &str, v: u64| (name.to_string(), Value::Int(v.min(i64::MAX as u64) as i64));
    vec![
        int("Status.JVM.Memory.Heap.Used", heap.0),
        int("Status.JVM.Memory.Heap.Committed", heap.0),
        int("Status.JVM.Memory.Heap.Max", heap.1),
        int("Status.JVM.Memory.NonHeap.Used", 0),
        int("Status.JVM.Memory.NonHeap.Committed", 0),
        int("Status.JVM.Memory.NonHeap.Max", 0),
        int("Status.JVM.Memory.Metaspace.Used", 0),
        int("Status.JVM.Memory.Metaspace.Max", 0),
        int("Status.JVM.Memory.Direct.Count", 0),
        int("Status.JVM.Memory.Direct.MemoryUsed", 0),
        int("Status.JVM.Memory.Direct.TotalCapacity", 0),
        int("Status.JVM.Memory.Mapped.Count", 0),
        int("Status.JVM.Memory.Mapped.MemoryUsed", 0),
        int("Status.JVM.Memory.Mapped.TotalCapacity", 0),
        ("Status.JVM.CPU.Load".to_string(), Value::Float(stats.cpu_load)),
        int("Status.JVM.CPU.Time", stats.cpu_time_ms.saturating_mul(1_000_000)),
        int("Status.JVM.Threads.Count", stats.threads),
        int("Status.ProcessTree.Memory.RSS", stats.rss),
        int("Status.ProcessTree.Memory.Virtual", stats.virtual_memory),
    ]
}

/// A TaskManager's metrics (`/taskmanagers/:id/metrics`), as its last heartbeat reported them: the heap is the
/// guests' linear memory against the TaskManager's budget, as `/taskmanagers/:id` shows it.
pub fn taskmanager(usage: &TaskManagerUsage, memory_budget: u64) -> Metrics {
    let used: u64 = usage.slots.iter().map(|s| s.memory_used).sum();
    let mut metrics = process(&usage.process, (used, memory_budget));
    let int = |name: &str, v: u64| (name.to_string(), Value::Int(v as i64));
    metrics.push(int("Status.Flink.Memory.Managed.Used", 0));
    metrics.push(int("Status.Flink.Memory.Managed.Total", 0));
    metrics.push(int("Status.Shuffle.Netty.UsedMemory", 0));
    metrics.push(int("Status.Shuffle.Netty.TotalMemory", 0));
    metrics
}

/// What the JobManager counts of the cluster, for its metrics.
pub struct ClusterCounts {
    /// Jobs not yet ended.
    pub running_jobs: usize,
    /// Registered TaskManagers.
    pub taskmanagers: usize,
    /// Slots in total.
    pub slots_total: usize,
    /// Free slots.
    pub slots_available: usize,
}

/// The JobManager's metrics (`/jobmanager/metrics`): the cluster's counts and this process's figures, its
/// resident memory standing for the heap.
pub fn jobmanager(counts: &ClusterCounts, stats: &ProcessStats) -> Metrics {
    let int = |name: &str, v: usize| (name.to_string(), Value::Int(v as i64));
    let mut metrics = vec![
        int("numRunningJobs", counts.running_jobs),
        int("numRegisteredTaskManagers", counts.taskmanagers),
        int("taskSlotsTotal", counts.slots_total),
        int("taskSlotsAvailable", counts.slots_available),
    ];
    metrics.extend(process(stats, (stats.rss, crate::metrics::proc_kb("/proc/meminfo", "MemTotal:"))));
    metrics
}
