//! `wflink run` (and `wflink submit`): on an in-process mini-cluster with
//! `--local`, else on a cluster through its REST API (`-m HOST:PORT`,
//! default from the configuration): upload, run, and, unless `-d`, wait
//! for the end. The exit code tells how the job ended.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::json;

use super::ConfigArgs;
use super::client::{RestClient, cluster_address};
use crate::dispatcher::messages::SavepointRestoreSettings;
use crate::minicluster::{MiniCluster, run_job_locally_with};
use crate::protocol::JobStatus;
use crate::rest::prometheus::Sources;
use crate::wasm::WasmEngine;

/// How often a waiting client asks for the job's result.
const POLL: Duration = Duration::from_millis(200);

#[derive(clap::Args, Debug)]
pub(super) struct RunArgs {
    /// Run on an in-process mini-cluster instead of submitting to a cluster.
    #[arg(long, conflicts_with_all = ["jobmanager", "detached"])]
    local: bool,
    /// The cluster's REST address, `HOST:PORT` (default: rest.address:rest.port).
    #[arg(short = 'm', long = "jobmanager")]
    jobmanager: Option<String>,
    /// Entry point of the component (components export one job, `default`).
    #[arg(short = 'c', long = "class")]
    entry: Option<String>,
    /// Parallelism for operators that set none in code.
    #[arg(short = 'p', long)]
    parallelism: Option<u32>,
    /// Return once the job is submitted instead of waiting for its end.
    #[arg(short = 'd', long)]
    detached: bool,
    /// Start from this savepoint (or retained checkpoint) directory or its _metadata file.
    #[arg(short = 's', long = "fromSavepoint", value_name = "PATH")]
    from_savepoint: Option<String>,
    /// With -s: start even if the savepoint holds state of operators this job does not have.
    #[arg(short = 'n', long = "allowNonRestoredState", requires = "from_savepoint")]
    allow_non_restored_state: bool,
    #[command(flatten)]
    config: ConfigArgs,
    /// The job's .wasm component.
    job: PathBuf,
    /// Arguments for the job (everything after the .wasm).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

pub(super) fn run(args: RunArgs) -> anyhow::Result<()> {
    let config = args.config.load()?;
    let bytes = std::fs::read(&args.job).with_context(|| format!("cannot read job file '{}'", args.job.display()))?;
    let savepoint = args.from_savepoint.as_ref().map(|path| SavepointRestoreSettings {
        path: absolute(path),
        allow_non_restored_state: args.allow_non_restored_state,
    });
    if !args.local {
        let client = RestClient::from_config(&cluster_address(args.jobmanager.as_deref(), &config)?, &config)?;
        let job_id = submit(
            &client,
            &args.job,
            &bytes,
            args.entry.as_deref(),
            &args.args,
            args.parallelism,
            savepoint.as_ref(),
        )?;
        println!("Job has been submitted with JobID {job_id}");
        return if args.detached { Ok(()) } else { wait_for_end(&client, &job_id) };
    }
    let engine = WasmEngine::new()?;
    // With Flink's reporter keys the local run serves /metrics too, as the cluster's processes do.
    let prometheus = super::prometheus_listener(&config)?;
    let serve_metrics = |cluster: &MiniCluster| {
        let Some(listener) = prometheus else { return };
        let sources = Sources {
            dispatcher: cluster.dispatcher.clone(),
            resource_manager: cluster.resource_manager.clone(),
            host: "localhost".into(),
            tasks_here: true,
        };
        eprintln!("Prometheus endpoint: {}", crate::rest::prometheus::spawn(listener, sources));
    };
    let details = run_job_locally_with(engine, &bytes, &args.args, args.parallelism, savepoint, config, serve_metrics)?;
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

/// Uploads the component and runs it; returns the job id.
pub(super) fn submit(
    client: &RestClient,
    path: &Path,
    bytes: &[u8],
    entry: Option<&str>,
    args: &[String],
    parallelism: Option<u32>,
    savepoint: Option<&SavepointRestoreSettings>,
) -> anyhow::Result<String> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "job.wasm".into());
    let jar_id = client.upload(&name, bytes)?;
    run_jar(client, &jar_id, entry, args, parallelism, savepoint)
}

/// A local path made absolute (the cluster may run elsewhere); URLs stay as they are.
fn absolute(path: &str) -> String {
    let is_url = path.split_once("://").is_some_and(|(scheme, _)| scheme.len() > 1);
    match std::path::absolute(path) {
        Ok(full) if !is_url => full.display().to_string(),
        _ => path.to_string(),
    }
}

/// Runs an uploaded component; returns the job id.
pub(super) fn run_jar(
    client: &RestClient,
    jar_id: &str,
    entry: Option<&str>,
    args: &[String],
    parallelism: Option<u32>,
    savepoint: Option<&SavepointRestoreSettings>,
) -> anyhow::Result<String> {
    let mut body = json!({ "programArgsList": args });
    if let Some(p) = parallelism {
        body["parallelism"] = json!(p);
    }
    if let Some(entry) = entry {
        body["entryClass"] = json!(entry);
    }
    if let Some(savepoint) = savepoint {
        body["savepointPath"] = json!(savepoint.path);
        body["allowNonRestoredState"] = json!(savepoint.allow_non_restored_state);
    }
    let answer = client.post_json(&format!("/jars/{jar_id}/run"), &body)?;
    answer["jobid"].as_str().map(str::to_string).context("the run answer has no jobid")
}

/// Waits for the job's end; an error unless it finished.
pub(super) fn wait_for_end(client: &RestClient, job_id: &str) -> anyhow::Result<()> {
    loop {
        let result = client.get(&format!("/jobs/{job_id}/execution-result"))?;
        if result["status"]["id"] == "COMPLETED" {
            let outcome = &result["job-execution-result"];
            let runtime = outcome["net-runtime"].as_i64().unwrap_or(0);
            return match outcome["application-status"].as_str() {
                Some("SUCCEEDED") => {
                    println!("Job {job_id} finished in {runtime} ms");
                    Ok(())
                }
                Some("CANCELED") => bail!("job {job_id} was cancelled"),
                status => {
                    let cause = outcome["failure-cause"]["stack-trace"].as_str().unwrap_or("no reason recorded");
                    bail!("job {job_id} ended {}: {cause}", status.unwrap_or("FAILED"))
                }
            };
        }
        std::thread::sleep(POLL);
    }
}
