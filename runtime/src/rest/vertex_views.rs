//! The views of one vertex the dashboards show beside its subtasks: `/watermarks`, `/backpressure`,
//! `/subtasktimes`, `/taskmanagers`, `/subtasks/:i` (and `/subtasks/:i/attempts/:attempt`), in Flink 2.3's
//! shapes. Back pressure is not sampled from stacks as Flink once did: each task measures the time it spends
//! blocked on a full output, and the ratio is that time's share of the last seconds, as Flink 2.x reports it too.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;

use super::job_answers::{Metrics, Subtask, reports, subtask_times};
use super::metric_query::MetricValue;
use super::metrics::{find_subtask, find_vertex, job_details};
use super::openapi::{VertexErrors, VertexPath};
use super::{AppError, AppState, Errors};
use crate::job_manager::{SubtaskDetails, VertexDetails};
use crate::protocol::TaskState;
use crate::time::now_millis;

/// Every task state Flink names, so `timestamps` and `status-counts` have all their keys.
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

fn state_name(state: TaskState) -> String {
    serde_json::to_value(state).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// `GET /jobs/:id/vertices/:vid/watermarks`: each subtask's input watermark, `[{"id": "0.currentInputWatermark",
/// "value": "…"}]` (`-9223372036854775808` before the first).
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/vertices/{vertexid}/watermarks",
    summary = "Each subtask's current input watermark",
    params(VertexPath),
    responses(
        (status = 200, description = "OK", body = Vec<MetricValue>),
        VertexErrors,
    ),
)]
pub async fn watermarks(
    State(state): State<AppState>,
    Path((id, vertex_id)): Path<(String, String)>,
) -> Result<Json<Vec<MetricValue>>, AppError> {
    let details = job_details(&state, &id).await?;
    let (vertex, _) = find_vertex(&details, &vertex_id)?;
    let values = vertex
        .subtasks
        .iter()
        .map(|s| MetricValue {
            id: format!("{}.currentInputWatermark", s.index),
            value: Some(s.metrics.input_watermark.to_string()),
        })
        .collect();
    Ok(Json(values))
}

/// `/jobs/:id/vertices/:vid/backpressure`: Flink 2.x's fields, each level under both of its names.
#[derive(Serialize, ToSchema)]
pub struct Backpressure {
    /// Always `ok`: the ratios are measured continuously, never sampled on request.
    status: &'static str,
    /// The highest level of the subtasks: `ok`, `low` or `high`.
    #[serde(rename = "backpressureLevel")]
    level: &'static str,
    /// When the ratios were taken, ms since the epoch.
    #[serde(rename = "end-timestamp")]
    end_timestamp: u64,
    /// Each subtask.
    subtasks: Vec<SubtaskBackpressure>,
    /// The same as `backpressureLevel`.
    #[serde(rename = "backpressure-level")]
    level_dashed: &'static str,
}

/// One subtask's share of time back-pressured, idle and busy, 0 to 1, over the last seconds.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubtaskBackpressure {
    /// Its index.
    subtask: u32,
    /// `ok` up to 0.1, `low` up to 0.5, `high` above.
    backpressure_level: &'static str,
    /// Share of time blocked on a full output.
    ratio: f64,
    /// Share of time waiting for input.
    idle_ratio: f64,
    /// Share of time processing.
    busy_ratio: f64,
    /// The same as `backpressureLevel`.
    #[serde(rename = "backpressure-level")]
    level_dashed: &'static str,
}

/// Flink's back pressure level of a ratio.
fn level(ratio: f64) -> &'static str {
    if ratio <= 0.1 {
        "ok"
    } else if ratio <= 0.5 {
        "low"
    } else {
        "high"
    }
}

/// `GET /jobs/:id/vertices/:vid/backpressure`.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/vertices/{vertexid}/backpressure",
    summary = "Back pressure of each subtask: ratio, level, idle and busy shares",
    params(VertexPath),
    responses(
        (status = 200, description = "OK", body = Backpressure),
        VertexErrors,
    ),
)]
pub async fn backpressure(
    State(state): State<AppState>,
    Path((id, vertex_id)): Path<(String, String)>,
) -> Result<Json<Backpressure>, AppError> {
    let details = job_details(&state, &id).await?;
    let (vertex, _) = find_vertex(&details, &vertex_id)?;
    let subtasks: Vec<SubtaskBackpressure> = vertex
        .subtasks
        .iter()
        .map(|s| {
            let ratio = s.rates.backpressured_ms / 1000.0;
            SubtaskBackpressure {
                subtask: s.index,
                backpressure_level: level(ratio),
                ratio,
                idle_ratio: s.rates.idle_ms / 1000.0,
                busy_ratio: s.rates.busy_ms / 1000.0,
                level_dashed: level(ratio),
            }
        })
        .collect();
    let highest = subtasks.iter().map(|s| s.ratio).fold(0.0, f64::max);
    Ok(Json(Backpressure {
        status: "ok",
        level: level(highest),
        end_timestamp: now_millis(),
        subtasks,
        level_dashed: level(highest),
    }))
}

