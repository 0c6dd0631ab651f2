//! The checkpoint coordinator as plain logic (no actor, no I/O): ids,
//! pending checkpoints and their acknowledgements, completion, timeouts,
//! the bound on concurrent checkpoints, declines, retention, and the
//! statistics `/jobs/:id/checkpoints` shows. The JobManager drives it
//! (`job_manager/checkpointing.rs`): it sends the barriers and commands,
//! writes `_metadata` and deletes retired checkpoints.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use serde::Serialize;

use super::messages::{CheckpointOutcome, CheckpointReport};
use super::metadata::{CheckpointMetadata, VertexSnapshot, file_name};
use super::snapshot::TaskStateHandle;
use super::{CheckpointBarrier, CheckpointId, SnapshotKind};
use crate::config::{ConfigError, Configuration};
use crate::graph::{JobGraph, SubtaskId};

/// Checkpoints kept in the statistics' history.
const HISTORY: usize = 10;

/// The checkpointing settings of a job.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointSettings {
    /// `execution.checkpointing.interval`; zero disables periodic checkpoints.
    pub interval: Duration,
    /// `execution.checkpointing.timeout`.
    pub timeout: Duration,
    /// `execution.checkpointing.max-concurrent-checkpoints`.
    pub max_concurrent: usize,
    /// `state.checkpoints.num-retained`.
    pub retained: usize,
    /// `state.checkpoints.dir`, or `<tmp>/wflink-checkpoints`.
    pub location: String,
    /// `state.savepoints.dir` (may be empty).
    pub savepoint_dir: String,
    /// `execution.checkpointing.tolerable-failed-checkpoints`: checkpoint
    /// failures in a row the job tolerates (Flink's default: none).
    pub tolerable_failures: u32,
}

impl CheckpointSettings {
    /// The settings the configuration gives.
    pub fn from_config(config: &Configuration) -> Result<Self, ConfigError> {
        let mut location = config.text("execution.checkpointing.dir");
        if location.is_empty() {
            location = std::env::temp_dir().join("wflink-checkpoints").display().to_string();
        }
        Ok(CheckpointSettings {
            interval: config.duration("execution.checkpointing.interval")?,
            timeout: config.duration("execution.checkpointing.timeout")?,
            max_concurrent: config.positive_int("execution.checkpointing.max-concurrent-checkpoints")? as usize,
            retained: config.positive_int("execution.checkpointing.num-retained")? as usize,
            location,
            savepoint_dir: config.text("execution.checkpointing.savepoint-dir"),
            tolerable_failures: config.non_negative_int("execution.checkpointing.tolerable-failed-checkpoints")?,
        })
    }
}

/// Why no checkpoint was triggered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TriggerRefused {
    /// `max-concurrent-checkpoints` are in progress.
    #[error("{0} checkpoint(s) already in progress (execution.checkpointing.max-concurrent-checkpoints)")]
    TooManyConcurrent(usize),
}

/// Flink's checkpoint statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckpointStatus {
    /// Waiting for acknowledgements or for its metadata to be written.
    InProgress,
    /// Durable and usable for recovery.
    Completed,
    /// Timed out, declined, or aborted.
    Failed,
}

/// One checkpoint as `/jobs/:id/checkpoints` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointRecord {
    /// Its id.
    pub id: CheckpointId,
    /// Its status.
    pub status: CheckpointStatus,
    /// Savepoint or periodic checkpoint.
    pub is_savepoint: bool,
    /// When it was triggered (ms since the epoch).
    pub trigger_timestamp: u64,
    /// When the last acknowledgement arrived (ms since the epoch).
    pub latest_ack_timestamp: u64,
    /// Bytes of state acknowledged so far.
    pub state_size: u64,
    /// Trigger to completion (or to now / failure), ms.
    pub end_to_end_duration: u64,
    /// Subtasks that must acknowledge.
    pub num_subtasks: usize,
    /// Subtasks that did.
    pub num_acknowledged_subtasks: usize,
    /// Where it is stored, once completed.
    pub external_path: Option<String>,
    /// Why it failed.
    pub failure_message: Option<String>,
    /// When it failed (ms since the epoch).
    pub failure_timestamp: Option<u64>,
    /// Acknowledged subtasks per vertex index (for the details view).
    pub acknowledged_per_vertex: Vec<usize>,
    /// Each subtask's acknowledgement, `[vertex][index]`, `None` until it acknowledged
    /// (`/jobs/:id/checkpoints/details/:cid/subtasks/:vid`).
    pub subtasks: Vec<Vec<Option<SubtaskAck>>>,
}

