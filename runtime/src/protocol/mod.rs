//! The vocabulary the cluster's roles share, below all of them (Flink's
//! `execution` and `deployment` packages): job and task states and the
//! message a task's state change travels in, why a task or a job failed,
//! what deploys a subtask, what a TaskManager reports of its slots, and
//! the side-sink state in a task's checkpoint. It depends on the plan (`graph`), the data plane's
//! names (`network`) and checkpoint types, never on an actor module, so
//! task managers, the resource manager, RPC and job managers can all use
//! it without depending on each other.

mod deployment;
mod execution;
mod failure;
mod side_sinks;
mod usage;

pub use deployment::{ChannelTarget, InputDescriptor, LOCAL_ADDRESS, OutputDescriptor, TaskDescriptor};
pub use execution::{JobStatus, TaskState, TaskStateChanged};
pub use failure::{FailureKind, TaskFailure};
pub use side_sinks::SideSinkState;
pub use usage::{SlotUsage, TaskManagerUsage};
