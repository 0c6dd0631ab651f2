//! The answers of the job routes ([`super::jobs`]) as serde structs, with
//! Flink's field names; utoipa reads their schemas for `/openapi.json`.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::plan::Plan;
use super::vertex_views::{Aggregated, SubtaskAnswer};
use crate::job_manager::SubtaskDetails;
use crate::metrics::MetricsSnapshot;
use crate::protocol::{JobStatus, TaskState};
use crate::time::now_millis;

/// `/jobs`.
#[derive(Serialize, ToSchema)]
pub struct JobList {
    /// Every job the cluster knows, running or ended.
    pub(super) jobs: Vec<JobIdStatus>,
}

/// A job in `/jobs`.
#[derive(Serialize, ToSchema)]
pub struct JobIdStatus {
    /// 32 hex characters.
    pub(super) id: String,
    /// Its status.
    pub(super) status: JobStatus,
}

/// `/jobs/overview`.
#[derive(Serialize, ToSchema)]
pub struct JobsOverview {
    /// Every job the cluster knows.
    pub(super) jobs: Vec<JobOverview>,
}

/// A job in `/jobs/overview`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct JobOverview {
    /// 32 hex characters.
    pub(super) jid: String,
    /// The job's name.
    pub(super) name: String,
    /// Always `STREAMING`.
    #[serde(rename = "jobType")]
    pub(super) job_type: &'static str,
    /// Always `Default`.
    #[serde(rename = "schedulerType")]
    pub(super) scheduler_type: &'static str,
    /// When it was submitted, ms since the epoch.
    pub(super) start_time: i64,
    /// When it ended, ms since the epoch; -1 while it runs.
    pub(super) end_time: i64,
    /// ms from start to end, or to now.
    pub(super) duration: i64,
    /// Its status.
    pub(super) state: JobStatus,
    /// When its status last changed, ms since the epoch.
    pub(super) last_modification: u64,
    /// Subtasks per state (lower case) and `total`.
    pub(super) tasks: BTreeMap<String, usize>,
    /// Always 0.
    pub(super) pending_operators: u32,
}

/// `/jobs/:id`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Job {
    /// 32 hex characters.
    pub(super) jid: String,
    /// The job's id again (Flink's application id).
    pub(super) application_id: String,
    /// The job's name.
    pub(super) name: String,
    /// Always false.
    #[serde(rename = "isStoppable")]
    pub(super) is_stoppable: bool,
    /// Its status.
    pub(super) state: JobStatus,
    /// Always `STREAMING`.
    pub(super) job_type: &'static str,
    /// Always `Default`.
    #[serde(rename = "schedulerType")]
    pub(super) scheduler_type: &'static str,
    /// When it was submitted, ms since the epoch.
    pub(super) start_time: i64,
    /// When it ended, ms since the epoch; -1 while it runs.
    pub(super) end_time: i64,
    /// ms from start to end, or to now.
    pub(super) duration: i64,
    /// Always -1.
    #[serde(rename = "maxParallelism")]
    pub(super) max_parallelism: i64,
    /// The server's clock, ms since the epoch.
    pub(super) now: u64,
    /// When it entered each status (every status Flink names; 0: never).
    pub(super) timestamps: BTreeMap<String, u64>,
    /// Its chained vertices.
    pub(super) vertices: Vec<JobVertex>,
    /// Subtasks per state over all vertices.
    pub(super) status_counts: BTreeMap<String, usize>,
    /// Its plan.
    pub(super) plan: Plan,
    /// Always 0.
    pub(super) pending_operators: u32,
}

/// A vertex in `/jobs/:id`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct JobVertex {
    /// Vertex id (32 hex).
    pub(super) id: String,
    /// The job's id: all vertices share slots.
    #[serde(rename = "slotSharingGroupId")]
    pub(super) slot_sharing_group_id: String,
    /// Chain name.
    pub(super) name: String,
    /// `pipeline.max-parallelism`.
    #[serde(rename = "maxParallelism")]
    pub(super) max_parallelism: u32,
    /// Its parallelism.
    pub(super) parallelism: u32,
    /// The aggregated state of its subtasks.
    pub(super) status: TaskState,
    /// When the job started running, ms since the epoch; -1 before.
    pub(super) start_time: i64,
    /// When it ended; -1 while it runs.
    pub(super) end_time: i64,
    /// ms it has run; -1 before the job runs.
    pub(super) duration: i64,
    /// Subtasks per state (every state Flink names).
    pub(super) tasks: BTreeMap<String, usize>,
    /// Sum of its subtasks' metrics.
    pub(super) metrics: Metrics,
}

