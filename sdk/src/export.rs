//! The component's exports: the WIT bindings, the glue from the `job` and
//! `operator` interfaces to the SDK, and the [`export_job!`] macro.

use std::cell::RefCell;
use std::marker::PhantomData;

use crate::chain::{Batch, Chain, ChainOutput, ContextOutput, KeyedState};
use crate::context::{StateEntries, TimeDomain, Timers};
use crate::env::record;
use crate::plan::{self, StreamPlan};
use crate::{Args, JobError, StreamExecutionEnvironment};

/// Bindings generated from `wit/` (the only `generate!` of the SDK).
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "stream-job",
        pub_export_macro: true,
        export_macro_name: "__export_wflink_job",
        default_bindings_module: "wflink_sdk::__private::bindings",
    });
}

use bindings::exports::wflink::job::{job as wit_job, operator as wit_operator};
use bindings::wflink::job::{plan as wit_plan, types as wit};

/// A job's build function, as a type; implemented by [`export_job!`].
pub trait Job: 'static {
    /// Records the job's dataflow into `env`.
    fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError>;
}

/// The component of job `J`: implements the WIT exports.
pub struct Component<J>(PhantomData<J>);

thread_local! {
    /// The chain this instance runs (one per instance, set by `open`).
    static CHAIN: RefCell<Option<Chain>> = const { RefCell::new(None) };
}

impl<J: Job> wit_job::Guest for Component<J> {
    fn describe(args: Vec<String>) -> Result<wit_plan::StreamPlan, wit::JobError> {
        install_panic_hook();
        crate::env::describe(J::build, &args).map(plan_to_wit).map_err(error_to_wit)
    }
}

impl<J: Job> wit_operator::Guest for Component<J> {
    fn open(args: Vec<String>, node_ids: Vec<u32>, subtask: wit_operator::SubtaskInfo) -> Result<(), wit::JobError> {
        install_panic_hook();
        let open = |recorded| Chain::open_with(recorded, &node_ids, subtask.custom_partitions);
        let chain = record(J::build, &args).and_then(open);
        let chain = chain.map_err(error_to_wit)?;
        CHAIN.with(|slot| *slot.borrow_mut() = Some(chain));
        Ok(())
    }

    fn process(input: wit::Batch, state: wit::KeyedState) -> Result<wit_operator::ChainOutput, wit::JobError> {
        with_chain(|chain| chain.process(batch_from_wit(input), state_from_wit(state)))
    }

    fn finish() -> Result<wit_operator::ChainOutput, wit::JobError> {
        with_chain(Chain::finish)
    }

    fn process_with_context(
        input: wit::Batch,
        state: wit::StateEntries,
        time: wit::TimeContext,
    ) -> Result<wit_operator::ContextOutput, wit::JobError> {
        with_chain_context(|chain| {
            chain.process_input_with_context(
                batch_from_wit(input),
                time.input,
                entries_from_wit(state),
                time.watermark,
                time.processing_time,
            )
        })
    }

    fn keep_state() -> bool {
        CHAIN.with(|slot| slot.borrow_mut().as_mut().is_some_and(Chain::keep_state))
    }

    fn snapshot_state() -> Result<wit::StateEntries, wit::JobError> {
        CHAIN.with(|slot| {
            let mut slot = slot.borrow_mut();
            let chain = slot.as_mut().ok_or_else(|| JobError::Other("no chain is open in this instance".into()));
            chain.and_then(Chain::snapshot_state).map(entries_to_wit).map_err(error_to_wit)
        })
    }

    fn on_timers(
        fired: wit::Timers,
        state: wit::StateEntries,
        time: wit::TimeContext,
    ) -> Result<wit_operator::ContextOutput, wit::JobError> {
        with_chain_context(|chain| {
            chain.on_timers(timers_from_wit(fired), entries_from_wit(state), time.watermark, time.processing_time)
        })
    }
}

fn with_chain(
    f: impl FnOnce(&mut Chain) -> Result<ChainOutput, JobError>,
) -> Result<wit_operator::ChainOutput, wit::JobError> {
    CHAIN.with(|slot| {
        let mut slot = slot.borrow_mut();
        let chain = slot.as_mut().ok_or_else(|| JobError::Other("no chain is open in this instance".into()));
        chain.and_then(f).map(output_to_wit).map_err(error_to_wit)
    })
}

