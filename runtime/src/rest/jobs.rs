//! Jobs: `/jobs`, `/jobs/overview`, `/jobs/:id` and its `status`,
//! `execution-result`, `plan`, `exceptions` and `vertices/:vid` (subtasks
//! with their TaskManager), and `PATCH /jobs/:id?mode=cancel`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::plan::plan_json;
use super::{AppError, AppState};
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
pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    let jobs = state.dispatcher.send(ListJobs).await?;
    let jobs: Vec<Value> = jobs.iter().map(|j| json!({ "id": j.job_id.to_string(), "status": j.status })).collect();
    Ok(Json(json!({ "jobs": jobs })))
}

/// `GET /jobs/overview`: one line per job with its task counts.
pub async fn overview(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    let listed = state.dispatcher.send(ListJobs).await?;
    let mut jobs = Vec::with_capacity(listed.len());
    for job in listed {
        // A job may end between the listing and this request; it is still known.
        let Ok(Ok(details)) = state.dispatcher.send(GetJob { job_id: job.job_id }).await else { continue };
        let (start, end, duration) = times(&details);
        let counts = task_counts(&details);
        let mut tasks: BTreeMap<String, usize> = counts.iter().map(|(k, v)| (k.to_ascii_lowercase(), *v)).collect();
        tasks.insert("total".into(), counts.values().sum());
        jobs.push(json!({
            "jid": details.job_id.to_string(),
            "name": details.name,
            "jobType": "STREAMING",
            "schedulerType": "Default",
            "start-time": start,
            "end-time": end,
            "duration": duration,
            "state": details.status,
            "last-modification": details.timestamps.values().max().copied().unwrap_or(details.start_time),
            "tasks": tasks,
            "pending-operators": 0,
        }));
    }
    Ok(Json(json!({ "jobs": jobs })))
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
pub async fn job(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let details = details(&state, &id).await?;
    let (start, end, duration) = times(&details);
    let mut timestamps: BTreeMap<&str, u64> = JOB_STATUSES.iter().map(|s| (*s, 0)).collect();
    for (status, at) in &details.timestamps {
        timestamps.insert(status.name(), *at);
    }
    let running_since = details.timestamps.get(&JobStatus::Running).map_or(-1, |t| *t as i64);
    let vertices: Vec<Value> = details
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
            json!({
                "id": v.id,
                "slotSharingGroupId": details.job_id.to_string(),
                "name": v.name,
                "maxParallelism": details.job_graph.vertices[0].max_parallelism,
                "parallelism": v.parallelism,
                "status": v.status,
                "start-time": running_since,
                "end-time": v_end,
                "duration": v_duration,
                "tasks": tasks,
                "metrics": metrics_json(&v.metrics, ended),
            })
        })
        .collect();
    let job_id = details.job_id.to_string();
    Ok(Json(json!({
        "jid": job_id,
        "application-id": job_id,
        "name": details.name,
        "isStoppable": false,
        "state": details.status,
        "job-type": "STREAMING",
        "schedulerType": "Default",
        "start-time": start,
        "end-time": end,
        "duration": duration,
        "maxParallelism": -1,
        "now": now_millis(),
        "timestamps": timestamps,
        "vertices": vertices,
        "status-counts": task_counts(&details),
        "plan": plan_json(&job_id, &details.job_graph),
        "pending-operators": 0,
    })))
}

/// Flink's `metrics` object of a vertex or subtask; `complete` once it ended.
fn metrics_json(m: &MetricsSnapshot, complete: bool) -> Value {
    json!({
        "read-bytes": m.read_bytes,
        "read-bytes-complete": complete,
        "write-bytes": m.write_bytes,
        "write-bytes-complete": complete,
        "read-records": m.read_records,
        "read-records-complete": complete,
        "write-records": m.write_records,
        "write-records-complete": complete,
        "accumulated-backpressured-time": m.accumulated_backpressured_time,
        "accumulated-idle-time": 0,
        "accumulated-busy-time": m.accumulated_busy_time as f64,
    })
}

