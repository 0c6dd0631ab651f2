//! Why a job failed: its root exception and the failures it restarted
//! from, with the rule that a task's own error wins over a neighbour's
//! "a connected task disappeared" that reached the JobManager first.

use serde::Serialize;

use crate::protocol::FailureKind;
use crate::time::now_millis;

/// The first failure of a job, shown as its root exception.
#[derive(Debug, Clone, Serialize)]
pub struct JobFailure {
    /// The error, naming the task.
    pub message: String,
    /// When it happened (ms since the epoch).
    pub timestamp: u64,
    /// What kind of failure it is.
    #[serde(skip)]
    pub kind: FailureKind,
    /// Where the failing task ran, when a task failed: its TaskManager's id and data address.
    pub location: Option<FailureLocation>,
}

/// The TaskManager a failed task ran on.
#[derive(Debug, Clone, Serialize)]
pub struct FailureLocation {
    /// The TaskManager's id.
    pub task_manager: String,
    /// Its data address, `host:port`.
    pub endpoint: String,
}

impl JobFailure {
    /// A failure of `kind` now, with `message`.
    pub fn new(message: String, kind: FailureKind) -> Self {
        JobFailure { message, timestamp: now_millis(), kind, location: None }
    }

    /// The same failure, of a task that ran at `location`.
    pub fn at(self, location: Option<FailureLocation>) -> Self {
        JobFailure { location, ..self }
    }

    /// Whether it only followed from another task's failure (a task whose
    /// upstream or downstream vanished): the other task's own report, when
    /// it comes, is the root cause and takes its place.
    pub fn is_consequence(&self) -> bool {
        self.kind.is_consequence()
    }
}

/// Keeps `current` unless it is only a consequence and `new` is not.
pub(super) fn root_cause(current: &mut Option<JobFailure>, new: JobFailure) {
    if current.as_ref().is_none_or(|c| c.is_consequence() && !new.is_consequence()) {
        *current = Some(new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task_manager::TaskError;
    use crate::wasm::WasmError;

    #[test]
    fn a_root_cause_replaces_a_consequence_reported_before_it_and_nothing_else_does() {
        let disconnected = TaskError::Disconnected("every upstream task vanished before ending".into()).failure();
        assert!(disconnected.kind.is_consequence());
        let user = TaskError::Guest(WasmError::Job("user function failed: parse: malformed reading".into())).failure();
        assert!(!user.kind.is_consequence());

        let (consequence, own) = (disconnected.kind, user.kind);
        let mut failure = None;
        root_cause(&mut failure, JobFailure::new(format!("window (1/1) failed: {disconnected}"), consequence));
        root_cause(&mut failure, JobFailure::new("parse (1/1) failed: malformed reading".into(), own));
        assert_eq!(failure.as_ref().unwrap().message, "parse (1/1) failed: malformed reading");
        root_cause(&mut failure, JobFailure::new("sink (1/1) failed: later".into(), own));
        root_cause(&mut failure, JobFailure::new(format!("other (1/1) failed: {disconnected}"), consequence));
        assert_eq!(failure.unwrap().message, "parse (1/1) failed: malformed reading", "the first root cause stays");
    }
}
