//! Flink's metric endpoints: `/jobs/metrics`, `/jobs/:id/metrics`, `/jobs/:id/vertices/:vid/metrics`,
//! `…/subtasks/metrics`, `…/subtasks/:i/metrics`, `/taskmanagers/metrics`, `/taskmanagers/:id/metrics` and
//! `/jobmanager/metrics`, with `get=`, `agg=` and the group selections of [`metric_query`]. The metrics
//! themselves come from [`metric_sources`].

use actix::Addr;
use axum::Json;
use axum::extract::{Path, Query, State};

use super::metric_query::{self, AggregatedMetric, MetricParams, MetricValue, Metrics, split};
use super::metric_sources::{self, ClusterCounts};
use super::openapi::{JobErrors, JobPath, VertexErrors, VertexPath};
use super::{AppError, AppState, Errors};
use crate::dispatcher::Dispatcher;
use crate::dispatcher::messages::{GetJob, ListJobs};
use crate::graph::JobVertex;
use crate::ids::JobId;
use crate::job_manager::{JobDetails, VertexDetails};
use crate::metrics::process::this_process;
use crate::resource_manager::ResourceManager;
use crate::resource_manager::messages::{GetResources, GetTaskManagers};

/// The job `raw` names.
pub(super) async fn job_details(state: &AppState, raw: &str) -> Result<JobDetails, AppError> {
    let job_id: JobId = super::jobs::parse_job_id(raw)?;
    Ok(state.dispatcher.send(GetJob { job_id }).await??)
}

/// The vertex `vertex_id` of a job, with its plan.
pub(super) fn find_vertex<'a>(
    details: &'a JobDetails,
    vertex_id: &str,
) -> Result<(&'a VertexDetails, &'a JobVertex), AppError> {
    let index = details
        .vertices
        .iter()
        .position(|v| v.id == vertex_id)
        .ok_or_else(|| AppError::not_found(format!("vertex {vertex_id} not found in job {}", details.job_id)))?;
    Ok((&details.vertices[index], &details.job_graph.vertices[index]))
}

/// `GET /jobs/metrics`: job metrics aggregated over every job (or those of `jobs=`).
#[utoipa::path(
    get,
    path = "/jobs/metrics",
    summary = "Job metrics aggregated over jobs",
    params(MetricParams),
    responses(
        (status = 200, description = "Metric ids, or aggregates with get=", body = Vec<AggregatedMetric>),
        (status = 400, description = "An unknown aggregation", body = Errors),
    ),
)]
pub async fn jobs(
    State(state): State<AppState>,
    Query(params): Query<MetricParams>,
) -> Result<Json<Vec<AggregatedMetric>>, AppError> {
    let listed = state.dispatcher.send(ListJobs).await?;
    let wanted: Option<Vec<&str>> = params.jobs.as_deref().map(|list| split(list).collect());
    let mut group: Vec<Metrics> = Vec::new();
    for job in listed {
        if wanted.as_ref().is_some_and(|ids| !ids.contains(&job.job_id.to_string().as_str())) {
            continue;
        }
        if let Ok(Ok(details)) = state.dispatcher.send(GetJob { job_id: job.job_id }).await {
            group.push(metric_sources::job(&details));
        }
    }
    Ok(Json(metric_query::aggregate(&group, &params)?))
}

/// `GET /jobs/:id/metrics`: uptime, restarts, checkpoints.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/metrics",
    summary = "Job metrics",
    params(JobPath, MetricParams),
    responses(
        (status = 200, description = "Metric ids, or values with get=", body = Vec<MetricValue>),
        JobErrors,
    ),
)]
pub async fn job(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<MetricParams>,
) -> Result<Json<Vec<MetricValue>>, AppError> {
    let details = job_details(&state, &id).await?;
    Ok(Json(metric_query::answer(&metric_sources::job(&details), &params)))
}

