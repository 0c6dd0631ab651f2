//! `wflink run --local [-p N] JOB.wasm [ARGS]`: run a job on an in-process
//! mini-cluster and wait for it; the exit code tells how it ended.

use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::config::Configuration;
use crate::job_manager::lifecycle::JobStatus;
use crate::minicluster::run_job_locally;
use crate::wasm::WasmEngine;

#[derive(clap::Args, Debug)]
pub(super) struct RunArgs {
    /// Run on an in-process mini-cluster (the only mode until the cluster processes land).
    #[arg(long)]
    local: bool,
    /// Parallelism for operators that set none in code.
    #[arg(short = 'p', long)]
    parallelism: Option<u32>,
    /// Configuration override, `key=value` (repeatable).
    #[arg(short = 'D', value_name = "KEY=VALUE")]
    config: Vec<String>,
    /// The job's .wasm component.
    job: PathBuf,
    /// Arguments for the job (everything after the .wasm).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

pub(super) fn run(args: RunArgs) -> anyhow::Result<()> {
    if !args.local {
        bail!("no cluster to submit to: use `wflink run --local` to run the job in this process");
    }
    let config = Configuration::default().with_overrides(&args.config)?;
    let bytes = std::fs::read(&args.job).with_context(|| format!("cannot read job file '{}'", args.job.display()))?;
    let engine = WasmEngine::new()?;
    let details = run_job_locally(engine, &bytes, &args.args, args.parallelism, config)?;
    let duration = details.end_time.unwrap_or(details.start_time).saturating_sub(details.start_time);
    match details.status {
        JobStatus::Finished => {
            eprintln!("Job {} ({}) finished in {duration} ms", details.job_id, details.name);
            Ok(())
        }
        status => {
            let reason = details.failure.map(|f| f.message).unwrap_or_else(|| "no reason recorded".into());
            bail!("job {} ended {status}: {reason}", details.job_id)
        }
    }
}
