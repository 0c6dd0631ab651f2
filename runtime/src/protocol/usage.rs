//! What a TaskManager reports of its slots with every heartbeat.

use serde::{Deserialize, Serialize};

use crate::ids::JobId;
use crate::metrics::process::ProcessStats;

/// What a TaskManager's slots hold and how much memory it uses, as of
/// its last heartbeat.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TaskManagerUsage {
    /// One entry per slot, by index.
    pub slots: Vec<SlotUsage>,
    /// Resident memory of the TaskManager process in bytes (0 if unknown).
    pub process_memory: u64,
    /// The TaskManager process's memory, CPU and threads.
    pub process: ProcessStats,
}

/// One slot of a TaskManager.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SlotUsage {
    /// The jobs with tasks in it.
    pub jobs: Vec<JobId>,
    /// Tasks running in it.
    pub tasks: u32,
    /// Guest memory in use, in bytes.
    pub memory_used: u64,
    /// Its guest memory budget, in bytes.
    pub memory_limit: u64,
}
