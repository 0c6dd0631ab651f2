//! Checkpoint operations in Flink's shapes, beside the statistics of
//! [`super::checkpoints`]: `POST /jobs/:id/checkpoints` (a checkpoint now,
//! 202 `{"request-id"}`) and its status `GET /jobs/:id/checkpoints/:triggerid`
//! (`operation.checkpointId`), one vertex's subtasks in a checkpoint
//! (`/jobs/:id/checkpoints/details/:cid/subtasks/:vid`), and
//! `POST /savepoint-disposal` with its status `GET /savepoint-disposal/:triggerid`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::checkpoints::Summary;
use super::jobs::{self, QueueStatus};
use super::openapi::{ChangeErrors, JobPath};
use super::{AppError, AppState, Errors};
use crate::checkpoint::coordinator::CheckpointStatus;
use crate::dispatcher::messages::{
    DisposeSavepoint, GetCheckpointStatus, GetDisposalStatus, SavepointStatus, StartCheckpoint,
};
use crate::job_manager::messages::TriggerCheckpoint;

/// `POST /jobs/:id/checkpoints` and `/savepoint-disposal`: what to poll.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct RequestId {
    /// The trigger id to poll.
    request_id: String,
}

/// The body of `POST /jobs/:id/checkpoints`; Flink's `checkpointType` is accepted, every checkpoint is full.
#[derive(Deserialize, Default, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointTriggerRequest {
    /// `FULL`, `INCREMENTAL` or `CONFIGURED`; all take a full checkpoint here.
    #[allow(dead_code)]
    checkpoint_type: Option<String>,
}

/// An empty or whitespace body is Flink's default request.
pub(super) fn parse_body<T: for<'de> Deserialize<'de> + Default>(bytes: &Bytes) -> Result<T, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| AppError::bad_request(format!("malformed JSON body: {e}")))
}

/// `POST /jobs/:id/checkpoints`: a checkpoint now, besides the periodic ones; 202 `{"request-id"}`.
#[utoipa::path(
    post,
    path = "/jobs/{jobid}/checkpoints",
    summary = "Trigger a checkpoint (202 {\"request-id\"})",
    params(JobPath),
    request_body(content = Option<CheckpointTriggerRequest>, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted; poll /jobs/{jobid}/checkpoints/{request-id}", body = RequestId),
        (status = 400, description = "Not a job id, or a bad body", body = Errors),
        (status = 404, description = "No such job", body = Errors),
        (status = 409, description = "The job cannot take a checkpoint now (it has ended, or is not yet running)", body = Errors),
        ChangeErrors,
    ),
)]
pub async fn trigger(
    State(state): State<AppState>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<RequestId>), AppError> {
    let _request: CheckpointTriggerRequest = parse_body(&bytes)?;
    let job_id = jobs::parse_job_id(&id)?;
    let request_id = state.dispatcher.send(StartCheckpoint(TriggerCheckpoint { job_id })).await??;
    Ok((StatusCode::ACCEPTED, Json(RequestId { request_id })))
}

/// The status of an asynchronous operation: `IN_PROGRESS`, or `COMPLETED` with its outcome.
#[derive(Serialize, ToSchema)]
pub struct OperationAnswer<T: ToSchema> {
    /// Whether it is done.
    status: QueueStatus,
    /// Its outcome once `COMPLETED`, else absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    operation: Option<T>,
}

/// The outcome of a checkpoint request.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointOperation {
    /// The checkpoint's id, if it completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    checkpoint_id: Option<u64>,
    /// Why it failed, if it did.
    #[serde(rename = "failure-cause", skip_serializing_if = "Option::is_none")]
    failure_cause: Option<FailureCause>,
}

/// Why an operation failed, in Flink's shape.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FailureCause {
    /// `wflink.CheckpointFailure` or `wflink.DisposalFailure`.
    class: &'static str,
    /// The reason.
    stack_trace: String,
}

/// `GET /jobs/:id/checkpoints/:triggerid`: `IN_PROGRESS`, or `COMPLETED` with `operation.checkpointId` or
/// `operation.failure-cause`.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/checkpoints/{triggerid}",
    summary = "Status of a checkpoint request",
    params(JobPath, ("triggerid" = String, Path, description = "the request-id the trigger answered")),
    responses(
        (status = 200, description = "OK", body = OperationAnswer<CheckpointOperation>),
        (status = 400, description = "Not a job id", body = Errors),
        (status = 404, description = "No such job or checkpoint request", body = Errors),
    ),
)]
pub async fn status(
    State(state): State<AppState>,
    Path((id, request_id)): Path<(String, String)>,
) -> Result<Json<OperationAnswer<CheckpointOperation>>, AppError> {
    let job_id = jobs::parse_job_id(&id)?;
    let status = state.dispatcher.send(GetCheckpointStatus { job_id, request_id }).await??;
    Ok(Json(answer(status, |outcome| match outcome {
        Ok(id) => CheckpointOperation { checkpoint_id: id.parse().ok(), failure_cause: None },
        Err(reason) => CheckpointOperation {
            checkpoint_id: None,
            failure_cause: Some(FailureCause { class: "wflink.CheckpointFailure", stack_trace: reason }),
        },
    })))
}

