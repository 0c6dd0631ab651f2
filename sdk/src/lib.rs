//! Write wflink jobs in Rust: a typed DataStream API compiled to a
//! WebAssembly component.
//!
//! A job is a build function that records a dataflow, exported with
//! [`export_job!`]:
//!
//! ```
//! use wflink_sdk::prelude::*;
//!
//! fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
//!     env.set_job_name("wordcount");
//!     env.read_text_file(args.required("input")?)
//!         .flat_map(|line: String, out: &mut Collector<(String, i64)>| {
//!             for word in line.split_whitespace() {
//!                 out.collect((word.to_lowercase(), 1));
//!             }
//!         })
//!         .name("tokenize")
//!         .key_by(|(word, _): &(String, i64)| word.clone())
//!         .sum_by(|t| &mut t.1)
//!         .name("count")
//!         .print();
//!     Ok(())
//! }
//! // In the job crate: wflink_sdk::export_job!(build);
//! # let args = ["--input".to_string(), "in.txt".to_string()];
//! # let plan = wflink_sdk::describe(build, &args).unwrap();
//! # assert_eq!(plan.job_name, "wordcount");
//! ```
//!
//! The host calls the component twice over: `describe` runs the build
//! function to get the plan (the StreamGraph), and each task's `open` runs
//! it again to pick up the functions of its chain, which then process
//! batches. Records cross the boundary as MessagePack (rmp-serde, structs
//! and tuples as arrays); users only see their own types.
//!
//! # Layout
//! - `env`: [`StreamExecutionEnvironment`], sources and job settings.
//! - `stream`, `keyed`: [`DataStream`], [`KeyedStream`] and their operations;
//!   `aggregate`: the functions of `sum`, `min`, `max`, `min_by`, `max_by`.
//! - `partition`: explicit partitioning (`rebalance`, `broadcast`, ...).
//! - `connected`, `co_process`: `union`, `connect` ([`ConnectedStreams`])
//!   and the functions of two inputs.
//! - `join`: window joins ([`JoinedStreams`]) and interval joins ([`IntervalJoin`]).
//! - `broadcast`, `broadcast_process`: broadcast state
//!   ([`MapStateDescriptor`], [`BroadcastStream`]) and the functions of a
//!   stream connected to a broadcast stream.
//! - `builder`: records the plan as the build function runs.
//! - `plan`: the plan's types ([`plan::StreamPlan`]).
//! - `chain`: runs the functions of one chain on batches.
//! - `codec`: MessagePack encoding; the [`Data`] and [`Key`] bounds.
//! - `connectors`: [`KafkaSource`], [`KafkaSink`] and record [`Format`]s.
//! - `args`, `error`: [`Args`] and [`JobError`].
//! - `export`: the WIT bindings and [`export_job!`].
//! - [`log`], [`metrics`]: the host's logging and metrics imports.
//! - `time`: [`WatermarkStrategy`]; `process`: process functions, side
//!   outputs; `state`: keyed state handles; `state_ttl`: their time to live; `lazy_state`: keyed state read
//!   per call through the host's `state` import; `context`: the per-call state,
//!   timers and side outputs behind them; [`window`]: windows.
#![warn(missing_docs)]

mod aggregate;
mod apply_to_keyed_state;
mod args;
mod broadcast;
mod broadcast_process;
mod builder;
mod chain;
mod co_process;
mod codec;
mod connected;
mod connectors;
mod context;
mod env;
mod error;
mod export;
mod join;
mod keyed;
mod lazy_state;
pub mod log;
pub mod metrics;
mod partition;
pub mod plan;
mod process;
mod state;
mod state_ttl;
mod stream;
mod time;
pub mod window;

pub use apply_to_keyed_state::KeyedStateHandle;
pub use args::Args;
pub use broadcast::{BroadcastConnectedStream, BroadcastStream, KeyedBroadcastConnectedStream, MapStateDescriptor};
pub use broadcast_process::{
    BroadcastContext, BroadcastProcessFunction, BroadcastState, KeyedBroadcastProcessFunction,
    ReadOnlyBroadcastContext, ReadOnlyBroadcastState,
};
pub use chain::Collector;
pub use co_process::{CoProcessFunction, KeyedCoProcessFunction};
pub use codec::{Data, Key};
pub use connected::{ConnectWith, ConnectedStreams, KeyedConnectedStreams};
pub use connectors::{
    Delivery, FileSource, Format, KafkaRecord, KafkaSink, KafkaSource, ProducerRecord, StartingOffsets,
};
pub use context::StateError;
pub use env::{StreamExecutionEnvironment, describe};
pub use error::JobError;
pub use join::{
    IntervalJoin, IntervalJoined, JoinEqual, JoinInput, JoinWhere, JoinedStreams, ProcessJoinFunction, WindowJoin,
};
pub use keyed::KeyedStream;
pub use lazy_state::{DEFAULT_PAGE_SIZE, LazyListIter, LazyListState, LazyMapIter, LazyMapState};
pub use process::{Context, KeyedProcessFunction, OutputTag, ProcessFunction};
pub use state::{AggregatingState, ListState, MapState, ReducingState, ValueState};
pub use state_ttl::{StateTtlConfig, UpdateType};
pub use stream::{DataStream, DataStreamSink};
pub use time::WatermarkStrategy;
pub use window::{AggregateFunction, AllWindowedStream, CountWindowedStream, TimeWindow, WindowedStream};

/// Everything a build function needs: `use wflink_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::join::{IntervalJoin, IntervalJoined, JoinedStreams, ProcessJoinFunction, WindowJoin};
    pub use crate::window::{
        EventTimeSessionWindows, ProcessingTimeSessionWindows, SlidingEventTimeWindows, SlidingProcessingTimeWindows,
        TumblingEventTimeWindows, TumblingProcessingTimeWindows,
    };
    pub use crate::{
        AggregateFunction, AggregatingState, AllWindowedStream, Args, CoProcessFunction, Collector, ConnectedStreams,
        Context, CountWindowedStream, Data, DataStream, DataStreamSink, Delivery, FileSource, Format, JobError,
        KafkaRecord, KafkaSink, KafkaSource, Key, KeyedCoProcessFunction, KeyedConnectedStreams, KeyedProcessFunction,
        KeyedStream, LazyListState, LazyMapState, ListState, MapState, OutputTag, ProcessFunction, ProducerRecord,
        ReducingState, StartingOffsets, StateError, StateTtlConfig, StreamExecutionEnvironment, TimeWindow, UpdateType,
        ValueState, WatermarkStrategy, WindowedStream,
    };
    pub use crate::{
        BroadcastContext, BroadcastProcessFunction, BroadcastState, BroadcastStream, KeyedBroadcastProcessFunction,
        MapStateDescriptor, ReadOnlyBroadcastContext, ReadOnlyBroadcastState,
    };
}

/// Used by [`export_job!`]; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::export::bindings;
    pub use crate::export::{Component, Job};
}

#[cfg(test)]
mod broadcast_tests;
#[cfg(test)]
mod tests;
