//! Components ("jars" in Flink's API): `GET /jars`, `POST /jars/upload`
//! (multipart field `jarfile`; checked and compiled at upload),
//! `POST /jars/:id/run`, `GET /jars/:id/plan`, `DELETE /jars/:id`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, IntoResponses, ToSchema};

use super::jar_store::Jar;
use super::openapi::{ChangeErrors, Empty};
use super::plan::{self as plans, PlanAnswer};
use super::{AppError, AppState, Errors};
use crate::dispatcher::messages::{SavepointRestoreSettings, SubmitJob};
use crate::dispatcher::{SubmitError, prepare};

/// The form of `POST /jars/upload`, for the OpenAPI document only: the handler reads the multipart stream itself.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The `.wasm` component.
    #[schema(value_type = String, format = Binary)]
    jarfile: Vec<u8>,
}

/// The query of `POST /jars/:jarid/run` and `/jars/:jarid/plan`, for the OpenAPI document: the handlers read it
/// as a [`RunRequest`], which a JSON body overrides field by field.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub struct RunQuery {
    /// Only `default`: a component exports one job.
    entry_class: Option<String>,
    /// Arguments as one string, split like a shell.
    program_arg: Option<String>,
    /// Parallelism for operators that set none.
    #[param(minimum = 1)]
    parallelism: Option<u32>,
    /// Start from this savepoint or retained checkpoint.
    savepoint_path: Option<String>,
    /// Accept a savepoint with state for operators the job lacks.
    allow_non_restored_state: Option<bool>,
}

/// The errors of running or planning a jar, for the OpenAPI document.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum RunErrors {
    /// Bad arguments, or the component does not describe a job with them.
    #[response(status = 400)]
    Invalid(Errors),
    /// No such jar.
    #[response(status = 404)]
    UnknownJar(Errors),
    /// Every describe thread is busy and `wasm.describe.queue` requests already wait.
    #[response(status = 429)]
    Busy(Errors),
}

/// The one entry point every component has until the WIT contract names several.
pub const DEFAULT_ENTRY: &str = "default";

/// Room for the rest of the message a component travels to a TaskManager in.
const MESSAGE_OVERHEAD: usize = 4 << 10;

/// `GET /jars`.
#[utoipa::path(
    get,
    path = "/jars",
    summary = "Uploaded components",
    responses(
        (status = 200, description = "OK", body = JarList),
    ),
)]
pub async fn list(State(state): State<AppState>) -> Json<JarList> {
    let files = state
        .jars
        .list()
        .into_iter()
        .map(|jar| JarFile {
            id: jar.id,
            name: jar.name,
            uploaded: jar.uploaded,
            entry: vec![JarEntry { name: DEFAULT_ENTRY, description: None }],
        })
        .collect();
    Json(JarList { address: state.rest_url.clone(), files })
}

