//! The REST API of a JobManager process, shaped like Flink's REST API v1
//! (paths and JSON field names), so Flink's clients and the dashboard
//! work with it. Every path is also served under `/v1`. One file per
//! resource; [`app`] builds the router so tests can call it without a
//! socket, [`serve`] serves it within the connection limits.

mod checkpoints;
mod cluster;
mod error;
mod guard;
mod jar_store;
mod jars;
mod jobs;
mod logs;
mod plan;
pub(crate) mod range;
mod server;
mod ui;

pub use error::AppError;
pub use guard::{GuardError, RestGuard, TOKEN_FILE_KEY, TOKEN_KEY};
pub use jar_store::{Jar, JarError, JarStore};
pub use jars::split_args;
pub use server::{ServerLimits, serve};

use std::sync::Arc;

use actix::Addr;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::config::Configuration;
use crate::dispatcher::{Dispatcher, PreparePool};
use crate::logs::LogFiles;
use crate::resource_manager::ResourceManager;
use crate::wasm::WasmEngine;

/// The OpenAPI description of this API.
const OPENAPI: &str = include_str!("openapi.json");

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

/// The routes, without the `/v1` prefix.
fn routes() -> Router<AppState> {
    Router::new()
        .route("/overview", get(cluster::overview))
        .route("/config", get(cluster::dashboard_config))
        .route("/jobmanager/config", get(cluster::jobmanager_config))
        .route("/jobmanager/logs", get(logs::jobmanager_list))
        .route("/jobmanager/logs/{name}", get(logs::jobmanager_file))
        .route("/jobmanager/log", get(logs::jobmanager_log))
        .route("/jobmanager/stdout", get(logs::jobmanager_stdout))
        .route("/taskmanagers", get(cluster::taskmanagers))
        .route("/taskmanagers/{id}", get(cluster::taskmanager))
        .route("/taskmanagers/{id}/logs", get(logs::taskmanager_list))
        .route("/taskmanagers/{id}/logs/{name}", get(logs::taskmanager_file))
        .route("/taskmanagers/{id}/log", get(logs::taskmanager_log))
        .route("/taskmanagers/{id}/stdout", get(logs::taskmanager_stdout))
        .route("/jobs", get(jobs::list))
        .route("/jobs/overview", get(jobs::overview))
        .route("/jobs/{jobid}", get(jobs::job).patch(jobs::patch))
        .route("/jobs/{jobid}/status", get(jobs::status))
        .route("/jobs/{jobid}/plan", get(jobs::plan))
        .route("/jobs/{jobid}/execution-result", get(jobs::execution_result))
        .route("/jobs/{jobid}/exceptions", get(jobs::exceptions))
        .route("/jobs/{jobid}/vertices/{vertexid}", get(jobs::vertex))
        .route("/jobs/{jobid}/checkpoints", get(checkpoints::list))
        .route("/jobs/{jobid}/checkpoints/config", get(checkpoints::config))
        .route("/jobs/{jobid}/checkpoints/details/{checkpointid}", get(checkpoints::checkpoint))
        .route("/jobs/{jobid}/savepoints", post(checkpoints::trigger_savepoint))
        .route("/jobs/{jobid}/savepoints/{triggerid}", get(checkpoints::savepoint_status))
        .route("/jobs/{jobid}/stop", post(checkpoints::stop))
        .route("/jars", get(jars::list))
        .route("/jars/upload", post(jars::upload))
        .route("/jars/{jarid}", axum::routing::delete(jars::delete))
        .route("/jars/{jarid}/run", post(jars::run))
        .route("/jars/{jarid}/plan", get(jars::plan).post(jars::plan))
        .route("/openapi.json", get(openapi))
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

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

async fn not_found(uri: Uri) -> AppError {
    AppError { status: StatusCode::NOT_FOUND, message: format!("Unable to load requested file {}.", uri.path()) }
}
