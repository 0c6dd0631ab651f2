//! What Flink's dashboard shows of the processes themselves, in Flink's
//! shapes: the JobManager's environment (`/jobmanager/environment`, also per
//! job), its configuration per job (`/jobs/:id/jobmanager/config`), where a
//! job's logs are (`/jobs/:id/jobmanager/log-url`,
//! `/jobs/:id/taskmanagers/:tmid/log-url`) and thread dumps.
//!
//! A thread dump of a native process has no stacks to show: the
//! JobManager's and each TaskManager's list their threads with their kernel
//! state (from `/proc/self/task`; a TaskManager process reads its own when
//! asked over its control connection), in the `threadInfos` shape the
//! dashboard reads.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::cluster::ConfigEntry;
use super::jobs;
use super::openapi::{JobErrors, JobPath};
use super::{AppError, AppState, Errors};
use crate::logs::{LogError, LogRequest, LogResponse, ThreadEntry, own_threads};
use crate::resource_manager::messages::{FetchLogs, GetGateway, GetTaskManagers};

/// `/jobmanager/environment`.
#[derive(Serialize, ToSchema)]
pub struct Environment {
    /// The runtime in place of Flink's JVM.
    jvm: Runtime,
    /// Always empty: a component carries its code.
    classpath: Vec<String>,
}

/// The process's runtime, in the place of Flink's `jvm`.
#[derive(Serialize, ToSchema)]
pub struct Runtime {
    /// `wflink <version> (wasmtime)`.
    version: String,
    /// The CPU architecture, e.g. `x86_64`.
    arch: &'static str,
    /// The process's command line arguments.
    options: Vec<String>,
}

fn environment() -> Environment {
    Environment {
        jvm: Runtime {
            version: format!("wflink {} (Rust, wasmtime)", env!("CARGO_PKG_VERSION")),
            arch: std::env::consts::ARCH,
            options: std::env::args().skip(1).collect(),
        },
        classpath: Vec::new(),
    }
}

/// `GET /jobmanager/environment`.
#[utoipa::path(
    get,
    path = "/jobmanager/environment",
    summary = "The JobManager process's runtime and command line",
    responses((status = 200, description = "OK", body = Environment)),
)]
pub async fn jobmanager_environment() -> Json<Environment> {
    Json(environment())
}

/// `GET /jobs/:id/jobmanager/environment`: the environment of the job's JobManager (this process).
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/jobmanager/environment",
    summary = "The runtime and command line of the job's JobManager process",
    params(JobPath),
    responses((status = 200, description = "OK", body = Environment), JobErrors),
)]
pub async fn job_environment(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Environment>, AppError> {
    jobs::details(&state, &id).await?;
    Ok(Json(environment()))
}

/// `GET /jobs/:id/jobmanager/config`: the configuration of the job's JobManager (this process).
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/jobmanager/config",
    summary = "Effective configuration of the job's JobManager as [{key, value}]",
    params(JobPath),
    responses((status = 200, description = "OK", body = Vec<ConfigEntry>), JobErrors),
)]
pub async fn job_config(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<ConfigEntry>>, AppError> {
    jobs::details(&state, &id).await?;
    Ok(Json(ConfigEntry::all(&state.config)))
}

/// `{"url"}` of a log page.
#[derive(Serialize, ToSchema)]
pub struct LogUrl {
    /// The dashboard page that shows the log.
    url: String,
}

/// `GET /jobs/:id/jobmanager/log-url`: the dashboard page of the JobManager's log.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/jobmanager/log-url",
    summary = "The dashboard page of the job's JobManager log",
    params(JobPath),
    responses((status = 200, description = "OK", body = LogUrl), JobErrors),
)]
pub async fn jobmanager_log_url(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<LogUrl>, AppError> {
    jobs::details(&state, &id).await?;
    Ok(Json(LogUrl { url: format!("{}/#/job-manager/logs", state.rest_url) }))
}

/// `GET /jobs/:id/taskmanagers/:tmid/log-url`: the dashboard page of a TaskManager's log.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/taskmanagers/{taskmanagerid}/log-url",
    summary = "The dashboard page of a TaskManager's log",
    params(JobPath, ("taskmanagerid" = String, Path, description = "TaskManager id")),
    responses(
        (status = 200, description = "OK", body = LogUrl),
        (status = 400, description = "Not a job id", body = Errors),
        (status = 404, description = "No such job or TaskManager", body = Errors),
    ),
)]
pub async fn taskmanager_log_url(
    State(state): State<AppState>,
    Path((id, tm)): Path<(String, String)>,
) -> Result<Json<LogUrl>, AppError> {
    jobs::details(&state, &id).await?;
    let known = state.resource_manager.send(GetTaskManagers).await?;
    if !known.iter().any(|t| t.info.id == tm) {
        return Err(AppError::not_found(format!("taskmanager {tm} not found")));
    }
    Ok(Json(LogUrl { url: format!("{}/#/task-manager/{tm}/logs", state.rest_url) }))
}

