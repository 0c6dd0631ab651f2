//! Savepoints of a job, in Flink's shapes: `POST /jobs/:id/savepoints`
//! (`{"target-directory", "cancel-job"}` → `{"request-id"}`),
//! `GET /jobs/:id/savepoints/:triggerid`, and `POST /jobs/:id/stop`
//! (stop-with-savepoint, `{"targetDirectory", "drain"}`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::checkpoint_ops::parse_body;
use super::jobs::{QueueStatus, parse_job_id};
use super::openapi::{ChangeErrors, JobPath};
use super::{AppError, AppState, Errors};
use crate::checkpoint::StopMode;
use crate::dispatcher::messages::{GetSavepointStatus, SavepointStatus, StartSavepoint};
use crate::job_manager::messages::TriggerSavepoint;

/// The body of `POST /jobs/:id/savepoints`.
#[derive(Deserialize, Default, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct SavepointRequest {
    /// Where to write it; default `state.savepoints.dir`.
    target_directory: Option<String>,
    /// Cancel the job once the savepoint is complete.
    #[serde(default)]
    cancel_job: bool,
}

/// The body of `POST /jobs/:id/stop`.
#[derive(Deserialize, Default, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StopRequest {
    /// Where to write the savepoint; default `state.savepoints.dir`.
    target_directory: Option<String>,
    /// Send the end-of-time watermark first, so every event-time window and timer fires before the savepoint.
    #[serde(default)]
    drain: bool,
}

async fn trigger(
    state: &AppState,
    id: &str,
    target_directory: Option<String>,
    cancel_job: bool,
    stop: Option<StopMode>,
) -> Result<(StatusCode, Json<TriggerId>), AppError> {
    let job_id = parse_job_id(id)?;
    if cancel_job || stop.is_some() {
        state.guard.check_cancel()?;
    }
    if let Some(target) = &target_directory {
        state.guard.roots.check(target).map_err(|e| AppError::bad_request(e.to_string()))?;
    }
    let request = TriggerSavepoint { job_id, target_directory, cancel_job, stop };
    let request_id = state.dispatcher.send(StartSavepoint(request)).await??;
    Ok((StatusCode::ACCEPTED, Json(TriggerId { request_id })))
}

/// `POST /jobs/:id/savepoints`: 202 `{"request-id"}`; poll `/jobs/:id/savepoints/:request-id`.
#[utoipa::path(
    post,
    path = "/jobs/{jobid}/savepoints",
    summary = "Trigger a savepoint (202 {\"request-id\"})",
    params(
        JobPath,
    ),
    request_body(content = Option<SavepointRequest>, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted; poll /jobs/{jobid}/savepoints/{request-id}", body = TriggerId),
        (status = 400, description = "Not a job id, a bad body, or a target directory outside the allowed roots", body = Errors),
        (status = 404, description = "No such job", body = Errors),
        (status = 409, description = "The job cannot take a savepoint now (it has ended, or is not yet running)", body = Errors),
        ChangeErrors,
    ),
)]
pub async fn trigger_savepoint(
    State(state): State<AppState>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<TriggerId>), AppError> {
    let request: SavepointRequest = parse_body(&bytes)?;
    trigger(&state, &id, request.target_directory, request.cancel_job, None).await
}

/// `POST /jobs/:id/stop`: a savepoint, then the tasks end and the job ends FINISHED (with `drain`, every
/// event-time window and timer fires first). The request completes once the job ended.
#[utoipa::path(
    post,
    path = "/jobs/{jobid}/stop",
    summary = "Stop with a savepoint (202 {\"request-id\"})",
    params(
        JobPath,
    ),
    request_body(content = Option<StopRequest>, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted; poll /jobs/{jobid}/savepoints/{request-id}", body = TriggerId),
        (status = 400, description = "Not a job id, a bad body, or a target directory outside the allowed roots", body = Errors),
        (status = 404, description = "No such job", body = Errors),
        (status = 409, description = "The job cannot take a savepoint now (it has ended, or is not yet running)", body = Errors),
        ChangeErrors,
    ),
)]
pub async fn stop(
    State(state): State<AppState>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<TriggerId>), AppError> {
    let request: StopRequest = parse_body(&bytes)?;
    let mode = if request.drain { StopMode::Drain } else { StopMode::Suspend };
    trigger(&state, &id, request.target_directory, false, Some(mode)).await
}

/// `GET /jobs/:id/savepoints/:triggerid`: `IN_PROGRESS`, or `COMPLETED`
/// with `operation.location` or `operation.failure-cause`.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/savepoints/{triggerid}",
    summary = "Status of a savepoint request",
    params(
        JobPath,
        ("triggerid" = String, Path, description = "the request-id the trigger answered"),
    ),
    responses(
        (status = 200, description = "OK", body = SavepointAnswer),
        (status = 400, description = "Not a job id", body = Errors),
        (status = 404, description = "No such job or savepoint request", body = Errors),
    ),
)]
pub async fn savepoint_status(
    State(state): State<AppState>,
    Path((id, request_id)): Path<(String, String)>,
) -> Result<Json<SavepointAnswer>, AppError> {
    let job_id = parse_job_id(&id)?;
    let status = state.dispatcher.send(GetSavepointStatus { job_id, request_id }).await??;
    let completed = |operation| SavepointAnswer { status: QueueStatus::COMPLETED, operation: Some(operation) };
    Ok(Json(match status {
        SavepointStatus::InProgress => SavepointAnswer { status: QueueStatus::IN_PROGRESS, operation: None },
        SavepointStatus::Completed(location) => {
            completed(SavepointOperation { location: Some(location), failure_cause: None })
        }
        SavepointStatus::Failed(reason) => completed(SavepointOperation {
            location: None,
            failure_cause: Some(SavepointFailure { class: "wflink.SavepointFailure", stack_trace: reason }),
        }),
    }))
}

/// `POST /jobs/:id/savepoints` and `/stop`: what to poll.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct TriggerId {
    /// Poll `/jobs/:id/savepoints/:request-id`.
    request_id: String,
}

/// `/jobs/:id/savepoints/:triggerid`.
#[derive(Serialize, ToSchema)]
pub struct SavepointAnswer {
    /// Whether the savepoint is done.
    status: QueueStatus,
    /// Its outcome once `COMPLETED`, else null.
    operation: Option<SavepointOperation>,
}

/// The outcome of a savepoint: its location, or why it failed.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct SavepointOperation {
    /// Its directory, if it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    /// Why it failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_cause: Option<SavepointFailure>,
}

/// Why a savepoint failed, in Flink's shape.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct SavepointFailure {
    /// Always `wflink.SavepointFailure`.
    class: &'static str,
    /// The reason.
    stack_trace: String,
}
