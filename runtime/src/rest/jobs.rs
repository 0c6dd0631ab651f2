//! Jobs: `/jobs`, `/jobs/overview`, `/jobs/:id` and its `status`,
//! `execution-result`, `plan`, `exceptions` and `vertices/:vid` (subtasks
//! with their TaskManager), and `PATCH /jobs/:id?mode=cancel`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::openapi::{ChangeErrors, Empty, JobErrors, JobPath};
use super::plan::{self as plans, Plan, PlanAnswer};
use super::{AppError, AppState, Errors};
use crate::dispatcher::DispatcherError;
use crate::dispatcher::messages::{GetJob, ListJobs};
use crate::ids::JobId;
use crate::job_manager::JobDetails;
use crate::job_manager::messages::CancelJob;
use crate::metrics::MetricsSnapshot;
use crate::protocol::{JobStatus, TaskState};
use crate::time::now_millis;

/// Every job status Flink names, so `timestamps` has all its keys.
const JOB_STATUSES: [&str; 11] = [
    "INITIALIZING",
    "CREATED",
    "RUNNING",
    "FAILING",
    "FAILED",
    "CANCELLING",
    "CANCELED",
    "FINISHED",
    "RESTARTING",
    "SUSPENDED",
    "RECONCILING",
];
/// Every task state Flink names, so `tasks` and `status-counts` have all their keys.
const TASK_STATES: [&str; 10] = [
    "CREATED",
    "SCHEDULED",
    "DEPLOYING",
    "INITIALIZING",
    "RUNNING",
    "FINISHED",
    "CANCELING",
    "CANCELED",
    "FAILED",
    "RECONCILING",
];

fn parse_job_id(raw: &str) -> Result<JobId, AppError> {
    raw.parse().map_err(|e: crate::ids::InvalidJobId| AppError::bad_request(e.to_string()))
}

async fn details(state: &AppState, raw: &str) -> Result<JobDetails, AppError> {
    let job_id = parse_job_id(raw)?;
    Ok(state.dispatcher.send(GetJob { job_id }).await??)
}

/// `GET /jobs`: ids and statuses.
#[utoipa::path(
    get,
    path = "/jobs",
    summary = "Job ids and statuses",
    responses(
        (status = 200, description = "OK", body = JobList),
    ),
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<JobList>, AppError> {
    let listed = state.dispatcher.send(ListJobs).await?;
    let mut jobs = Vec::with_capacity(listed.len());
    for job in listed {
        // The listing knows a job's status at submit and at its end; a
        // running job's JobManager knows it now, as `/jobs/:id/status` says.
        let status = match state.dispatcher.send(GetJob { job_id: job.job_id }).await {
            Ok(Ok(details)) => details.status,
            _ => job.status,
        };
        jobs.push(JobIdStatus { id: job.job_id.to_string(), status });
    }
    Ok(Json(JobList { jobs }))
}

/// `GET /jobs/overview`: one line per job with its task counts.
#[utoipa::path(
    get,
    path = "/jobs/overview",
    summary = "Every job with times and task counts",
    responses(
        (status = 200, description = "OK", body = JobsOverview),
    ),
)]
pub async fn overview(State(state): State<AppState>) -> Result<Json<JobsOverview>, AppError> {
    let listed = state.dispatcher.send(ListJobs).await?;
    let mut jobs = Vec::with_capacity(listed.len());
    for job in listed {
        // A job may end between the listing and this request; it is still known.
        let Ok(Ok(details)) = state.dispatcher.send(GetJob { job_id: job.job_id }).await else { continue };
        let (start, end, duration) = times(&details);
        let counts = task_counts(&details);
        let mut tasks: BTreeMap<String, usize> = counts.iter().map(|(k, v)| (k.to_ascii_lowercase(), *v)).collect();
        tasks.insert("total".into(), counts.values().sum());
        jobs.push(JobOverview {
            jid: details.job_id.to_string(),
            name: details.name.clone(),
            job_type: "STREAMING",
            scheduler_type: "Default",
            start_time: start,
            end_time: end,
            duration,
            state: details.status,
            last_modification: details.timestamps.values().max().copied().unwrap_or(details.start_time),
            tasks,
            pending_operators: 0,
        });
    }
    Ok(Json(JobsOverview { jobs }))
}

/// `start-time`, `end-time` (-1 while running) and `duration` of a job.
fn times(details: &JobDetails) -> (i64, i64, i64) {
    let start = details.start_time as i64;
    let end = details.end_time.map_or(-1, |e| e as i64);
    let duration = details.end_time.unwrap_or_else(now_millis) as i64 - start;
    (start, end, duration)
}

