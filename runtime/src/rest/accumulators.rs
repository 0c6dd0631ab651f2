//! The guests' own counters (the `metrics` import) as Flink's user accumulators, each a `LongCounter`:
//! `/jobs/:id/accumulators` (summed over the job), `/jobs/:id/vertices/:vid/accumulators` (over the vertex),
//! `…/subtasks/accumulators` and `…/subtasks/:i/attempts/:attempt/accumulators` (one subtask's).

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;

use super::metrics::{find_subtask, find_vertex, job_details};
use super::openapi::{JobErrors, JobPath, VertexErrors, VertexPath};
use super::vertex_views::current_attempt;
use super::{AppError, AppState, Errors};
use crate::metrics::MetricsSnapshot;

/// A user accumulator: one of a guest's counters.
#[derive(Serialize, ToSchema)]
pub struct Accumulator {
    /// The counter's name.
    name: String,
    /// Always `LongCounter`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// Its value, as a string.
    value: String,
}

fn accumulators(counters: &[(String, u64)]) -> Vec<Accumulator> {
    counters
        .iter()
        .map(|(name, count)| Accumulator { name: name.clone(), kind: "LongCounter", value: count.to_string() })
        .collect()
}

/// `/jobs/:id/vertices/:vid/accumulators`: the guests' counters summed over the subtasks.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct VertexAccumulators {
    /// The vertex id.
    id: String,
    /// The counters.
    user_accumulators: Vec<Accumulator>,
}

/// `GET /jobs/:id/vertices/:vid/accumulators`.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/vertices/{vertexid}/accumulators",
    summary = "The guests' counters of a vertex, summed, as user accumulators",
    params(VertexPath),
    responses(
        (status = 200, description = "OK", body = VertexAccumulators),
        VertexErrors,
    ),
)]
pub async fn vertex_accumulators(
    State(state): State<AppState>,
    Path((id, vertex_id)): Path<(String, String)>,
) -> Result<Json<VertexAccumulators>, AppError> {
    let details = job_details(&state, &id).await?;
    let (vertex, _) = find_vertex(&details, &vertex_id)?;
    Ok(Json(VertexAccumulators { id: vertex.id.clone(), user_accumulators: accumulators(&vertex.metrics.counters) }))
}

/// `/jobs/:id/vertices/:vid/subtasks/accumulators`: each subtask's counters.
#[derive(Serialize, ToSchema)]
pub struct SubtasksAccumulators {
    /// The vertex id.
    id: String,
    /// Its parallelism.
    parallelism: u32,
    /// Each subtask.
    subtasks: Vec<SubtaskAccumulators>,
}

/// One subtask's counters.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct SubtaskAccumulators {
    /// Its index.
    subtask: u32,
    /// Always 0.
    attempt: u32,
    /// Its TaskManager's data address, once deployed.
    endpoint: Option<String>,
    /// Its counters.
    user_accumulators: Vec<Accumulator>,
}

/// `GET /jobs/:id/vertices/:vid/subtasks/accumulators`.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/vertices/{vertexid}/subtasks/accumulators",
    summary = "The guests' counters of each subtask, as user accumulators",
    params(VertexPath),
    responses(
        (status = 200, description = "OK", body = SubtasksAccumulators),
        VertexErrors,
    ),
)]
pub async fn subtasks_accumulators(
    State(state): State<AppState>,
    Path((id, vertex_id)): Path<(String, String)>,
) -> Result<Json<SubtasksAccumulators>, AppError> {
    let details = job_details(&state, &id).await?;
    let (vertex, _) = find_vertex(&details, &vertex_id)?;
    let subtasks = vertex
        .subtasks
        .iter()
        .map(|s| SubtaskAccumulators {
            subtask: s.index,
            attempt: 0,
            endpoint: s.endpoint.clone(),
            user_accumulators: accumulators(&s.metrics.counters),
        })
        .collect();
    Ok(Json(SubtasksAccumulators { id: vertex.id.clone(), parallelism: vertex.parallelism, subtasks }))
}

/// `/jobs/:id/accumulators`: the guests' counters summed over every subtask of the job.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct JobAccumulators {
    /// Always empty: a job has no accumulators of its own.
    job_accumulators: Vec<Accumulator>,
    /// The counters.
    user_task_accumulators: Vec<Accumulator>,
    /// Always empty: the values are not Java-serialized.
    serialized_user_task_accumulators: std::collections::BTreeMap<String, String>,
}

/// `GET /jobs/:id/accumulators`.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/accumulators",
    summary = "The guests' counters of a job, summed, as user accumulators",
    params(JobPath),
    responses(
        (status = 200, description = "OK", body = JobAccumulators),
        JobErrors,
    ),
)]
pub async fn job_accumulators(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JobAccumulators>, AppError> {
    let details = job_details(&state, &id).await?;
    let mut sum = MetricsSnapshot::default();
    for vertex in &details.vertices {
        for (name, count) in &vertex.metrics.counters {
            match sum.counters.iter_mut().find(|(n, _)| n == name) {
                Some((_, total)) => *total += count,
                None => sum.counters.push((name.clone(), *count)),
            }
        }
    }
    Ok(Json(JobAccumulators {
        job_accumulators: Vec::new(),
        user_task_accumulators: accumulators(&sum.counters),
        serialized_user_task_accumulators: Default::default(),
    }))
}

/// `/jobs/:id/vertices/:vid/subtasks/:i/attempts/:attempt/accumulators`: one subtask's counters.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct AttemptAccumulators {
    /// Its index.
    subtask: u32,
    /// Always 0.
    attempt: u32,
    /// `JOBID_VERTEXID_INDEX_ATTEMPT`, standing for Flink's execution attempt id.
    id: String,
    /// Its counters.
    user_accumulators: Vec<Accumulator>,
}

/// `GET /jobs/:id/vertices/:vid/subtasks/:i/attempts/:attempt/accumulators`.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/vertices/{vertexid}/subtasks/{subtaskindex}/attempts/{attempt}/accumulators",
    summary = "The guests' counters of one subtask, as user accumulators",
    params(
        VertexPath,
        ("subtaskindex" = u32, Path, description = "0-based subtask index"),
        ("attempt" = u32, Path, description = "the attempt: 0"),
    ),
    responses(
        (status = 200, description = "OK", body = AttemptAccumulators),
        (status = 400, description = "Not a job id, subtask index or attempt", body = Errors),
        (status = 404, description = "No such job, vertex, subtask or attempt", body = Errors),
    ),
)]
pub async fn attempt_accumulators(
    State(state): State<AppState>,
    Path((id, vertex_id, index, attempt)): Path<(String, String, String, String)>,
) -> Result<Json<AttemptAccumulators>, AppError> {
    current_attempt(&attempt)?;
    let details = job_details(&state, &id).await?;
    let (vertex, _) = find_vertex(&details, &vertex_id)?;
    let s = find_subtask(vertex, &index)?;
    Ok(Json(AttemptAccumulators {
        subtask: s.index,
        attempt: 0,
        id: format!("{}_{}_{}_0", details.job_id, vertex.id, s.index),
        user_accumulators: accumulators(&s.metrics.counters),
    }))
}