/// One subtask's acknowledgement of a checkpoint.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SubtaskAck {
    /// When it arrived (ms since the epoch); a subtask that had finished counts as acknowledged at the trigger.
    pub ack_timestamp: u64,
    /// Bytes of state it wrote (keyed state file and operator state).
    pub state_size: u64,
}

/// Where a restore came from.
#[derive(Debug, Clone, Serialize)]
pub struct RestoredCheckpoint {
    /// The checkpoint or savepoint id.
    pub id: CheckpointId,
    /// Whether it was a savepoint.
    pub is_savepoint: bool,
    /// When the restore happened (ms since the epoch).
    pub restore_timestamp: u64,
    /// Its location.
    pub external_path: String,
}

/// Everything `/jobs/:id/checkpoints` shows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckpointStats {
    /// Restores so far.
    pub restored: u64,
    /// Checkpoints triggered.
    pub total: u64,
    /// Completed.
    pub completed: u64,
    /// Failed.
    pub failed: u64,
    /// The latest checkpoints, newest first.
    pub history: VecDeque<CheckpointRecord>,
    /// The latest completed periodic checkpoint.
    pub latest_completed: Option<CheckpointRecord>,
    /// The latest completed savepoint.
    pub latest_savepoint: Option<CheckpointRecord>,
    /// The latest failed checkpoint.
    pub latest_failed: Option<CheckpointRecord>,
    /// The latest restore.
    pub latest_restored: Option<RestoredCheckpoint>,
    /// Durations and sizes of completed checkpoints: (end_to_end ms, state bytes).
    #[serde(skip)]
    pub completed_samples: VecDeque<(u64, u64)>,
}

impl CheckpointStats {
    /// Checkpoints in progress.
    pub fn in_progress(&self) -> usize {
        self.history.iter().filter(|r| r.status == CheckpointStatus::InProgress).count()
    }

    fn record(&mut self, record: CheckpointRecord) {
        match self.history.iter_mut().find(|r| r.id == record.id) {
            Some(existing) => *existing = record,
            None => {
                self.history.push_front(record);
                // Keep the ones still in progress; drop the oldest ended ones.
                while self.history.len() > HISTORY {
                    let Some(at) = self.history.iter().rposition(|r| r.status != CheckpointStatus::InProgress) else {
                        break;
                    };
                    self.history.remove(at);
                }
            }
        }
    }
}

/// A checkpoint waiting for acknowledgements.
#[derive(Debug, Clone)]
pub struct PendingCheckpoint {
    /// Its barrier.
    pub barrier: CheckpointBarrier,
    /// Every subtask's handle once acknowledged, `[vertex][index]`.
    pub handles: Vec<Vec<Option<TaskStateHandle>>>,
    /// When each subtask acknowledged, `[vertex][index]`.
    acked_at: Vec<Vec<Option<u64>>>,
    acknowledged: usize,
    total: usize,
    latest_ack: u64,
    state_size: u64,
}

impl PendingCheckpoint {
    fn record(&self, status: CheckpointStatus, now: u64) -> CheckpointRecord {
        CheckpointRecord {
            id: self.barrier.id,
            status,
            is_savepoint: self.barrier.kind == SnapshotKind::Savepoint,
            trigger_timestamp: self.barrier.timestamp,
            latest_ack_timestamp: self.latest_ack,
            state_size: self.state_size,
            end_to_end_duration: now.saturating_sub(self.barrier.timestamp),
            num_subtasks: self.total,
            num_acknowledged_subtasks: self.acknowledged,
            external_path: None,
            failure_message: None,
            failure_timestamp: None,
            acknowledged_per_vertex: self.handles.iter().map(|v| v.iter().flatten().count()).collect(),
            subtasks: self
                .handles
                .iter()
                .zip(&self.acked_at)
                .map(|(handles, times)| {
                    let acks = handles.iter().zip(times);
                    acks.map(|(h, t)| Some(SubtaskAck { ack_timestamp: (*t)?, state_size: state_size(h.as_ref()?) }))
                        .collect()
                })
                .collect(),
        }
    }

