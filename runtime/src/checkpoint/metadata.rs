//! A checkpoint's `_metadata`: every task's state handle by vertex id and
//! subtask, written by the coordinator once all tasks acknowledged. It is
//! checksummed so a corrupted or truncated one is refused, and the state
//! files it names are checked against their sizes and checksums before a
//! restore uses them. State file paths are relative to the checkpoint's
//! own directory, so a checkpoint or savepoint directory can be restored
//! from wherever it lives.
//!
//! This module also computes what each subtask of a (possibly rescaled,
//! possibly upgraded) job restores: the key groups of its new range from
//! whichever old files hold them, and the union of the old operator state.

use serde::{Deserialize, Serialize};

use super::snapshot::{StateFile, TaskRestore, TaskStateHandle};
use super::storage::{CheckpointStorage, StorageError};
use super::{CheckpointId, SnapshotKind};
use crate::graph::JobGraph;
use crate::graph::partition::key_group_range;

/// Name of the metadata file in a checkpoint or savepoint directory.
pub const METADATA_FILE: &str = "_metadata";

/// First bytes of a metadata file (format version 1).
const MAGIC: &[u8; 8] = b"WFLKMD01";
/// Magic, payload length, payload checksum.
const HEADER: usize = 8 + 8 + 8;

/// What a completed checkpoint or savepoint holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMetadata {
    /// The job that took it.
    pub job_id: String,
    /// That job's name: a savepoint of another job is refused by it.
    pub job_name: String,
    /// Content hash of the component that took it (an upgraded job may differ).
    pub component_hash: String,
    /// The checkpoint's id.
    pub checkpoint_id: CheckpointId,
    /// Checkpoint or savepoint.
    pub kind: SnapshotKind,
    /// When it was triggered (ms since the epoch).
    pub timestamp: u64,
    /// The state of every vertex.
    pub vertices: Vec<VertexSnapshot>,
}

/// The state of one vertex in a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VertexSnapshot {
    /// The vertex id (derived from its operators' uids).
    pub id: String,
    /// Its name, for messages.
    pub name: String,
    /// Its parallelism when the checkpoint was taken.
    pub parallelism: u32,
    /// Its number of key groups (must not change across a restore).
    pub max_parallelism: u32,
    /// Every subtask's handle, by index; file paths relative to the
    /// checkpoint's directory.
    pub subtasks: Vec<TaskStateHandle>,
}

impl VertexSnapshot {
    /// Whether any subtask holds state.
    pub fn has_state(&self) -> bool {
        self.subtasks.iter().any(|h| h.keyed.is_some() || h.operator.is_some())
    }
}

/// Why a checkpoint or savepoint cannot be restored.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// No `_metadata` at the location.
    #[error("no checkpoint or savepoint at '{0}' (it has no _metadata)")]
    NotFound(String),
    /// A file is corrupted or truncated.
    #[error("checkpoint file '{path}' is corrupted: {reason}")]
    Corrupted {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The savepoint was taken by another job.
    #[error("savepoint '{location}' was taken of job '{theirs}', not of job '{ours}'")]
    OtherJob {
        /// The savepoint.
        location: String,
        /// The job that took it.
        theirs: String,
        /// The job submitted.
        ours: String,
    },
    /// The savepoint has state for operators the job does not have.
    #[error(
        "savepoint '{location}' has state for operators this job does not have: {vertices}; \
         check their uids, or pass --allowNonRestoredState to start without that state"
    )]
    NonRestoredState {
        /// The savepoint.
        location: String,
        /// Their names and ids.
        vertices: String,
    },
    /// A vertex's number of key groups changed.
    #[error(
        "operator '{vertex}' had max parallelism {old} in '{location}' but has {new} now; key groups cannot be redistributed"
    )]
    MaxParallelism {
        /// The savepoint.
        location: String,
        /// The vertex's name.
        vertex: String,
        /// Then.
        old: u32,
        /// Now.
        new: u32,
    },
}

