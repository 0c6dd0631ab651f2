//! A task's side of checkpoints: its command channel from the JobManager,
//! writing its keyed state file and acknowledging (or declining) a
//! checkpoint, and reading back what it restores from.
//!
//! The keyed state file of checkpoint `n` is written by the task itself to
//! `<job>/chk-<n>/<vertex-id>-<subtask>.state` in the checkpoint storage,
//! with its xxh3-64 checksum and the offset of every key group; operator
//! state (source position, sink pending files) travels inline in the
//! acknowledgement. The upload runs beside the task (asynchronous
//! snapshot). A storage error declines the checkpoint: the checkpoint
//! fails, the job goes on.

use actix::Recipient;
use crossbeam_channel::Receiver;
use serde::{Deserialize, Serialize};

use crate::protocol::SideSinkState;

use crate::checkpoint::{
    CheckpointId, CheckpointOutcome, CheckpointReport, CheckpointStorage, StateFile, TaskCommand, TaskRestore,
    TaskStateHandle,
};
use crate::graph::SubtaskId;
use crate::ids::JobId;
use crate::operator::TaskError;
use crate::state::snapshot::KeyedSnapshot;

/// The operator state of a task, as it travels in its acknowledgement:
/// the parts of its chain that keep any.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct OperatorState {
    /// The source's position (a source task).
    #[serde(with = "serde_bytes", default)]
    pub source: Option<Vec<u8>>,
    /// The sink's uncommitted files (a sink task).
    #[serde(with = "serde_bytes", default)]
    pub sink: Option<Vec<u8>>,
    /// The uncommitted files of the side output sinks the task writes.
    #[serde(default)]
    pub side_sinks: Vec<SideSinkState>,
    /// This subtask's copy of the broadcast state (a chain with a
    /// broadcast process node).
    #[serde(with = "serde_bytes", default)]
    pub broadcast: Option<Vec<u8>>,
}

impl OperatorState {
    fn encode(&self) -> Option<Vec<u8>> {
        (self.source.is_some() || self.sink.is_some() || !self.side_sinks.is_empty() || self.broadcast.is_some())
            .then(|| rmp_serde::to_vec_named(self).expect("operator state serializes"))
    }
}

/// What a task that finished after its input ended stands for in every
/// later checkpoint and savepoint: its source's position at the end
/// (nothing left to read), if it starts at a source. Neither keyed state
/// (it is done with every key: no input will come) nor sink state (its
/// finish committed everything). A job restored from such a checkpoint
/// runs the task again, but it finds nothing to read or write.
pub(super) fn final_handle(source: Option<Vec<u8>>) -> TaskStateHandle {
    let operator = OperatorState { source, ..OperatorState::default() };
    TaskStateHandle { keyed: None, operator: operator.encode() }
}

/// What a task restores from, read and checked.
#[derive(Default)]
pub(super) struct Restored {
    /// Every old subtask's source position.
    pub sources: Vec<Vec<u8>>,
    /// Every old subtask's sink state.
    pub sinks: Vec<Vec<u8>>,
    /// Every old subtask's side output sink states.
    pub side_sinks: Vec<SideSinkState>,
    /// Every old subtask's copy of the broadcast state, in subtask order.
    pub broadcast: Vec<Vec<u8>>,
    /// The keyed state files with the key groups to read from each.
    pub keyed: Vec<(Vec<u8>, StateFile)>,
}

/// The task's link to checkpoints.
pub(super) struct TaskCheckpoints {
    job_id: JobId,
    subtask: SubtaskId,
    /// The vertex id (names state files).
    vertex_id: String,
    /// `state.checkpoints.dir`.
    location: String,
    storage: Option<CheckpointStorage>,
    commands: Receiver<TaskCommand>,
    reports: Recipient<CheckpointReport>,
}

impl TaskCheckpoints {
    pub fn new(
        job_id: JobId,
        subtask: SubtaskId,
        vertex_id: String,
        location: String,
        commands: Receiver<TaskCommand>,
        reports: Recipient<CheckpointReport>,
    ) -> Self {
        TaskCheckpoints { job_id, subtask, vertex_id, location, storage: None, commands, reports }
    }

    /// The next command, if one is waiting (one atomic load when none is).
    #[inline]
    pub fn poll(&self) -> Option<TaskCommand> {
        self.commands.try_recv().ok()
    }