/// Subtasks per state over all vertices, every Flink state named.
fn task_counts(details: &JobDetails) -> BTreeMap<String, usize> {
    let mut counts: BTreeMap<String, usize> = TASK_STATES.iter().map(|s| (s.to_string(), 0)).collect();
    for vertex in &details.vertices {
        for (state, n) in &vertex.tasks {
            *counts.entry(state_name(*state)).or_default() += n;
        }
    }
    counts
}

fn state_name(state: TaskState) -> String {
    serde_json::to_value(state).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// `GET /jobs/:id`: the job with its vertices, their states and metrics, and its plan.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}",
    summary = "Job details: vertices with parallelism, status, tasks and metrics; plan",
    params(
        JobPath,
    ),
    responses(
        (status = 200, description = "OK", body = Job),
        JobErrors,
    ),
)]
pub async fn job(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Job>, AppError> {
    let details = details(&state, &id).await?;
    let (start, end, duration) = times(&details);
    let mut timestamps: BTreeMap<String, u64> = JOB_STATUSES.iter().map(|s| (s.to_string(), 0)).collect();
    for (status, at) in &details.timestamps {
        timestamps.insert(status.name().to_string(), *at);
    }
    let running_since = details.timestamps.get(&JobStatus::Running).map_or(-1, |t| *t as i64);
    let vertices = details
        .vertices
        .iter()
        .map(|v| {
            let mut tasks: BTreeMap<String, usize> = TASK_STATES.iter().map(|s| (s.to_string(), 0)).collect();
            for (state, n) in &v.tasks {
                tasks.insert(state_name(*state), *n);
            }
            let ended = v.status.is_terminal();
            let v_end = if ended { end } else { -1 };
            let v_duration = if running_since < 0 {
                -1
            } else if ended && end >= 0 {
                end - running_since
            } else {
                now_millis() as i64 - running_since
            };
            JobVertex {
                id: v.id.clone(),
                slot_sharing_group_id: details.job_id.to_string(),
                name: v.name.clone(),
                max_parallelism: details.job_graph.vertices[0].max_parallelism,
                parallelism: v.parallelism,
                status: v.status,
                start_time: running_since,
                end_time: v_end,
                duration: v_duration,
                tasks,
                metrics: Metrics::of(&v.metrics, ended),
            }
        })
        .collect();
    let job_id = details.job_id.to_string();
    Ok(Json(Job {
        plan: plans::plan(&job_id, &details.job_graph),
        application_id: job_id.clone(),
        jid: job_id,
        name: details.name.clone(),
        is_stoppable: false,
        state: details.status,
        job_type: "STREAMING",
        scheduler_type: "Default",
        start_time: start,
        end_time: end,
        duration,
        max_parallelism: -1,
        now: now_millis(),
        timestamps,
        vertices,
        status_counts: task_counts(&details),
        pending_operators: 0,
    }))
}

/// `GET /jobs/:id/vertices/:vid`: the vertex's subtasks, each with its
/// state, metrics and the TaskManager it runs on (`taskmanager-id`, `endpoint`).
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/vertices/{vertexid}",
    summary = "Subtasks of a vertex with their state, metrics and TaskManager",
    params(
        JobPath,
        ("vertexid" = String, Path, description = "vertex id (32 hex)"),
    ),
    responses(
        (status = 200, description = "OK", body = Vertex),
        (status = 400, description = "Not a job id", body = Errors),
        (status = 404, description = "No such job or vertex", body = Errors),
    ),
)]
pub async fn vertex(
    State(state): State<AppState>,
    Path((id, vertex_id)): Path<(String, String)>,
) -> Result<Json<Vertex>, AppError> {
    let details = details(&state, &id).await?;
    let vertex = details
        .vertices
        .iter()
        .find(|v| v.id == vertex_id)
        .ok_or_else(|| AppError::not_found(format!("vertex {vertex_id} not found in job {id}")))?;
    let (start, end, _) = times(&details);
    let subtasks = vertex
        .subtasks
        .iter()
        .map(|s| {
            let ended = s.state.is_terminal();
            let sub_end = if ended { end } else { -1 };
            let duration = if ended && end >= 0 { end - start } else { now_millis() as i64 - start };
            Subtask {
                subtask: s.index,
                status: s.state,
                attempt: 0,
                endpoint: s.endpoint.clone(),
                start_time: start,
                end_time: sub_end,
                duration,
                metrics: Metrics::of(&s.metrics, ended),
                taskmanager_id: s.task_manager.clone(),
            }
        })
        .collect();
    Ok(Json(Vertex {
        id: vertex.id.clone(),
        name: vertex.name.clone(),
        parallelism: vertex.parallelism,
        max_parallelism: details.job_graph.vertices[0].max_parallelism,
        now: now_millis(),
        subtasks,
    }))
}

