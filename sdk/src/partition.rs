//! Explicit partitioning: how the records of a stream travel to the
//! subtasks of the next node, when the default (forward, or rebalance
//! where the parallelism changes; hash after a key-by) is not wanted.
//! Each method marks the stream; the edge to the next node carries it.

use crate::DataStream;
use crate::plan::Partitioning;

impl<T> DataStream<T> {
    fn partitioned(mut self, partitioning: Partitioning) -> Self {
        self.partitioning = Some(partitioning);
        self
    }

    /// Sends records round-robin to every subtask of the next node.
    pub fn rebalance(self) -> Self {
        self.partitioned(Partitioning::Rebalance)
    }

    /// Sends records round-robin to a subset of the next node's subtasks,
    /// pairing upstream and downstream subtasks pointwise (from 2 to 4
    /// subtasks, each upstream one feeds two; from 4 to 2, two feed each).
    pub fn rescale(self) -> Self {
        self.partitioned(Partitioning::Rescale)
    }

    /// Sends each record to a random subtask of the next node.
    pub fn shuffle(self) -> Self {
        self.partitioned(Partitioning::Shuffle)
    }

    /// Sends each record to every subtask of the next node.
    pub fn broadcast(self) -> Self {
        self.partitioned(Partitioning::Broadcast)
    }

    /// Sends every record to the first subtask of the next node.
    pub fn global(self) -> Self {
        self.partitioned(Partitioning::Global)
    }

    /// Keeps records on their subtask: subtask `i` feeds subtask `i` of
    /// the next node, which must have the same parallelism (else the plan
    /// is refused at submit, as Flink does).
    pub fn forward(self) -> Self {
        self.partitioned(Partitioning::ForwardStrict)
    }
}
