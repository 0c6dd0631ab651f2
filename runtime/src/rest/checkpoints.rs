//! Checkpoints and savepoints of a job, in Flink's shapes:
//! `GET /jobs/:id/checkpoints` (counts, summary, latest, history),
//! `GET /jobs/:id/checkpoints/config`, `GET /jobs/:id/checkpoints/details/:cid`,
//! `POST /jobs/:id/savepoints` (`{"target-directory", "cancel-job"}` →
//! `{"request-id"}`), `GET /jobs/:id/savepoints/:triggerid`, and
//! `POST /jobs/:id/stop` (stop-with-savepoint, `{"targetDirectory"}`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{AppError, AppState};
use crate::checkpoint::coordinator::{CheckpointRecord, CheckpointStats, CheckpointStatus};
use crate::dispatcher::messages::{GetJob, GetSavepointStatus, SavepointStatus, StartSavepoint};
use crate::ids::JobId;
use crate::job_manager::JobDetails;
use crate::job_manager::messages::TriggerSavepoint;

async fn details(state: &AppState, raw: &str) -> Result<JobDetails, AppError> {
    let job_id = job_id(raw)?;
    Ok(state.dispatcher.send(GetJob { job_id }).await??)
}

fn job_id(raw: &str) -> Result<JobId, AppError> {
    raw.parse().map_err(|e: crate::ids::InvalidJobId| AppError::bad_request(e.to_string()))
}

/// A JSON body, or the defaults when it is empty.
fn body<T: DeserializeOwned + Default>(bytes: &Bytes) -> Result<T, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| AppError::bad_request(format!("malformed JSON body: {e}")))
}

/// One history entry as Flink shows it.
fn record_json(r: &CheckpointRecord) -> Value {
    let completed = r.status == CheckpointStatus::Completed;
    let mut entry = json!({
        "className": match r.status {
            CheckpointStatus::Completed => ".CompletedCheckpointStatistics",
            CheckpointStatus::Failed => ".FailedCheckpointStatistics",
            CheckpointStatus::InProgress => ".PendingCheckpointStatistics",
        },
        "id": r.id,
        "status": r.status,
        "is_savepoint": r.is_savepoint,
        "savepointFormat": if r.is_savepoint { json!("CANONICAL") } else { Value::Null },
        "checkpoint_type": if r.is_savepoint { "SAVEPOINT" } else { "CHECKPOINT" },
        "trigger_timestamp": r.trigger_timestamp,
        "latest_ack_timestamp": r.latest_ack_timestamp,
        "checkpointed_size": r.state_size,
        "state_size": r.state_size,
        "end_to_end_duration": r.end_to_end_duration,
        "alignment_buffered": 0,
        "processed_data": 0,
        "persisted_data": 0,
        "num_subtasks": r.num_subtasks,
        "num_acknowledged_subtasks": r.num_acknowledged_subtasks,
        "tasks": {},
    });
    if completed {
        entry["external_path"] = json!(r.external_path);
        entry["discarded"] = json!(false);
    }
    if let Some(message) = &r.failure_message {
        entry["failure_message"] = json!(message);
        entry["failure_timestamp"] = json!(r.failure_timestamp);
    }
    entry
}

/// min/max/avg and percentiles of `values`, as Flink's summary shows them.
fn summary(values: &mut [u64]) -> Value {
    if values.is_empty() {
        return json!({ "min": 0, "max": 0, "avg": 0, "p50": 0.0, "p90": 0.0, "p95": 0.0, "p99": 0.0, "p999": 0.0 });
    }
    values.sort_unstable();
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize] as f64;
    let avg = values.iter().sum::<u64>() / values.len() as u64;
    json!({
        "min": values[0], "max": values[values.len() - 1], "avg": avg,
        "p50": at(0.5), "p90": at(0.9), "p95": at(0.95), "p99": at(0.99), "p999": at(0.999),
    })
}

fn checkpoints_json(stats: &CheckpointStats) -> Value {
    let mut durations: Vec<u64> = stats.completed_samples.iter().map(|(d, _)| *d).collect();
    let mut sizes: Vec<u64> = stats.completed_samples.iter().map(|(_, s)| *s).collect();
    let size_summary = summary(&mut sizes);
    json!({
        "counts": {
            "restored": stats.restored,
            "total": stats.total,
            "in_progress": stats.in_progress(),
            "completed": stats.completed,
            "failed": stats.failed,
        },
        "summary": {
            "checkpointed_size": size_summary,
            "state_size": size_summary,
            "end_to_end_duration": summary(&mut durations),
            "alignment_buffered": summary(&mut []),
            "processed_data": summary(&mut []),
            "persisted_data": summary(&mut []),
        },
        "latest": {
            "completed": stats.latest_completed.as_ref().map(record_json),
            "savepoint": stats.latest_savepoint.as_ref().map(record_json),
            "failed": stats.latest_failed.as_ref().map(record_json),
            "restored": stats.latest_restored.as_ref().map(|r| json!({
                "id": r.id,
                "restore_timestamp": r.restore_timestamp,
                "is_savepoint": r.is_savepoint,
                "external_path": r.external_path,
            })),
        },
        "history": stats.history.iter().map(record_json).collect::<Vec<_>>(),
    })
}

