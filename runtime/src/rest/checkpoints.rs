//! The checkpoint statistics of a job, in Flink's shapes:
//! `GET /jobs/:id/checkpoints` (counts, summary, latest, history),
//! `GET /jobs/:id/checkpoints/config` and `GET /jobs/:id/checkpoints/details/:cid`.
//! Triggering checkpoints is in [`super::checkpoint_ops`], savepoints in
//! [`super::savepoints`].

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;

use super::metrics::job_details;
use super::openapi::{JobErrors, JobPath};
use super::{AppError, AppState, Errors};
use crate::checkpoint::CheckpointId;
use crate::checkpoint::coordinator::{CheckpointRecord, CheckpointStats, CheckpointStatus};

fn checkpoints_answer(stats: &CheckpointStats) -> Checkpoints {
    let size_summary = Summary::of(stats.completed_samples.iter().map(|(_, s)| *s));
    Checkpoints {
        counts: Counts {
            restored: stats.restored,
            total: stats.total,
            in_progress: stats.in_progress(),
            completed: stats.completed,
            failed: stats.failed,
        },
        summary: Summaries {
            checkpointed_size: size_summary,
            state_size: size_summary,
            end_to_end_duration: Summary::of(stats.completed_samples.iter().map(|(d, _)| *d)),
            alignment_buffered: Summary::default(),
            processed_data: Summary::default(),
            persisted_data: Summary::default(),
        },
        latest: Latest {
            completed: stats.latest_completed.as_ref().map(Checkpoint::of),
            savepoint: stats.latest_savepoint.as_ref().map(Checkpoint::of),
            failed: stats.latest_failed.as_ref().map(Checkpoint::of),
            restored: stats.latest_restored.as_ref().map(|r| Restored {
                id: r.id,
                restore_timestamp: r.restore_timestamp,
                is_savepoint: r.is_savepoint,
                external_path: r.external_path.clone(),
            }),
        },
        history: stats.history.iter().map(Checkpoint::of).collect(),
    }
}

/// `GET /jobs/:id/checkpoints`.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/checkpoints",
    summary = "Checkpoint statistics: counts, summary, latest, history",
    params(
        JobPath,
    ),
    responses(
        (status = 200, description = "OK", body = Checkpoints),
        JobErrors,
    ),
)]
pub async fn list(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Checkpoints>, AppError> {
    let details = job_details(&state, &id).await?;
    Ok(Json(checkpoints_answer(&details.checkpoints)))
}

/// `GET /jobs/:id/checkpoints/config`.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/checkpoints/config",
    summary = "Checkpointing configuration of the job (404 when checkpointing is off)",
    params(
        JobPath,
    ),
    responses(
        (status = 200, description = "OK", body = CheckpointConfig),
        (status = 400, description = "Not a job id", body = Errors),
        (status = 404, description = "No such job, or checkpointing is off", body = Errors),
    ),
)]
pub async fn config(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<CheckpointConfig>, AppError> {
    let details = job_details(&state, &id).await?;
    let settings = &details.checkpoint_settings;
    if settings.interval.is_zero() {
        return Err(AppError::not_found(format!(
            "checkpointing is not enabled for job {id} (execution.checkpointing.interval)"
        )));
    }
    Ok(Json(CheckpointConfig {
        mode: "exactly_once",
        interval: settings.interval.as_millis() as u64,
        timeout: settings.timeout.as_millis() as u64,
        min_pause: 0,
        max_concurrent: settings.max_concurrent,
        externalization: Externalization { enabled: true, delete_on_cancellation: false },
        state_backend: "HashMapStateBackend",
        checkpoint_storage: "FileSystemCheckpointStorage",
        checkpoint_storage_location: settings.location.clone(),
        num_retained: settings.retained,
        unaligned_checkpoints: false,
        tolerable_failed_checkpoints: settings.tolerable_failures,
        aligned_checkpoint_timeout: 0,
        checkpoints_after_tasks_finish: false,
        state_changelog_enabled: false,
        changelog_periodic_materialization_interval: 600_000,
        changelog_storage: "memory",
    }))
}

/// `GET /jobs/:id/checkpoints/details/:cid`: one checkpoint with its per-vertex acknowledgements.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/checkpoints/details/{checkpointid}",
    summary = "One checkpoint with per-vertex acknowledgements",
    params(
        JobPath,
        ("checkpointid" = u64, Path, description = "checkpoint id"),
    ),
    responses(
        (status = 200, description = "OK", body = Checkpoint),
        (status = 400, description = "Not a job id or not a checkpoint id", body = Errors),
        (status = 404, description = "No such job or checkpoint", body = Errors),
    ),
)]
pub async fn checkpoint(
    State(state): State<AppState>,
    Path((id, checkpoint)): Path<(String, String)>,
) -> Result<Json<Checkpoint>, AppError> {
    let details = job_details(&state, &id).await?;
    let wanted: u64 =
        checkpoint.parse().map_err(|_| AppError::bad_request(format!("invalid checkpoint id '{checkpoint}'")))?;
    let record = details.checkpoints.history.iter().find(|r| r.id == wanted).ok_or_else(|| {
        AppError::not_found(format!("checkpoint {wanted} of job {id} not found (only the latest are kept)"))
    })?;
    let mut entry = Checkpoint::of(record);
    entry.tasks = details
        .vertices
        .iter()
        .enumerate()
        .map(|(at, v)| {
            let acks: Vec<_> = record.subtasks.get(at).into_iter().flatten().flatten().collect();
            let latest = acks.iter().map(|a| a.ack_timestamp).max().unwrap_or(0);
            let size = acks.iter().map(|a| a.state_size).sum();
            let ack = VertexAck {
                id: record.id,
                status: record.status,
                latest_ack_timestamp: latest,
                checkpointed_size: size,
                state_size: size,
                end_to_end_duration: latest.saturating_sub(record.trigger_timestamp),
                alignment_buffered: 0,
                processed_data: 0,
                persisted_data: 0,
                num_subtasks: v.parallelism as usize,
                num_acknowledged_subtasks: record.acknowledged_per_vertex.get(at).copied().unwrap_or(acks.len()),
            };
            (v.id.clone(), ack)
        })
        .collect();
    Ok(Json(entry))
}

