//! Log and stdout files, as Flink serves them: `/jobmanager/logs` and
//! `/taskmanagers/:id/logs` list `{"logs":[{"name","size","mtime"}]}`;
//! `.../logs/:name`, `.../log` and `.../stdout` send the file as plain
//! text. A TaskManager's files are fetched from its process over the
//! control connection.
//!
//! Paging (a wflink addition; Flink sends whole files): `?offset=N&length=M`
//! sends `M` bytes (at most 1 MiB, the default) from byte `N`; without
//! `offset`, the last `M` bytes. The headers `X-Log-Offset` and
//! `X-Log-Size` say where the page starts and how large the file is, so
//! a viewer can ask for the page before (older) or after (newer).
//!
//! Standard HTTP ranges too (see [`super::range`]): `Range: bytes=a-b`,
//! `bytes=a-` and `bytes=-n` get 206 Partial Content with
//! `Content-Range: bytes a-b/size`, cut to their first 1 MiB (a suffix: its
//! last 1 MiB), the same cap as a page; a range past the end gets 416 with
//! `Content-Range: bytes */size`. Every file answer says `Accept-Ranges: bytes`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{IntoParams, IntoResponses, ToSchema};

use super::range::{self, ByteRange};
use super::{AppError, AppState, Errors};
use crate::logs::{LogError, LogFile, LogFileInfo, LogRequest, LogResponse, MAX_PAGE};
use crate::resource_manager::messages::{FetchLogs, GetGateway, GetTaskManagers};

/// Header: the first byte of the page within the file.
pub const OFFSET_HEADER: &str = "x-log-offset";
/// Header: the file's size in bytes.
pub const SIZE_HEADER: &str = "x-log-size";

/// `/jobmanager/logs` and `/taskmanagers/:id/logs`.
#[derive(Serialize, ToSchema)]
pub struct LogList {
    /// The process's log and stdout files and their rotated siblings.
    logs: Vec<LogFileInfo>,
}

/// How a file is paged by the query, for the OpenAPI document: the handlers read the query themselves, to name what
/// is wrong in a 400. A `Range` header ([`RANGE`]) pages it too.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct Paging {
    /// First byte; default: the last `length` bytes.
    #[param(minimum = 0)]
    offset: Option<u64>,
    /// Bytes to send, at most 1 MiB (the default).
    #[param(minimum = 0, maximum = 1048576)]
    length: Option<u64>,
}

/// The `Range` header as the OpenAPI document describes it.
const RANGE: &str = "bytes=A-B, bytes=A- or bytes=-N (the first of several ranges); not with offset or length";

/// What a file request can be answered, for the OpenAPI document.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum FileAnswers {
    /// A page of the file; `X-Log-Offset` and `X-Log-Size` give its start and the file's size.
    #[response(status = 200, content_type = "text/plain")]
    Page(String),
    /// The requested byte range, cut to 1 MiB; `Content-Range: bytes A-B/SIZE`.
    #[response(status = 206, content_type = "text/plain")]
    Range(String),
    /// A file name with a directory in it, or a bad offset, length or range.
    #[response(status = 400)]
    Invalid(Errors),
    /// No such file (or TaskManager).
    #[response(status = 404)]
    NotFound(Errors),
    /// The range starts past the end of the file; `Content-Range: bytes */SIZE`.
    #[response(status = 416)]
    Unsatisfiable(Errors),
}

/// `GET /jobmanager/logs`.
#[utoipa::path(
    get,
    path = "/jobmanager/logs",
    summary = "The JobManager's log files",
    responses(
        (status = 200, description = "The files", body = LogList),
        (status = 404, description = "No log files", body = Errors),
    ),
)]
pub async fn jobmanager_list(State(state): State<AppState>) -> Result<Response, AppError> {
    answer(local(&state, LogRequest::List).await, None)
}

/// `GET /jobmanager/log`.
#[utoipa::path(
    get,
    path = "/jobmanager/log",
    summary = "The JobManager's log, paged",
    params(
        Paging,
        ("Range" = Option<String>, Header, description = RANGE),
    ),
    responses(
        FileAnswers,
    ),
)]
pub async fn jobmanager_log(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    serve_local(&state, LogFile::Log, &query, &headers).await
}

/// `GET /jobmanager/stdout`.
#[utoipa::path(
    get,
    path = "/jobmanager/stdout",
    summary = "The JobManager's stdout, paged",
    params(
        Paging,
        ("Range" = Option<String>, Header, description = RANGE),
    ),
    responses(
        FileAnswers,
    ),
)]
pub async fn jobmanager_stdout(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    serve_local(&state, LogFile::Stdout, &query, &headers).await
}