fn with_chain_context(
    f: impl FnOnce(&mut Chain) -> Result<ContextOutput, JobError>,
) -> Result<wit_operator::ContextOutput, wit::JobError> {
    CHAIN.with(|slot| {
        let mut slot = slot.borrow_mut();
        let chain = slot.as_mut().ok_or_else(|| JobError::Other("no chain is open in this instance".into()));
        chain.and_then(f).map(context_output_to_wit).map_err(error_to_wit)
    })
}

fn batch_to_wit(b: Batch) -> wit::Batch {
    wit::Batch {
        values: b.values,
        value_ends: b.value_ends,
        keys: b.keys,
        key_ends: b.key_ends,
        timestamps: b.timestamps,
    }
}

fn entries_from_wit(e: wit::StateEntries) -> StateEntries {
    StateEntries {
        state_ids: e.state_ids,
        keys: e.keys,
        key_ends: e.key_ends,
        namespaces: e.namespaces,
        namespace_ends: e.namespace_ends,
        user_keys: e.user_keys,
        user_key_ends: e.user_key_ends,
        values: e.values,
        value_ends: e.value_ends,
    }
}

fn entries_to_wit(e: StateEntries) -> wit::StateEntries {
    wit::StateEntries {
        state_ids: e.state_ids,
        keys: e.keys,
        key_ends: e.key_ends,
        namespaces: e.namespaces,
        namespace_ends: e.namespace_ends,
        user_keys: e.user_keys,
        user_key_ends: e.user_key_ends,
        values: e.values,
        value_ends: e.value_ends,
    }
}

fn timers_from_wit(t: wit::Timers) -> Timers {
    let domains = t
        .domains
        .into_iter()
        .map(|d| match d {
            wit::TimeDomain::EventTime => TimeDomain::EventTime,
            wit::TimeDomain::ProcessingTime => TimeDomain::ProcessingTime,
        })
        .collect();
    Timers {
        keys: t.keys,
        key_ends: t.key_ends,
        namespaces: t.namespaces,
        namespace_ends: t.namespace_ends,
        timestamps: t.timestamps,
        domains,
    }
}

fn timers_to_wit(t: Timers) -> wit::Timers {
    let domains = t
        .domains
        .into_iter()
        .map(|d| match d {
            TimeDomain::EventTime => wit::TimeDomain::EventTime,
            TimeDomain::ProcessingTime => wit::TimeDomain::ProcessingTime,
        })
        .collect();
    wit::Timers {
        keys: t.keys,
        key_ends: t.key_ends,
        namespaces: t.namespaces,
        namespace_ends: t.namespace_ends,
        timestamps: t.timestamps,
        domains,
    }
}

fn context_output_to_wit(out: ContextOutput) -> wit_operator::ContextOutput {
    let call = out.call;
    wit_operator::ContextOutput {
        records: batch_to_wit(out.records),
        side_outputs: wit::SideRecords { records: batch_to_wit(call.side_records), tags: call.side_tags },
        state: entries_to_wit(call.state),
        timers_registered: timers_to_wit(call.timers_registered),
        timers_deleted: timers_to_wit(call.timers_deleted),
    }
}

/// Sends panic messages (a user function failing) to the task's log at
/// error level before the default hook prints them to stderr and the
/// instance traps, so the host can show them as the cause.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            crate::log::log(crate::log::Level::Error, &info.to_string());
            default(info);
        }));
    });
}

fn error_to_wit(error: JobError) -> wit::JobError {
    match error {
        JobError::InvalidArguments(m) => wit::JobError::InvalidArguments(m),
        JobError::InvalidPlan(m) => wit::JobError::InvalidPlan(m),
        JobError::User(m) => wit::JobError::User(m),
        JobError::Other(m) => wit::JobError::Other(m),
    }
}

fn batch_from_wit(b: wit::Batch) -> Batch {
    Batch { values: b.values, value_ends: b.value_ends, keys: b.keys, key_ends: b.key_ends, timestamps: b.timestamps }
}

fn state_from_wit(s: wit::KeyedState) -> KeyedState {
    KeyedState { keys: s.keys, key_ends: s.key_ends, values: s.values, value_ends: s.value_ends }
}

