//! What each component reports as metrics, in Flink's names: a job (uptime, restarts, checkpoints), a subtask
//! (records, bytes, time shares, watermarks, and its operators' scoped metrics, the guest's counters among
//! them), a TaskManager and the JobManager (`Status.JVM.*` equivalents of the process). Rates come from the
//! JobManager's window of samples; everything else from the latest heartbeat or the task itself.

use super::metric_query::Metrics;
use crate::graph::JobVertex;
use crate::job_manager::{JobDetails, SubtaskDetails};
use crate::metrics::named::{self, Value};
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

/// The names of a chain's operators as Flink's REST API scopes metrics by them: each node's name with ` `, `.`,
/// `:` and `,` replaced by `_` (`Source: Read` → `Source__Read`).
pub fn operator_scopes(vertex: &JobVertex) -> Vec<String> {
    named::operator_names(vertex).iter().map(|n| n.replace([' ', '.', ':', ','], "_")).collect()
}

/// A subtask's metrics (`/jobs/:id/vertices/:vid/subtasks/:i/metrics`): the task's own, then its operators' under
/// their scope (`Source__Read.numRecordsOut`), the guest's counters among them.
pub fn subtask(vertex: &JobVertex, scopes: &[String], s: &SubtaskDetails) -> Metrics {
    let own = named::task(&s.metrics, &s.rates).into_iter().map(|(id, v)| (id.to_string(), v));
    let operators = named::operators(vertex, &s.metrics, &s.rates)
        .into_iter()
        .filter_map(|(operator, id, v)| Some((format!("{}.{id}", scopes.get(operator)?), v)));
    own.chain(operators).collect()
}

/// A vertex's metrics (`/jobs/:id/vertices/:vid/metrics`): every subtask's, prefixed with its index (`0.numRecordsIn`).
pub fn vertex(vertex: &JobVertex, subtasks: &[SubtaskDetails]) -> Metrics {
    let scopes = operator_scopes(vertex);
    subtasks
        .iter()
        .flat_map(|s| subtask(vertex, &scopes, s).into_iter().map(move |(id, v)| (format!("{}.{id}", s.index), v)))
        .collect()
}

/// A TaskManager's metrics (`/taskmanagers/:id/metrics`), as its last heartbeat reported them: the heap is the
/// guests' linear memory against the TaskManager's budget, as `/taskmanagers/:id` shows it.
pub fn taskmanager(usage: &TaskManagerUsage, memory_budget: u64) -> Metrics {
    let used: u64 = usage.slots.iter().map(|s| s.memory_used).sum();
    named::taskmanager(&usage.process, used, memory_budget).into_iter().map(|(id, v)| (id.to_string(), v)).collect()
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
    let heap = (stats.rss, crate::metrics::proc_kb("/proc/meminfo", "MemTotal:"));
    metrics.extend(named::process(stats, heap).into_iter().map(|(id, v)| (id.to_string(), v)));
    metrics
}