impl CheckpointMetadata {
    /// The file's bytes: magic, payload length, xxh3-64 of the payload, payload.
    pub fn encode(&self) -> Vec<u8> {
        let payload = rmp_serde::to_vec_named(self).expect("checkpoint metadata serialises");
        let mut bytes = Vec::with_capacity(HEADER + payload.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&payload).to_le_bytes());
        bytes.extend_from_slice(&payload);
        bytes
    }

    /// Reads a metadata file's bytes; `path` names it in errors.
    pub fn decode(bytes: &[u8], path: &str) -> Result<Self, RestoreError> {
        let corrupted = |reason: String| RestoreError::Corrupted { path: path.to_string(), reason };
        if bytes.len() < HEADER || &bytes[..8] != MAGIC {
            return Err(corrupted("not a wflink checkpoint metadata file".into()));
        }
        let length = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
        let checksum = u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes"));
        let payload = &bytes[HEADER..];
        if payload.len() as u64 != length {
            return Err(corrupted(format!("truncated: {} bytes of {length}", payload.len())));
        }
        if xxhash_rust::xxh3::xxh3_64(payload) != checksum {
            return Err(corrupted("checksum mismatch".into()));
        }
        rmp_serde::from_slice(payload).map_err(|e| corrupted(e.to_string()))
    }

    /// Total bytes of its state files and inline operator state.
    pub fn state_size(&self) -> u64 {
        let handles = self.vertices.iter().flat_map(|v| &v.subtasks);
        handles
            .map(|h| {
                h.keyed.as_ref().map_or(0, |f| f.size).saturating_add(h.operator.as_ref().map_or(0, |o| o.len() as u64))
            })
            // Saturating: the sizes come from a file, which may be damaged.
            .fold(0, u64::saturating_add)
    }

    /// Every state file it names.
    pub fn state_files(&self) -> impl Iterator<Item = &StateFile> {
        self.vertices.iter().flat_map(|v| &v.subtasks).filter_map(|h| h.keyed.as_ref())
    }

    /// Reads and checks the checkpoint in `dir` of `storage`: the metadata's
    /// checksum, then every state file's size and checksum.
    pub async fn load(storage: &CheckpointStorage, dir: &str) -> Result<Self, RestoreError> {
        let path = join(dir, METADATA_FILE);
        let bytes = match storage.get_async(&path).await {
            Ok(bytes) => bytes,
            Err(e) if e.is_not_found() => return Err(RestoreError::NotFound(storage.describe(dir))),
            Err(e) => return Err(e.into()),
        };
        let metadata = Self::decode(&bytes, &storage.describe(&path))?;
        for file in metadata.state_files() {
            let path = join(dir, &file.path);
            let corrupted = |reason: String| RestoreError::Corrupted { path: storage.describe(&path), reason };
            let bytes = match storage.get_async(&path).await {
                Ok(bytes) => bytes,
                Err(e) if e.is_not_found() => return Err(corrupted("the file is missing".into())),
                Err(e) => return Err(e.into()),
            };
            if bytes.len() as u64 != file.size {
                return Err(corrupted(format!("{} bytes where {} were written", bytes.len(), file.size)));
            }
            if xxhash_rust::xxh3::xxh3_64(&bytes) != file.checksum {
                return Err(corrupted("checksum mismatch".into()));
            }
        }
        Ok(metadata)
    }

    /// Checks that `job` may start from this checkpoint or savepoint (taken
    /// at `location`): same job name, every vertex with state still there
    /// (unless `allow_non_restored`), same key groups.
    pub fn check_compatible(
        &self,
        job: &JobGraph,
        location: &str,
        allow_non_restored: bool,
    ) -> Result<(), RestoreError> {
        if self.job_name != job.job_name {
            return Err(RestoreError::OtherJob {
                location: location.to_string(),
                theirs: self.job_name.clone(),
                ours: job.job_name.clone(),
            });
        }
        let missing: Vec<String> = self
            .vertices
            .iter()
            .filter(|old| old.has_state() && !job.vertices.iter().any(|v| v.id == old.id))
            .map(|old| format!("'{}' ({})", old.name, old.id))
            .collect();
        if !missing.is_empty() && !allow_non_restored {
            return Err(RestoreError::NonRestoredState {
                location: location.to_string(),
                vertices: missing.join(", "),
            });
        }
        for vertex in &job.vertices {
            let Some(old) = self.vertices.iter().find(|o| o.id == vertex.id) else { continue };
            let keyed = old.subtasks.iter().any(|h| h.keyed.is_some());
            if keyed && old.max_parallelism != vertex.max_parallelism {
                return Err(RestoreError::MaxParallelism {
                    location: location.to_string(),
                    vertex: vertex.name.clone(),
                    old: old.max_parallelism,
                    new: vertex.max_parallelism,
                });
            }
        }
        Ok(())
    }

    /// What every subtask of `job` restores, `[vertex][index]`: the key
    /// groups of its range at its current parallelism, and the operator
    /// state of every old subtask of its vertex. `storage` is the location
    /// of this checkpoint's directory. Call [`Self::check_compatible`] first.
    pub fn assign(&self, job: &JobGraph, storage: &str) -> Vec<Vec<Option<TaskRestore>>> {
        job.vertices
            .iter()
            .map(|vertex| {
                let Some(old) = self.vertices.iter().find(|o| o.id == vertex.id) else {
                    return vec![None; vertex.parallelism as usize];
                };
                let operator: Vec<Option<serde_bytes::ByteBuf>> =
                    old.subtasks.iter().map(|h| h.operator.clone().map(serde_bytes::ByteBuf::from)).collect();
                (0..vertex.parallelism)
                    .map(|index| {
                        let range = key_group_range(index, vertex.parallelism, vertex.max_parallelism);
                        let keyed = old
                            .subtasks
                            .iter()
                            .filter_map(|h| h.keyed.as_ref())
                            .filter_map(|file| {
                                let groups: Vec<_> =
                                    file.key_groups.iter().filter(|g| range.contains(&g.key_group)).copied().collect();
                                (!groups.is_empty()).then(|| StateFile { key_groups: groups, ..file.clone() })
                            })
                            .collect();
                        Some(TaskRestore {
                            checkpoint_id: self.checkpoint_id,
                            storage: storage.to_string(),
                            keyed,
                            operator: operator.clone(),
                        })
                    })
                    .collect()
            })
            .collect()
    }
}

/// `dir/name`, or `name` when `dir` is empty.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() { name.to_string() } else { format!("{}/{name}", dir.trim_end_matches('/')) }
}

/// The file name of `path` (what a state file is called inside its
/// checkpoint directory).
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
#[path = "metadata_tests.rs"]
mod tests;
