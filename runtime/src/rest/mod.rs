//! The REST API of a JobManager process, shaped like Flink's REST API v1
//! (paths and JSON field names), so Flink's clients and the dashboard
//! work with it. Every path is also served under `/v1`. One file per
//! resource; [`app`] builds the router so tests can call it without a
//! socket, [`serve`] serves it within the connection limits.

mod accumulators;
mod applications;
mod checkpoint_ops;
mod checkpoints;
mod cluster;
mod error;
mod guard;
mod jar_store;
mod jars;
mod job_answers;
mod jobs;
mod logs;
mod metric_query;
mod metric_sources;
mod metrics;
mod openapi;
mod plan;
mod process_info;
pub mod prometheus;
pub(crate) mod range;
mod savepoints;
mod server;
mod ui;
mod vertex_views;

pub use error::AppError;
pub use guard::{GuardError, RestGuard, TOKEN_FILE_KEY, TOKEN_KEY};
pub use jar_store::{Jar, JarError, JarStore};
pub use jars::split_args;
pub use openapi::{ApiDoc, Errors};
pub use server::{ServerLimits, serve};

use std::sync::Arc;

use actix::Addr;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri};
use axum::routing::{MethodRouter, get};

use crate::config::Configuration;
use crate::dispatcher::{Dispatcher, PreparePool};
use crate::logs::LogFiles;
use crate::resource_manager::ResourceManager;
use crate::wasm::WasmEngine;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// Jobs.
    pub dispatcher: Addr<Dispatcher>,
    /// TaskManagers and slots.
    pub resource_manager: Addr<ResourceManager>,
    /// Compiles uploads (which checks them).
    pub engine: Arc<WasmEngine>,
    /// Describes jobs for `/jars/:id/plan`, off the REST server's threads.
    pub preparing: Arc<PreparePool>,
    /// The effective configuration.
    pub config: Configuration,
    /// Uploaded components.
    pub jars: Arc<JarStore>,
    /// `http://host:port` of this server, as `/jars` reports it.
    pub rest_url: String,
    /// This process's log and stdout files (`/jobmanager/log*`).
    pub logs: Arc<LogFiles>,
    /// When the JobManager started, ms since the epoch (the dashboard's uptime).
    pub start_time: u64,
    /// Who may do what: token, origins, submit and cancel switches, allowed paths.
    pub guard: Arc<RestGuard>,
}

/// Declares the routes once, for the router ([`routes`]) and for the test that holds the OpenAPI document to them
/// ([`ROUTES`]): `"/path" { method: handler, ... }`.
macro_rules! routes {
    ($($path:literal { $($method:ident: $handler:path),+ $(,)? })*) => {
        /// Every `(method, path)` served, without the `/v1` prefix.
        #[cfg_attr(not(test), allow(dead_code))]
        const ROUTES: &[(&str, &str)] = &[$($((stringify!($method), $path)),+),*];

        /// The routes, without the `/v1` prefix.
        fn routes() -> Router<AppState> {
            Router::new()$(.route($path, MethodRouter::new()$(.$method($handler))+))*
        }
    };
}

