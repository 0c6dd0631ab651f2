//! Why a job failed: its root exception and the failures it restarted
//! from, with the rule that a task's own error wins over a neighbour's
//! "a connected task disappeared" that reached the JobManager first.

use serde::Serialize;

use crate::time::now_millis;

/// The first failure of a job, shown as its root exception.
#[derive(Debug, Clone, Serialize)]
pub struct JobFailure {
    /// The error, naming the task.
    pub message: String,
    /// When it happened (ms since the epoch).
    pub timestamp: u64,
    /// Whether it only followed from another task's failure (a task whose
    /// upstream or downstream vanished): the other task's own report, when
    /// it comes, is the root cause and takes its place.
    #[serde(skip)]
    pub consequence: bool,
}

impl JobFailure {
    /// A failure now, with `message`.
    pub fn new(message: String, consequence: bool) -> Self {
        JobFailure { message, timestamp: now_millis(), consequence }
    }
}

/// Keeps `current` unless it is only a consequence and `new` is not.
pub(super) fn root_cause(current: &mut Option<JobFailure>, new: JobFailure) {
    if current.as_ref().is_none_or(|c| c.consequence && !new.consequence) {
        *current = Some(new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task_manager::TaskError;

    #[test]
    fn a_root_cause_replaces_a_consequence_reported_before_it_and_nothing_else_does() {
        let disconnected = TaskError::Disconnected("every upstream task vanished before ending".into()).to_string();
        assert!(TaskError::is_consequence(&disconnected));
        assert!(!TaskError::is_consequence("user function failed: parse: malformed reading"));

        let mut failure = None;
        root_cause(&mut failure, JobFailure::new(format!("window (1/1) failed: {disconnected}"), true));
        root_cause(&mut failure, JobFailure::new("parse (1/1) failed: malformed reading".into(), false));
        assert_eq!(failure.as_ref().unwrap().message, "parse (1/1) failed: malformed reading");
        root_cause(&mut failure, JobFailure::new("sink (1/1) failed: later".into(), false));
        root_cause(&mut failure, JobFailure::new(format!("other (1/1) failed: {disconnected}"), true));
        assert_eq!(failure.unwrap().message, "parse (1/1) failed: malformed reading", "the first root cause stays");
    }
}