fn answer<T: ToSchema>(
    status: SavepointStatus,
    outcome: impl FnOnce(Result<String, String>) -> T,
) -> OperationAnswer<T> {
    match status {
        SavepointStatus::InProgress => OperationAnswer { status: QueueStatus::IN_PROGRESS, operation: None },
        SavepointStatus::Completed(value) => {
            OperationAnswer { status: QueueStatus::COMPLETED, operation: Some(outcome(Ok(value))) }
        }
        SavepointStatus::Failed(reason) => {
            OperationAnswer { status: QueueStatus::COMPLETED, operation: Some(outcome(Err(reason))) }
        }
    }
}

/// `/jobs/:id/checkpoints/details/:cid/subtasks/:vid`.
#[derive(Serialize, ToSchema)]
pub struct VertexCheckpoint {
    /// The checkpoint's id.
    id: u64,
    /// The checkpoint's status.
    status: CheckpointStatus,
    /// When the vertex's last subtask acknowledged, ms since the epoch (0: none yet).
    latest_ack_timestamp: u64,
    /// Bytes the vertex's subtasks wrote.
    checkpointed_size: u64,
    /// The same: every checkpoint is full.
    state_size: u64,
    /// ms from the trigger to the vertex's last acknowledgement.
    end_to_end_duration: u64,
    /// Always 0.
    alignment_buffered: u64,
    /// Always 0.
    processed_data: u64,
    /// Always 0.
    persisted_data: u64,
    /// The vertex's parallelism.
    num_subtasks: usize,
    /// Those that acknowledged.
    num_acknowledged_subtasks: usize,
    /// Statistics over the subtasks that acknowledged.
    summary: SubtasksSummary,
    /// One per subtask, by index.
    subtasks: Vec<SubtaskCheckpoint>,
}

/// The summary of a vertex's subtasks in a checkpoint, in Flink's shape. A wflink task snapshots in one step
/// and aligns without buffering, so the sync/async split, alignment and start delay are not measured: 0.
#[derive(Serialize, ToSchema)]
pub struct SubtasksSummary {
    checkpointed_size: Summary,
    state_size: Summary,
    end_to_end_duration: Summary,
    checkpoint_duration: SyncAsync,
    alignment: Alignment,
    start_delay: Summary,
}

/// Flink's split of a snapshot's duration; not measured here (0).
#[derive(Serialize, ToSchema, Default)]
pub struct SyncAsync<T: ToSchema = Summary> {
    sync: T,
    #[serde(rename = "async")]
    asynchronous: T,
}

/// Flink's alignment statistics; wflink buffers nothing while aligning (0).
#[derive(Serialize, ToSchema, Default)]
pub struct Alignment<T: ToSchema = Summary> {
    buffered: T,
    processed: T,
    persisted: T,
    duration: T,
}

/// One subtask's part in a checkpoint.
#[derive(Serialize, ToSchema)]
pub struct SubtaskCheckpoint {
    /// Flink's statistics class: the same as `status`.
    #[serde(rename = "className")]
    class_name: &'static str,
    /// Its index.
    index: u32,
    /// `completed` once it acknowledged, else `pending_or_failed`.
    status: &'static str,
    /// When it acknowledged, ms since the epoch; only once it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    ack_timestamp: Option<u64>,
    /// ms from the trigger to its acknowledgement; only once it acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    end_to_end_duration: Option<u64>,
    /// Bytes it wrote; only once it acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    checkpointed_size: Option<u64>,
    /// The same; only once it acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    state_size: Option<u64>,
    /// Not measured (0); only once it acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    checkpoint: Option<SyncAsync<u64>>,
    /// Not measured (0); only once it acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    alignment: Option<Alignment<u64>>,
    /// Not measured (0); only once it acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    start_delay: Option<u64>,
    /// Always false; only once it acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    unaligned_checkpoint: Option<bool>,
    /// Always false.
    aborted: bool,
}