/// `GET /jobs/:id/status`.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/status",
    summary = "Job status",
    params(
        JobPath,
    ),
    responses(
        (status = 200, description = "OK", body = JobStatusAnswer),
        JobErrors,
    ),
)]
pub async fn status(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<JobStatusAnswer>, AppError> {
    let details = details(&state, &id).await?;
    Ok(Json(JobStatusAnswer { status: details.status }))
}

/// `GET /jobs/:id/plan`.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/plan",
    summary = "Job plan (chained vertices and edges)",
    params(
        JobPath,
    ),
    responses(
        (status = 200, description = "OK", body = PlanAnswer),
        JobErrors,
    ),
)]
pub async fn plan(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<PlanAnswer>, AppError> {
    let details = details(&state, &id).await?;
    Ok(Json(PlanAnswer { plan: plans::plan(&details.job_id.to_string(), &details.job_graph) }))
}

/// `GET /jobs/:id/execution-result`: `IN_PROGRESS`, or `COMPLETED` with the outcome.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/execution-result",
    summary = "IN_PROGRESS or COMPLETED with the application status",
    params(
        JobPath,
    ),
    responses(
        (status = 200, description = "OK", body = ExecutionResult),
        JobErrors,
    ),
)]
pub async fn execution_result(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ExecutionResult>, AppError> {
    let details = details(&state, &id).await?;
    if !details.status.is_terminal() {
        return Ok(Json(ExecutionResult { status: QueueStatus::IN_PROGRESS, job_execution_result: None }));
    }
    let (start, end, duration) = times(&details);
    let job_id = details.job_id.to_string();
    let application_status = match details.status {
        JobStatus::Finished => "SUCCEEDED",
        JobStatus::Canceled => "CANCELED",
        _ => "FAILED",
    };
    let result = JobResult {
        id: job_id.clone(),
        name: details.name.clone(),
        application_status,
        accumulator_results: BTreeMap::new(),
        net_runtime: duration,
        application_id: job_id,
        start_time: start,
        end_time: end,
        failure_cause: details.failure.as_ref().map(|failure| JobFailureCause {
            class: "wflink.JobFailure",
            stack_trace: failure.message.clone(),
            serialized_throwable: "",
        }),
    };
    Ok(Json(ExecutionResult { status: QueueStatus::COMPLETED, job_execution_result: Some(result) }))
}

/// `GET /jobs/:id/exceptions`: the job's failure, if any, and the failures
/// it restarted from, as its exception history.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/exceptions",
    summary = "Failure of the job as exception history",
    params(
        JobPath,
    ),
    responses(
        (status = 200, description = "OK", body = Exceptions),
        JobErrors,
    ),
)]
pub async fn exceptions(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Exceptions>, AppError> {
    let details = details(&state, &id).await?;
    // Newest first: the failure that ended the job, then those it restarted from.
    let entries = details
        .failure
        .iter()
        .chain(details.exceptions.iter().rev())
        .map(|f| ExceptionEntry {
            exception_name: "wflink.TaskFailure",
            stacktrace: f.message.clone(),
            timestamp: f.timestamp,
            task_name: f.message.split(" failed:").next().map(str::to_string),
            location: None,
            endpoint: None,
            task_manager_id: None,
            failure_labels: BTreeMap::new(),
            concurrent_exceptions: Vec::new(),
        })
        .collect();
    Ok(Json(Exceptions {
        root_exception: details.failure.as_ref().map(|f| f.message.clone()),
        timestamp: details.failure.as_ref().map(|f| f.timestamp),
        all_exceptions: Vec::new(),
        truncated: false,
        exception_history: ExceptionHistory { entries, truncated: false },
    }))
}

/// The query of `PATCH /jobs/:id`.
#[derive(Deserialize)]
pub struct PatchQuery {
    mode: Option<String>,
}

/// `PATCH /jobs/:id?mode=cancel`: 202 once the cancel is under way.
#[utoipa::path(
    patch,
    path = "/jobs/{jobid}",
    summary = "Cancel the job (mode=cancel)",
    params(
        JobPath,
        ("mode" = Option<String>, Query, description = "only `cancel`"),
    ),
    responses(
        (status = 202, description = "Accepted", body = Empty),
        (status = 400, description = "Not a job id, or a mode other than cancel", body = Errors),
        (status = 404, description = "No such job", body = Errors),
        (status = 409, description = "The job has already ended", body = Errors),
        ChangeErrors,
    ),
)]
pub async fn patch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<PatchQuery>,
) -> Result<(StatusCode, Json<Empty>), AppError> {
    match query.mode.as_deref() {
        None | Some("cancel") => {}
        Some(other) => {
            return Err(AppError::bad_request(format!("unsupported mode '{other}': only 'cancel' is supported")));
        }
    }
    let job_id = parse_job_id(&id)?;
    state.dispatcher.send(CancelJob { job_id }).await?.map_err(DispatcherError::from)?;
    Ok((StatusCode::ACCEPTED, Json(Empty {})))
}