/// `/jobs/:id/vertices/:vid/subtasktimes`.
#[derive(Serialize, ToSchema)]
pub struct SubtaskTimes {
    /// The vertex id.
    id: String,
    /// The vertex name.
    name: String,
    /// The server's clock, ms since the epoch.
    now: u64,
    /// Each subtask.
    subtasks: Vec<SubtaskTime>,
}

/// When one subtask entered each state (0: never).
#[derive(Serialize, ToSchema)]
pub struct SubtaskTime {
    /// Its index.
    subtask: u32,
    /// Its TaskManager's data address, once deployed.
    endpoint: Option<String>,
    /// ms since it was deployed (-1 before).
    duration: i64,
    /// State → ms since the epoch, every state named.
    timestamps: BTreeMap<String, u64>,
}

/// `GET /jobs/:id/vertices/:vid/subtasktimes`.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/vertices/{vertexid}/subtasktimes",
    summary = "When each subtask entered each state",
    params(VertexPath),
    responses(
        (status = 200, description = "OK", body = SubtaskTimes),
        VertexErrors,
    ),
)]
pub async fn subtasktimes(
    State(state): State<AppState>,
    Path((id, vertex_id)): Path<(String, String)>,
) -> Result<Json<SubtaskTimes>, AppError> {
    let details = job_details(&state, &id).await?;
    let (vertex, _) = find_vertex(&details, &vertex_id)?;
    let subtasks = vertex
        .subtasks
        .iter()
        .map(|s| SubtaskTime {
            subtask: s.index,
            endpoint: s.endpoint.clone(),
            duration: subtask_times(s).2,
            timestamps: {
                let mut all: BTreeMap<String, u64> = TASK_STATES.iter().map(|name| (name.to_string(), 0)).collect();
                all.extend(s.timestamps.iter().map(|(state, at)| (state_name(*state), *at)));
                all
            },
        })
        .collect();
    Ok(Json(SubtaskTimes { id: vertex.id.clone(), name: vertex.name.clone(), now: now_millis(), subtasks }))
}

/// ms a subtask spent in each state before it ends (the current one until now), Flink's five always named (0:
/// not reached; wflink has no SCHEDULED of its own).
fn status_durations(s: &SubtaskDetails) -> BTreeMap<String, u64> {
    let mut entered: Vec<(u64, TaskState)> = s.timestamps.iter().map(|(state, at)| (*at, *state)).collect();
    entered.sort();
    let now = now_millis();
    let mut durations: BTreeMap<String, u64> =
        ["CREATED", "SCHEDULED", "DEPLOYING", "INITIALIZING", "RUNNING"].iter().map(|s| (s.to_string(), 0)).collect();
    for (i, (at, state)) in entered.iter().enumerate().filter(|(_, (_, state))| !state.is_terminal()) {
        let left = entered.get(i + 1).map_or(now, |(next, _)| *next);
        durations.insert(state_name(*state), left.saturating_sub(*at));
    }
    durations
}

/// `/jobs/:id/vertices/:vid/subtasks/:i`: the subtask as `/jobs/:id/vertices/:vid` lists it, with the time
/// spent in each state.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct SubtaskAnswer {
    /// What the vertex lists of it.
    #[serde(flatten)]
    subtask: Subtask,
    /// State → ms spent in it.
    status_duration: BTreeMap<String, u64>,
    /// The same as `start-time`, under the name Flink also sends.
    #[serde(rename = "start_time")]
    start_time_underscore: i64,
}

/// `GET /jobs/:id/vertices/:vid/subtasks/:i`.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/vertices/{vertexid}/subtasks/{subtaskindex}",
    summary = "One subtask: state, TaskManager, metrics, time in each state",
    params(
        VertexPath,
        ("subtaskindex" = u32, Path, description = "0-based subtask index"),
    ),
    responses(
        (status = 200, description = "OK", body = SubtaskAnswer),
        (status = 400, description = "Not a job id or subtask index", body = Errors),
        (status = 404, description = "No such job, vertex or subtask", body = Errors),
    ),
)]
pub async fn subtask(
    State(state): State<AppState>,
    Path((id, vertex_id, index)): Path<(String, String, String)>,
) -> Result<Json<SubtaskAnswer>, AppError> {
    let details = job_details(&state, &id).await?;
    let (vertex, _) = find_vertex(&details, &vertex_id)?;
    let s = find_subtask(vertex, &index)?;
    Ok(Json(SubtaskAnswer::of(s)))
}

