//! What a task's snapshot is made of, and what a task restores from.
//!
//! Keyed state (the backend's entries, named state and timers) is written
//! per key group into one state file per subtask, with the offset of each
//! group, so a restore at any parallelism reads exactly the groups of its
//! new key-group range from whichever files hold them. Operator state
//! (a source's position, a sink's pending files) is small and lives inline
//! in the checkpoint's `_metadata`.

use serde::{Deserialize, Serialize};

use super::CheckpointId;

/// Where one key group's state sits in a state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyGroupOffset {
    /// The key group.
    pub key_group: u32,
    /// Byte offset of its state in the file.
    pub offset: u64,
    /// Byte length of its state.
    pub length: u64,
}

/// A state file written by one subtask for one checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateFile {
    /// Path relative to the checkpoint storage's root, e.g.
    /// `<job>/chk-7/<vertex-id>-<subtask>.state`.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// xxh3-64 of its bytes: a corrupted or truncated file is refused.
    pub checksum: u64,
    /// The key groups it holds, in order.
    pub key_groups: Vec<KeyGroupOffset>,
}

/// What a task acknowledges a checkpoint with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskStateHandle {
    /// Its keyed state, when the task is keyed and holds any.
    pub keyed: Option<StateFile>,
    /// Its operator state (source position, sink pending files), encoded
    /// by the connector that owns it (MessagePack), when it has any.
    #[serde(with = "serde_bytes")]
    pub operator: Option<Vec<u8>>,
}

/// The state one subtask starts from, computed by the JobManager from a
/// completed checkpoint or savepoint for the subtask's (possibly new)
/// index and parallelism.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRestore {
    /// The checkpoint or savepoint restored.
    pub checkpoint_id: CheckpointId,
    /// The storage location the state files' paths are relative to (a
    /// directory or an object store URL).
    pub storage: String,
    /// The state files holding key groups of this subtask's range, each
    /// with only the groups this subtask takes from it.
    pub keyed: Vec<StateFile>,
    /// The operator state of every subtask of the old run of this vertex,
    /// in subtask order: the connector picks what is its own at its new
    /// index and parallelism (as Flink's union list state).
    pub operator: Vec<Option<serde_bytes::ByteBuf>>,
}