/// `GET /jobs/:id/checkpoints`.
pub async fn list(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let details = details(&state, &id).await?;
    Ok(Json(checkpoints_json(&details.checkpoints)))
}

/// `GET /jobs/:id/checkpoints/config`.
pub async fn config(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let details = details(&state, &id).await?;
    let settings = &details.checkpoint_settings;
    if settings.interval.is_zero() {
        return Err(AppError::not_found(format!(
            "checkpointing is not enabled for job {id} (execution.checkpointing.interval)"
        )));
    }
    Ok(Json(json!({
        "mode": "exactly_once",
        "interval": settings.interval.as_millis() as u64,
        "timeout": settings.timeout.as_millis() as u64,
        "min_pause": 0,
        "max_concurrent": settings.max_concurrent,
        "externalization": { "enabled": true, "delete_on_cancellation": false },
        "state_backend": "HashMapStateBackend",
        "checkpoint_storage": "FileSystemCheckpointStorage",
        "checkpoint_storage_location": settings.location,
        "num_retained": settings.retained,
        "unaligned_checkpoints": false,
        "tolerable_failed_checkpoints": settings.tolerable_failures,
        "aligned_checkpoint_timeout": 0,
        "checkpoints_after_tasks_finish": false,
        "state_changelog_enabled": false,
    })))
}

/// `GET /jobs/:id/checkpoints/details/:cid`: one checkpoint with its per-vertex acknowledgements.
pub async fn checkpoint(
    State(state): State<AppState>,
    Path((id, checkpoint)): Path<(String, String)>,
) -> Result<Json<Value>, AppError> {
    let details = details(&state, &id).await?;
    let wanted: u64 =
        checkpoint.parse().map_err(|_| AppError::bad_request(format!("invalid checkpoint id '{checkpoint}'")))?;
    let record = details.checkpoints.history.iter().find(|r| r.id == wanted).ok_or_else(|| {
        AppError::not_found(format!("checkpoint {wanted} of job {id} not found (only the latest are kept)"))
    })?;
    let mut entry = record_json(record);
    let tasks: serde_json::Map<String, Value> = details
        .vertices
        .iter()
        .zip(&record.acknowledged_per_vertex)
        .map(|(v, acked)| {
            (
                v.id.clone(),
                json!({
                    "id": record.id,
                    "status": record.status,
                    "latest_ack_timestamp": record.latest_ack_timestamp,
                    "end_to_end_duration": record.end_to_end_duration,
                    "num_subtasks": v.parallelism,
                    "num_acknowledged_subtasks": acked,
                }),
            )
        })
        .collect();
    entry["tasks"] = Value::Object(tasks);
    Ok(Json(entry))
}

/// The body of `POST /jobs/:id/savepoints`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub struct SavepointRequest {
    target_directory: Option<String>,
    #[serde(default)]
    cancel_job: bool,
}

/// The body of `POST /jobs/:id/stop`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct StopRequest {
    target_directory: Option<String>,
}

async fn trigger(
    state: &AppState,
    id: &str,
    target_directory: Option<String>,
    cancel_job: bool,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let job_id = job_id(id)?;
    if cancel_job {
        state.guard.check_cancel()?;
    }
    if let Some(target) = &target_directory {
        state.guard.roots.check(target).map_err(|e| AppError::bad_request(e.to_string()))?;
    }
    let request_id =
        state.dispatcher.send(StartSavepoint(TriggerSavepoint { job_id, target_directory, cancel_job })).await??;
    Ok((StatusCode::ACCEPTED, Json(json!({ "request-id": request_id }))))
}

/// `POST /jobs/:id/savepoints`: 202 `{"request-id"}`; poll `/jobs/:id/savepoints/:request-id`.
pub async fn trigger_savepoint(
    State(state): State<AppState>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let request: SavepointRequest = body(&bytes)?;
    trigger(&state, &id, request.target_directory, request.cancel_job).await
}

/// `POST /jobs/:id/stop`: a savepoint, then the job is cancelled.
pub async fn stop(
    State(state): State<AppState>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let request: StopRequest = body(&bytes)?;
    trigger(&state, &id, request.target_directory, true).await
}

/// `GET /jobs/:id/savepoints/:triggerid`: `IN_PROGRESS`, or `COMPLETED`
/// with `operation.location` or `operation.failure-cause`.
pub async fn savepoint_status(
    State(state): State<AppState>,
    Path((id, request_id)): Path<(String, String)>,
) -> Result<Json<Value>, AppError> {
    let job_id = job_id(&id)?;
    let status = state.dispatcher.send(GetSavepointStatus { job_id, request_id }).await??;
    Ok(Json(match status {
        SavepointStatus::InProgress => json!({ "status": { "id": "IN_PROGRESS" }, "operation": null }),
        SavepointStatus::Completed(location) => {
            json!({ "status": { "id": "COMPLETED" }, "operation": { "location": location } })
        }
        SavepointStatus::Failed(reason) => json!({
            "status": { "id": "COMPLETED" },
            "operation": { "failure-cause": { "class": "wflink.SavepointFailure", "stack-trace": reason } },
        }),
    }))
}