/// `GET /jobs/:id/checkpoints/details/:cid/subtasks/:vid`: each subtask's acknowledgement of a checkpoint.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/checkpoints/details/{checkpointid}/subtasks/{vertexid}",
    summary = "One vertex's subtasks in a checkpoint: acknowledgement time, duration, size",
    params(
        JobPath,
        ("checkpointid" = u64, Path, description = "checkpoint id"),
        ("vertexid" = String, Path, description = "vertex id (32 hex)"),
    ),
    responses(
        (status = 200, description = "OK", body = VertexCheckpoint),
        (status = 400, description = "Not a job id or not a checkpoint id", body = Errors),
        (status = 404, description = "No such job, checkpoint or vertex", body = Errors),
    ),
)]
pub async fn subtasks(
    State(state): State<AppState>,
    Path((id, checkpoint, vertex_id)): Path<(String, String, String)>,
) -> Result<Json<VertexCheckpoint>, AppError> {
    let details = jobs::details(&state, &id).await?;
    let wanted: u64 =
        checkpoint.parse().map_err(|_| AppError::bad_request(format!("invalid checkpoint id '{checkpoint}'")))?;
    let record = details.checkpoints.history.iter().find(|r| r.id == wanted).ok_or_else(|| {
        AppError::not_found(format!("checkpoint {wanted} of job {id} not found (only the latest are kept)"))
    })?;
    let (at, vertex) = details
        .vertices
        .iter()
        .enumerate()
        .find(|(_, v)| v.id == vertex_id)
        .ok_or_else(|| AppError::not_found(format!("vertex {vertex_id} not found in job {id}")))?;
    let acks = record.subtasks.get(at).cloned().unwrap_or_default();
    let trigger = record.trigger_timestamp;
    let subtasks: Vec<SubtaskCheckpoint> = (0..vertex.parallelism)
        .map(|index| {
            let ack = acks.get(index as usize).copied().flatten();
            let status = if ack.is_some() { "completed" } else { "pending_or_failed" };
            SubtaskCheckpoint {
                class_name: status,
                index,
                status,
                ack_timestamp: ack.map(|a| a.ack_timestamp),
                end_to_end_duration: ack.map(|a| a.ack_timestamp.saturating_sub(trigger)),
                checkpointed_size: ack.map(|a| a.state_size),
                state_size: ack.map(|a| a.state_size),
                checkpoint: ack.map(|_| SyncAsync::default()),
                alignment: ack.map(|_| Alignment::default()),
                start_delay: ack.map(|_| 0),
                unaligned_checkpoint: ack.map(|_| false),
                aborted: false,
            }
        })
        .collect();
    let acked = || acks.iter().flatten();
    let sizes = Summary::of(acked().map(|a| a.state_size));
    let summary = SubtasksSummary {
        checkpointed_size: sizes,
        state_size: sizes,
        end_to_end_duration: Summary::of(acked().map(|a| a.ack_timestamp.saturating_sub(trigger))),
        checkpoint_duration: SyncAsync::default(),
        alignment: Alignment::default(),
        start_delay: Summary::default(),
    };
    let latest = acks.iter().flatten().map(|a| a.ack_timestamp).max().unwrap_or(0);
    let size = acks.iter().flatten().map(|a| a.state_size).sum();
    Ok(Json(VertexCheckpoint {
        id: record.id,
        status: record.status,
        latest_ack_timestamp: latest,
        checkpointed_size: size,
        state_size: size,
        end_to_end_duration: latest.saturating_sub(trigger),
        alignment_buffered: 0,
        processed_data: 0,
        persisted_data: 0,
        num_subtasks: vertex.parallelism as usize,
        num_acknowledged_subtasks: acks.iter().flatten().count(),
        summary,
        subtasks,
    }))
}

/// The body of `POST /savepoint-disposal`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct DisposalRequest {
    /// The savepoint's directory (or its `_metadata`).
    savepoint_path: String,
}

/// `POST /savepoint-disposal`: deletes a savepoint (after reading its `_metadata`); 202 `{"request-id"}`.
#[utoipa::path(
    post,
    path = "/savepoint-disposal",
    summary = "Dispose of a savepoint (202 {\"request-id\"})",
    request_body(content = DisposalRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted; poll /savepoint-disposal/{request-id}", body = RequestId),
        (status = 400, description = "A bad body, or a path outside the allowed roots", body = Errors),
        ChangeErrors,
    ),
)]
pub async fn dispose(State(state): State<AppState>, bytes: Bytes) -> Result<(StatusCode, Json<RequestId>), AppError> {
    let request: DisposalRequest =
        serde_json::from_slice(&bytes).map_err(|e| AppError::bad_request(format!("malformed JSON body: {e}")))?;
    state.guard.roots.check(&request.savepoint_path).map_err(|e| AppError::bad_request(e.to_string()))?;
    let request_id = state.dispatcher.send(DisposeSavepoint { path: request.savepoint_path }).await?;
    Ok((StatusCode::ACCEPTED, Json(RequestId { request_id })))
}

/// The outcome of a disposal: empty when it succeeded, as Flink's.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct DisposalOperation {
    /// Why it failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_cause: Option<FailureCause>,
}

/// `GET /savepoint-disposal/:triggerid`: `IN_PROGRESS`, or `COMPLETED` with `operation.failure-cause` if it failed.
#[utoipa::path(
    get,
    path = "/savepoint-disposal/{triggerid}",
    summary = "Status of a savepoint disposal",
    params(("triggerid" = String, Path, description = "the request-id the disposal answered")),
    responses(
        (status = 200, description = "OK", body = OperationAnswer<DisposalOperation>),
        (status = 404, description = "No such disposal request", body = Errors),
    ),
)]
pub async fn disposal_status(
    State(state): State<AppState>,
    Path(request_id): Path<String>,
) -> Result<Json<OperationAnswer<DisposalOperation>>, AppError> {
    let status = state.dispatcher.send(GetDisposalStatus { request_id }).await??;
    Ok(Json(answer(status, |outcome| DisposalOperation {
        failure_cause: outcome
            .err()
            .map(|reason| FailureCause { class: "wflink.DisposalFailure", stack_trace: reason }),
    })))
}