fn output_to_wit(out: ChainOutput) -> wit_operator::ChainOutput {
    let (b, s) = (out.records, out.state);
    wit_operator::ChainOutput {
        records: wit::Batch {
            values: b.values,
            value_ends: b.value_ends,
            keys: b.keys,
            key_ends: b.key_ends,
            timestamps: b.timestamps,
        },
        state: wit::KeyedState { keys: s.keys, key_ends: s.key_ends, values: s.values, value_ends: s.value_ends },
    }
}

fn plan_to_wit(plan: StreamPlan) -> wit_plan::StreamPlan {
    let connector = |c: plan::Connector| wit_plan::Connector { name: c.name, options: c.options };
    let nodes = plan.nodes.into_iter().map(|n| wit_plan::Node {
        id: n.id,
        name: n.name,
        uid: n.uid,
        kind: match n.kind {
            plan::NodeKind::Source(c) => wit_plan::NodeKind::Source(connector(c)),
            plan::NodeKind::Map => wit_plan::NodeKind::Map,
            plan::NodeKind::FlatMap => wit_plan::NodeKind::FlatMap,
            plan::NodeKind::Filter => wit_plan::NodeKind::Filter,
            plan::NodeKind::KeyBy => wit_plan::NodeKind::KeyBy,
            plan::NodeKind::PartitionCustom => wit_plan::NodeKind::PartitionCustom,
            plan::NodeKind::Reduce => wit_plan::NodeKind::Reduce,
            plan::NodeKind::Aggregate(a) => wit_plan::NodeKind::Aggregate(aggregation_to_wit(a)),
            plan::NodeKind::AssignTimestamps(s) => wit_plan::NodeKind::AssignTimestamps(wit_plan::WatermarkStrategy {
                max_out_of_orderness_ms: s.max_out_of_orderness_ms,
                idle_timeout_ms: s.idle_timeout_ms,
            }),
            plan::NodeKind::Process => wit_plan::NodeKind::Process,
            plan::NodeKind::KeyedProcess(spec) => wit_plan::NodeKind::KeyedProcess(keyed_process_to_wit(spec)),
            plan::NodeKind::SideOutput { tag, name } => {
                wit_plan::NodeKind::SideOutput(wit_plan::SideOutputSpec { tag, name })
            }
            plan::NodeKind::Sink(c) => wit_plan::NodeKind::Sink(connector(c)),
            plan::NodeKind::Union => wit_plan::NodeKind::Union,
            plan::NodeKind::CoProcess => wit_plan::NodeKind::CoProcess,
            plan::NodeKind::KeyedCoProcess(spec) => wit_plan::NodeKind::KeyedCoProcess(keyed_process_to_wit(spec)),
            plan::NodeKind::BroadcastProcess(spec) => {
                wit_plan::NodeKind::BroadcastProcess(wit_plan::BroadcastProcessSpec {
                    broadcast_states: spec.broadcast_states.into_iter().map(state_descriptor_to_wit).collect(),
                    keyed: spec.keyed.map(keyed_process_to_wit),
                })
            }
            plan::NodeKind::KeyByField(field) => wit_plan::NodeKind::KeyByField(field_to_wit(field)),
        },
        parallelism: n.parallelism,
        inputs: n
            .inputs
            .into_iter()
            .map(|e| wit_plan::Edge {
                source: e.source,
                partitioning: match e.partitioning {
                    plan::Partitioning::Forward => wit_plan::Partitioning::Forward,
                    plan::Partitioning::Rebalance => wit_plan::Partitioning::Rebalance,
                    plan::Partitioning::Hash => wit_plan::Partitioning::Hash,
                    plan::Partitioning::Rescale => wit_plan::Partitioning::Rescale,
                    plan::Partitioning::Shuffle => wit_plan::Partitioning::Shuffle,
                    plan::Partitioning::Broadcast => wit_plan::Partitioning::Broadcast,
                    plan::Partitioning::Global => wit_plan::Partitioning::Global,
                    plan::Partitioning::ForwardStrict => wit_plan::Partitioning::ForwardStrict,
                    plan::Partitioning::Custom => wit_plan::Partitioning::Custom,
                },
            })
            .collect(),
    });
    wit_plan::StreamPlan { job_name: plan.job_name, nodes: nodes.collect(), parallelism: plan.parallelism }
}