/// `/jobs/:id/checkpoints`.
#[derive(Serialize, ToSchema)]
pub struct Checkpoints {
    /// How many checkpoints there were, by outcome.
    counts: Counts,
    /// Statistics of the completed checkpoints.
    summary: Summaries,
    /// The latest of each kind.
    latest: Latest,
    /// The latest checkpoints, newest last.
    history: Vec<Checkpoint>,
}

/// Checkpoints by outcome.
#[derive(Serialize, ToSchema)]
pub struct Counts {
    /// Restores so far.
    restored: u64,
    /// Checkpoints triggered.
    total: u64,
    /// Checkpoints not yet complete.
    in_progress: usize,
    /// Checkpoints completed.
    completed: u64,
    /// Checkpoints failed.
    failed: u64,
}

/// Statistics of the completed checkpoints (bytes, ms); Flink's buffered and processed data are 0.
#[derive(Serialize, ToSchema)]
pub struct Summaries {
    checkpointed_size: Summary,
    state_size: Summary,
    end_to_end_duration: Summary,
    alignment_buffered: Summary,
    processed_data: Summary,
    persisted_data: Summary,
}

/// min/max/avg and percentiles of a statistic.
#[derive(Serialize, ToSchema, Clone, Copy, Default)]
pub struct Summary {
    min: u64,
    max: u64,
    avg: u64,
    p50: f64,
    p90: f64,
    p95: f64,
    p99: f64,
    p999: f64,
}

impl Summary {
    /// min/max/avg and percentiles of `values`, as Flink's summary shows them (all 0 when empty).
    pub(super) fn of(values: impl Iterator<Item = u64>) -> Self {
        let mut values: Vec<u64> = values.collect();
        values.sort_unstable();
        let (Some(min), Some(max)) = (values.first(), values.last()) else { return Self::default() };
        let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize] as f64;
        Summary {
            min: *min,
            max: *max,
            avg: values.iter().sum::<u64>() / values.len() as u64,
            p50: at(0.5),
            p90: at(0.9),
            p95: at(0.95),
            p99: at(0.99),
            p999: at(0.999),
        }
    }
}

/// The latest checkpoint of each kind, null when there is none.
#[derive(Serialize, ToSchema)]
pub struct Latest {
    completed: Option<Checkpoint>,
    savepoint: Option<Checkpoint>,
    failed: Option<Checkpoint>,
    restored: Option<Restored>,
}

/// The checkpoint or savepoint the job was last restored from.
#[derive(Serialize, ToSchema)]
pub struct Restored {
    /// Its id.
    #[schema(value_type = u64)]
    id: CheckpointId,
    /// When it was restored, ms since the epoch.
    restore_timestamp: u64,
    /// Whether it was a savepoint.
    is_savepoint: bool,
    /// Its directory.
    external_path: String,
}