/// `POST /jars/upload`: the component must be a `wflink:job` component;
/// it is written to the upload directory as it arrives (never held whole
/// in memory by the upload), then compiled, so a bad one is refused here
/// and never kept.
#[utoipa::path(
    post,
    path = "/jars/upload",
    summary = "Upload a .wasm job component (multipart field jarfile); compiled and checked now",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "OK", body = Uploaded),
        (status = 400, description = "Not a wflink:job component, or no jarfile field", body = Errors),
        (status = 403, description = "Refused: a changing request naming a foreign Host or Origin (no token set), or the action is switched off (web.submit.enable, web.cancel.enable)", body = Errors),
        (status = 413, description = "The body is larger than rest.server.max-content-length", body = Errors),
    ),
)]
pub async fn upload(State(state): State<AppState>, mut multipart: Multipart) -> Result<Json<Uploaded>, AppError> {
    let multipart_error =
        |e: axum::extract::multipart::MultipartError| AppError { status: e.status(), message: e.body_text() };
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("jarfile") {
            continue;
        }
        let name = field.file_name().unwrap_or("job.wasm").to_string();
        let pending = match state.jars.begin(&name) {
            Ok(pending) => pending,
            Err(e) => {
                // Read the rest of the body (bounded by rest.server.max-content-length)
                // before answering: a server that closes on a client still
                // sending makes it fail with a broken pipe, not this 400.
                while let Ok(Some(_)) = field.chunk().await {}
                while let Ok(Some(mut rest)) = multipart.next_field().await {
                    while let Ok(Some(_)) = rest.chunk().await {}
                }
                return Err(AppError::bad_request(e.to_string()));
            }
        };
        let written = write_to_disk(&mut field, &pending.path).await;
        let shippable = crate::network::limits().rpc_max.saturating_sub(MESSAGE_OVERHEAD) as u64;
        let checked = match written {
            Ok(0) => Err(AppError::bad_request(format!("the uploaded file '{name}' is empty"))),
            Ok(size) if size > shippable => Err(AppError::bad_request(format!(
                "'{name}' is {size} bytes, but a component travels to TaskManagers in one message of at most \
                 {shippable} bytes (pekko.framesize)"
            ))),
            Ok(_) => check(&state, &name, &pending.path).await,
            Err(e) => Err(e),
        };
        if let Err(e) = checked {
            state.jars.discard(&pending);
            return Err(e);
        }
        let jar = state.jars.keep(pending).map_err(AppError::internal)?;
        return Ok(Json(Uploaded { filename: jar.path.display().to_string(), status: "success" }));
    }
    Err(AppError::bad_request("the upload has no file in the multipart field 'jarfile'"))
}

/// Writes the field to `path` chunk by chunk on a blocking thread; returns its size.
async fn write_to_disk(
    field: &mut axum::extract::multipart::Field<'_>,
    path: &std::path::Path,
) -> Result<u64, AppError> {
    use std::io::Write;
    let (chunks, mut queue) = tokio::sync::mpsc::channel::<Bytes>(8);
    let target = path.to_path_buf();
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&target)?);
        let mut size = 0;
        while let Some(chunk) = queue.blocking_recv() {
            file.write_all(&chunk)?;
            size += chunk.len() as u64;
        }
        file.flush()?;
        Ok(size)
    });
    let mut received = Ok(());
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                if chunks.send(chunk).await.is_err() {
                    break; // The writer failed; its error says why.
                }
            }
            Ok(None) => break,
            Err(e) => {
                received = Err(AppError { status: e.status(), message: e.body_text() });
                break;
            }
        }
    }
    drop(chunks);
    let written = writer.await.map_err(AppError::internal)?.map_err(AppError::internal);
    received?;
    written
}

/// Compiles the upload at `path`, which checks it is a job component.
async fn check(state: &AppState, name: &str, path: &std::path::Path) -> Result<(), AppError> {
    let engine = state.engine.clone();
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::read(&path).map(|bytes| engine.load(&bytes)))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?
        .map(|_| ())
        .map_err(|e| AppError::bad_request(format!("'{name}' is not a valid job component: {e}")))
}

/// How to run or plan a component: from the query, or a JSON body (the body wins).
#[derive(Deserialize, Default, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunRequest {
    /// Which entry point of the component; only [`DEFAULT_ENTRY`] exists.
    #[serde(alias = "entry-class")]
    entry_class: Option<String>,
    /// Arguments as one string, split like a shell would (Flink's dashboard names it `programArgs`, and
    /// `program-args` in the query).
    #[serde(alias = "programArgs", alias = "program-args")]
    program_arg: Option<String>,
    /// Arguments as a list (wins over `programArg`).
    program_args_list: Option<Vec<String>>,
    /// Parallelism for operators that set none (a number, or its text as Flink's dashboard sends a form field).
    #[serde(default, deserialize_with = "number_or_text")]
    #[schema(value_type = Option<u32>)]
    parallelism: Option<u32>,
    /// A savepoint (or retained checkpoint) to start from.
    savepoint_path: Option<String>,
    /// Start even if the savepoint has state of operators the job lacks.
    allow_non_restored_state: Option<bool>,
}

