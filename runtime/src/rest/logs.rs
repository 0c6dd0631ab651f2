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

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{AppError, AppState};
use crate::logs::{LogError, LogFile, LogRequest, LogResponse, MAX_PAGE};
use crate::resource_manager::messages::{FetchLogs, GetGateway, GetTaskManagers};

/// Header: the first byte of the page within the file.
pub const OFFSET_HEADER: &str = "x-log-offset";
/// Header: the file's size in bytes.
pub const SIZE_HEADER: &str = "x-log-size";

/// `GET /jobmanager/logs`.
pub async fn jobmanager_list(State(state): State<AppState>) -> Result<Response, AppError> {
    answer(local(&state, LogRequest::List).await)
}

/// `GET /jobmanager/log`.
pub async fn jobmanager_log(State(state): State<AppState>, Query(query): Query<HashMap<String, String>>) -> Result<Response, AppError> {
    answer(local(&state, read(LogFile::Log, &query)?).await)
}

/// `GET /jobmanager/stdout`.
pub async fn jobmanager_stdout(State(state): State<AppState>, Query(query): Query<HashMap<String, String>>) -> Result<Response, AppError> {
    answer(local(&state, read(LogFile::Stdout, &query)?).await)
}

/// `GET /jobmanager/logs/:name`.
pub async fn jobmanager_file(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    answer(local(&state, read(LogFile::Named(name), &query)?).await)
}

/// `GET /taskmanagers/:id/logs`.
pub async fn taskmanager_list(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, AppError> {
    answer(remote(&state, &id, LogRequest::List).await?)
}

/// `GET /taskmanagers/:id/log`.
pub async fn taskmanager_log(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    answer(remote(&state, &id, read(LogFile::Log, &query)?).await?)
}

/// `GET /taskmanagers/:id/stdout`.
pub async fn taskmanager_stdout(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    answer(remote(&state, &id, read(LogFile::Stdout, &query)?).await?)
}

/// `GET /taskmanagers/:id/logs/:name`.
pub async fn taskmanager_file(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    answer(remote(&state, &id, read(LogFile::Named(name), &query)?).await?)
}

/// A read request from `?offset=&length=`.
fn read(file: LogFile, query: &HashMap<String, String>) -> Result<LogRequest, AppError> {
    let number = |key: &str| -> Result<Option<u64>, AppError> {
        query
            .get(key)
            .map(|raw| raw.parse::<u64>().map_err(|_| AppError::bad_request(format!("invalid {key} '{raw}': expected a number of bytes"))))
            .transpose()
    };
    let length = number("length")?.unwrap_or(MAX_PAGE);
    if length > MAX_PAGE {
        return Err(AppError::bad_request(format!("invalid length {length}: a page has at most {MAX_PAGE} bytes")));
    }
    Ok(LogRequest::Read { file, offset: number("offset")?, length })
}

/// Answers `request` from this process's own files.
async fn local(state: &AppState, request: LogRequest) -> Result<LogResponse, LogError> {
    let logs = state.logs.clone();
    tokio::task::spawn_blocking(move || logs.answer(&request))
        .await
        .unwrap_or_else(|e| Err(LogError::Unreachable(format!("reading the log failed: {e}"))))
}

/// Asks the TaskManager process `id` to answer `request`.
async fn remote(state: &AppState, id: &str, request: LogRequest) -> Result<Result<LogResponse, LogError>, AppError> {
    match state.resource_manager.send(GetGateway { id: id.to_string() }).await? {
        Some(gateway) => Ok(gateway.send(FetchLogs(request)).await?),
        None => {
            let known = state.resource_manager.send(GetTaskManagers).await?.iter().any(|tm| tm.info.id == id);
            Err(AppError::not_found(if known {
                format!("TaskManager {id} runs inside the JobManager process: its output is the JobManager's (/jobmanager/log)")
            } else {
                format!("TaskManager {id} not found")
            }))
        }
    }
}

/// The HTTP answer: JSON for a list, plain text with paging headers for a page.
fn answer(result: Result<LogResponse, LogError>) -> Result<Response, AppError> {
    match result.map_err(log_error)? {
        LogResponse::List(files) => Ok(Json(json!({ "logs": files.iter().map(|f| json!({
            "name": f.name, "size": f.size, "mtime": f.mtime,
        })).collect::<Vec<Value>>() }))
        .into_response()),
        LogResponse::Page(page) => Ok((
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_string()),
                (header::CACHE_CONTROL, "no-store".to_string()),
                (header::HeaderName::from_static(OFFSET_HEADER), page.offset.to_string()),
                (header::HeaderName::from_static(SIZE_HEADER), page.size.to_string()),
            ],
            page.bytes,
        )
            .into_response()),
    }
}

fn log_error(error: LogError) -> AppError {
    let status = match &error {
        LogError::InvalidName(_) => StatusCode::BAD_REQUEST,
        LogError::NotAvailable(_) | LogError::NotFound(_) => StatusCode::NOT_FOUND,
        LogError::Unreachable(_) => StatusCode::SERVICE_UNAVAILABLE,
        LogError::Io(..) => return AppError::internal(error),
    };
    AppError { status, message: error.to_string() }
}
