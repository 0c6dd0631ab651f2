//! Why a task stops before the end of its input: the one error type the
//! task loop and the operators it runs return.

use crate::checkpoint::CheckpointId;
use crate::connectors::ConnectorError;
use crate::network::SendError;
use crate::wasm::WasmError;

/// Why a task stopped before the end of its input.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The guest failed (trap, timeout, error result).
    #[error(transparent)]
    Guest(WasmError),
    /// A source or sink failed.
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    /// The task was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The chain broke the rules of keyed state or timers.
    #[error(transparent)]
    Contract(#[from] crate::operator::ContractError),
    /// The upstream or downstream side disappeared without ending.
    #[error("{DISCONNECTED}: {0}")]
    Disconnected(String),
    /// The state to restore is missing, corrupted or does not fit the job.
    #[error("cannot restore checkpoint {checkpoint}: {detail}")]
    Restore {
        /// The checkpoint or savepoint restored.
        checkpoint: CheckpointId,
        /// What is wrong, naming the file.
        detail: String,
    },
}

impl TaskError {
    /// Whether a task's error `message` only follows from another task's
    /// failure (its upstream or downstream vanished), so that the other
    /// task's report is the root cause. The message crosses processes as
    /// text, hence the check on it.
    pub fn is_consequence(message: &str) -> bool {
        message.starts_with(DISCONNECTED)
    }
}

/// How [`TaskError::Disconnected`] reads.
const DISCONNECTED: &str = "a connected task disappeared";

impl From<WasmError> for TaskError {
    /// A guest stopped by the task's cancel is the cancel, not a failure.
    fn from(error: WasmError) -> Self {
        match error {
            WasmError::Cancelled { .. } => TaskError::Cancelled,
            error => TaskError::Guest(error),
        }
    }
}

impl From<SendError> for TaskError {
    fn from(error: SendError) -> Self {
        match error {
            SendError::Cancelled => TaskError::Cancelled,
            SendError::Disconnected => TaskError::Disconnected(error.to_string()),
        }
    }
}