/// A checkpoint as Flink's history shows it (`/jobs/:id/checkpoints`), and with its per-vertex
/// acknowledgements in `tasks` (`/jobs/:id/checkpoints/details/:cid`).
#[derive(Serialize, ToSchema)]
pub struct Checkpoint {
    /// Flink 2.3's name of its statistics class: `completed`, `failed` or `in_progress`.
    #[serde(rename = "className")]
    class_name: &'static str,
    /// Its id.
    #[schema(value_type = u64)]
    id: CheckpointId,
    /// Its status.
    status: CheckpointStatus,
    /// Whether it is a savepoint.
    is_savepoint: bool,
    /// `CANONICAL` for a savepoint, else null.
    #[serde(rename = "savepointFormat")]
    savepoint_format: Option<&'static str>,
    /// `SAVEPOINT` or `CHECKPOINT`.
    checkpoint_type: &'static str,
    /// When it was triggered, ms since the epoch.
    trigger_timestamp: u64,
    /// When the last task acknowledged it, ms since the epoch.
    latest_ack_timestamp: u64,
    /// Bytes written.
    checkpointed_size: u64,
    /// Bytes of state.
    state_size: u64,
    /// ms from trigger to the last acknowledgement.
    end_to_end_duration: u64,
    /// Always 0.
    alignment_buffered: u64,
    /// Always 0.
    processed_data: u64,
    /// Always 0.
    persisted_data: u64,
    /// Subtasks that take part.
    num_subtasks: usize,
    /// Subtasks that acknowledged it.
    num_acknowledged_subtasks: usize,
    /// Per vertex id: empty in the history, filled in its details.
    tasks: BTreeMap<String, VertexAck>,
    /// Its directory; only when completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    external_path: Option<String>,
    /// Always false; only when completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    discarded: Option<bool>,
    /// Why it failed; only when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_message: Option<String>,
    /// When it failed, ms since the epoch; only when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_timestamp: Option<u64>,
}

impl Checkpoint {
    fn of(r: &CheckpointRecord) -> Self {
        let completed = r.status == CheckpointStatus::Completed;
        Checkpoint {
            class_name: match r.status {
                CheckpointStatus::Completed => "completed",
                CheckpointStatus::Failed => "failed",
                CheckpointStatus::InProgress => "in_progress",
            },
            id: r.id,
            status: r.status,
            is_savepoint: r.is_savepoint,
            savepoint_format: r.is_savepoint.then_some("CANONICAL"),
            checkpoint_type: if r.is_savepoint { "SAVEPOINT" } else { "CHECKPOINT" },
            trigger_timestamp: r.trigger_timestamp,
            latest_ack_timestamp: r.latest_ack_timestamp,
            checkpointed_size: r.state_size,
            state_size: r.state_size,
            end_to_end_duration: r.end_to_end_duration,
            alignment_buffered: 0,
            processed_data: 0,
            persisted_data: 0,
            num_subtasks: r.num_subtasks,
            num_acknowledged_subtasks: r.num_acknowledged_subtasks,
            tasks: BTreeMap::new(),
            external_path: if completed { r.external_path.clone() } else { None },
            discarded: completed.then_some(false),
            failure_message: r.failure_message.clone(),
            failure_timestamp: r.failure_message.as_ref().and(r.failure_timestamp),
        }
    }
}

/// One vertex's part in a checkpoint.
#[derive(Serialize, ToSchema)]
pub struct VertexAck {
    /// The checkpoint's id.
    #[schema(value_type = u64)]
    id: CheckpointId,
    /// The checkpoint's status.
    status: CheckpointStatus,
    /// When the vertex's last acknowledgement arrived, ms since the epoch (0: none yet).
    latest_ack_timestamp: u64,
    /// Bytes its subtasks wrote.
    checkpointed_size: u64,
    /// Bytes of its subtasks' state.
    state_size: u64,
    /// ms from the trigger to the vertex's last acknowledgement.
    end_to_end_duration: u64,
    /// Always 0.
    alignment_buffered: u64,
    /// Always 0.
    processed_data: u64,
    /// Always 0.
    persisted_data: u64,
    /// The vertex's subtasks.
    num_subtasks: usize,
    /// Those that acknowledged.
    num_acknowledged_subtasks: usize,
}

/// `/jobs/:id/checkpoints/config`.
#[derive(Serialize, ToSchema)]
pub struct CheckpointConfig {
    /// Always `exactly_once`.
    mode: &'static str,
    /// `execution.checkpointing.interval`, ms.
    interval: u64,
    /// `execution.checkpointing.timeout`, ms.
    timeout: u64,
    /// Always 0.
    min_pause: u64,
    /// `execution.checkpointing.max-concurrent-checkpoints`.
    max_concurrent: usize,
    /// Checkpoints are kept after a cancel.
    externalization: Externalization,
    /// Always `HashMapStateBackend`.
    state_backend: &'static str,
    /// Always `FileSystemCheckpointStorage`.
    checkpoint_storage: &'static str,
    /// `state.checkpoints.dir`.
    checkpoint_storage_location: String,
    /// `state.checkpoints.num-retained`.
    num_retained: usize,
    /// Always false.
    unaligned_checkpoints: bool,
    /// `execution.checkpointing.tolerable-failed-checkpoints`.
    tolerable_failed_checkpoints: u32,
    /// Always 0.
    aligned_checkpoint_timeout: u64,
    /// Always false.
    checkpoints_after_tasks_finish: bool,
    /// Always false.
    state_changelog_enabled: bool,
    /// Flink's default (no changelog here): 600000 ms.
    changelog_periodic_materialization_interval: u64,
    /// Flink's default (no changelog here): `memory`.
    changelog_storage: &'static str,
}

/// Whether checkpoints outlive the job.
#[derive(Serialize, ToSchema)]
pub struct Externalization {
    /// Always true.
    enabled: bool,
    /// Always false.
    delete_on_cancellation: bool,
}