/// `GET /jobmanager/logs/:name`.
#[utoipa::path(
    get,
    path = "/jobmanager/logs/{name}",
    summary = "A JobManager log file, paged",
    params(
        ("name" = String, Path, description = "a file name from the list, without directories"),
        Paging,
        ("Range" = Option<String>, Header, description = RANGE),
    ),
    responses(
        FileAnswers,
    ),
)]
pub async fn jobmanager_file(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    serve_local(&state, LogFile::Named(name), &query, &headers).await
}

/// `GET /taskmanagers/:id/logs`.
#[utoipa::path(
    get,
    path = "/taskmanagers/{id}/logs",
    summary = "A TaskManager's log files",
    params(
        ("id" = String, Path, description = "TaskManager id"),
    ),
    responses(
        (status = 200, description = "The files", body = LogList),
        (status = 404, description = "No such TaskManager, or no log files", body = Errors),
        (status = 503, description = "The TaskManager did not answer", body = Errors),
    ),
)]
pub async fn taskmanager_list(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, AppError> {
    answer(remote(&state, &id, LogRequest::List).await?, None)
}

/// `GET /taskmanagers/:id/log`.
#[utoipa::path(
    get,
    path = "/taskmanagers/{id}/log",
    summary = "A TaskManager's log, paged",
    params(
        ("id" = String, Path, description = "TaskManager id"),
        Paging,
        ("Range" = Option<String>, Header, description = RANGE),
    ),
    responses(
        FileAnswers,
        (status = 503, description = "The TaskManager did not answer", body = Errors),
    ),
)]
pub async fn taskmanager_log(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    serve_remote(&state, &id, LogFile::Log, &query, &headers).await
}

/// `GET /taskmanagers/:id/stdout`.
#[utoipa::path(
    get,
    path = "/taskmanagers/{id}/stdout",
    summary = "A TaskManager's stdout (print sinks), paged",
    params(
        ("id" = String, Path, description = "TaskManager id"),
        Paging,
        ("Range" = Option<String>, Header, description = RANGE),
    ),
    responses(
        FileAnswers,
        (status = 503, description = "The TaskManager did not answer", body = Errors),
    ),
)]
pub async fn taskmanager_stdout(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    serve_remote(&state, &id, LogFile::Stdout, &query, &headers).await
}

/// `GET /taskmanagers/:id/logs/:name`.
#[utoipa::path(
    get,
    path = "/taskmanagers/{id}/logs/{name}",
    summary = "A TaskManager log file, paged",
    params(
        ("id" = String, Path, description = "TaskManager id"),
        ("name" = String, Path, description = "a file name from the list, without directories"),
        Paging,
        ("Range" = Option<String>, Header, description = RANGE),
    ),
    responses(
        FileAnswers,
        (status = 503, description = "The TaskManager did not answer", body = Errors),
    ),
)]
pub async fn taskmanager_file(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    serve_remote(&state, &id, LogFile::Named(name), &query, &headers).await
}

/// Serves a page or range of one of this process's files.
async fn serve_local(
    state: &AppState,
    file: LogFile,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    let (request, range) = read(file, query, headers)?;
    answer(local(state, request).await, range)
}

/// Serves a page or range of a file of TaskManager `id`.
async fn serve_remote(
    state: &AppState,
    id: &str,
    file: LogFile,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    let (request, range) = read(file, query, headers)?;
    answer(remote(state, id, request).await?, range)
}