fn aggregation_to_wit(a: plan::Aggregation) -> wit_plan::Aggregation {
    wit_plan::Aggregation {
        function: match a.function {
            plan::AggregateFunction::Sum => wit_plan::AggregateFunction::Sum,
            plan::AggregateFunction::Min => wit_plan::AggregateFunction::Min,
            plan::AggregateFunction::Max => wit_plan::AggregateFunction::Max,
            plan::AggregateFunction::MinBy => wit_plan::AggregateFunction::MinBy,
            plan::AggregateFunction::MaxBy => wit_plan::AggregateFunction::MaxBy,
            plan::AggregateFunction::Count => wit_plan::AggregateFunction::Count,
        },
        field: field_to_wit(a.field),
    }
}

fn field_to_wit(field: plan::AggregateField) -> wit_plan::AggregateField {
    match field {
        plan::AggregateField::Position(position) => wit_plan::AggregateField::Position(position),
        plan::AggregateField::Name(name) => wit_plan::AggregateField::Name(name),
        plan::AggregateField::Whole => wit_plan::AggregateField::Whole,
    }
}

fn state_descriptor_to_wit(d: plan::StateDescriptor) -> wit_plan::StateDescriptor {
    wit_plan::StateDescriptor {
        id: d.id,
        name: d.name,
        kind: match d.kind {
            plan::StateKind::Value => wit_plan::StateKind::Value,
            plan::StateKind::List => wit_plan::StateKind::List,
            plan::StateKind::Map => wit_plan::StateKind::Map,
            plan::StateKind::Reducing => wit_plan::StateKind::Reducing,
            plan::StateKind::Aggregating => wit_plan::StateKind::Aggregating,
        },
        lazy: d.lazy,
        ttl_ms: d.ttl_ms,
    }
}

fn keyed_process_to_wit(spec: plan::KeyedProcessSpec) -> wit_plan::KeyedProcessSpec {
    let states = spec.states.into_iter().map(state_descriptor_to_wit).collect();
    let window = spec.window.map(|w| wit_plan::WindowSpec {
        assigner: match w.assigner {
            plan::WindowAssigner::Tumbling { size_ms, offset_ms } => {
                wit_plan::WindowAssigner::Tumbling(wit_plan::Tumbling { size_ms, offset_ms })
            }
            plan::WindowAssigner::Sliding { size_ms, slide_ms, offset_ms } => {
                wit_plan::WindowAssigner::Sliding(wit_plan::Sliding { size_ms, slide_ms, offset_ms })
            }
            plan::WindowAssigner::Session { gap_ms } => wit_plan::WindowAssigner::Session(gap_ms),
        },
        domain: match w.domain {
            plan::TimeDomain::EventTime => wit::TimeDomain::EventTime,
            plan::TimeDomain::ProcessingTime => wit::TimeDomain::ProcessingTime,
        },
        allowed_lateness_ms: w.allowed_lateness_ms,
        late_output_tag: w.late_output_tag,
        function: w.function,
    });
    wit_plan::KeyedProcessSpec { states, window }
}

/// Exports a build function as a wflink job component; use it once, at the
/// root of the job's `cdylib` crate.
///
/// The build function has the signature
/// `fn(&mut StreamExecutionEnvironment, &Args) -> Result<(), JobError>`
/// (a function path or a non-capturing closure).
///
/// ```ignore
/// use wflink_sdk::prelude::*;
///
/// fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
///     env.read_text_file(args.required("input")?).print();
///     Ok(())
/// }
///
/// wflink_sdk::export_job!(build);
/// ```
#[macro_export]
macro_rules! export_job {
    ($build:expr $(,)?) => {
        const _: () = {
            struct WflinkJob;

            impl $crate::__private::Job for WflinkJob {
                fn build(
                    env: &mut $crate::StreamExecutionEnvironment,
                    args: &$crate::Args,
                ) -> ::core::result::Result<(), $crate::JobError> {
                    ($build)(env, args)
                }
            }

            type WflinkComponent = $crate::__private::Component<WflinkJob>;
            $crate::__private::bindings::__export_wflink_job!(WflinkComponent with_types_in $crate::__private::bindings);
        };
    };
}
