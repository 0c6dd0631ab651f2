//! The uncommitted output of a task's side output sinks, part of its
//! checkpoint state.

use serde::{Deserialize, Serialize};

/// The state of one side output sink, by the tag it writes.
#[derive(Debug, Serialize, Deserialize)]
pub struct SideSinkState {
    /// The side output's tag.
    pub tag: u32,
    /// The sink's state, as its `pre_commit` returned it.
    #[serde(with = "serde_bytes")]
    pub state: Vec<u8>,
}
