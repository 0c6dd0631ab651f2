//! The Prometheus endpoint of a JobManager or TaskManager process, configured with Flink's reporter keys:
//!
//! ```yaml
//! metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory
//! metrics.reporter.prom.port: 9249-9260
//! ```
//!
//! Each process takes the first free port of the range and serves `GET /metrics` in the text format, with
//! Flink's names (`flink_taskmanager_job_task_numRecordsIn`) and labels (`job_id`, `job_name`, `task_name`,
//! `subtask_index`, `tm_id`, …), every value a gauge as Flink's reporter exports them. What is served is
//! collected at scrape time from what the process already keeps (task counters, its JobManager's jobs), so a
//! scrape costs the hot path nothing. The encoding is `prometheus-client`'s; names and label values are first
//! filtered as Flink filters them (`[^a-zA-Z0-9:_]` → `_`), which also keeps them free of quotes and newlines.

use std::future::Future;
use std::ops::RangeInclusive;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use super::{MetricRates, MetricsSnapshot, named};
use crate::config::{ConfigError, Configuration};
use crate::graph::JobVertex;

/// The factory class that switches the reporter on, as in Flink's configuration.
pub const FACTORY_CLASS: &str = "org.apache.flink.metrics.prometheus.PrometheusReporterFactory";
/// Flink 1.x's way to name the same reporter.
const REPORTER_CLASS: &str = "org.apache.flink.metrics.prometheus.PrometheusReporter";
/// Flink's default port.
const DEFAULT_PORT: &str = "9249";
/// Scrapers served at once; more connections wait for one to end.
const MAX_CONNECTIONS: usize = 16;
/// A scraper must send its request within this, and a connection is closed after this long idle.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// One value of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The full name, e.g. `flink_taskmanager_job_task_numRecordsIn` (filtered when encoded).
    pub name: String,
    /// Label names and values (values filtered when encoded).
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

/// Where the endpoint listens, from `metrics.reporter.<name>.*`.
#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusSettings {
    /// The ports to try, in order (`metrics.reporter.<name>.port`: `9249` or `9250-9260`).
    pub ports: RangeInclusive<u16>,
}

impl PrometheusSettings {
    /// The settings of the first reporter whose `factory.class` (or 1.x `class`) is Prometheus's; `None` when
    /// no reporter is.
    pub fn from_config(config: &Configuration) -> Result<Option<Self>, ConfigError> {
        let effective = config.effective();
        let reporter = effective.iter().find_map(|(key, value)| {
            let name = key.strip_prefix("metrics.reporter.")?;
            let name = name.strip_suffix(".factory.class").or_else(|| name.strip_suffix(".class"))?;
            (value == FACTORY_CLASS || value == REPORTER_CLASS).then(|| name.to_string())
        });
        let Some(name) = reporter else { return Ok(None) };
        let key = format!("metrics.reporter.{name}.port");
        let raw = effective.get(&key).map_or(DEFAULT_PORT, String::as_str);
        let ports = parse_ports(raw).ok_or_else(|| ConfigError::InvalidValue {
            key,
            value: raw.to_string(),
            expected: "a port or a range of ports, e.g. 9249 or 9250-9260",
        })?;
        Ok(Some(PrometheusSettings { ports }))
    }

    /// Listens on the first free port of the range, on every interface (as Flink's reporter does).
    pub fn bind(&self) -> std::io::Result<std::net::TcpListener> {
        let mut last = None;
        for port in self.ports.clone() {
            match std::net::TcpListener::bind(("0.0.0.0", port)) {
                Ok(listener) => return Ok(listener),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("the port range is empty")))
    }
}

/// `9249` or `9250-9260`.
fn parse_ports(raw: &str) -> Option<RangeInclusive<u16>> {
    let (first, last) = raw.split_once('-').unwrap_or((raw, raw));
    let (first, last): (u16, u16) = (first.trim().parse().ok()?, last.trim().parse().ok()?);
    (first <= last).then_some(first..=last)
}

/// A subtask's labels, as Flink's reporter gives them: `job_id`, `job_name`, `task_id`, `task_name`,
/// `subtask_index`, `task_attempt_num`.
pub fn task_labels(
    job_id: &str,
    job_name: &str,
    vertex: &JobVertex,
    subtask: u32,
    attempt: u32,
) -> Vec<(String, String)> {
    vec![
        ("job_id".to_string(), job_id.to_string()),
        ("job_name".into(), job_name.to_string()),
        ("task_id".into(), vertex.id.clone()),
        ("task_name".into(), vertex.name.clone()),
        ("subtask_index".into(), subtask.to_string()),
        ("task_attempt_num".into(), attempt.to_string()),
    ]
}

