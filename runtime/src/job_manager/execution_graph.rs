//! The ExecutionGraph: every vertex expanded into its parallel subtasks,
//! each with what the JobManager follows of it in the current attempt —
//! its state, the slot it runs in and its counters.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::graph::{JobGraph, SubtaskId};
use crate::ids::VertexIndex;
use crate::metrics::TaskMetrics;
use crate::protocol::TaskState;
use crate::time::now_millis;

/// One subtask in the current attempt (Flink's `Execution`).
#[derive(Debug, Clone)]
pub struct Execution {
    /// Its state.
    pub state: TaskState,
    /// Which of the job's granted slots runs it, once deployed.
    pub slot: Option<usize>,
    /// Its counters: updated by the task in this process, from heartbeats otherwise.
    pub metrics: Arc<TaskMetrics>,
    /// When it entered each state it went through, ms since the epoch (`/subtasktimes`).
    pub timestamps: BTreeMap<TaskState, u64>,
}

impl Execution {
    fn created() -> Self {
        Execution {
            state: TaskState::Created,
            slot: None,
            metrics: Arc::new(TaskMetrics::default()),
            timestamps: BTreeMap::from([(TaskState::Created, now_millis())]),
        }
    }
}

/// Subtasks of every vertex in the current attempt.
#[derive(Debug, Clone)]
pub struct ExecutionGraph {
    /// `subtasks[vertex][index]`.
    subtasks: Vec<Vec<Execution>>,
}

impl ExecutionGraph {
    /// All subtasks of `job`, created, with fresh counters.
    pub fn new(job: &JobGraph) -> Self {
        let subtasks =
            job.vertices.iter().map(|v| (0..v.parallelism).map(|_| Execution::created()).collect()).collect();
        ExecutionGraph { subtasks }
    }

    /// Every subtask, vertex by vertex.
    pub fn subtasks(&self) -> impl Iterator<Item = SubtaskId> + '_ {
        self.subtasks
            .iter()
            .enumerate()
            .flat_map(|(vertex, subtasks)| (0..subtasks.len() as u32).map(move |index| SubtaskId { vertex, index }))
    }

    /// Slot sharing: subtask `i` of every vertex goes to shared slot `i`,
    /// so a job needs as many slots as its highest parallelism.
    pub fn shared_slot_of(subtask: SubtaskId) -> usize {
        subtask.index as usize
    }

    /// One subtask.
    pub fn get(&self, subtask: SubtaskId) -> &Execution {
        &self.subtasks[subtask.vertex][subtask.index as usize]
    }

    /// The state of one subtask.
    pub fn state(&self, subtask: SubtaskId) -> TaskState {
        self.get(subtask).state
    }

    /// Records a new state for one subtask.
    pub fn set_state(&mut self, subtask: SubtaskId, state: TaskState) {
        let execution = &mut self.subtasks[subtask.vertex][subtask.index as usize];
        execution.state = state;
        execution.timestamps.insert(state, now_millis());
    }

    /// One subtask goes to the granted slot `slot`: DEPLOYING.
    pub fn deploying(&mut self, subtask: SubtaskId, slot: usize) {
        let execution = &mut self.subtasks[subtask.vertex][subtask.index as usize];
        execution.state = TaskState::Deploying;
        execution.timestamps.insert(TaskState::Deploying, now_millis());
        execution.slot = Some(slot);
    }

    /// The subtasks of one vertex, by index.
    pub fn vertex(&self, vertex: VertexIndex) -> &[Execution] {
        &self.subtasks[vertex]
    }

    /// Whether every subtask has reached a terminal state.
    pub fn all_terminal(&self) -> bool {
        self.subtasks.iter().flatten().all(|s| s.state.is_terminal())
    }

    /// Whether every subtask finished normally.
    pub fn all_finished(&self) -> bool {
        self.subtasks.iter().flatten().all(|s| s.state == TaskState::Finished)
    }
}