/// `GET /jobs/:id/vertices/:vid`: the vertex's subtasks, each with its
/// state, metrics and the TaskManager it runs on (`taskmanager-id`, `endpoint`).
pub async fn vertex(
    State(state): State<AppState>,
    Path((id, vertex_id)): Path<(String, String)>,
) -> Result<Json<Value>, AppError> {
    let details = details(&state, &id).await?;
    let vertex = details
        .vertices
        .iter()
        .find(|v| v.id == vertex_id)
        .ok_or_else(|| AppError::not_found(format!("vertex {vertex_id} not found in job {id}")))?;
    let (start, end, _) = times(&details);
    let subtasks: Vec<Value> = vertex
        .subtasks
        .iter()
        .map(|s| {
            let ended = s.state.is_terminal();
            let sub_end = if ended { end } else { -1 };
            let duration = if ended && end >= 0 { end - start } else { now_millis() as i64 - start };
            json!({
                "subtask": s.index,
                "status": s.state,
                "attempt": 0,
                "endpoint": s.endpoint,
                "start-time": start,
                "end-time": sub_end,
                "duration": duration,
                "metrics": metrics_json(&s.metrics, ended),
                "taskmanager-id": s.task_manager,
            })
        })
        .collect();
    Ok(Json(json!({
        "id": vertex.id,
        "name": vertex.name,
        "parallelism": vertex.parallelism,
        "maxParallelism": details.job_graph.vertices[0].max_parallelism,
        "now": now_millis(),
        "subtasks": subtasks,
    })))
}

/// `GET /jobs/:id/status`.
pub async fn status(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let details = details(&state, &id).await?;
    Ok(Json(json!({ "status": details.status })))
}

/// `GET /jobs/:id/plan`.
pub async fn plan(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let details = details(&state, &id).await?;
    Ok(Json(json!({ "plan": plan_json(&details.job_id.to_string(), &details.job_graph) })))
}

/// `GET /jobs/:id/execution-result`: `IN_PROGRESS`, or `COMPLETED` with the outcome.
pub async fn execution_result(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let details = details(&state, &id).await?;
    if !details.status.is_terminal() {
        return Ok(Json(json!({ "status": { "id": "IN_PROGRESS" } })));
    }
    let (start, end, duration) = times(&details);
    let job_id = details.job_id.to_string();
    let application_status = match details.status {
        JobStatus::Finished => "SUCCEEDED",
        JobStatus::Canceled => "CANCELED",
        _ => "FAILED",
    };
    let mut result = json!({
        "id": job_id,
        "name": details.name,
        "application-status": application_status,
        "accumulator-results": {},
        "net-runtime": duration,
        "application-id": job_id,
        "start-time": start,
        "end-time": end,
    });
    if let Some(failure) = &details.failure {
        result["failure-cause"] = json!({
            "class": "wflink.JobFailure",
            "stack-trace": failure.message,
            "serialized-throwable": "",
        });
    }
    Ok(Json(json!({ "status": { "id": "COMPLETED" }, "job-execution-result": result })))
}

/// `GET /jobs/:id/exceptions`: the job's failure, if any, and the failures
/// it restarted from, as its exception history.
pub async fn exceptions(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let details = details(&state, &id).await?;
    // Newest first: the failure that ended the job, then those it restarted from.
    let entries: Vec<Value> = details
        .failure
        .iter()
        .chain(details.exceptions.iter().rev())
        .map(|f| {
            json!({
                "exceptionName": "wflink.TaskFailure",
                "stacktrace": f.message,
                "timestamp": f.timestamp,
                "taskName": f.message.split(" failed:").next(),
                "location": null,
                "endpoint": null,
                "taskManagerId": null,
                "failureLabels": {},
                "concurrentExceptions": [],
            })
        })
        .collect();
    Ok(Json(json!({
        "root-exception": details.failure.as_ref().map(|f| f.message.clone()),
        "timestamp": details.failure.as_ref().map(|f| f.timestamp),
        "all-exceptions": [],
        "truncated": false,
        "exceptionHistory": { "entries": entries, "truncated": false },
    })))
}

/// The query of `PATCH /jobs/:id`.
#[derive(Deserialize)]
pub struct PatchQuery {
    mode: Option<String>,
}

/// `PATCH /jobs/:id?mode=cancel`: 202 once the cancel is under way.
pub async fn patch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<PatchQuery>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    match query.mode.as_deref() {
        None | Some("cancel") => {}
        Some(other) => {
            return Err(AppError::bad_request(format!("unsupported mode '{other}': only 'cancel' is supported")));
        }
    }
    let job_id = parse_job_id(&id)?;
    state.dispatcher.send(CancelJob { job_id }).await?.map_err(DispatcherError::from)?;
    Ok((StatusCode::ACCEPTED, Json(json!({}))))
}
