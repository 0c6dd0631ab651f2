//! The ExecutionGraph: every vertex expanded into its parallel subtasks,
//! each with its state and the slot it runs in.

use crate::graph::{JobGraph, SubtaskId};
use crate::ids::VertexIndex;
use crate::protocol::TaskState;

/// Subtasks of every vertex with their current state.
#[derive(Debug, Clone)]
pub struct ExecutionGraph {
    /// `states[vertex][index]`.
    states: Vec<Vec<TaskState>>,
}

impl ExecutionGraph {
    /// All subtasks of `job`, created.
    pub fn new(job: &JobGraph) -> Self {
        let states = job.vertices.iter().map(|v| vec![TaskState::Created; v.parallelism as usize]).collect();
        ExecutionGraph { states }
    }

    /// Every subtask, vertex by vertex.
    pub fn subtasks(&self) -> impl Iterator<Item = SubtaskId> + '_ {
        self.states
            .iter()
            .enumerate()
            .flat_map(|(vertex, subtasks)| (0..subtasks.len() as u32).map(move |index| SubtaskId { vertex, index }))
    }

    /// Slot sharing: subtask `i` of every vertex goes to shared slot `i`,
    /// so a job needs as many slots as its highest parallelism.
    pub fn shared_slot_of(subtask: SubtaskId) -> usize {
        subtask.index as usize
    }

    /// The state of one subtask.
    pub fn state(&self, subtask: SubtaskId) -> TaskState {
        self.states[subtask.vertex][subtask.index as usize]
    }

    /// Records a new state for one subtask.
    pub fn set_state(&mut self, subtask: SubtaskId, state: TaskState) {
        self.states[subtask.vertex][subtask.index as usize] = state;
    }

    /// States of the subtasks of one vertex.
    pub fn vertex_states(&self, vertex: VertexIndex) -> &[TaskState] {
        &self.states[vertex]
    }

    /// Whether every subtask has reached a terminal state.
    pub fn all_terminal(&self) -> bool {
        self.states.iter().flatten().all(|s| s.is_terminal())
    }

    /// Whether every subtask finished normally.
    pub fn all_finished(&self) -> bool {
        self.states.iter().flatten().all(|s| *s == TaskState::Finished)
    }
}