/// `GET /jobs/:id/vertices/:vid/metrics`: every subtask's metrics, prefixed with its index.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/vertices/{vertexid}/metrics",
    summary = "Vertex metrics: each subtask's, as INDEX.metric",
    params(VertexPath, MetricParams),
    responses(
        (status = 200, description = "Metric ids, or values with get=", body = Vec<MetricValue>),
        VertexErrors,
    ),
)]
pub async fn vertex(
    State(state): State<AppState>,
    Path((id, vertex_id)): Path<(String, String)>,
    Query(params): Query<MetricParams>,
) -> Result<Json<Vec<MetricValue>>, AppError> {
    let details = job_details(&state, &id).await?;
    let (vertex, plan) = find_vertex(&details, &vertex_id)?;
    Ok(Json(metric_query::answer(&metric_sources::vertex(plan, &vertex.subtasks), &params)))
}

/// `GET /jobs/:id/vertices/:vid/subtasks/metrics`: subtask metrics aggregated over the subtasks (or `subtasks=`).
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/vertices/{vertexid}/subtasks/metrics",
    summary = "Subtask metrics aggregated over a vertex's subtasks",
    params(VertexPath, MetricParams),
    responses(
        (status = 200, description = "Metric ids, or aggregates with get=", body = Vec<AggregatedMetric>),
        (status = 400, description = "Not a job id, an unknown aggregation or subtask selection", body = Errors),
        (status = 404, description = "No such job or vertex", body = Errors),
    ),
)]
pub async fn subtasks(
    State(state): State<AppState>,
    Path((id, vertex_id)): Path<(String, String)>,
    Query(params): Query<MetricParams>,
) -> Result<Json<Vec<AggregatedMetric>>, AppError> {
    let details = job_details(&state, &id).await?;
    let (vertex, plan) = find_vertex(&details, &vertex_id)?;
    let scopes = metric_sources::operator_scopes(plan);
    let selected = metric_query::subtask_selection(params.subtasks.as_deref(), vertex.parallelism)?;
    let group: Vec<Metrics> = vertex
        .subtasks
        .iter()
        .filter(|s| selected.contains(&s.index))
        .map(|s| metric_sources::subtask(plan, &scopes, s))
        .collect();
    Ok(Json(metric_query::aggregate(&group, &params)?))
}

/// `GET /jobs/:id/vertices/:vid/subtasks/:i/metrics`: one subtask's metrics.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/vertices/{vertexid}/subtasks/{subtaskindex}/metrics",
    summary = "One subtask's metrics",
    params(
        VertexPath,
        ("subtaskindex" = u32, Path, description = "0-based subtask index"),
        MetricParams,
    ),
    responses(
        (status = 200, description = "Metric ids, or values with get=", body = Vec<MetricValue>),
        (status = 400, description = "Not a job id or subtask index", body = Errors),
        (status = 404, description = "No such job, vertex or subtask", body = Errors),
    ),
)]
pub async fn subtask(
    State(state): State<AppState>,
    Path((id, vertex_id, index)): Path<(String, String, String)>,
    Query(params): Query<MetricParams>,
) -> Result<Json<Vec<MetricValue>>, AppError> {
    let details = job_details(&state, &id).await?;
    let (vertex, plan) = find_vertex(&details, &vertex_id)?;
    let subtask = find_subtask(vertex, &index)?;
    let scopes = metric_sources::operator_scopes(plan);
    Ok(Json(metric_query::answer(&metric_sources::subtask(plan, &scopes, subtask), &params)))
}

/// `GET /jobs/:id/vertices/:vid/jm-operator-metrics`: the metrics of the vertex's operator coordinators in the
/// JobManager. wflink runs no operator code in the JobManager, so there are none: `[]`, as Flink answers for a
/// vertex without coordinators.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/vertices/{vertexid}/jm-operator-metrics",
    summary = "Metrics of the vertex's operators in the JobManager: none in wflink",
    params(VertexPath, MetricParams),
    responses(
        (status = 200, description = "An empty list", body = Vec<MetricValue>),
        VertexErrors,
    ),
)]
pub async fn jm_operator(
    State(state): State<AppState>,
    Path((id, vertex_id)): Path<(String, String)>,
    Query(params): Query<MetricParams>,
) -> Result<Json<Vec<MetricValue>>, AppError> {
    let details = job_details(&state, &id).await?;
    find_vertex(&details, &vertex_id)?;
    Ok(Json(metric_query::answer(&Vec::new(), &params)))
}