    /// Waits up to `wait` for a command.
    pub fn wait(&self, wait: std::time::Duration) -> Option<TaskCommand> {
        self.commands.recv_timeout(wait).ok()
    }

    fn storage(&mut self) -> Result<&CheckpointStorage, String> {
        if self.storage.is_none() {
            if self.location.trim().is_empty() {
                return Err("execution.checkpointing.dir is not set".into());
            }
            self.storage = Some(CheckpointStorage::open(&self.location).map_err(|e| e.to_string())?);
        }
        Ok(self.storage.as_ref().expect("just opened"))
    }

    /// Path of this task's keyed state file for checkpoint `id`.
    fn state_path(&self, id: CheckpointId) -> String {
        format!("{}/chk-{id}/{}-{}.state", self.job_id, self.vertex_id, self.subtask.index)
    }

    /// Answers checkpoint `id`: acknowledged with the handle of what was
    /// stored, or declined with the reason. The keyed snapshot is already
    /// a copy, so it is uploaded on a thread of its own while the task
    /// goes on processing (asynchronous snapshot); the answer follows the
    /// upload.
    pub fn acknowledge(&mut self, id: CheckpointId, keyed: Option<KeyedSnapshot>, operator: OperatorState) {
        let operator = operator.encode();
        let (subtask, reports) = (self.subtask, self.reports.clone());
        let answer = move |stored: Result<Option<StateFile>, String>| {
            let outcome = match stored {
                Ok(keyed) => CheckpointOutcome::Acknowledged(TaskStateHandle { keyed, operator }),
                Err(reason) => {
                    tracing::warn!(checkpoint = id, %reason, "declining the checkpoint");
                    CheckpointOutcome::Declined(reason)
                }
            };
            reports.do_send(CheckpointReport { subtask, checkpoint_id: id, outcome });
        };
        let Some(snapshot) = keyed else { return answer(Ok(None)) };
        let storage = match self.storage() {
            Ok(storage) => storage.clone(),
            Err(reason) => return answer(Err(reason)),
        };
        let path = self.state_path(id);
        let file = StateFile {
            path: path.clone(),
            size: snapshot.bytes.len() as u64,
            checksum: xxhash_rust::xxh3::xxh3_64(&snapshot.bytes),
            key_groups: snapshot.key_groups,
        };
        let span = tracing::Span::current();
        let upload = move || {
            let _entered = span.enter();
            answer(storage.put(&path, snapshot.bytes).map(|()| Some(file)).map_err(|e| e.to_string()));
        };
        if let Err(e) = std::thread::Builder::new().name("checkpoint-upload".into()).spawn(upload) {
            self.decline(id, format!("cannot start the upload of the state file: {e}"));
        }
    }

    /// Declines checkpoint `id` (the task could not snapshot).
    pub fn decline(&self, id: CheckpointId, reason: String) {
        let outcome = CheckpointOutcome::Declined(reason);
        self.reports.do_send(CheckpointReport { subtask: self.subtask, checkpoint_id: id, outcome });
    }
}

/// Reads and checks what `restore` points at: every keyed state file
/// (whole, its size and checksum verified) and the operator states.
pub(super) fn load(restore: &TaskRestore) -> Result<Restored, TaskError> {
    let fail = |detail: String| TaskError::Restore { checkpoint: restore.checkpoint_id, detail };
    let mut restored = Restored::default();
    for state in restore.operator.iter().flatten() {
        let state: OperatorState =
            rmp_serde::from_slice(state).map_err(|e| fail(format!("unreadable operator state: {e}")))?;
        restored.sources.extend(state.source);
        restored.sinks.extend(state.sink);
        restored.side_sinks.extend(state.side_sinks);
        restored.broadcast.extend(state.broadcast);
    }
    if restore.keyed.is_empty() {
        return Ok(restored);
    }
    let storage = CheckpointStorage::open(&restore.storage).map_err(|e| fail(e.to_string()))?;
    for file in &restore.keyed {
        let bytes = storage.get(&file.path).map_err(|e| fail(e.to_string()))?;
        let what = storage.describe(&file.path);
        if bytes.len() as u64 != file.size {
            return Err(fail(format!("state file {what} is truncated: {} of {} bytes", bytes.len(), file.size)));
        }
        if xxhash_rust::xxh3::xxh3_64(&bytes) != file.checksum {
            return Err(fail(format!("state file {what} is corrupted (checksum mismatch)")));
        }
        restored.keyed.push((bytes, file.clone()));
    }
    Ok(restored)
}
