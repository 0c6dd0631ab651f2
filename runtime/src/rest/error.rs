//! The one error type of every REST handler: a status and a message,
//! sent as Flink sends errors, `{"errors": ["..."]}`. Client mistakes
//! are not logged as server faults; internal errors are logged and not
//! detailed to the client.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::dispatcher::{DispatcherError, PoolError, SubmitError};
use crate::job_manager::CancelError;
use crate::job_manager::checkpoint_trigger::CheckpointTriggerError;
use crate::job_manager::savepoint::SavepointError;

/// An error answer.
#[derive(Debug)]
pub struct AppError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong, for the client.
    pub message: String,
}

impl AppError {
    /// 400: the request is wrong.
    pub fn bad_request(message: impl Into<String>) -> Self {
        AppError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    /// 404: no such thing.
    pub fn not_found(message: impl Into<String>) -> Self {
        AppError { status: StatusCode::NOT_FOUND, message: message.into() }
    }

    /// 500: a fault of the server; logged, and not detailed to the client.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error while serving a REST request");
        AppError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "internal server error (this is likely a bug; see the JobManager log)".into(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (self.status, Json(super::Errors { errors: vec![self.message] })).into_response()
    }
}

/// The most of a non-JSON error body kept as the message.
const REJECTION_TEXT_LIMIT: usize = 64 << 10;

/// Gives an error answer that is not JSON the shape of every other,
/// `{"errors": [...]}` with the same status and headers: what axum answers
/// itself when a query string, a multipart body or a path segment does not
/// parse (text), a body is too large (text) or a method is not allowed
/// (empty). Clients, the dashboard among them, read one error shape.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, REJECTION_TEXT_LIMIT).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("error").to_string() } else { text };
    let mut answer = AppError { status, message }.into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().append(name.clone(), value.clone());
        }
    }
    answer
}

impl From<SubmitError> for AppError {
    fn from(error: SubmitError) -> Self {
        DispatcherError::Submit(error).into()
    }
}

impl From<DispatcherError> for AppError {
    fn from(error: DispatcherError) -> Self {
        let status = match &error {
            DispatcherError::Submit(SubmitError::Pool(PoolError::Busy { .. })) => StatusCode::TOO_MANY_REQUESTS,
            DispatcherError::Submit(SubmitError::Pool(_)) => return AppError::internal(error),
            DispatcherError::Submit(_) => StatusCode::BAD_REQUEST,
            DispatcherError::UnknownJob(_) | DispatcherError::Cancel(CancelError::UnknownJob(_)) => {
                StatusCode::NOT_FOUND
            }
            DispatcherError::Cancel(CancelError::AlreadyEnded(..)) => StatusCode::CONFLICT,
            DispatcherError::Savepoint(SavepointError::NotReady(..)) => StatusCode::CONFLICT,
            DispatcherError::Savepoint(_) => StatusCode::BAD_REQUEST,
            DispatcherError::UnknownSavepoint(..) => StatusCode::NOT_FOUND,
            DispatcherError::Checkpoint(CheckpointTriggerError::NotReady(..)) => StatusCode::CONFLICT,
            DispatcherError::Checkpoint(_) => StatusCode::BAD_REQUEST,
            DispatcherError::UnknownCheckpoint(..) | DispatcherError::UnknownDisposal(_) => StatusCode::NOT_FOUND,
            DispatcherError::Unreachable(_) | DispatcherError::Cancel(CancelError::Unreachable(_)) => {
                return AppError::internal(error);
            }
        };
        AppError { status, message: error.to_string() }
    }
}

impl From<actix::MailboxError> for AppError {
    fn from(error: actix::MailboxError) -> Self {
        AppError::internal(format!("an actor did not answer: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(response: Response) -> String {
        String::from_utf8(axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn an_error_in_text_or_empty_becomes_json_keeping_status_and_headers() {
        let text = (StatusCode::BAD_REQUEST, "Failed to deserialize query string: parallelism").into_response();
        let answer = json_errors(text).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        assert_eq!(answer.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(body(answer).await, r#"{"errors":["Failed to deserialize query string: parallelism"]}"#);

        let empty = (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET,HEAD")]).into_response();
        let answer = json_errors(empty).await;
        assert_eq!(answer.headers()[header::ALLOW], "GET,HEAD");
        assert_eq!(body(answer).await, r#"{"errors":["Method Not Allowed"]}"#);
    }

    #[tokio::test]
    async fn json_errors_and_successes_pass_unchanged() {
        let page = (StatusCode::PARTIAL_CONTENT, "log text").into_response();
        assert_eq!(body(json_errors(page).await).await, "log text");
        let answer = json_errors(AppError::not_found("no such job").into_response()).await;
        assert_eq!(body(answer).await, r#"{"errors":["no such job"]}"#);
    }
}
