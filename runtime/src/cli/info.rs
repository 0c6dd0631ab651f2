//! `wflink info JOB.wasm [ARGS]`: the plan as JSON, without running it.

use std::path::Path;

use anyhow::Context;

use crate::config::Configuration;
use crate::dispatcher::prepare;
use crate::wasm::WasmEngine;

pub(super) fn info(
    job: &Path,
    args: &[String],
    parallelism: Option<u32>,
    config: &Configuration,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(job).with_context(|| format!("cannot read job file '{}'", job.display()))?;
    let engine = WasmEngine::new()?;
    let prepared = prepare(&engine, &bytes, args, parallelism, config)?;
    let plan = serde_json::json!({
        "streamGraph": prepared.stream_graph,
        "jobGraph": *prepared.job_graph,
        "slotsNeeded": prepared.job_graph.slots_needed(),
    });
    println!("{}", serde_json::to_string_pretty(&plan)?);
    Ok(())
}