    /// The `_metadata` of this checkpoint of `job`: every handle with its
    /// file path made relative to the checkpoint's own directory.
    pub fn metadata(&self, job: &JobGraph, job_id: &str, component_hash: &str) -> CheckpointMetadata {
        let vertices = job
            .vertices
            .iter()
            .zip(&self.handles)
            .map(|(vertex, handles)| VertexSnapshot {
                id: vertex.id.clone(),
                name: vertex.name.clone(),
                parallelism: vertex.parallelism,
                max_parallelism: vertex.max_parallelism,
                subtasks: handles
                    .iter()
                    .map(|h| {
                        let mut handle = h.clone().unwrap_or_default();
                        if let Some(file) = &mut handle.keyed {
                            file.path = file_name(&file.path).to_string();
                        }
                        handle
                    })
                    .collect(),
            })
            .collect();
        CheckpointMetadata {
            job_id: job_id.to_string(),
            job_name: job.job_name.clone(),
            component_hash: component_hash.to_string(),
            checkpoint_id: self.barrier.id,
            kind: self.barrier.kind,
            timestamp: self.barrier.timestamp,
            vertices,
        }
    }
}

/// What an acknowledgement or decline changed.
#[derive(Debug)]
pub enum ReportEffect {
    /// Late, duplicate, or for an unknown checkpoint: nothing.
    Ignored,
    /// Recorded; more acknowledgements are awaited.
    Pending,
    /// Every subtask acknowledged: write the metadata, then call
    /// [`CheckpointCoordinator::completed`] (or `failed`).
    AllAcknowledged(Box<PendingCheckpoint>),
    /// A task declined: the checkpoint failed (already recorded); abort it at the tasks.
    Declined(CheckpointBarrier, String),
}

/// A completed periodic checkpoint kept for recovery.
#[derive(Debug, Clone, PartialEq)]
pub struct RetainedCheckpoint {
    /// Its id.
    pub id: CheckpointId,
    /// Its directory relative to the checkpoint storage.
    pub dir: String,
}

/// The coordinator's state for one job, across restarts.
#[derive(Debug)]
pub struct CheckpointCoordinator {
    settings: CheckpointSettings,
    next_id: CheckpointId,
    /// Subtasks per vertex.
    shape: Vec<u32>,
    pending: BTreeMap<CheckpointId, PendingCheckpoint>,
    /// Retained periodic checkpoints, oldest first.
    retained: VecDeque<RetainedCheckpoint>,
    /// Every subtask's handle in the latest completed checkpoint: a task
    /// that finished is acknowledged with it in later checkpoints.
    last_completed: Vec<Vec<Option<TaskStateHandle>>>,
    /// The id of that checkpoint.
    last_completed_id: CheckpointId,
    /// The state each task that finished after its input ended reported
    /// with its end, `[vertex][index]`: it stands for the task in every
    /// later checkpoint (before [`Self::last_completed`], which may predate
    /// the end).
    final_states: Vec<Vec<Option<TaskStateHandle>>>,
    /// Counted checkpoint failures since the last completed checkpoint.
    failures_in_a_row: u32,
    stats: CheckpointStats,
}