impl SubtaskAnswer {
    /// The answer for subtask `s` (also each entry of `/jobs/:id/vertices/:vid`).
    pub(super) fn of(s: &SubtaskDetails) -> Self {
        let subtask = Subtask::of(s);
        SubtaskAnswer { start_time_underscore: subtask.start_time, subtask, status_duration: status_durations(s) }
    }
}

/// `GET /jobs/:id/vertices/:vid/subtasks/:i/attempts/:attempt`: the subtask's current attempt, as
/// `/subtasks/:i` shows it (wflink keeps no earlier attempts of a subtask: a restart starts the job anew).
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/vertices/{vertexid}/subtasks/{subtaskindex}/attempts/{attempt}",
    summary = "One subtask's attempt (only the current one, 0)",
    params(
        VertexPath,
        ("subtaskindex" = u32, Path, description = "0-based subtask index"),
        ("attempt" = u32, Path, description = "the attempt: 0"),
    ),
    responses(
        (status = 200, description = "OK", body = SubtaskAnswer),
        (status = 400, description = "Not a job id, subtask index or attempt", body = Errors),
        (status = 404, description = "No such job, vertex, subtask or attempt", body = Errors),
    ),
)]
pub async fn attempt(
    State(state): State<AppState>,
    Path((id, vertex_id, index, attempt)): Path<(String, String, String, String)>,
) -> Result<Json<SubtaskAnswer>, AppError> {
    current_attempt(&attempt)?;
    subtask(State(state), Path((id, vertex_id, index))).await
}

/// Checks that `raw` names the attempt wflink reports, 0.
pub(super) fn current_attempt(raw: &str) -> Result<(), AppError> {
    match raw.parse::<u32>() {
        Ok(0) => Ok(()),
        Ok(n) => Err(AppError::not_found(format!("attempt {n} not found: only the current attempt, 0, is kept"))),
        Err(_) => Err(AppError::bad_request(format!("invalid attempt '{raw}'"))),
    }
}

/// `/jobs/:id/vertices/:vid/taskmanagers`: the vertex's subtasks grouped by the TaskManager running them.
#[derive(Serialize, ToSchema)]
pub struct VertexTaskManagers {
    /// The vertex id.
    id: String,
    /// The vertex name.
    name: String,
    /// The server's clock, ms since the epoch.
    now: u64,
    /// One entry per TaskManager.
    taskmanagers: Vec<VertexTaskManager>,
}

/// The subtasks of a vertex on one TaskManager.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct VertexTaskManager {
    /// Its data address.
    endpoint: Option<String>,
    /// The state standing for its subtasks.
    status: TaskState,
    /// When the first was deployed, ms since the epoch (-1: not yet).
    start_time: i64,
    /// When the last ended (-1 while any runs).
    end_time: i64,
    /// ms from start to end or now.
    duration: i64,
    /// Sums of its subtasks' metrics.
    metrics: Metrics,
    /// Its subtasks per state, every state named.
    status_counts: BTreeMap<String, usize>,
    /// Its id.
    taskmanager_id: Option<String>,
    /// Statistics of its subtasks' metrics and of their time in each state.
    aggregated: Aggregated,
}

/// `aggregated` of a TaskManager's subtasks: name → statistics.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Aggregated {
    /// Per metric (`read-records`, …).
    metrics: BTreeMap<String, Statistics>,
    /// Per state, ms spent in it.
    status_duration: BTreeMap<String, Statistics>,
}

/// Statistics of integers over subtasks.
#[derive(Serialize, ToSchema, Default, PartialEq, Debug)]
pub struct Statistics {
    min: u64,
    max: u64,
    avg: u64,
    sum: u64,
    median: u64,
    p25: u64,
    p75: u64,
    p95: u64,
}

impl Statistics {
    fn of(mut values: Vec<u64>) -> Self {
        if values.is_empty() {
            return Statistics::default();
        }
        values.sort_unstable();
        let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
        let sum: u64 = values.iter().sum();
        Statistics {
            min: values[0],
            max: values[values.len() - 1],
            avg: sum / values.len() as u64,
            sum,
            median: at(0.5),
            p25: at(0.25),
            p75: at(0.75),
            p95: at(0.95),
        }
    }
}