/// `/jobmanager/thread-dump` and `/taskmanagers/:id/thread-dump`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadDump {
    /// One entry per thread.
    thread_infos: Vec<ThreadInfo>,
}

/// One thread of a thread dump.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadInfo {
    /// The thread's name.
    thread_name: String,
    /// Its name, id and state as Java prints them.
    stringified_thread_info: String,
}

/// Java's name for a Linux thread state letter (`/proc/.../stat`).
fn java_state(letter: char) -> &'static str {
    match letter {
        'R' => "RUNNABLE",
        'S' | 'I' => "WAITING",
        'D' => "BLOCKED",
        _ => "TERMINATED",
    }
}

/// A thread dump in Flink's shape: each thread's name, kernel id and state, as Java prints a thread's header.
fn thread_dump(threads: Option<Vec<ThreadEntry>>, whose: &str) -> ThreadDump {
    let Some(threads) = threads else {
        return ThreadDump { thread_infos: vec![not_supported(&format!("{whose}'s platform has no /proc/self/task"))] };
    };
    let thread_infos = threads
        .into_iter()
        .map(|ThreadEntry { id, name, state }| {
            let info =
                format!("\"{name}\" Id={id} {} ({state})\n\t(a native thread: no stack trace)\n", java_state(state));
            ThreadInfo { thread_name: name, stringified_thread_info: info }
        })
        .collect();
    ThreadDump { thread_infos }
}

fn not_supported(why: &str) -> ThreadInfo {
    ThreadInfo {
        thread_name: "wflink".into(),
        stringified_thread_info: format!("Thread dumps are not supported here: {why}.\n"),
    }
}

/// `GET /jobmanager/thread-dump`: the JobManager's threads with their state (no stacks: they are native threads).
#[utoipa::path(
    get,
    path = "/jobmanager/thread-dump",
    summary = "The JobManager's threads with their state",
    responses((status = 200, description = "OK", body = ThreadDump)),
)]
pub async fn jobmanager_thread_dump() -> Json<ThreadDump> {
    Json(thread_dump(own_threads(), "this JobManager"))
}

/// `GET /taskmanagers/:id/thread-dump`: the TaskManager process's threads with their state, which it lists when
/// asked over its control connection (no stacks: they are native threads). A TaskManager inside the JobManager's
/// process shows that process's threads.
#[utoipa::path(
    get,
    path = "/taskmanagers/{id}/thread-dump",
    summary = "A TaskManager's threads with their state",
    params(("id" = String, Path, description = "TaskManager id")),
    responses(
        (status = 200, description = "OK", body = ThreadDump),
        (status = 404, description = "No such TaskManager", body = Errors),
        (status = 503, description = "The TaskManager did not answer", body = Errors),
    ),
)]
pub async fn taskmanager_thread_dump(
    State(state): State<AppState>,
    Path(tm): Path<String>,
) -> Result<Json<ThreadDump>, AppError> {
    let whose = format!("TaskManager {tm}");
    let Some(gateway) = state.resource_manager.send(GetGateway { id: tm.clone() }).await? else {
        let known = state.resource_manager.send(GetTaskManagers).await?;
        if !known.iter().any(|t| t.info.id == tm) {
            return Err(AppError::not_found(format!("taskmanager {tm} not found")));
        }
        return Ok(Json(thread_dump(own_threads(), &whose)));
    };
    match gateway.send(FetchLogs(LogRequest::Threads)).await? {
        Ok(LogResponse::Threads(threads)) => Ok(Json(thread_dump(Some(threads), &whose))),
        Err(LogError::NoThreads) => Ok(Json(thread_dump(None, &whose))),
        Err(LogError::Unreachable(why)) => {
            Err(AppError { status: StatusCode::SERVICE_UNAVAILABLE, message: format!("{whose} did not answer: {why}") })
        }
        Err(error) => Err(AppError::internal(error)),
        Ok(_) => Err(AppError::internal("a file answer came back for a thread list (this is likely a bug)")),
    }
}

/// `/jobs/:id/vertices/:vid/flamegraph`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlameGraph {
    /// Always -2: Flink's answer when flame graphs are switched off (`rest.flamegraph.enabled`).
    end_timestamp: i64,
}

/// `GET /jobs/:id/vertices/:vid/flamegraph`: flame graphs sample JVM stacks, which a native task has not; answered
/// as Flink answers with `rest.flamegraph.enabled` off, so the dashboard says they are off.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/vertices/{vertexid}/flamegraph",
    summary = "Flame graph of a vertex: switched off, as Flink answers without rest.flamegraph.enabled",
    params(JobPath, ("vertexid" = String, Path, description = "vertex id (32 hex)")),
    responses((status = 200, description = "OK", body = FlameGraph), JobErrors),
)]
pub async fn flamegraph(
    State(state): State<AppState>,
    Path((id, _vertex)): Path<(String, String)>,
) -> Result<Json<FlameGraph>, AppError> {
    jobs::details(&state, &id).await?;
    Ok(Json(FlameGraph { end_timestamp: -2 }))
}
