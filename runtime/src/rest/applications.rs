//! Applications, as Flink 2.3 names them: `/applications/overview`,
//! `/applications/:id`, `POST /applications/:id/cancel`,
//! `/applications/:id/exceptions`, `/applications/:id/jobmanager/config`.
//!
//! Every submitted job (`POST /jars/:id/run`, `wflink run`,
//! `wflink run-application`) is an application of its own whose id is the
//! job's id, as Flink 2.3 makes a `SingleJobApplication` of each job a
//! session cluster runs; so an application's status is its job's.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::cluster::ConfigEntry;
use super::jobs::{self, JobOverview, overview_line, times};
use super::openapi::{ChangeErrors, Empty};
use super::{AppError, AppState, Errors};
use crate::dispatcher::DispatcherError;
use crate::dispatcher::messages::{GetJob, ListJobs};
use crate::job_manager::JobDetails;
use crate::job_manager::messages::CancelJob;
use crate::protocol::JobStatus;

/// Every application status Flink names, so `timestamps` has all its keys.
const APPLICATION_STATUSES: [&str; 7] =
    ["CREATED", "RUNNING", "FAILING", "FAILED", "CANCELING", "CANCELED", "FINISHED"];

/// The `{applicationid}` of every `/applications/{applicationid}...` path.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct ApplicationPath {
    /// 32 hex characters: the id of the application's job.
    #[param(pattern = "^[0-9a-f]{32}$")]
    applicationid: String,
}

/// The application status of a job in `status`: running until the job ends, then the job's end.
fn application_status(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Finished => "FINISHED",
        JobStatus::Canceled => "CANCELED",
        JobStatus::Failed => "FAILED",
        JobStatus::Cancelling => "CANCELING",
        JobStatus::Failing => "FAILING",
        _ => "RUNNING",
    }
}

/// The application's name, as Flink names the application of one job.
fn application_name(details: &JobDetails) -> String {
    format!("SingleJobApplication({})", details.name)
}

/// `/applications/overview`.
#[derive(Serialize, ToSchema)]
pub struct ApplicationsOverview {
    /// Every application the cluster knows, running or ended.
    applications: Vec<ApplicationLine>,
}

/// An application in `/applications/overview`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ApplicationLine {
    /// 32 hex characters: its job's id.
    id: String,
    /// `SingleJobApplication(<job name>)`.
    name: String,
    /// When it was submitted, ms since the epoch.
    start_time: i64,
    /// When it ended, ms since the epoch; -1 while it runs.
    end_time: i64,
    /// ms from start to end, or to now.
    duration: i64,
    /// `RUNNING`, `FINISHED`, `CANCELED`, `FAILED`, ...
    status: &'static str,
    /// Its jobs by status: `{"RUNNING": 1}`.
    jobs: BTreeMap<String, usize>,
}

/// `/applications/:id`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Application {
    /// 32 hex characters: its job's id.
    id: String,
    /// `SingleJobApplication(<job name>)`.
    name: String,
    /// `RUNNING`, `FINISHED`, `CANCELED`, `FAILED`, ...
    status: &'static str,
    /// When it was submitted, ms since the epoch.
    start_time: i64,
    /// When it ended, ms since the epoch; -1 while it runs.
    end_time: i64,
    /// ms from start to end, or to now.
    duration: i64,
    /// When it entered each status Flink names (0: never).
    timestamps: BTreeMap<String, u64>,
    /// Its jobs, as `/jobs/overview` lists them.
    jobs: Vec<JobOverview>,
}

fn line(details: &JobDetails) -> ApplicationLine {
    let (start_time, end_time, duration) = times(details);
    let job_status = serde_json::to_value(details.status).ok().and_then(|v| v.as_str().map(str::to_string));
    ApplicationLine {
        id: details.job_id.to_string(),
        name: application_name(details),
        start_time,
        end_time,
        duration,
        status: application_status(details.status),
        jobs: job_status.into_iter().map(|s| (s, 1)).collect(),
    }
}

/// `GET /applications/overview`: one line per application, newest first.
#[utoipa::path(
    get,
    path = "/applications/overview",
    summary = "Every application (one per submitted job) with its status and jobs by status",
    responses(
        (status = 200, description = "OK", body = ApplicationsOverview),
    ),
)]
pub async fn overview(State(state): State<AppState>) -> Result<Json<ApplicationsOverview>, AppError> {
    let listed = state.dispatcher.send(ListJobs).await?;
    let mut applications = Vec::with_capacity(listed.len());
    for job in listed {
        let Ok(Ok(details)) = state.dispatcher.send(GetJob { job_id: job.job_id }).await else { continue };
        applications.push(line(&details));
    }
    Ok(Json(ApplicationsOverview { applications }))
}

