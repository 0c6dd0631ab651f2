//! Jobs: `/jobs`, `/jobs/overview`, `/jobs/:id` and its `status`,
//! `execution-result`, `plan`, `exceptions` and `vertices/:vid` (subtasks
//! with their TaskManager), and `PATCH /jobs/:id?mode=cancel`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

pub use super::job_answers::*;
use super::openapi::{ChangeErrors, Empty, JobErrors, JobPath, VertexPath};
use super::plan::{self as plans, PlanAnswer};
use super::vertex_views::{Aggregated, SubtaskAnswer};
use super::{AppError, AppState, Errors};
use crate::dispatcher::DispatcherError;
use crate::dispatcher::messages::{GetJob, ListJobs};
use crate::ids::JobId;
use crate::job_manager::messages::CancelJob;
use crate::job_manager::{JobDetails, SubtaskDetails};
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

pub(super) fn parse_job_id(raw: &str) -> Result<JobId, AppError> {
    raw.parse().map_err(|e: crate::ids::InvalidJobId| AppError::bad_request(e.to_string()))
}

pub(super) async fn details(state: &AppState, raw: &str) -> Result<JobDetails, AppError> {
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
        jobs.push(overview_line(&details));
    }
    Ok(Json(JobsOverview { jobs }))
}

/// A job's line in `/jobs/overview` (and in its application's `jobs`).
pub(super) fn overview_line(details: &JobDetails) -> JobOverview {
    let (start, end, duration) = times(details);
    let counts = task_counts(details);
    let mut tasks: BTreeMap<String, usize> = counts.iter().map(|(k, v)| (k.to_ascii_lowercase(), *v)).collect();
    tasks.insert("total".into(), counts.values().sum());
    JobOverview {
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
    }
}

/// `start-time`, `end-time` (-1 while running) and `duration` of a job.
pub(super) fn times(details: &JobDetails) -> (i64, i64, i64) {
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
                metrics: Metrics::of(&v.metrics, v.subtasks.iter().all(reports)),
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
    params(VertexPath),
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
    let subtasks = vertex.subtasks.iter().map(SubtaskAnswer::of).collect();
    let all: Vec<&SubtaskDetails> = vertex.subtasks.iter().collect();
    Ok(Json(Vertex {
        id: vertex.id.clone(),
        name: vertex.name.clone(),
        parallelism: vertex.parallelism,
        max_parallelism: details.job_graph.vertices[0].max_parallelism,
        now: now_millis(),
        subtasks,
        aggregated: Aggregated::of(&all),
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
            location: f.location.as_ref().map(|l| l.endpoint.clone()),
            endpoint: f.location.as_ref().map(|l| l.endpoint.clone()),
            task_manager_id: f.location.as_ref().map(|l| l.task_manager.clone()),
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

/// `GET /jobs/:id/config`: its execution configuration as Flink shows it, with the program's `--key value`
/// arguments as `user-config`.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/config",
    summary = "The job's execution configuration; program arguments as user-config",
    params(
        JobPath,
    ),
    responses(
        (status = 200, description = "OK", body = JobConfig),
        JobErrors,
    ),
)]
pub async fn config(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<JobConfig>, AppError> {
    let details = details(&state, &id).await?;
    let parallelism = details.vertices.iter().map(|v| v.parallelism).max().unwrap_or(1);
    Ok(Json(JobConfig {
        jid: details.job_id.to_string(),
        name: details.name.clone(),
        execution_config: ExecutionConfig {
            restart_strategy: details.restart.describe(),
            job_parallelism: parallelism,
            object_reuse_mode: false,
            user_config: user_config(&details.args),
        },
    }))
}

/// Program arguments as Flink's `ParameterTool.fromArgs` reads them: `--key value` (or `-key value`) pairs, a key
/// without a value as `__NO_VALUE_KEY`; what is not an option is left out.
fn user_config(args: &[String]) -> BTreeMap<String, String> {
    let mut config = BTreeMap::new();
    let mut at = 0;
    while at < args.len() {
        let Some(key) = args[at].strip_prefix("--").or_else(|| args[at].strip_prefix('-')).filter(|k| !k.is_empty())
        else {
            at += 1;
            continue;
        };
        let value = args.get(at + 1).filter(|v| !v.starts_with('-') || v.parse::<f64>().is_ok());
        config.insert(key.to_string(), value.cloned().unwrap_or_else(|| "__NO_VALUE_KEY".into()));
        at += if value.is_some() { 2 } else { 1 };
    }
    config
}

/// `GET /jobs/:id/yarn-cancel`: cancel by GET, as Flink's dashboard's Cancel button does; 202 like `PATCH`.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/yarn-cancel",
    summary = "Cancel the job (the dashboard's GET form of PATCH mode=cancel)",
    params(
        JobPath,
    ),
    responses(
        (status = 202, description = "Accepted", body = Empty),
        (status = 400, description = "Not a job id", body = Errors),
        (status = 404, description = "No such job", body = Errors),
        (status = 409, description = "The job has already ended", body = Errors),
        ChangeErrors,
    ),
)]
pub async fn yarn_cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Empty>), AppError> {
    let job_id = parse_job_id(&id)?;
    state.dispatcher.send(CancelJob { job_id }).await?.map_err(DispatcherError::from)?;
    Ok((StatusCode::ACCEPTED, Json(Empty {})))
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
