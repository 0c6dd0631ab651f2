//! What the JobManager process's Prometheus endpoint serves: the cluster's counts and the process's figures as
//! `flink_jobmanager_*`, and every running job's metrics as `flink_jobmanager_job_*{job_id, job_name}`, the same values
//! `/jobmanager/metrics` and `/jobs/:id/metrics` answer. Served by [`crate::metrics::prometheus::serve`].

use super::AppState;
use super::metric_sources;
use super::metrics::cluster_counts;
use crate::dispatcher::messages::{GetJob, ListJobs};
use crate::metrics::process::this_process;
use crate::metrics::prometheus::Series;

/// The series of one scrape, labelled with `host`.
pub async fn series(state: &AppState, host: &str) -> Vec<Series> {
    let base = vec![("host".to_string(), host.to_string())];
    let mut series = Vec::new();
    match cluster_counts(state).await {
        Ok(counts) => {
            for (name, value) in metric_sources::jobmanager(&counts, &this_process().read()) {
                series.push(Series {
                    name: format!("flink_jobmanager_{name}"),
                    labels: base.clone(),
                    value: value.as_f64(),
                });
            }
        }
        Err(e) => tracing::debug!(error = %e.message, "the cluster's counts are not available for Prometheus"),
    }
    let jobs = state.dispatcher.send(ListJobs).await.unwrap_or_default();
    for job in jobs {
        // As Flink's, a job's metrics leave the reporter when the job ends.
        if job.status.is_terminal() {
            continue;
        }
        let Ok(Ok(details)) = state.dispatcher.send(GetJob { job_id: job.job_id }).await else { continue };
        if details.status.is_terminal() {
            continue;
        }
        let mut labels = base.clone();
        labels.push(("job_id".into(), details.job_id.to_string()));
        labels.push(("job_name".into(), details.name.clone()));
        for (name, value) in metric_sources::job(&details) {
            series.push(Series {
                name: format!("flink_jobmanager_job_{name}"),
                labels: labels.clone(),
                value: value.as_f64(),
            });
        }
    }
    series
}