/// A number given as a JSON number or as its text (`"2"`); empty text or null is none.
fn number_or_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrText {
        Number(u32),
        Text(String),
    }
    match Option::<NumberOrText>::deserialize(deserializer)? {
        None => Ok(None),
        Some(NumberOrText::Number(n)) => Ok(Some(n)),
        Some(NumberOrText::Text(t)) if t.trim().is_empty() => Ok(None),
        Some(NumberOrText::Text(t)) => t
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("parallelism '{t}' is not a positive number"))),
    }
}

impl RunRequest {
    fn merge(query: RunRequest, body: &Bytes) -> Result<RunRequest, AppError> {
        let body: RunRequest = if body.iter().all(u8::is_ascii_whitespace) {
            RunRequest::default()
        } else {
            serde_json::from_slice(body).map_err(|e| AppError::bad_request(format!("malformed JSON body: {e}")))?
        };
        Ok(RunRequest {
            entry_class: body.entry_class.or(query.entry_class),
            program_arg: body.program_arg.or(query.program_arg),
            program_args_list: body.program_args_list.or(query.program_args_list),
            parallelism: body.parallelism.or(query.parallelism),
            savepoint_path: body.savepoint_path.or(query.savepoint_path),
            allow_non_restored_state: body.allow_non_restored_state.or(query.allow_non_restored_state),
        })
    }

    fn savepoint(&self) -> Option<SavepointRestoreSettings> {
        let path = self.savepoint_path.as_deref().map(str::trim).filter(|p| !p.is_empty())?;
        Some(SavepointRestoreSettings {
            path: path.to_string(),
            allow_non_restored_state: self.allow_non_restored_state.unwrap_or(false),
        })
    }

    fn args(&self) -> Result<Vec<String>, AppError> {
        if let Some(entry) = self.entry_class.as_deref().filter(|e| !e.is_empty() && *e != DEFAULT_ENTRY) {
            return Err(AppError::bad_request(format!(
                "unknown entry '{entry}': a component exports one job, its entry is '{DEFAULT_ENTRY}'"
            )));
        }
        match (&self.program_args_list, &self.program_arg) {
            (Some(list), _) => Ok(list.clone()),
            (None, Some(line)) => split_args(line),
            (None, None) => Ok(Vec::new()),
        }
    }
}

/// Splits `a "b c" 'd'` into `a`, `b c`, `d`.
pub fn split_args(line: &str) -> Result<Vec<String>, AppError> {
    let mut args = Vec::new();
    let mut current: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                current.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => args.extend(current.take()),
            (None, c) => current.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return Err(AppError::bad_request(format!("unbalanced quote in programArg '{line}'")));
    }
    args.extend(current);
    Ok(args)
}

fn jar(state: &AppState, id: &str) -> Result<Jar, AppError> {
    state.jars.get(id).ok_or_else(|| AppError::not_found(format!("jar {id} not found")))
}

/// The bytes of the jar with `id`, read from the upload directory.
async fn jar_bytes(state: &AppState, id: &str) -> Result<Arc<[u8]>, AppError> {
    let jar = jar(state, id)?;
    tokio::task::spawn_blocking(move || jar.read().map_err(|e| format!("cannot read {}: {e}", jar.path.display())))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

/// `POST /jars/:id/run`: submits the component as a job; `{"jobid": ..., "applicationId": ...}`.
#[utoipa::path(
    post,
    path = "/jars/{jarid}/run",
    summary = "Run an uploaded component as a job; returns {jobid, applicationId}",
    params(
        ("jarid" = String, Path, description = "id returned by the upload (last path component of `filename`)"),
        RunQuery,
    ),
    request_body(content = Option<RunRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "OK", body = Submitted),
        RunErrors,
        ChangeErrors,
    ),
)]
pub async fn run(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<RunRequest>,
    body: Bytes,
) -> Result<Json<Submitted>, AppError> {
    let request = RunRequest::merge(query, &body)?;
    if let Some(savepoint) = request.savepoint() {
        state.guard.roots.check(&savepoint.path).map_err(|e| AppError::bad_request(e.to_string()))?;
    }
    let component = jar_bytes(&state, &id).await?;
    let submit = SubmitJob {
        component,
        args: request.args()?,
        parallelism: request.parallelism,
        savepoint: request.savepoint(),
        prepared: None,
    };
    let job_id = state.dispatcher.send(submit).await??;
    Ok(Json(Submitted { jobid: job_id.to_string(), application_id: job_id.to_string() }))
}