/// `/jobs`.
#[derive(Serialize, ToSchema)]
pub struct JobList {
    /// Every job the cluster knows, running or ended.
    jobs: Vec<JobIdStatus>,
}

/// A job in `/jobs`.
#[derive(Serialize, ToSchema)]
pub struct JobIdStatus {
    /// 32 hex characters.
    id: String,
    /// Its status.
    status: JobStatus,
}

/// `/jobs/overview`.
#[derive(Serialize, ToSchema)]
pub struct JobsOverview {
    /// Every job the cluster knows.
    jobs: Vec<JobOverview>,
}

/// A job in `/jobs/overview`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct JobOverview {
    /// 32 hex characters.
    jid: String,
    /// The job's name.
    name: String,
    /// Always `STREAMING`.
    #[serde(rename = "jobType")]
    job_type: &'static str,
    /// Always `Default`.
    #[serde(rename = "schedulerType")]
    scheduler_type: &'static str,
    /// When it was submitted, ms since the epoch.
    start_time: i64,
    /// When it ended, ms since the epoch; -1 while it runs.
    end_time: i64,
    /// ms from start to end, or to now.
    duration: i64,
    /// Its status.
    state: JobStatus,
    /// When its status last changed, ms since the epoch.
    last_modification: u64,
    /// Subtasks per state (lower case) and `total`.
    tasks: BTreeMap<String, usize>,
    /// Always 0.
    pending_operators: u32,
}

/// `/jobs/:id`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Job {
    /// 32 hex characters.
    jid: String,
    /// The job's id again (Flink's application id).
    application_id: String,
    /// The job's name.
    name: String,
    /// Always false.
    #[serde(rename = "isStoppable")]
    is_stoppable: bool,
    /// Its status.
    state: JobStatus,
    /// Always `STREAMING`.
    job_type: &'static str,
    /// Always `Default`.
    #[serde(rename = "schedulerType")]
    scheduler_type: &'static str,
    /// When it was submitted, ms since the epoch.
    start_time: i64,
    /// When it ended, ms since the epoch; -1 while it runs.
    end_time: i64,
    /// ms from start to end, or to now.
    duration: i64,
    /// Always -1.
    #[serde(rename = "maxParallelism")]
    max_parallelism: i64,
    /// The server's clock, ms since the epoch.
    now: u64,
    /// When it entered each status (every status Flink names; 0: never).
    timestamps: BTreeMap<String, u64>,
    /// Its chained vertices.
    vertices: Vec<JobVertex>,
    /// Subtasks per state over all vertices.
    status_counts: BTreeMap<String, usize>,
    /// Its plan.
    plan: Plan,
    /// Always 0.
    pending_operators: u32,
}

/// A vertex in `/jobs/:id`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct JobVertex {
    /// Vertex id (32 hex).
    id: String,
    /// The job's id: all vertices share slots.
    #[serde(rename = "slotSharingGroupId")]
    slot_sharing_group_id: String,
    /// Chain name.
    name: String,
    /// `pipeline.max-parallelism`.
    #[serde(rename = "maxParallelism")]
    max_parallelism: u32,
    /// Its parallelism.
    parallelism: u32,
    /// The aggregated state of its subtasks.
    status: TaskState,
    /// When the job started running, ms since the epoch; -1 before.
    start_time: i64,
    /// When it ended; -1 while it runs.
    end_time: i64,
    /// ms it has run; -1 before the job runs.
    duration: i64,
    /// Subtasks per state (every state Flink names).
    tasks: BTreeMap<String, usize>,
    /// Sum of its subtasks' metrics.
    metrics: Metrics,
}

