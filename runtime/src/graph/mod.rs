//! From the plan a job describes to the subtasks that run it:
//! [`StreamGraph`] (nodes as the job declared them) → [`JobGraph`]
//! (nodes chained into vertices) → [`ExecutionGraph`] (vertices expanded
//! into parallel subtasks, placed into slots).

mod chaining;
pub(crate) mod job_graph;
pub mod partition;
mod stream_graph;
mod subtask;

pub use chaining::{ChainBreak, chain_break};
pub use job_graph::{HostAggregation, HostKeyBy, JobEdge, JobGraph, JobVertex, ParallelismSources, SideSink};
pub use partition::Partitioning;
pub use stream_graph::{
    AggregateField, AggregateFunction, Aggregation, BroadcastProcessSpec, Connector, KeyedProcessSpec, NodeKind,
    PlanError, StateDescriptor, StateKind, StreamEdge, StreamGraph, StreamGraphExt, StreamNode, WatermarkStrategy,
    WindowAssigner, WindowSpec,
};
pub use subtask::SubtaskId;
