//! Why a task stops before the end of its input: the one error type the
//! task loop and the operators it runs return.

use crate::checkpoint::CheckpointId;
use crate::connectors::ConnectorError;
use crate::network::SendError;
use crate::protocol::{FailureKind, TaskFailure};
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
    /// A built-in aggregation met a record it cannot fold.
    #[error(transparent)]
    Aggregate(#[from] crate::operator::AggregateError),
    /// A key-by by field met a record without that field.
    #[error(transparent)]
    FieldKey(#[from] crate::operator::FieldKeyError),
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
    /// A stop-with-savepoint `--drain` failed after the source sent the end of time: the job cannot go on as if
    /// nothing fired, so it restarts from its last checkpoint.
    #[error(
        "stop-with-savepoint {0} failed after the end-of-time watermark was sent (--drain); the job restarts from \
         its last checkpoint"
    )]
    DrainAborted(CheckpointId),
}

impl TaskError {
    /// The failure as it travels to the JobManager: its kind and its message.
    pub fn failure(&self) -> TaskFailure {
        let kind = match self {
            TaskError::Guest(WasmError::Timeout { .. }) => FailureKind::Timeout,
            TaskError::Guest(_) => FailureKind::UserCode,
            // The job's records are at fault, as for an error of its own functions.
            TaskError::Aggregate(_) | TaskError::FieldKey(_) => FailureKind::UserCode,
            TaskError::Connector(_) => FailureKind::Connector,
            // Never reported as a failure (the task ends CANCELED); named for completeness.
            TaskError::Cancelled => FailureKind::Internal,
            TaskError::Contract(_) => FailureKind::StateContract,
            TaskError::Disconnected(_) => FailureKind::Disconnected,
            TaskError::Restore { .. } => FailureKind::Restore,
            TaskError::DrainAborted(_) => FailureKind::Checkpoint,
        };
        TaskFailure::new(kind, self.to_string())
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
            // The job's partitioner is at fault, as for any error of its own.
            SendError::Partition(detail) => TaskError::Guest(WasmError::Job(detail)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The JobManager acts on the kind; users read the message, unchanged.
    #[test]
    fn a_task_error_travels_as_its_kind_with_its_own_message() {
        let timeout = TaskError::Guest(WasmError::Timeout { function: "process", timeout: Duration::from_secs(1) });
        let trap = TaskError::Guest(WasmError::Trap { function: "process", message: "boom".into(), stderr: "".into() });
        let vanished = TaskError::Disconnected("every upstream task vanished before ending".into());
        for (error, kind) in [
            (timeout, FailureKind::Timeout),
            (trap, FailureKind::UserCode),
            (vanished, FailureKind::Disconnected),
            (TaskError::Restore { checkpoint: 3, detail: "gone".into() }, FailureKind::Restore),
        ] {
            let failure = error.failure();
            assert_eq!(failure.kind, kind, "{error}");
            assert_eq!(failure.to_string(), error.to_string());
        }
    }
}