/// `/jobs/:id/vertices/:vid`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Vertex {
    /// Vertex id (32 hex).
    pub(super) id: String,
    /// Chain name.
    pub(super) name: String,
    /// Its parallelism.
    pub(super) parallelism: u32,
    /// `pipeline.max-parallelism`.
    pub(super) max_parallelism: u32,
    /// The server's clock, ms since the epoch.
    pub(super) now: u64,
    /// Each subtask, by index, as `/subtasks/:i` answers it.
    pub(super) subtasks: Vec<SubtaskAnswer>,
    /// Statistics of its subtasks' metrics and of their time in each state.
    pub(super) aggregated: Aggregated,
}

/// A subtask in `/jobs/:id/vertices/:vid`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Subtask {
    /// 0-based index within the vertex.
    pub(super) subtask: u32,
    /// Its state.
    pub(super) status: TaskState,
    /// Always 0.
    pub(super) attempt: u32,
    /// The data address (`host:port`) of its TaskManager, once deployed.
    pub(super) endpoint: Option<String>,
    /// When the job was submitted, ms since the epoch.
    pub(super) start_time: i64,
    /// When it ended; -1 while it runs.
    pub(super) end_time: i64,
    /// ms it has run.
    pub(super) duration: i64,
    /// Its metrics.
    pub(super) metrics: Metrics,
    /// The TaskManager running it, once deployed.
    pub(super) taskmanager_id: Option<String>,
}

impl Subtask {
    /// A subtask as the JobManager follows it, its times its own (from its deployment).
    pub(super) fn of(s: &SubtaskDetails) -> Self {
        let (start, end, duration) = subtask_times(s);
        Subtask {
            subtask: s.index,
            status: s.state,
            attempt: 0,
            endpoint: s.endpoint.clone(),
            start_time: start,
            end_time: end,
            duration,
            metrics: Metrics::of(&s.metrics, reports(s)),
            taskmanager_id: s.task_manager.clone(),
        }
    }
}

/// Whether a subtask was deployed, so its counters are reported.
pub(super) fn reports(s: &SubtaskDetails) -> bool {
    s.timestamps.contains_key(&TaskState::Deploying)
}

/// `start-time` (deployed), `end-time` (-1 while it runs) and `duration` of a subtask, ms; all -1 before it is
/// deployed.
pub(super) fn subtask_times(s: &SubtaskDetails) -> (i64, i64, i64) {
    let Some(start) = s.timestamps.get(&TaskState::Deploying).map(|t| *t as i64) else { return (-1, -1, -1) };
    let end = if s.state.is_terminal() { s.timestamps.get(&s.state).map_or(-1, |t| *t as i64) } else { -1 };
    let duration = if end >= 0 { end - start } else { now_millis() as i64 - start };
    (start, end, duration)
}

/// Flink's `metrics` of a vertex or subtask; each `-complete` is true once every subtask it covers was deployed and
/// so reports its counters (Flink's dashboard shows "loading..." while it is false).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Metrics {
    pub(super) read_bytes: u64,
    pub(super) read_bytes_complete: bool,
    pub(super) write_bytes: u64,
    pub(super) write_bytes_complete: bool,
    pub(super) read_records: u64,
    pub(super) read_records_complete: bool,
    pub(super) write_records: u64,
    pub(super) write_records_complete: bool,
    /// ms blocked by backpressure.
    pub(super) accumulated_backpressured_time: u64,
    /// ms waiting for input.
    pub(super) accumulated_idle_time: u64,
    /// ms busy.
    pub(super) accumulated_busy_time: f64,
}

impl Metrics {
    pub(super) fn of(m: &MetricsSnapshot, complete: bool) -> Self {
        Metrics {
            read_bytes: m.read_bytes,
            read_bytes_complete: complete,
            write_bytes: m.write_bytes,
            write_bytes_complete: complete,
            read_records: m.read_records,
            read_records_complete: complete,
            write_records: m.write_records,
            write_records_complete: complete,
            accumulated_backpressured_time: m.accumulated_backpressured_time,
            accumulated_idle_time: m.accumulated_idle_time,
            accumulated_busy_time: m.accumulated_busy_time as f64,
        }
    }
}

