//! The query language of Flink's metric endpoints and the shapes of their answers, as plain functions:
//!
//! - without `get` (or with an empty one): the ids of the available metrics, `[{"id": "numRecordsIn"}, …]`;
//! - `get=a,b` on one component (a job, a vertex, a subtask, a TaskManager, the JobManager): the values as strings,
//!   `[{"id": "numRecordsIn", "value": "42"}]`;
//! - `get=a,b` on a group of components (`/jobs/metrics`, `/taskmanagers/metrics`, `…/subtasks/metrics`): over
//!   the components that have each metric, `[{"id": …, "min": …, "max": …, "avg": …, "sum": …, "skew": …}]`, or
//!   only the aggregations named by `agg=min,max,avg,sum,skew`; the group is narrowed by `jobs=`, `taskmanagers=`
//!   or `subtasks=` (indices and ranges, `0,2-3`).
//!
//! Metrics asked for and not known are left out, as Flink does.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppError;
pub use crate::metrics::named::Value;

/// The metrics of one component, by id.
pub type Metrics = Vec<(String, Value)>;

/// The query of every metric endpoint.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricParams {
    /// Comma-separated metric ids; without it, the answer lists the available ids.
    pub get: Option<String>,
    /// Comma-separated aggregations of a group endpoint: `min`, `max`, `avg`, `sum`, `skew` (default: all).
    pub agg: Option<String>,
    /// `/jobs/metrics`: comma-separated job ids to aggregate over (default: every job).
    pub jobs: Option<String>,
    /// `/taskmanagers/metrics`: comma-separated TaskManager ids (default: every TaskManager).
    pub taskmanagers: Option<String>,
    /// `…/subtasks/metrics`: subtask indices and ranges, e.g. `0,2-3` (default: every subtask).
    pub subtasks: Option<String>,
}

/// One metric: `{"id": …}` in a list of the available ones, `{"id": …, "value": "…"}` with `get`. (One type for
/// both, so the OpenAPI document describes an empty list once.)
#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct MetricValue {
    /// The metric's id.
    pub id: String,
    /// Its value, as a string; absent in the list of available metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// One metric aggregated over a group; only the aggregations asked for are present, none in the list of the
/// available metrics.
#[derive(Debug, Serialize, ToSchema, PartialEq, Default)]
pub struct AggregatedMetric {
    /// The metric's id.
    pub id: String,
    /// The lowest value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The highest value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The mean.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avg: Option<f64>,
    /// The sum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    /// How far the highest stands above the mean, in percent of the highest (Flink's data skew).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skew: Option<f64>,
}

/// The aggregations of `agg`, in Flink's names.
const AGGREGATIONS: [&str; 5] = ["min", "max", "avg", "sum", "skew"];

