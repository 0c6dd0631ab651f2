//! The StreamGraph a job describes, as plain Rust values: the WIT `plan`
//! interface minus the bindings, so it can be built and tested on the
//! host. The types are [`wflink_abi::plan`]'s, the same the runtime reads.

pub use wflink_abi::TimeDomain;
pub use wflink_abi::plan::{
    AggregateField, AggregateFunction, Aggregation, BroadcastProcessSpec, Connector, Edge, KeyedProcessSpec, Node,
    NodeKind, Partitioning, StateDescriptor, StateKind, StreamPlan, WatermarkStrategy, WindowAssigner, WindowSpec,
};
