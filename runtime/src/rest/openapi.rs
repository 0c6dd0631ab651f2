//! The OpenAPI document of the REST API (`/openapi.json`), generated from
//! the handlers' `#[utoipa::path]` attributes and the answers' types, so it
//! cannot drift from what the server sends as a hand-written one did.
//! Every path is also served under `/v1`, the document's second server.
//!
//! 401 (a wrong or missing token) and 503 (too many connections) can answer
//! any request before a handler runs, so [`GuardErrors`] adds them to every
//! operation; the statuses a handler itself gives are in its attribute.

use std::sync::LazyLock;

use serde::Serialize;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, ToSchema};

use super::{
    accumulators, applications, checkpoint_ops, checkpoints, cluster, jars, jobs, logs, metrics, process_info,
    savepoints, vertex_views,
};

/// Flink's error answer, `{"errors": ["..."]}`: the body of every 4xx and 5xx.
#[derive(Serialize, ToSchema)]
pub struct Errors {
    /// What went wrong, for the client.
    pub errors: Vec<String>,
}

/// The `{jobid}` of every `/jobs/{jobid}...` path, for the OpenAPI document.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct JobPath {
    /// 32 hex characters.
    #[param(pattern = "^[0-9a-f]{32}$")]
    jobid: String,
}

/// The `{jobid}` and `{vertexid}` of every `/jobs/{jobid}/vertices/{vertexid}...` path, for the OpenAPI document.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct VertexPath {
    /// 32 hex characters.
    #[param(pattern = "^[0-9a-f]{32}$")]
    jobid: String,
    /// The vertex id, 32 hex characters.
    vertexid: String,
}

/// The errors of a request naming a job's vertex, for the OpenAPI document.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum VertexErrors {
    /// Not a job id.
    #[response(status = 400)]
    NotAJobId(Errors),
    /// No such job or vertex.
    #[response(status = 404)]
    UnknownVertex(Errors),
}

/// The errors of a request naming a job, for the OpenAPI document.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum JobErrors {
    /// Not a job id.
    #[response(status = 400)]
    NotAJobId(Errors),
    /// No such job.
    #[response(status = 404)]
    UnknownJob(Errors),
}

/// The errors of a request that changes something and may carry a JSON body, for the OpenAPI document.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum ChangeErrors {
    /// Refused: a changing request naming a foreign Host or Origin (no token set), or the action is switched off
    /// (web.submit.enable, web.cancel.enable).
    #[response(status = 403)]
    Forbidden(Errors),
    /// The body is larger than rest.server.max-content-length.
    #[response(status = 413)]
    TooLarge(Errors),
    /// The body is declared as something other than application/json.
    #[response(status = 415)]
    NotJson(Errors),
}

/// The empty answer `{}` of an accepted cancel or a deleted jar, as Flink sends it.
#[derive(Serialize, ToSchema)]
pub struct Empty {}

/// The document's root: where the operations and schemas come from.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "wflink REST API",
        version = "v1",
        description = "Flink REST API v1 paths and field names; every path is also served under /v1. Errors are {\"errors\": [...]}."
    ),
    servers((url = "/"), (url = "/v1")),
    paths(
        cluster::overview,
        cluster::dashboard_config,
        cluster::jobmanager_config,
        cluster::taskmanagers,
        cluster::taskmanager,
        logs::jobmanager_list,
        logs::jobmanager_file,
        logs::jobmanager_log,
        logs::jobmanager_stdout,
        logs::taskmanager_list,
        logs::taskmanager_file,
        logs::taskmanager_log,
        logs::taskmanager_stdout,
        process_info::jobmanager_environment,
        process_info::jobmanager_thread_dump,
        process_info::taskmanager_thread_dump,
        process_info::job_config,
        process_info::job_environment,
        process_info::jobmanager_log_url,
        process_info::taskmanager_log_url,
        process_info::flamegraph,
        applications::overview,
        applications::application,
        applications::cancel,
        applications::exceptions,
        applications::jobmanager_config,
        jobs::config,
        jobs::yarn_cancel,
        checkpoint_ops::trigger,
        checkpoint_ops::status,
        checkpoint_ops::subtasks,
        checkpoint_ops::dispose,
        checkpoint_ops::disposal_status,
        jobs::list,
        jobs::overview,
        jobs::job,
        jobs::patch,
        jobs::status,
        jobs::plan,
        jobs::execution_result,
        jobs::exceptions,
        jobs::vertex,
        metrics::jobs,
        metrics::job,
        metrics::vertex,
        metrics::subtasks,
        metrics::subtask,
        metrics::taskmanagers,
        metrics::taskmanager,
        metrics::jobmanager,
        vertex_views::watermarks,
        vertex_views::backpressure,
        vertex_views::subtasktimes,
        vertex_views::taskmanagers,
        vertex_views::subtask,
        vertex_views::attempt,
        accumulators::vertex_accumulators,
        accumulators::subtasks_accumulators,
        accumulators::job_accumulators,
        accumulators::attempt_accumulators,
        metrics::jm_operator,
        checkpoints::list,
        checkpoints::config,
        checkpoints::checkpoint,
        savepoints::trigger_savepoint,
        savepoints::savepoint_status,
        savepoints::stop,
        jars::list,
        jars::upload,
        jars::delete,
        jars::run,
        jars::plan,
        document,
    ),
    components(schemas(Errors)),
    modifiers(&GuardErrors)
)]
pub struct ApiDoc;

/// `GET /openapi.json`: this document.
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "This document", body = Object)))]
pub async fn document() -> impl axum::response::IntoResponse {
    static DOCUMENT: LazyLock<String> =
        LazyLock::new(|| ApiDoc::openapi().to_pretty_json().unwrap_or_else(|e| format!("{{\"errors\": [\"{e}\"]}}")));
    ([(axum::http::header::CONTENT_TYPE, "application/json")], DOCUMENT.as_str())
}

/// Adds the answers the guard and the connection limit give before any
/// handler runs, as shared responses referenced from every operation.
struct GuardErrors;

/// `(status, shared response name, description)` of what can answer any request.
const GUARD_ERRORS: [(&str, &str, &str); 2] = [
    ("401", "Unauthorized", "No or a wrong bearer token, when security.rest.token is set"),
    ("503", "ServiceUnavailable", "rest.server.max-connections connections are already open"),
];

impl Modify for GuardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (_, name, description) in GUARD_ERRORS {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Errors"))).build();
            let response = ResponseBuilder::new().description(description).content("application/json", content).build();
            components.responses.insert(name.to_string(), RefOr::T(response));
        }
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                for (status, name, _) in GUARD_ERRORS {
                    let reference = RefOr::Ref(Ref::from_response_name(name));
                    operation.responses.responses.entry(status.to_string()).or_insert(reference);
                }
            }
        }
    }
}