/// The `VertexTaskManager` entry of the subtasks `on` one TaskManager.
fn on_taskmanager(vertex: &VertexDetails, on: &[&SubtaskDetails]) -> VertexTaskManager {
    let starts: Vec<i64> = on.iter().map(|s| subtask_times(s).0).filter(|t| *t >= 0).collect();
    let start = starts.iter().copied().min().unwrap_or(-1);
    let ends: Vec<i64> = on.iter().map(|s| subtask_times(s).1).collect();
    let end = if ends.iter().all(|e| *e >= 0) { ends.iter().copied().max().unwrap_or(-1) } else { -1 };
    let duration = if start < 0 {
        -1
    } else if end >= 0 {
        end - start
    } else {
        now_millis() as i64 - start
    };
    let mut sum = on.first().map(|s| s.metrics.clone()).unwrap_or_default();
    for s in on.iter().skip(1) {
        sum += &s.metrics;
    }
    let mut status_counts: BTreeMap<String, usize> = TASK_STATES.iter().map(|s| (s.to_string(), 0)).collect();
    for s in on {
        *status_counts.entry(state_name(s.state)).or_default() += 1;
    }
    let states: Vec<TaskState> = on.iter().map(|s| s.state).collect();
    VertexTaskManager {
        endpoint: on.first().and_then(|s| s.endpoint.clone()),
        status: states.iter().copied().max_by_key(|s| !s.is_terminal()).unwrap_or(vertex.status),
        start_time: start,
        end_time: end,
        duration,
        metrics: Metrics::of(&sum, on.iter().all(|s| reports(s))),
        status_counts,
        taskmanager_id: on.first().and_then(|s| s.task_manager.clone()),
        aggregated: Aggregated::of(on),
    }
}

impl Aggregated {
    /// Statistics of the subtasks `on`: of their metrics and of their time in each state.
    pub(super) fn of(on: &[&SubtaskDetails]) -> Self {
        let stat = |f: fn(&SubtaskDetails) -> u64| Statistics::of(on.iter().map(|s| f(s)).collect());
        let metrics = BTreeMap::from([
            ("read-bytes".to_string(), stat(|s| s.metrics.read_bytes)),
            ("write-bytes".to_string(), stat(|s| s.metrics.write_bytes)),
            ("read-records".to_string(), stat(|s| s.metrics.read_records)),
            ("write-records".to_string(), stat(|s| s.metrics.write_records)),
            ("accumulated-backpressured-time".to_string(), stat(|s| s.metrics.accumulated_backpressured_time)),
            ("accumulated-idle-time".to_string(), stat(|s| s.metrics.accumulated_idle_time)),
            ("accumulated-busy-time".to_string(), stat(|s| s.metrics.accumulated_busy_time)),
        ]);
        let durations: Vec<BTreeMap<String, u64>> = on.iter().map(|s| status_durations(s)).collect();
        let mut status_duration = BTreeMap::new();
        for state in durations.iter().flat_map(|d| d.keys()) {
            if !status_duration.contains_key(state) {
                let values = durations.iter().filter_map(|d| d.get(state).copied()).collect();
                status_duration.insert(state.clone(), Statistics::of(values));
            }
        }
        Aggregated { metrics, status_duration }
    }
}

/// `GET /jobs/:id/vertices/:vid/taskmanagers`.
#[utoipa::path(
    get,
    path = "/jobs/{jobid}/vertices/{vertexid}/taskmanagers",
    summary = "A vertex's subtasks by TaskManager, with summed metrics",
    params(VertexPath),
    responses(
        (status = 200, description = "OK", body = VertexTaskManagers),
        VertexErrors,
    ),
)]
pub async fn taskmanagers(
    State(state): State<AppState>,
    Path((id, vertex_id)): Path<(String, String)>,
) -> Result<Json<VertexTaskManagers>, AppError> {
    let details = job_details(&state, &id).await?;
    let (vertex, _) = find_vertex(&details, &vertex_id)?;
    let mut by_taskmanager: BTreeMap<Option<&str>, Vec<&SubtaskDetails>> = BTreeMap::new();
    for s in &vertex.subtasks {
        by_taskmanager.entry(s.task_manager.as_deref()).or_default().push(s);
    }
    let taskmanagers = by_taskmanager.values().map(|on| on_taskmanager(vertex, on)).collect();
    Ok(Json(VertexTaskManagers { id: vertex.id.clone(), name: vertex.name.clone(), now: now_millis(), taskmanagers }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Percentiles pick the nearest rank; an empty group is all zeros.
    #[test]
    fn statistics_of_subtasks() {
        let s = Statistics::of(vec![40, 10, 30, 20]);
        assert_eq!((s.min, s.max, s.sum, s.avg, s.median, s.p25, s.p95), (10, 40, 100, 25, 30, 20, 40));
        assert_eq!(Statistics::of(vec![]), Statistics::default());
    }

    /// Flink's thresholds: up to 10 % ok, up to 50 % low, above high.
    #[test]
    fn back_pressure_levels() {
        assert_eq!((level(0.0), level(0.1), level(0.3), level(0.51)), ("ok", "ok", "low", "high"));
    }
}