/// `/jobs/:id/status`.
#[derive(Serialize, ToSchema)]
pub struct JobStatusAnswer {
    /// The job's status.
    pub(super) status: JobStatus,
}

/// `/jobs/:id/execution-result`: `IN_PROGRESS`, or `COMPLETED` with the result.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ExecutionResult {
    /// Whether the job has ended.
    pub(super) status: QueueStatus,
    /// The outcome, once `COMPLETED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) job_execution_result: Option<JobResult>,
}

/// Flink's `{"id": "IN_PROGRESS" | "COMPLETED"}` of an asynchronous operation.
#[derive(Serialize, ToSchema)]
#[serde(tag = "id")]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum QueueStatus {
    /// Not done yet.
    IN_PROGRESS,
    /// Done; the result is beside it.
    COMPLETED,
}

/// The outcome of an ended job.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct JobResult {
    /// 32 hex characters.
    pub(super) id: String,
    /// The job's name.
    pub(super) name: String,
    /// `SUCCEEDED`, `CANCELED` or `FAILED`.
    pub(super) application_status: &'static str,
    /// Always empty.
    pub(super) accumulator_results: BTreeMap<String, String>,
    /// ms from start to end.
    pub(super) net_runtime: i64,
    /// The job's id again.
    pub(super) application_id: String,
    /// ms since the epoch.
    pub(super) start_time: i64,
    /// ms since the epoch.
    pub(super) end_time: i64,
    /// Why it failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) failure_cause: Option<JobFailureCause>,
}

/// Why a job failed, in Flink's shape (the message stands for the stack trace).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct JobFailureCause {
    /// Always `wflink.JobFailure`.
    pub(super) class: &'static str,
    /// The failure's message.
    pub(super) stack_trace: String,
    /// Always empty.
    pub(super) serialized_throwable: &'static str,
}

/// `/jobs/:id/exceptions`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Exceptions {
    /// The failure that ended the job, if any.
    pub(super) root_exception: Option<String>,
    /// When it happened, ms since the epoch.
    pub(super) timestamp: Option<u64>,
    /// Always empty (Flink's deprecated list).
    pub(super) all_exceptions: Vec<String>,
    /// Always false.
    pub(super) truncated: bool,
    /// The failures, newest first.
    #[serde(rename = "exceptionHistory")]
    pub(super) exception_history: ExceptionHistory,
}

/// The failures of a job, newest first.
#[derive(Serialize, ToSchema)]
pub struct ExceptionHistory {
    /// The failure that ended the job, then those it restarted from.
    pub(super) entries: Vec<ExceptionEntry>,
    /// Always false.
    pub(super) truncated: bool,
}

/// One failure in a job's exception history.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionEntry {
    /// Always `wflink.TaskFailure`.
    pub(super) exception_name: &'static str,
    /// The failure's message.
    pub(super) stacktrace: String,
    /// When it happened, ms since the epoch.
    pub(super) timestamp: u64,
    /// The task that failed.
    pub(super) task_name: Option<String>,
    /// The failed task's TaskManager's data address (Flink 1.x's name); null when no task failed.
    pub(super) location: Option<String>,
    /// The failed task's TaskManager's data address; null when no task failed.
    pub(super) endpoint: Option<String>,
    /// The failed task's TaskManager; null when no task failed.
    pub(super) task_manager_id: Option<String>,
    /// Always empty.
    pub(super) failure_labels: BTreeMap<String, String>,
    /// Always empty.
    #[schema(value_type = Vec<Object>)]
    pub(super) concurrent_exceptions: Vec<serde_json::Value>,
}

/// `/jobs/:id/config`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct JobConfig {
    /// 32 hex characters.
    pub(super) jid: String,
    /// The job's name.
    pub(super) name: String,
    /// Its execution configuration.
    pub(super) execution_config: ExecutionConfig,
}

/// The execution configuration of a job, in Flink's shape.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ExecutionConfig {
    /// Its restart strategy, described.
    pub(super) restart_strategy: String,
    /// The highest parallelism of its vertices.
    pub(super) job_parallelism: u32,
    /// Always false.
    pub(super) object_reuse_mode: bool,
    /// The program arguments, `--key value` as `key: value`.
    pub(super) user_config: BTreeMap<String, String>,
}
