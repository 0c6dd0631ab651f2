//! Names of the parallel instances of a vertex.

use serde::{Deserialize, Serialize};

use crate::ids::VertexIndex;

/// One parallel instance of a vertex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SubtaskId {
    /// The vertex.
    pub vertex: VertexIndex,
    /// 0-based subtask index.
    pub index: u32,
}