/// `GET /jars/:id/plan`: the plan the component describes with these arguments.
#[utoipa::path(
    method(get, post),
    path = "/jars/{jarid}/plan",
    summary = "Plan of an uploaded component with these arguments",
    params(
        ("jarid" = String, Path, description = "id returned by the upload (last path component of `filename`)"),
        RunQuery,
    ),
    request_body(content = Option<RunRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "OK", body = PlanAnswer),
        RunErrors,
        ChangeErrors,
    ),
)]
pub async fn plan(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<RunRequest>,
    body: Bytes,
) -> Result<Json<PlanAnswer>, AppError> {
    let request = RunRequest::merge(query, &body)?;
    let args = request.args()?;
    let component = jar_bytes(&state, &id).await?;
    let (engine, config) = (state.engine.clone(), state.config.clone());
    let pending = state.preparing.submit(move || prepare(&engine, &component, &args, request.parallelism, &config));
    let prepared = async move { pending?.await.map_err(SubmitError::from)? }.await.map_err(AppError::from)?;
    Ok(Json(PlanAnswer { plan: plans::plan("00000000000000000000000000000000", &prepared.job_graph) }))
}

/// `DELETE /jars/:id`.
#[utoipa::path(
    delete,
    path = "/jars/{jarid}",
    summary = "Delete an uploaded component",
    params(
        ("jarid" = String, Path, description = "id returned by the upload (last path component of `filename`)"),
    ),
    responses(
        (status = 200, description = "OK", body = Empty),
        (status = 403, description = "Refused: a changing request naming a foreign Host or Origin (no token set), or the action is switched off (web.submit.enable, web.cancel.enable)", body = Errors),
        (status = 404, description = "No such jar", body = Errors),
        (status = 415, description = "The body is declared as something other than application/json", body = Errors),
    ),
)]
pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Empty>, AppError> {
    if !state.jars.remove(&id) {
        return Err(AppError::not_found(format!("jar {id} not found")));
    }
    Ok(Json(Empty {}))
}

/// `/jars`.
#[derive(Serialize, ToSchema)]
pub struct JarList {
    /// `http://host:port` of this server.
    address: String,
    /// Every uploaded component.
    files: Vec<JarFile>,
}

/// An uploaded component in `/jars`.
#[derive(Serialize, ToSchema)]
pub struct JarFile {
    /// What `/jars/:jarid/...` takes.
    id: String,
    /// The uploaded file's name.
    name: String,
    /// When it was uploaded, ms since the epoch.
    uploaded: u64,
    /// Its entry points: the one job a component exports.
    entry: Vec<JarEntry>,
}

/// An entry point of a component.
#[derive(Serialize, ToSchema)]
pub struct JarEntry {
    /// Always `default`.
    name: &'static str,
    /// Always null.
    description: Option<String>,
}

/// `POST /jars/upload`.
#[derive(Serialize, ToSchema)]
pub struct Uploaded {
    /// Where it is stored; its last path component is the jar id.
    filename: String,
    /// Always `success`.
    status: &'static str,
}

/// `POST /jars/:jarid/run`.
#[derive(Serialize, ToSchema)]
pub struct Submitted {
    /// The new job's id, 32 hex characters.
    jobid: String,
    /// Its application's id, as Flink 2.3 answers: the job's own (an application here is one job).
    #[serde(rename = "applicationId")]
    application_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_args_split_like_a_shell() {
        assert_eq!(split_args(r#"--input "a b.txt" 'x' y"#).unwrap(), ["--input", "a b.txt", "x", "y"]);
        assert_eq!(split_args("").unwrap(), Vec::<String>::new());
        assert!(split_args("\"open").is_err());
    }
}
