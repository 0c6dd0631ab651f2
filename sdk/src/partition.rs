//! Explicit partitioning: how the records of a stream travel to the
//! subtasks of the next node, when the default (forward, or rebalance
//! where the parallelism changes; hash after a key-by) is not wanted.
//! Each method marks the stream; the edge to the next node carries it,
//! but for `partition_custom`, whose functions run as a node at the end
//! of the upstream chain.

use crate::plan::{NodeKind, Partitioning};
use crate::{Data, DataStream, chain};

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

impl<T: Data> DataStream<T> {
    /// Sends each record to the subtask of the next node that
    /// `partitioner` picks (Flink's `partitionCustom(Partitioner,
    /// KeySelector)`): `key` computes the record's key, and
    /// `partitioner(&key, num_partitions)` returns a partition from 0 to
    /// `num_partitions - 1`, `num_partitions` being the next node's
    /// parallelism. Both run in the upstream chain, batch by batch; a
    /// partition out of range fails the task, naming this node.
    ///
    /// ```
    /// # use wflink_sdk::prelude::*;
    /// # fn by_region(orders: DataStream<(u32, i64)>) -> DataStream<(u32, i64)> {
    /// // Region r goes to subtask r mod n.
    /// orders.partition_custom(|region: &u32, n: usize| *region as usize % n, |(region, _): &(u32, i64)| *region)
    /// # }
    /// ```
    pub fn partition_custom<K, P, F>(self, partitioner: P, key: F) -> DataStream<T>
    where
        K: 'static,
        P: FnMut(&K, usize) -> usize + 'static,
        F: FnMut(&T) -> K + 'static,
    {
        let operator = chain::partition_custom_operator(partitioner, key);
        self.then(NodeKind::PartitionCustom, "Partition Custom", Some(operator))
    }
}