/// Subtask `raw` of a vertex.
pub(super) fn find_subtask<'a>(
    vertex: &'a VertexDetails,
    raw: &str,
) -> Result<&'a crate::job_manager::SubtaskDetails, AppError> {
    let index: u32 = raw.parse().map_err(|_| AppError::bad_request(format!("invalid subtask index '{raw}'")))?;
    vertex.subtasks.get(index as usize).ok_or_else(|| {
        AppError::not_found(format!("subtask {index} not found: vertex {} has {}", vertex.id, vertex.parallelism))
    })
}

/// `GET /taskmanagers/metrics`: TaskManager metrics aggregated over every TaskManager (or `taskmanagers=`).
#[utoipa::path(
    get,
    path = "/taskmanagers/metrics",
    summary = "TaskManager metrics aggregated over TaskManagers",
    params(MetricParams),
    responses(
        (status = 200, description = "Metric ids, or aggregates with get=", body = Vec<AggregatedMetric>),
        (status = 400, description = "An unknown aggregation", body = Errors),
    ),
)]
pub async fn taskmanagers(
    State(state): State<AppState>,
    Query(params): Query<MetricParams>,
) -> Result<Json<Vec<AggregatedMetric>>, AppError> {
    let all = state.resource_manager.send(GetTaskManagers).await?;
    let wanted: Option<Vec<&str>> = params.taskmanagers.as_deref().map(|list| split(list).collect());
    let group: Vec<Metrics> = all
        .iter()
        .filter(|tm| wanted.as_ref().is_none_or(|ids| ids.contains(&tm.info.id.as_str())))
        .map(|tm| {
            let usage = tm.info.usage.lock().unwrap_or_else(|e| e.into_inner());
            metric_sources::taskmanager(&usage, tm.info.memory_bytes)
        })
        .collect();
    Ok(Json(metric_query::aggregate(&group, &params)?))
}

/// `GET /taskmanagers/:id/metrics`: one TaskManager's `Status.*` metrics, as of its last heartbeat.
#[utoipa::path(
    get,
    path = "/taskmanagers/{id}/metrics",
    summary = "One TaskManager's metrics",
    params(("id" = String, Path, description = "TaskManager id"), MetricParams),
    responses(
        (status = 200, description = "Metric ids, or values with get=", body = Vec<MetricValue>),
        (status = 404, description = "No such TaskManager", body = Errors),
    ),
)]
pub async fn taskmanager(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<MetricParams>,
) -> Result<Json<Vec<MetricValue>>, AppError> {
    let all = state.resource_manager.send(GetTaskManagers).await?;
    let found = all
        .iter()
        .find(|tm| tm.info.id == id)
        .ok_or_else(|| AppError::not_found(format!("TaskManager {id} not found")))?;
    let usage = found.info.usage.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(Json(metric_query::answer(&metric_sources::taskmanager(&usage, found.info.memory_bytes), &params)))
}

/// `GET /jobmanager/metrics`: the cluster's counts and the JobManager process's figures.
#[utoipa::path(
    get,
    path = "/jobmanager/metrics",
    summary = "JobManager metrics",
    params(MetricParams),
    responses(
        (status = 200, description = "Metric ids, or values with get=", body = Vec<MetricValue>),
    ),
)]
pub async fn jobmanager(
    State(state): State<AppState>,
    Query(params): Query<MetricParams>,
) -> Result<Json<Vec<MetricValue>>, AppError> {
    Ok(Json(metric_query::answer(
        &metric_sources::jobmanager(&cluster_counts(&state).await?, &this_process().read()),
        &params,
    )))
}

/// The cluster's jobs, TaskManagers and slots, as the JobManager's metrics count them.
pub(crate) async fn cluster_counts(state: &AppState) -> Result<ClusterCounts, AppError> {
    counts_of(&state.dispatcher, &state.resource_manager).await
}

/// [`cluster_counts`] from the actors themselves (also where no REST server runs: `wflink run --local`).
pub(crate) async fn counts_of(
    dispatcher: &Addr<Dispatcher>,
    resource_manager: &Addr<ResourceManager>,
) -> Result<ClusterCounts, AppError> {
    let resources = resource_manager.send(GetResources).await?;
    let jobs = dispatcher.send(ListJobs).await?;
    Ok(ClusterCounts {
        running_jobs: jobs.iter().filter(|j| !j.status.is_terminal()).count(),
        taskmanagers: resources.task_managers,
        slots_total: resources.slots_total,
        slots_available: resources.slots_available,
    })
}
