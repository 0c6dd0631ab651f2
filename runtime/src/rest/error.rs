//! The one error type of every REST handler: a status and a message,
//! sent as Flink sends errors, `{"errors": ["..."]}`. Client mistakes
//! are not logged as server faults; internal errors are logged and not
//! detailed to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::dispatcher::{DispatcherError, PoolError, SubmitError};
use crate::job_manager::CancelError;
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
        (self.status, Json(serde_json::json!({ "errors": [self.message] }))).into_response()
    }
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
