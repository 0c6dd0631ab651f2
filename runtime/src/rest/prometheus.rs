//! What a JobManager process's Prometheus endpoint serves: the cluster's counts and the process's figures as
//! `flink_jobmanager_*`, and every running job's metrics as `flink_jobmanager_job_*{job_id, job_name}`, the same values
//! `/jobmanager/metrics` and `/jobs/:id/metrics` answer. Where the tasks run in the same process
//! (`wflink run --local`), their metrics too, as a TaskManager's endpoint serves them
//! (`flink_taskmanager_job_task_*`), from the JobManager's view of them. Served by
//! [`crate::metrics::prometheus::serve`].

use actix::Addr;

use super::metric_sources;
use super::metrics::counts_of;
use crate::dispatcher::Dispatcher;
use crate::dispatcher::messages::{GetJob, ListJobs};
use crate::job_manager::JobDetails;
use crate::metrics::process::this_process;
use crate::metrics::prometheus::{self, Series};
use crate::resource_manager::ResourceManager;

/// The actors a scrape asks, and what it labels the series with.
#[derive(Clone)]
pub struct Sources {
    /// Jobs.
    pub dispatcher: Addr<Dispatcher>,
    /// TaskManagers and slots.
    pub resource_manager: Addr<ResourceManager>,
    /// The `host` label.
    pub host: String,
    /// Whether the jobs' tasks run in this process (a local run), so their metrics are served here too.
    pub tasks_here: bool,
}

/// The series of one scrape.
pub async fn series(sources: &Sources) -> Vec<Series> {
    let base = vec![("host".to_string(), sources.host.clone())];
    let mut series = Vec::new();
    match counts_of(&sources.dispatcher, &sources.resource_manager).await {
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
    let jobs = sources.dispatcher.send(ListJobs).await.unwrap_or_default();
    for job in jobs {
        // As Flink's, a job's metrics leave the reporter when the job ends.
        if job.status.is_terminal() {
            continue;
        }
        let Ok(Ok(details)) = sources.dispatcher.send(GetJob { job_id: job.job_id }).await else { continue };
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
        if sources.tasks_here {
            series.extend(task_series(&details, &base));
        }
    }
    series
}

/// Every deployed subtask's series, labelled as its TaskManager's endpoint labels them (`tm_id` and the task's).
fn task_series(details: &JobDetails, base: &[(String, String)]) -> Vec<Series> {
    let job_id = details.job_id.to_string();
    let mut series = Vec::new();
    for (vertex, plan) in details.vertices.iter().zip(details.job_graph.vertices.iter()) {
        for subtask in &vertex.subtasks {
            let Some(tm_id) = &subtask.task_manager else { continue };
            let mut labels = base.to_vec();
            labels.push(("tm_id".into(), tm_id.clone()));
            labels.extend(prometheus::task_labels(&job_id, &details.name, plan, subtask.index, details.restarts));
            series.extend(prometheus::task_series(plan, &labels, &subtask.metrics, &subtask.rates));
        }
    }
    series
}

/// Serves `sources`' series on `listener` from the current actix thread for as long as the process runs; returns
/// the endpoint's URL (`http://HOST:PORT/metrics`).
pub fn spawn(listener: std::net::TcpListener, sources: Sources) -> String {
    let url = format!("http://{}:{}/metrics", sources.host, listener.local_addr().map_or(0, |a| a.port()));
    let collect: prometheus::Collect = std::rc::Rc::new(move || {
        let sources = sources.clone();
        Box::pin(async move { series(&sources).await })
    });
    actix::spawn(async move {
        if let Err(e) = prometheus::serve(listener, collect).await {
            tracing::error!(error = %e, "the Prometheus endpoint stopped");
        }
    });
    url
}