/// `/jobs/:id/vertices/:vid`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Vertex {
    /// Vertex id (32 hex).
    id: String,
    /// Chain name.
    name: String,
    /// Its parallelism.
    parallelism: u32,
    /// `pipeline.max-parallelism`.
    max_parallelism: u32,
    /// The server's clock, ms since the epoch.
    now: u64,
    /// Each subtask, by index.
    subtasks: Vec<Subtask>,
}

/// A subtask in `/jobs/:id/vertices/:vid`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Subtask {
    /// 0-based index within the vertex.
    subtask: u32,
    /// Its state.
    status: TaskState,
    /// Always 0.
    attempt: u32,
    /// The data address (`host:port`) of its TaskManager, once deployed.
    endpoint: Option<String>,
    /// When the job was submitted, ms since the epoch.
    start_time: i64,
    /// When it ended; -1 while it runs.
    end_time: i64,
    /// ms it has run.
    duration: i64,
    /// Its metrics.
    metrics: Metrics,
    /// The TaskManager running it, once deployed.
    taskmanager_id: Option<String>,
}

/// Flink's `metrics` of a vertex or subtask; each `-complete` is true once it ended.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Metrics {
    read_bytes: u64,
    read_bytes_complete: bool,
    write_bytes: u64,
    write_bytes_complete: bool,
    read_records: u64,
    read_records_complete: bool,
    write_records: u64,
    write_records_complete: bool,
    /// ms blocked by backpressure.
    accumulated_backpressured_time: u64,
    /// Always 0.
    accumulated_idle_time: u64,
    /// ms busy.
    accumulated_busy_time: f64,
}

impl Metrics {
    fn of(m: &MetricsSnapshot, complete: bool) -> Self {
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
            accumulated_idle_time: 0,
            accumulated_busy_time: m.accumulated_busy_time as f64,
        }
    }
}

/// `/jobs/:id/status`.
#[derive(Serialize, ToSchema)]
pub struct JobStatusAnswer {
    /// The job's status.
    status: JobStatus,
}

/// `/jobs/:id/execution-result`: `IN_PROGRESS`, or `COMPLETED` with the result.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ExecutionResult {
    /// Whether the job has ended.
    status: QueueStatus,
    /// The outcome, once `COMPLETED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    job_execution_result: Option<JobResult>,
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
    id: String,
    /// The job's name.
    name: String,
    /// `SUCCEEDED`, `CANCELED` or `FAILED`.
    application_status: &'static str,
    /// Always empty.
    accumulator_results: BTreeMap<String, String>,
    /// ms from start to end.
    net_runtime: i64,
    /// The job's id again.
    application_id: String,
    /// ms since the epoch.
    start_time: i64,
    /// ms since the epoch.
    end_time: i64,
    /// Why it failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_cause: Option<JobFailureCause>,
}

/// Why a job failed, in Flink's shape (the message stands for the stack trace).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct JobFailureCause {
    /// Always `wflink.JobFailure`.
    class: &'static str,
    /// The failure's message.
    stack_trace: String,
    /// Always empty.
    serialized_throwable: &'static str,
}

/// `/jobs/:id/exceptions`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Exceptions {
    /// The failure that ended the job, if any.
    root_exception: Option<String>,
    /// When it happened, ms since the epoch.
    timestamp: Option<u64>,
    /// Always empty (Flink's deprecated list).
    all_exceptions: Vec<String>,
    /// Always false.
    truncated: bool,
    /// The failures, newest first.
    #[serde(rename = "exceptionHistory")]
    exception_history: ExceptionHistory,
}

/// The failures of a job, newest first.
#[derive(Serialize, ToSchema)]
pub struct ExceptionHistory {
    /// The failure that ended the job, then those it restarted from.
    entries: Vec<ExceptionEntry>,
    /// Always false.
    truncated: bool,
}

/// One failure in a job's exception history.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionEntry {
    /// Always `wflink.TaskFailure`.
    exception_name: &'static str,
    /// The failure's message.
    stacktrace: String,
    /// When it happened, ms since the epoch.
    timestamp: u64,
    /// The task that failed.
    task_name: Option<String>,
    /// Always null.
    location: Option<String>,
    /// Always null.
    endpoint: Option<String>,
    /// Always null.
    task_manager_id: Option<String>,
    /// Always empty.
    failure_labels: BTreeMap<String, String>,
    /// Always empty.
    #[schema(value_type = Vec<Object>)]
    concurrent_exceptions: Vec<serde_json::Value>,
}
