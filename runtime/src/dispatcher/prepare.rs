//! Everything that happens to a job before it runs, in one place for the
//! Dispatcher, `wflink info` and `wflink run --local`: compile (cached),
//! describe, chain, and check the connectors. It runs job code, so a
//! process that also serves others runs it on its [`PreparePool`](super::PreparePool).

use std::sync::Arc;

use crate::config::{ConfigError, Configuration};
use crate::connectors::{ConnectorError, sinks, sources};
use crate::graph::{JobGraph, NodeKind, ParallelismSources, PlanError, StreamGraph};
use crate::security::IoRoots;
use crate::wasm::{GuestInstance, InstanceSettings, JobComponent, SlotMemory, WasmEngine, WasmError};

/// Why a job cannot be submitted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The component failed to load or to describe its plan.
    #[error(transparent)]
    Wasm(#[from] WasmError),
    /// The plan cannot run.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A connector of the plan is misconfigured (e.g. a missing input file).
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    /// The configuration or a submit option is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A parallelism of 0 was given at submit.
    #[error("invalid parallelism {0}: it must be at least 1")]
    Parallelism(u32),
    /// The savepoint to start from cannot be used.
    #[error(transparent)]
    Restore(#[from] crate::checkpoint::metadata::RestoreError),
    /// The checkpoint storage cannot be opened.
    #[error(transparent)]
    Storage(#[from] crate::checkpoint::StorageError),
    /// The describe threads cannot take the job now (or failed).
    #[error(transparent)]
    Pool(#[from] super::PoolError),
}

/// A job ready to run.
#[derive(Clone)]
pub struct PreparedJob {
    /// The compiled component.
    pub component: JobComponent,
    /// The plan as described.
    pub stream_graph: StreamGraph,
    /// The plan chained, parallelism resolved.
    pub job_graph: Arc<JobGraph>,
    /// The job's arguments.
    pub args: Vec<String>,
}

/// Compiles `bytes`, describes the plan with `args`, and chains it with
/// the submit `parallelism` (if any) over the configured default.
pub fn prepare(
    engine: &WasmEngine,
    bytes: &[u8],
    args: &[String],
    parallelism: Option<u32>,
    config: &Configuration,
) -> Result<PreparedJob, SubmitError> {
    if parallelism == Some(0) {
        return Err(SubmitError::Parallelism(0));
    }
    let component = engine.load(bytes)?;
    let memory = config.memory_size("wasm.describe.memory")?;
    let settings = InstanceSettings {
        task: "describe".into(),
        memory: SlotMemory::new(usize::try_from(memory).unwrap_or(usize::MAX)),
        call_timeout: config.duration("wasm.describe.timeout")?,
        attempt: 0,
        cancel: Default::default(),
    };
    let stream_graph = GuestInstance::new(&component, settings)?.describe(args)?;
    let sources = ParallelismSources {
        default: config.positive_int("parallelism.default")?,
        submitted: parallelism,
        max_parallelism: config.positive_int("pipeline.max-parallelism")?,
    };
    let mut job_graph = JobGraph::build(&stream_graph, sources)?;
    let watermark_interval = config.duration("pipeline.auto-watermark-interval")?;
    for vertex in &mut job_graph.vertices {
        vertex.auto_watermark_interval_ms = watermark_interval.as_millis().min(u64::MAX as u128) as u64;
    }
    let roots = IoRoots::from_config(config);
    for node in &stream_graph.nodes {
        match &node.kind {
            NodeKind::Source(connector) => sources::validate(connector, &roots)?,
            NodeKind::Sink(connector) => sinks::validate(connector, &roots)?,
            _ => {}
        }
    }
    Ok(PreparedJob { component, stream_graph, job_graph: Arc::new(job_graph), args: args.to_vec() })
}