/// A subtask's series, as the process running it serves them: the task's own metrics
/// (`flink_taskmanager_job_task_numRecordsIn`) and its operators' (`flink_taskmanager_job_task_operator_*`, with
/// `operator_id` and `operator_name` besides `labels`).
pub fn task_series(
    vertex: &JobVertex,
    labels: &[(String, String)],
    m: &MetricsSnapshot,
    r: &MetricRates,
) -> Vec<Series> {
    let one = |scope: &str, name: &str, labels: Vec<(String, String)>, value: named::Value| Series {
        name: format!("flink_{scope}_{name}"),
        labels,
        value: value.as_f64(),
    };
    let mut series: Vec<Series> =
        named::task(m, r).into_iter().map(|(name, v)| one("taskmanager_job_task", name, labels.to_vec(), v)).collect();
    let names = named::operator_names(vertex);
    for (operator, name, value) in named::operators(vertex, m, r) {
        let Some(operator_name) = names.get(operator) else { continue };
        let id = vertex.nodes.get(operator).map_or_else(|| vertex.id.clone(), |n| n.to_string());
        let mut labels = labels.to_vec();
        labels.push(("operator_id".into(), id));
        labels.push(("operator_name".into(), operator_name.to_string()));
        series.push(one("taskmanager_job_task_operator", &name, labels, value));
    }
    series
}

/// Flink's filter of names and label values: every character but letters, digits, `:` and `_` becomes `_`.
pub fn filter(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || c == ':' || c == '_' { c } else { '_' }).collect()
}

/// The series of one scrape, for `prometheus-client` to encode; series of one name share one descriptor.
#[derive(Debug)]
struct Scrape(Vec<Series>);

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut series: Vec<&Series> = self.0.iter().collect();
        series.sort_by(|a, b| a.name.cmp(&b.name));
        for family in series.chunk_by(|a, b| a.name == b.name) {
            let name = filter(&family[0].name);
            let help = name.rsplit('_').next().unwrap_or_default().to_string();
            let gauge = ConstGauge::new(0.0f64);
            let mut descriptor = encoder.encode_descriptor(&name, &help, None, gauge.metric_type())?;
            for one in family {
                let labels: Vec<(String, String)> = one.labels.iter().map(|(k, v)| (filter(k), filter(v))).collect();
                ConstGauge::new(one.value).encode(descriptor.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

/// The text of one scrape.
pub fn encode(series: Vec<Series>) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Scrape(series)));
    let mut text = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &registry) {
        tracing::warn!(error = %e, "cannot encode the metrics for Prometheus");
    }
    text
}

/// What collects a scrape's series (on the process's actor thread, so it may ask actors).
pub type Collect = Rc<dyn Fn() -> Pin<Box<dyn Future<Output = Vec<Series>>>>>;

/// Serves `GET /metrics` (any other path: 404) on `listener` until the process ends: HTTP/1, at most
/// [`MAX_CONNECTIONS`] at once, each with a request and idle timeout. Runs on the current (actix) thread.
pub async fn serve(listener: std::net::TcpListener, collect: Collect) -> std::io::Result<()> {
    use hyper::body::Incoming;
    use hyper::{Request, Response, StatusCode};
    use hyper_util::rt::{TokioIo, TokioTimer};

    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = slots.clone().acquire_owned().await.map_err(std::io::Error::other)?;
        let (stream, _) = listener.accept().await?;
        let collect = collect.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let collect = collect.clone();
            async move {
                let response = if request.uri().path() == "/metrics" {
                    let text = encode(collect().await);
                    Response::builder()
                        .header("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")
                        .body(text)
                } else {
                    Response::builder().status(StatusCode::NOT_FOUND).body("only /metrics is served here\n".into())
                };
                response.map(|r| r.map(axum::body::Body::from))
            }
        });
        tokio::task::spawn_local(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(CONNECTION_TIMEOUT)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            if let Ok(Err(e)) = tokio::time::timeout(CONNECTION_TIMEOUT * 6, connection).await {
                tracing::debug!(error = %e, "a Prometheus scrape connection ended with an error");
            }
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Series of one name share one `# TYPE … gauge`; names and label values are filtered as Flink filters them.
    #[test]
    fn series_are_encoded_with_flinks_names_and_labels() {
        let series = |value: f64, subtask: &str| Series {
            name: "flink_taskmanager_job_task_numRecordsIn".into(),
            labels: vec![("task_name".into(), "Source: Read -> Map".into()), ("subtask_index".into(), subtask.into())],
            value,
        };
        let text = encode(vec![series(3.0, "0"), series(4.5, "1")]);
        assert_eq!(text.matches("# TYPE flink_taskmanager_job_task_numRecordsIn gauge").count(), 1, "{text}");
        assert!(
            text.contains(
                "flink_taskmanager_job_task_numRecordsIn{task_name=\"Source:_Read____Map\",subtask_index=\"1\"} 4.5"
            ),
            "{text}"
        );
        assert_eq!(filter("a\"b\nc"), "a_b_c");
    }

    /// The reporter is on only with Prometheus's factory class; its port is one port or a range.
    #[test]
    fn settings_come_from_flinks_reporter_keys() {
        let mut config = Configuration::default();
        assert_eq!(PrometheusSettings::from_config(&config).unwrap(), None);
        config.set("metrics.reporter.prom.factory.class", FACTORY_CLASS);
        assert_eq!(PrometheusSettings::from_config(&config).unwrap().unwrap().ports, 9249..=9249);
        config.set("metrics.reporter.prom.port", "9250-9260");
        assert_eq!(PrometheusSettings::from_config(&config).unwrap().unwrap().ports, 9250..=9260);
        config.set("metrics.reporter.prom.port", "9260-9250");
        assert!(PrometheusSettings::from_config(&config).is_err());
    }
}