routes! {
    "/overview" { get: cluster::overview }
    "/config" { get: cluster::dashboard_config }
    "/jobmanager/config" { get: cluster::jobmanager_config }
    "/jobmanager/logs" { get: logs::jobmanager_list }
    "/jobmanager/logs/{name}" { get: logs::jobmanager_file }
    "/jobmanager/log" { get: logs::jobmanager_log }
    "/jobmanager/stdout" { get: logs::jobmanager_stdout }
    "/jobmanager/metrics" { get: metrics::jobmanager }
    "/jobmanager/environment" { get: process_info::jobmanager_environment }
    "/jobmanager/thread-dump" { get: process_info::jobmanager_thread_dump }
    "/taskmanagers" { get: cluster::taskmanagers }
    "/taskmanagers/metrics" { get: metrics::taskmanagers }
    "/taskmanagers/{id}/metrics" { get: metrics::taskmanager }
    "/taskmanagers/{id}" { get: cluster::taskmanager }
    "/taskmanagers/{id}/logs" { get: logs::taskmanager_list }
    "/taskmanagers/{id}/logs/{name}" { get: logs::taskmanager_file }
    "/taskmanagers/{id}/log" { get: logs::taskmanager_log }
    "/taskmanagers/{id}/stdout" { get: logs::taskmanager_stdout }
    "/taskmanagers/{id}/thread-dump" { get: process_info::taskmanager_thread_dump }
    "/applications/overview" { get: applications::overview }
    "/applications/{applicationid}" { get: applications::application }
    "/applications/{applicationid}/cancel" { post: applications::cancel }
    "/applications/{applicationid}/exceptions" { get: applications::exceptions }
    "/applications/{applicationid}/jobmanager/config" { get: applications::jobmanager_config }
    "/jobs" { get: jobs::list }
    "/jobs/overview" { get: jobs::overview }
    "/jobs/metrics" { get: metrics::jobs }
    "/jobs/{jobid}/metrics" { get: metrics::job }
    "/jobs/{jobid}" { get: jobs::job, patch: jobs::patch }
    "/jobs/{jobid}/status" { get: jobs::status }
    "/jobs/{jobid}/plan" { get: jobs::plan }
    "/jobs/{jobid}/execution-result" { get: jobs::execution_result }
    "/jobs/{jobid}/exceptions" { get: jobs::exceptions }
    "/jobs/{jobid}/config" { get: jobs::config }
    "/jobs/{jobid}/yarn-cancel" { get: jobs::yarn_cancel }
    "/jobs/{jobid}/jobmanager/config" { get: process_info::job_config }
    "/jobs/{jobid}/jobmanager/environment" { get: process_info::job_environment }
    "/jobs/{jobid}/jobmanager/log-url" { get: process_info::jobmanager_log_url }
    "/jobs/{jobid}/taskmanagers/{taskmanagerid}/log-url" { get: process_info::taskmanager_log_url }
    "/jobs/{jobid}/vertices/{vertexid}" { get: jobs::vertex }
    "/jobs/{jobid}/vertices/{vertexid}/flamegraph" { get: process_info::flamegraph }
    "/jobs/{jobid}/vertices/{vertexid}/metrics" { get: metrics::vertex }
    "/jobs/{jobid}/vertices/{vertexid}/subtasks/metrics" { get: metrics::subtasks }
    "/jobs/{jobid}/vertices/{vertexid}/subtasks/{subtaskindex}" { get: vertex_views::subtask }
    "/jobs/{jobid}/vertices/{vertexid}/subtasks/{subtaskindex}/metrics" { get: metrics::subtask }
    "/jobs/{jobid}/vertices/{vertexid}/subtasks/accumulators" { get: accumulators::subtasks_accumulators }
    "/jobs/{jobid}/vertices/{vertexid}/subtasks/{subtaskindex}/attempts/{attempt}" { get: vertex_views::attempt }
    "/jobs/{jobid}/vertices/{vertexid}/subtasks/{subtaskindex}/attempts/{attempt}/accumulators" {
        get: accumulators::attempt_accumulators
    }
    "/jobs/{jobid}/vertices/{vertexid}/jm-operator-metrics" { get: metrics::jm_operator }
    "/jobs/{jobid}/vertices/{vertexid}/watermarks" { get: vertex_views::watermarks }
    "/jobs/{jobid}/vertices/{vertexid}/backpressure" { get: vertex_views::backpressure }
    "/jobs/{jobid}/vertices/{vertexid}/subtasktimes" { get: vertex_views::subtasktimes }
    "/jobs/{jobid}/vertices/{vertexid}/taskmanagers" { get: vertex_views::taskmanagers }
    "/jobs/{jobid}/vertices/{vertexid}/accumulators" { get: accumulators::vertex_accumulators }
    "/jobs/{jobid}/accumulators" { get: accumulators::job_accumulators }
    "/jobs/{jobid}/checkpoints" { get: checkpoints::list, post: checkpoint_ops::trigger }
    "/jobs/{jobid}/checkpoints/{triggerid}" { get: checkpoint_ops::status }
    "/jobs/{jobid}/checkpoints/details/{checkpointid}/subtasks/{vertexid}" { get: checkpoint_ops::subtasks }
    "/jobs/{jobid}/checkpoints/config" { get: checkpoints::config }
    "/jobs/{jobid}/checkpoints/details/{checkpointid}" { get: checkpoints::checkpoint }
    "/jobs/{jobid}/savepoints" { post: savepoints::trigger_savepoint }
    "/jobs/{jobid}/savepoints/{triggerid}" { get: savepoints::savepoint_status }
    "/jobs/{jobid}/stop" { post: savepoints::stop }
    "/savepoint-disposal" { post: checkpoint_ops::dispose }
    "/savepoint-disposal/{triggerid}" { get: checkpoint_ops::disposal_status }
    "/jars" { get: jars::list }
    "/jars/upload" { post: jars::upload }
    "/jars/{jarid}" { delete: jars::delete }
    "/jars/{jarid}/run" { post: jars::run }
    "/jars/{jarid}/plan" { get: jars::plan, post: jars::plan }
    "/openapi.json" { get: openapi::document }
}

/// The whole API: the dashboard at `/` (assets under `/assets`), every route at `/` and under `/v1`, bodies limited to
/// `rest.server.max-content-length` (413 beyond), unknown paths 404 as JSON; every request passes the [`RestGuard`]
/// first, and every error answer is JSON ([`error::json_errors`]).
pub fn app(state: AppState) -> Router {
    let limit = state.config.memory_size("rest.server.max-content-length").unwrap_or(100 << 20) as usize;
    let guard = state.guard.clone();
    Router::new()
        .route("/", get(ui::index))
        .route("/assets/{file}", get(ui::asset))
        .merge(routes())
        .nest("/v1", routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(guard, guard::guard))
        .layer(axum::middleware::map_response(error::json_errors))
        .with_state(state)
}

async fn not_found(uri: Uri) -> AppError {
    AppError { status: StatusCode::NOT_FOUND, message: format!("Unable to load requested file {}.", uri.path()) }
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    use super::*;

    /// The document names exactly the routes the router serves, method by method: a route added without its
    /// `#[utoipa::path]` (or listed in [`ApiDoc`]), or a documented path the router lacks, fails here.
    #[test]
    fn the_openapi_document_covers_every_route_and_no_other() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut documented: Vec<(String, String)> = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for method in ["get", "put", "post", "delete", "patch", "head", "options", "trace"] {
                if item.get(method).is_some() {
                    documented.push((method.to_string(), path.clone()));
                }
            }
        }
        let mut served: Vec<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
        documented.sort();
        served.sort();
        assert_eq!(documented, served);
    }

    /// Every operation documents its success and the errors every request can get, each error as Flink's
    /// `{"errors": [...]}`.
    #[test]
    fn every_operation_documents_its_answers() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let responses = operation["responses"].as_object().unwrap();
                assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path}: no success answer");
                for status in ["401", "503"] {
                    assert!(responses.contains_key(status), "{method} {path}: no {status}");
                }
            }
        }
        assert!(document["components"]["schemas"]["Errors"]["properties"]["errors"].is_object(), "{document}");
    }
}
