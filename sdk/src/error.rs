//! The one error type of a job, mirroring the WIT `job-error` variants.

use std::fmt;

/// Why describing or running a job failed; the host shows the message to the user.
///
/// Each variant maps one to one onto the WIT `job-error` case of the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// The job's arguments were wrong (a missing `--input`, say): the user
    /// must fix the command line; retrying does not help.
    InvalidArguments(String),
    /// The plan the job describes is not valid (a stream with no sink, a
    /// zero parallelism, a chain the host asked for that does not exist).
    InvalidPlan(String),
    /// A user function failed on a record, or a record could not be decoded
    /// as the type the function expects.
    User(String),
    /// Anything else, with a message naming the problem.
    Other(String),
}

impl JobError {
    /// A [`JobError::InvalidArguments`] with `message`.
    pub fn invalid_arguments(message: impl Into<String>) -> Self {
        Self::InvalidArguments(message.into())
    }

    /// A [`JobError::InvalidPlan`] with `message`.
    pub fn invalid_plan(message: impl Into<String>) -> Self {
        Self::InvalidPlan(message.into())
    }

    /// A [`JobError::User`] with `message`.
    pub fn user(message: impl Into<String>) -> Self {
        Self::User(message.into())
    }

    /// The message, whatever the variant.
    pub fn message(&self) -> &str {
        match self {
            Self::InvalidArguments(m) | Self::InvalidPlan(m) | Self::User(m) | Self::Other(m) => m,
        }
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Self::InvalidArguments(_) => "invalid arguments",
            Self::InvalidPlan(_) => "invalid plan",
            Self::User(_) => "user function failed",
            Self::Other(_) => "error",
        };
        write!(f, "{kind}: {}", self.message())
    }
}

impl std::error::Error for JobError {}

/// A layout from the host whose offsets do not fit its buffers: a bug of
/// the host's, named as such.
pub(crate) fn malformed_from_host(error: wflink_abi::LayoutError) -> JobError {
    JobError::Other(format!("malformed {error} (a host bug)"))
}