impl CheckpointCoordinator {
    /// A coordinator for a job whose vertices have `shape[v]` subtasks.
    pub fn new(settings: CheckpointSettings, shape: Vec<u32>) -> Self {
        CheckpointCoordinator {
            settings,
            next_id: 1,
            shape,
            pending: BTreeMap::new(),
            retained: VecDeque::new(),
            last_completed: Vec::new(),
            last_completed_id: 0,
            final_states: Vec::new(),
            failures_in_a_row: 0,
            stats: CheckpointStats::default(),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &CheckpointSettings {
        &self.settings
    }

    /// The statistics.
    pub fn stats(&self) -> &CheckpointStats {
        &self.stats
    }

    /// Retained checkpoints, newest first (the order recovery tries them in).
    pub fn retained_newest_first(&self) -> impl Iterator<Item = &RetainedCheckpoint> {
        self.retained.iter().rev()
    }

    /// Ids continue after a restored checkpoint, so they never repeat.
    pub fn continue_after(&mut self, id: CheckpointId) {
        self.next_id = self.next_id.max(id + 1);
    }

    /// Records a restore.
    pub fn restored(&mut self, restored: RestoredCheckpoint) {
        self.continue_after(restored.id);
        self.stats.restored += 1;
        self.stats.latest_restored = Some(restored);
    }

    /// `subtask` finished after its input ended, with `state` (a source's
    /// position at its end): later checkpoints record it for the subtask,
    /// so a job restored from one does not read its input again (as Flink
    /// keeps finished operators in later checkpoints).
    pub fn finished(&mut self, subtask: SubtaskId, state: TaskStateHandle) {
        if self.final_states.is_empty() {
            self.final_states = self.shape.iter().map(|p| vec![None; *p as usize]).collect();
        }
        if let Some(slot) = self.final_states.get_mut(subtask.vertex).and_then(|v| v.get_mut(subtask.index as usize)) {
            *slot = Some(state);
        }
    }

    /// Starts a checkpoint at `now` (ms since the epoch); savepoints are not
    /// bounded by `max-concurrent-checkpoints`. The `finished` subtasks
    /// ended after their input did: they count as acknowledged with the
    /// state they finished with ([`Self::finished`]: a source's says it
    /// has nothing left to read), else with the operator state they
    /// acknowledged in the latest completed checkpoint.
    pub fn trigger(
        &mut self,
        kind: SnapshotKind,
        now: u64,
        finished: &[SubtaskId],
    ) -> Result<CheckpointBarrier, TriggerRefused> {
        let periodic = self.pending.values().filter(|p| p.barrier.kind == SnapshotKind::Checkpoint).count();
        if kind == SnapshotKind::Checkpoint && periodic >= self.settings.max_concurrent {
            return Err(TriggerRefused::TooManyConcurrent(periodic));
        }
        let barrier = CheckpointBarrier { id: self.next_id, timestamp: now, kind, stop: None };
        self.next_id += 1;
        let handles: Vec<Vec<Option<TaskStateHandle>>> = self.shape.iter().map(|p| vec![None; *p as usize]).collect();
        let mut handles = handles;
        let mut acked_at: Vec<Vec<Option<u64>>> = self.shape.iter().map(|p| vec![None; *p as usize]).collect();
        let mut acknowledged = 0;
        for subtask in finished {
            if let Some(slot) = handles.get_mut(subtask.vertex).and_then(|v| v.get_mut(subtask.index as usize)) {
                let reported = self.final_states.get(subtask.vertex).and_then(|v| v.get(subtask.index as usize));
                *slot = Some(match reported.cloned().flatten() {
                    Some(state) => state,
                    None => last_completed(&self.last_completed, *subtask),
                });
                acked_at[subtask.vertex][subtask.index as usize] = Some(now);
                acknowledged += 1;
            }
        }
        let total = self.shape.iter().map(|p| *p as usize).sum();
        let pending =
            PendingCheckpoint { barrier, handles, acked_at, acknowledged, total, latest_ack: now, state_size: 0 };
        self.stats.total += 1;
        self.stats.record(pending.record(CheckpointStatus::InProgress, now));
        self.pending.insert(barrier.id, pending);
        Ok(barrier)
    }

    /// Applies a task's report received at `now`.
    pub fn report(&mut self, report: CheckpointReport, now: u64) -> ReportEffect {
        let Some(pending) = self.pending.get_mut(&report.checkpoint_id) else { return ReportEffect::Ignored };
        let SubtaskId { vertex, index } = report.subtask;
        let Some(slot) = pending.handles.get_mut(vertex).and_then(|v| v.get_mut(index as usize)) else {
            return ReportEffect::Ignored;
        };
        match report.outcome {
            CheckpointOutcome::Acknowledged(_) if slot.is_some() => ReportEffect::Ignored,
            CheckpointOutcome::Acknowledged(handle) => {
                pending.state_size += state_size(&handle);
                pending.acked_at[vertex][index as usize] = Some(now);
                *slot = Some(handle);
                pending.acknowledged += 1;
                pending.latest_ack = now;
                let done = pending.acknowledged == pending.total;
                let record = pending.record(CheckpointStatus::InProgress, now);
                self.stats.record(record);
                if done {
                    let pending = self.pending.remove(&report.checkpoint_id).expect("present");
                    ReportEffect::AllAcknowledged(Box::new(pending))
                } else {
                    ReportEffect::Pending
                }
            }
            CheckpointOutcome::Declined(reason) => {
                let vertex_subtask = format!("subtask {} of vertex {vertex} declined: {reason}", index);
                let barrier = pending.barrier;
                self.failed(barrier.id, &vertex_subtask, now);
                ReportEffect::Declined(barrier, vertex_subtask)
            }
        }
    }

    /// The metadata of `id` is durable at `dir` (relative to the storage,
    /// `external_path` for users): it completed. Returns the directories of
    /// the periodic checkpoints retention retires (delete them).
    pub fn completed(
        &mut self,
        pending: &PendingCheckpoint,
        dir: String,
        external_path: String,
        now: u64,
    ) -> Vec<String> {
        let mut record = pending.record(CheckpointStatus::Completed, now);
        record.external_path = Some(external_path);
        self.failures_in_a_row = 0;
        if pending.barrier.id > self.last_completed_id {
            self.last_completed = pending.handles.clone();
            self.last_completed_id = pending.barrier.id;
        }
        self.stats.completed += 1;
        self.stats.completed_samples.push_back((record.end_to_end_duration, record.state_size));
        if self.stats.completed_samples.len() > 1000 {
            self.stats.completed_samples.pop_front();
        }
        self.stats.record(record.clone());
        if pending.barrier.kind == SnapshotKind::Savepoint {
            self.stats.latest_savepoint = Some(record);
            return Vec::new();
        }
        self.stats.latest_completed = Some(record);
        self.retained.push_back(RetainedCheckpoint { id: pending.barrier.id, dir });
        // Checkpoints older than a completed one can no longer complete usefully.
        let mut retired = Vec::new();
        while self.retained.len() > self.settings.retained {
            retired.push(self.retained.pop_front().expect("non-empty").dir);
        }
        retired
    }

    /// Checkpoint `id` failed (timeout, decline, metadata write, job
    /// failure); returns its barrier if it was pending.
    pub fn failed(&mut self, id: CheckpointId, reason: &str, now: u64) -> Option<CheckpointBarrier> {
        let pending = self.pending.remove(&id);
        let mut record = match &pending {
            Some(p) => p.record(CheckpointStatus::Failed, now),
            None => self.stats.history.iter().find(|r| r.id == id && r.status == CheckpointStatus::InProgress)?.clone(),
        };
        record.status = CheckpointStatus::Failed;
        record.failure_message = Some(reason.to_string());
        record.failure_timestamp = Some(now);
        self.stats.failed += 1;
        self.stats.record(record.clone());
        self.stats.latest_failed = Some(record);
        pending.map(|p| p.barrier)
    }

    /// Counts the failure of checkpoint `id` as Flink's failure manager
    /// does: declined, expired or its metadata not written, and not a
    /// savepoint nor older than the last completed checkpoint. Returns the
    /// failures in a row once they exceed `tolerable-failed-checkpoints`:
    /// the job must fail.
    pub fn count_failure(&mut self, id: CheckpointId) -> Option<u32> {
        let savepoint = self.stats.history.iter().find(|r| r.id == id).is_some_and(|r| r.is_savepoint);
        if savepoint || id < self.last_completed_id {
            return None;
        }
        self.failures_in_a_row += 1;
        (self.failures_in_a_row > self.settings.tolerable_failures).then_some(self.failures_in_a_row)
    }

    /// Pending checkpoints older than the timeout at `now`.
    pub fn expired(&self, now: u64) -> Vec<CheckpointId> {
        let timeout = self.settings.timeout.as_millis() as u64;
        self.pending
            .values()
            .filter(|p| now.saturating_sub(p.barrier.timestamp) >= timeout)
            .map(|p| p.barrier.id)
            .collect()
    }

    /// Fails every pending checkpoint (the job fails or restarts); returns their barriers.
    pub fn abort_all(&mut self, reason: &str, now: u64) -> Vec<CheckpointBarrier> {
        let ids: Vec<CheckpointId> = self.pending.keys().copied().collect();
        ids.into_iter().filter_map(|id| self.failed(id, reason, now)).collect()
    }

    /// A retained checkpoint turned out unusable (corrupted): forget it.
    pub fn forget(&mut self, id: CheckpointId) {
        self.retained.retain(|r| r.id != id);
    }

    /// Checkpoints in progress that `subtask` has not acknowledged yet.
    pub fn awaiting(&self, subtask: SubtaskId) -> Vec<CheckpointId> {
        let acknowledged = |p: &PendingCheckpoint| {
            p.handles.get(subtask.vertex).and_then(|v| v.get(subtask.index as usize)).is_some_and(Option::is_some)
        };
        self.pending.values().filter(|p| !acknowledged(p)).map(|p| p.barrier.id).collect()
    }

    /// Whether any checkpoint is in progress.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }
}

/// The operator state `subtask` acknowledged in the latest completed
/// checkpoint (none if none): what a finished task stands for in later
/// ones (an ended source's position at the end). Keyed state is not
/// carried: its file lives in the older checkpoint's directory, which
/// retention deletes, and a task only finishes once all its input ended.
/// Bytes of state a subtask wrote: its keyed state file and its operator state.
fn state_size(handle: &TaskStateHandle) -> u64 {
    handle.keyed.as_ref().map_or(0, |f| f.size) + handle.operator.as_ref().map_or(0, |o| o.len() as u64)
}

fn last_completed(handles: &[Vec<Option<TaskStateHandle>>], subtask: SubtaskId) -> TaskStateHandle {
    let handle = handles.get(subtask.vertex).and_then(|v| v.get(subtask.index as usize)).and_then(Option::as_ref);
    TaskStateHandle { keyed: None, operator: handle.and_then(|h| h.operator.clone()) }
}

#[cfg(test)]
#[path = "coordinator_tests.rs"]
mod tests;