/// A read request from the `Range` header or `?offset=&length=`, with
/// the range asked for (if any) to shape the answer.
fn read(
    file: LogFile,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<(LogRequest, Option<ByteRange>), AppError> {
    if let Some(range) = byte_range(headers)? {
        if query.contains_key("offset") || query.contains_key("length") {
            return Err(AppError::bad_request("use either a Range header or ?offset=&length=, not both"));
        }
        let (offset, length) = range.request(MAX_PAGE);
        return Ok((LogRequest::Read { file, offset, length }, Some(range)));
    }
    let number = |key: &str| -> Result<Option<u64>, AppError> {
        query
            .get(key)
            .map(|raw| {
                raw.parse::<u64>()
                    .map_err(|_| AppError::bad_request(format!("invalid {key} '{raw}': expected a number of bytes")))
            })
            .transpose()
    };
    let length = number("length")?.unwrap_or(MAX_PAGE);
    if length > MAX_PAGE {
        return Err(AppError::bad_request(format!("invalid length {length}: a page has at most {MAX_PAGE} bytes")));
    }
    Ok((LogRequest::Read { file, offset: number("offset")?, length }, None))
}

/// The `Range` header's byte range, `None` when there is none to honour:
/// no header, another unit, or an `If-Range` (this server sends no
/// validators, so no `If-Range` can match, and RFC 9110 then wants the whole answer).
fn byte_range(headers: &HeaderMap) -> Result<Option<ByteRange>, AppError> {
    let Some(value) = headers.get(header::RANGE) else { return Ok(None) };
    if headers.contains_key(header::IF_RANGE) {
        return Ok(None);
    }
    let value = value.to_str().map_err(|_| AppError::bad_request("invalid Range header: not ASCII text"))?;
    range::parse(value).map_err(|e| AppError::bad_request(e.to_string()))
}

/// Answers `request` from this process's own files.
async fn local(state: &AppState, request: LogRequest) -> Result<LogResponse, LogError> {
    let logs = state.logs.clone();
    tokio::task::spawn_blocking(move || logs.answer(&request))
        .await
        .unwrap_or_else(|e| Err(LogError::Unreachable(format!("reading the log failed: {e}"))))
}

/// Asks the TaskManager process `id` to answer `request`.
pub(super) async fn remote(
    state: &AppState,
    id: &str,
    request: LogRequest,
) -> Result<Result<LogResponse, LogError>, AppError> {
    match state.resource_manager.send(GetGateway { id: id.to_string() }).await? {
        Some(gateway) => Ok(gateway.send(FetchLogs(request)).await?),
        None => {
            let known = state.resource_manager.send(GetTaskManagers).await?.iter().any(|tm| tm.info.id == id);
            Err(AppError::not_found(if known {
                format!(
                    "TaskManager {id} runs inside the JobManager process: its output is the JobManager's (/jobmanager/log)"
                )
            } else {
                format!("TaskManager {id} not found")
            }))
        }
    }
}

/// The HTTP answer: JSON for a list, plain text with paging headers for a
/// page: 200, or 206/416 when a byte range was asked for.
fn answer(result: Result<LogResponse, LogError>, range: Option<ByteRange>) -> Result<Response, AppError> {
    let page = match result.map_err(log_error)? {
        LogResponse::List(files) => {
            return Ok(Json(LogList { logs: files }).into_response());
        }
        LogResponse::Page(page) => page,
        LogResponse::Threads(_) => {
            return Err(AppError::internal("a thread list came back for a file request (this is likely a bug)"));
        }
    };
    let mut headers = vec![
        (header::ACCEPT_RANGES, "bytes".to_string()),
        (header::CACHE_CONTROL, "no-store".to_string()),
        (header::HeaderName::from_static(SIZE_HEADER), page.size.to_string()),
    ];
    let status = match range {
        None => StatusCode::OK,
        Some(range) if !range.satisfiable(page.size) || page.bytes.is_empty() => {
            headers.push((header::CONTENT_RANGE, range::unsatisfied_range(page.size)));
            let message = format!("range not satisfiable: the file has {} bytes", page.size);
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                headers_map(headers),
                Json(Errors { errors: vec![message] }),
            )
                .into_response());
        }
        Some(_) => {
            let last = page.offset + page.bytes.len() as u64 - 1;
            headers.push((header::CONTENT_RANGE, range::content_range(page.offset..=last, page.size)));
            StatusCode::PARTIAL_CONTENT
        }
    };
    headers.push((header::CONTENT_TYPE, "text/plain; charset=utf-8".to_string()));
    headers.push((header::HeaderName::from_static(OFFSET_HEADER), page.offset.to_string()));
    Ok((status, headers_map(headers), page.bytes).into_response())
}

fn headers_map(headers: Vec<(header::HeaderName, String)>) -> HeaderMap {
    headers.into_iter().filter_map(|(name, value)| Some((name, value.parse().ok()?))).collect()
}

fn log_error(error: LogError) -> AppError {
    let status = match &error {
        LogError::InvalidName(_) => StatusCode::BAD_REQUEST,
        LogError::NotAvailable(_) | LogError::NotFound(_) => StatusCode::NOT_FOUND,
        LogError::Unreachable(_) => StatusCode::SERVICE_UNAVAILABLE,
        LogError::NoThreads => StatusCode::NOT_IMPLEMENTED,
        LogError::Io(..) => return AppError::internal(error),
    };
    AppError { status, message: error.to_string() }
}