/// The application `raw` names: its job's details, 404 naming the application when there is none.
async fn details(state: &AppState, raw: &str) -> Result<JobDetails, AppError> {
    let job_id = jobs::parse_job_id(raw)
        .map_err(|_| AppError::bad_request(format!("invalid application id '{raw}': expected 32 hex characters")))?;
    match state.dispatcher.send(GetJob { job_id }).await? {
        Err(DispatcherError::UnknownJob(_)) => Err(AppError::not_found(format!("application {raw} not found"))),
        other => Ok(other?),
    }
}

/// `GET /applications/:id`.
#[utoipa::path(
    get,
    path = "/applications/{applicationid}",
    summary = "One application with its status timestamps and its jobs",
    params(ApplicationPath),
    responses(
        (status = 200, description = "OK", body = Application),
        (status = 400, description = "Not an application id", body = Errors),
        (status = 404, description = "No such application", body = Errors),
    ),
)]
pub async fn application(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Application>, AppError> {
    let details = details(&state, &id).await?;
    let summary = line(&details);
    let mut timestamps: BTreeMap<String, u64> = APPLICATION_STATUSES.iter().map(|s| (s.to_string(), 0)).collect();
    timestamps.insert("CREATED".into(), details.start_time);
    for (status, at) in &details.timestamps {
        let entry = timestamps.entry(application_status(*status).to_string()).or_default();
        if *entry == 0 {
            *entry = *at;
        }
    }
    Ok(Json(Application {
        id: summary.id,
        name: summary.name,
        status: summary.status,
        start_time: summary.start_time,
        end_time: summary.end_time,
        duration: summary.duration,
        timestamps,
        jobs: vec![overview_line(&details)],
    }))
}

/// `POST /applications/:id/cancel`: cancels its job; 202 once the cancel is under way.
#[utoipa::path(
    post,
    path = "/applications/{applicationid}/cancel",
    summary = "Cancel the application (its job)",
    params(ApplicationPath),
    responses(
        (status = 202, description = "Accepted", body = Empty),
        (status = 400, description = "Not an application id", body = Errors),
        (status = 404, description = "No such application", body = Errors),
        (status = 409, description = "The application has already ended", body = Errors),
        ChangeErrors,
    ),
)]
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Empty>), AppError> {
    let details = details(&state, &id).await?;
    let job_id = details.job_id;
    state.dispatcher.send(CancelJob { job_id }).await?.map_err(DispatcherError::from)?;
    Ok((StatusCode::ACCEPTED, Json(Empty {})))
}

/// `/applications/:id/exceptions`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationExceptions {
    /// Failures of the application's jobs, newest first.
    exception_history: ApplicationExceptionHistory,
}

/// The entries of `/applications/:id/exceptions`.
#[derive(Serialize, ToSchema)]
pub struct ApplicationExceptionHistory {
    /// One per failure.
    entries: Vec<ApplicationException>,
}

/// One failure of an application's job.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationException {
    /// Always `wflink.TaskFailure`.
    exception_name: &'static str,
    /// The failure's message.
    stacktrace: String,
    /// When it happened, ms since the epoch.
    timestamp: u64,
    /// The job that failed.
    job_id: String,
}

/// `GET /applications/:id/exceptions`: the failures of its job, newest first.
#[utoipa::path(
    get,
    path = "/applications/{applicationid}/exceptions",
    summary = "Failures of the application's job, newest first",
    params(ApplicationPath),
    responses(
        (status = 200, description = "OK", body = ApplicationExceptions),
        (status = 400, description = "Not an application id", body = Errors),
        (status = 404, description = "No such application", body = Errors),
    ),
)]
pub async fn exceptions(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ApplicationExceptions>, AppError> {
    let details = details(&state, &id).await?;
    let job_id = details.job_id.to_string();
    let entries = details
        .failure
        .iter()
        .chain(details.exceptions.iter().rev())
        .map(|f| ApplicationException {
            exception_name: "wflink.TaskFailure",
            stacktrace: f.message.clone(),
            timestamp: f.timestamp,
            job_id: job_id.clone(),
        })
        .collect();
    Ok(Json(ApplicationExceptions { exception_history: ApplicationExceptionHistory { entries } }))
}

/// `GET /applications/:id/jobmanager/config`: the configuration its JobManager runs with (the cluster's).
#[utoipa::path(
    get,
    path = "/applications/{applicationid}/jobmanager/config",
    summary = "Effective configuration of the application's JobManager as [{key, value}]",
    params(ApplicationPath),
    responses(
        (status = 200, description = "OK", body = Vec<ConfigEntry>),
        (status = 400, description = "Not an application id", body = Errors),
        (status = 404, description = "No such application", body = Errors),
    ),
)]
pub async fn jobmanager_config(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<ConfigEntry>>, AppError> {
    details(&state, &id).await?;
    Ok(Json(ConfigEntry::all(&state.config)))
}
