//! The control protocol between a TaskManager process and the
//! JobManager process, as plain serde types. One connection per
//! TaskManager, opened by the TaskManager.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::checkpoint::{CheckpointReport, TaskCommand, TaskStateHandle};
use crate::graph::SubtaskId;
use crate::ids::JobId;
use crate::logs::{LogError, LogRequest, LogResponse};
use crate::metrics::MetricsSnapshot;
use crate::protocol::{TaskDescriptor, TaskFailure, TaskManagerUsage, TaskState};

/// Messages from a TaskManager to the JobManager process.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToJobManager {
    /// The first message: who the TaskManager is and what it offers.
    Register(TaskManagerRegistration),
    /// Sent every `heartbeat.interval`, with the counters of its running
    /// tasks and what its slots hold.
    Heartbeat {
        /// `(job, subtask, metrics)` of every running task.
        metrics: Vec<(JobId, SubtaskId, MetricsSnapshot)>,
        /// Its slots and process memory, for `/taskmanagers/:id`.
        usage: TaskManagerUsage,
    },
    /// A task changed state; carries its final counters when it ended.
    TaskState {
        /// The job.
        job_id: JobId,
        /// The subtask.
        subtask: SubtaskId,
        /// Its new state.
        state: TaskState,
        /// Why it failed.
        error: Option<TaskFailure>,
        /// The state it finished with (see [`crate::protocol::TaskStateChanged::final_state`]).
        #[serde(default)]
        final_state: Option<Box<TaskStateHandle>>,
        /// Its counters at this moment.
        metrics: MetricsSnapshot,
    },
    /// A task answered a checkpoint barrier.
    Checkpoint {
        /// The job.
        job_id: JobId,
        /// The answer (it names the subtask).
        report: CheckpointReport,
    },
    /// The TaskManager needs the component with this content hash.
    FetchComponent {
        /// xxh3-128 of the component's bytes, 32 hex chars.
        hash: String,
    },
    /// The answer to [`ToTaskManager::Logs`].
    Logs {
        /// The request's id.
        request_id: u64,
        /// The file list or page, or why not.
        result: Result<LogResponse, LogError>,
    },
}

/// What a TaskManager announces when it registers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskManagerRegistration {
    /// Its id, e.g. `localhost:41231-7f3a2c`.
    pub id: String,
    /// Number of slots it offers.
    pub slots: u32,
    /// `host:port` other TaskManagers send records to.
    pub data_address: String,
    /// Memory its slots share, in bytes.
    pub memory_bytes: u64,
    /// CPU cores of its machine.
    pub cpu_cores: u32,
    /// Physical memory of its machine, in bytes (0 if unknown).
    pub physical_memory: u64,
}

/// Messages from the JobManager process to a TaskManager.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToTaskManager {
    /// Registration accepted.
    Registered,
    /// The answer to each [`ToJobManager::Heartbeat`]: the JobManager is
    /// alive. A TaskManager that hears nothing for `heartbeat.timeout`
    /// counts its JobManager as lost and registers again.
    Heartbeat,
    /// Run a task in slot `slot`.
    Deploy {
        /// Index of the slot within the TaskManager.
        slot: usize,
        /// The task.
        descriptor: Box<TaskDescriptor>,
    },
    /// Cancel every task of a job.
    CancelJob {
        /// The job.
        job_id: JobId,
    },
    /// A checkpoint command for one running task.
    TaskCommand {
        /// The job.
        job_id: JobId,
        /// The task.
        subtask: SubtaskId,
        /// The command.
        command: TaskCommand,
    },
    /// The job ended: forget its channels.
    ReleaseJob {
        /// The job.
        job_id: JobId,
    },
    /// List or read the TaskManager's log and stdout files; answered
    /// with [`ToJobManager::Logs`].
    Logs {
        /// Names the answer.
        request_id: u64,
        /// What to read.
        request: LogRequest,
    },
    /// The component asked for with [`ToJobManager::FetchComponent`];
    /// `bytes` is `None` if the JobManager does not know it.
    Component {
        /// Its content hash.
        hash: String,
        /// Its bytes.
        #[serde(with = "serde_bytes_opt")]
        bytes: Option<Arc<[u8]>>,
    },
}

/// Components travel as one MessagePack binary, not as an array of numbers.
mod serde_bytes_opt {
    use std::sync::Arc;

    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Arc<[u8]>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_some(&Bytes(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Arc<[u8]>>, D::Error> {
        d.deserialize_option(OptionalBytes)
    }

    struct OptionalBytes;

    impl<'de> serde::de::Visitor<'de> for OptionalBytes {
        type Value = Option<Arc<[u8]>>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("the component's bytes or nil")
        }

        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_bytes(self)
        }

        fn visit_bytes<E>(self, v: &[u8]) -> Result<Self::Value, E> {
            Ok(Some(v.into()))
        }

        fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Self::Value, E> {
            Ok(Some(v.into()))
        }
    }

    struct Bytes<'a>(&'a [u8]);

    impl serde::Serialize for Bytes<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }
}