/// The ids of a comma-separated list, without empty entries.
pub fn split(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// A non-empty `get`: an empty one asks for nothing in particular, as none does.
fn wanted(params: &MetricParams) -> Option<&str> {
    params.get.as_deref().filter(|get| !get.trim().is_empty())
}

/// The answer for one component's `metrics`: the ids without `get`, the values asked for with it.
pub fn answer(metrics: &Metrics, params: &MetricParams) -> Vec<MetricValue> {
    let Some(get) = wanted(params) else {
        return metrics.iter().map(|(id, _)| MetricValue { id: id.clone(), value: None }).collect();
    };
    split(get)
        .filter_map(|wanted| {
            let (id, value) = metrics.iter().find(|(id, _)| id == wanted)?;
            Some(MetricValue { id: id.clone(), value: Some(value.text()) })
        })
        .collect()
}

/// The answer for a group's `metrics`: each metric over the components that have it.
pub fn aggregate(group: &[Metrics], params: &MetricParams) -> Result<Vec<AggregatedMetric>, AppError> {
    let aggregations = match params.agg.as_deref().filter(|agg| !agg.trim().is_empty()) {
        None => AGGREGATIONS.to_vec(),
        Some(list) => split(list)
            .map(|name| {
                AGGREGATIONS.iter().find(|a| a.eq_ignore_ascii_case(name)).copied().ok_or_else(|| {
                    AppError::bad_request(format!(
                        "Cannot resolve query parameter (agg) from value \"{name}\": expected one of min, max, avg, \
                         sum, skew."
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let Some(get) = wanted(params) else {
        let mut ids: Vec<AggregatedMetric> = Vec::new();
        for (id, _) in group.iter().flatten() {
            if !ids.iter().any(|known| &known.id == id) {
                ids.push(AggregatedMetric { id: id.clone(), ..Default::default() });
            }
        }
        return Ok(ids);
    };
    let mut answers = Vec::new();
    for id in split(get) {
        let values: Vec<f64> =
            group.iter().filter_map(|m| m.iter().find(|(name, _)| name == id).map(|(_, v)| v.as_f64())).collect();
        if values.is_empty() {
            continue;
        }
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = values.iter().sum();
        let avg = sum / values.len() as f64;
        let skew = if max == 0.0 { 0.0 } else { (max - avg) / max * 100.0 };
        let pick = |name: &str, value: f64| aggregations.contains(&name).then_some(value);
        answers.push(AggregatedMetric {
            id: id.to_string(),
            min: pick("min", min),
            max: pick("max", max),
            avg: pick("avg", avg),
            sum: pick("sum", sum),
            skew: pick("skew", skew),
        });
    }
    Ok(answers)
}

/// Subtask indices of `subtasks=` (`0,2-3`) below `parallelism`; all of them without it.
pub fn subtask_selection(list: Option<&str>, parallelism: u32) -> Result<Vec<u32>, AppError> {
    let Some(list) = list else { return Ok((0..parallelism).collect()) };
    let bad = |part: &str| AppError::bad_request(format!("invalid subtask index or range '{part}' in subtasks"));
    let mut selected = Vec::new();
    for part in split(list) {
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<u32>().map_err(|_| bad(part))?, b.trim().parse().map_err(|_| bad(part))?),
            None => {
                let i = part.parse::<u32>().map_err(|_| bad(part))?;
                (i, i)
            }
        };
        if first > last {
            return Err(bad(part));
        }
        // Indices beyond the vertex have no metrics; clamping bounds the work whatever the range says.
        for index in first..=last.min(parallelism.saturating_sub(1)) {
            if !selected.contains(&index) {
                selected.push(index);
            }
        }
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(get: Option<&str>, agg: Option<&str>) -> MetricParams {
        MetricParams { get: get.map(str::to_string), agg: agg.map(str::to_string), ..Default::default() }
    }

    fn metrics(records: i64, rate: f64) -> Metrics {
        vec![("numRecordsIn".into(), Value::Int(records)), ("busyTimeMsPerSecond".into(), Value::Float(rate))]
    }

    /// Without `get` the ids; with it the values as Flink writes them, unknown ids left out.
    #[test]
    fn one_component_answers_ids_or_values() {
        let m = metrics(42, 9.0);
        let ids = serde_json::to_value(answer(&m, &params(None, None))).unwrap();
        assert_eq!(ids, serde_json::json!([{"id": "numRecordsIn"}, {"id": "busyTimeMsPerSecond"}]));
        assert_eq!(serde_json::to_value(answer(&m, &params(Some(" "), None))).unwrap(), ids, "an empty get is none");
        let values = serde_json::to_value(answer(&m, &params(Some("busyTimeMsPerSecond,nope,numRecordsIn"), None)));
        assert_eq!(
            values.unwrap(),
            serde_json::json!([
                {"id": "busyTimeMsPerSecond", "value": "9.0"},
                {"id": "numRecordsIn", "value": "42"}
            ])
        );
    }

    /// Aggregates are over the components that have the metric, and `agg` picks which are shown.
    #[test]
    fn a_group_answers_aggregates() {
        let group = vec![metrics(10, 100.0), metrics(30, 300.0), vec![]];
        let ids = serde_json::to_value(aggregate(&group, &params(None, Some(""))).unwrap()).unwrap();
        assert_eq!(ids, serde_json::json!([{"id": "numRecordsIn"}, {"id": "busyTimeMsPerSecond"}]));
        let all = serde_json::to_value(aggregate(&group, &params(Some("numRecordsIn"), None)).unwrap()).unwrap();
        let skew = (30.0 - 20.0) / 30.0 * 100.0;
        assert_eq!(
            all,
            serde_json::json!([{"id": "numRecordsIn", "min": 10.0, "max": 30.0, "avg": 20.0, "sum": 40.0, "skew": skew}])
        );
        let some = aggregate(&group, &params(Some("busyTimeMsPerSecond"), Some("max,sum"))).unwrap();
        assert_eq!(
            serde_json::to_value(some).unwrap(),
            serde_json::json!([{"id": "busyTimeMsPerSecond", "max": 300.0, "sum": 400.0}])
        );
        let error = aggregate(&group, &params(Some("numRecordsIn"), Some("median"))).unwrap_err();
        assert_eq!(error.status, axum::http::StatusCode::BAD_REQUEST);
        assert!(error.message.contains("\"median\""), "{}", error.message);
    }

    /// `subtasks=` takes indices and ranges; what lies beyond the vertex is ignored; nonsense is a 400.
    #[test]
    fn subtasks_are_selected_by_index_and_range() {
        assert_eq!(subtask_selection(None, 3).unwrap(), vec![0, 1, 2]);
        assert_eq!(subtask_selection(Some("2,0-1,1"), 3).unwrap(), vec![2, 0, 1]);
        assert_eq!(subtask_selection(Some("1-4000000000"), 3).unwrap(), vec![1, 2]);
        assert!(subtask_selection(Some("x"), 3).is_err());
        assert!(subtask_selection(Some("3-1"), 3).is_err());
    }
}
