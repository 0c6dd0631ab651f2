//! `wflink savepoint JOBID [DIR]`: takes a savepoint of a running job
//! through the REST API (trigger, then poll the request) and prints its
//! path; also used by `wflink cancel --savepoint DIR JOBID`.
//! `wflink stop [--drain] [-p DIR] JOBID` stops a job with a savepoint,
//! `wflink savepoint -d PATH` disposes of a savepoint, and `wflink
//! checkpoint JOBID` triggers a checkpoint, the same way. Their output is
//! Flink's CLI's.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::ConfigArgs;
use super::client::{RestClient, cluster_address};

/// How long a client waits for a savepoint to complete.
const SAVEPOINT_WAIT: Duration = Duration::from_secs(600);
/// How often it asks.
const POLL: Duration = Duration::from_millis(100);

#[derive(clap::Args, Debug)]
pub(super) struct SavepointArgs {
    /// The cluster's REST address, `HOST:PORT`.
    #[arg(short = 'm', long = "jobmanager")]
    jobmanager: Option<String>,
    #[command(flatten)]
    config: ConfigArgs,
    /// Dispose of the savepoint at this path instead of taking one.
    #[arg(short = 'd', long = "dispose", conflicts_with_all = ["job_id", "target_directory"])]
    dispose: Option<String>,
    /// The job (32 hex characters).
    #[arg(required_unless_present = "dispose")]
    job_id: Option<String>,
    /// Directory the savepoint is written under (default: state.savepoints.dir).
    target_directory: Option<String>,
}

#[derive(clap::Args, Debug)]
pub(super) struct CheckpointArgs {
    /// The cluster's REST address, `HOST:PORT`.
    #[arg(short = 'm', long = "jobmanager")]
    jobmanager: Option<String>,
    #[command(flatten)]
    config: ConfigArgs,
    /// The job (32 hex characters).
    job_id: String,
}

#[derive(clap::Args, Debug)]
pub(super) struct StopArgs {
    /// The cluster's REST address, `HOST:PORT`.
    #[arg(short = 'm', long = "jobmanager")]
    jobmanager: Option<String>,
    #[command(flatten)]
    config: ConfigArgs,
    /// Directory the savepoint is written under (default: state.savepoints.dir).
    #[arg(short = 'p', long = "savepointPath", value_name = "DIR")]
    savepoint_path: Option<String>,
    /// Send the end-of-time watermark first, so every event-time window and timer fires before the savepoint.
    #[arg(short = 'd', long = "drain")]
    drain: bool,
    /// The job (32 hex characters).
    job_id: String,
}

/// `wflink stop [--drain] [-p DIR] JOBID`: a savepoint, then the job ends FINISHED; prints the savepoint's path
/// once the job ended.
pub(super) fn stop(args: StopArgs) -> anyhow::Result<()> {
    let config = args.config.load()?;
    let client = RestClient::from_config(&cluster_address(args.jobmanager.as_deref(), &config)?, &config)?;
    let job_id = &args.job_id;
    let verb = if args.drain { "Draining" } else { "Suspending" };
    println!("{verb} job \"{job_id}\" with a CANONICAL savepoint.");
    println!("Triggering stop-with-savepoint for job {job_id}.");
    println!("Waiting for response...");
    let mut body = json!({ "drain": args.drain });
    if let Some(target) = &args.savepoint_path {
        body["targetDirectory"] = json!(target);
    }
    let operation = run_operation(&client, &format!("/jobs/{job_id}/stop"), &body, "stop-with-savepoint")?;
    let location = operation["location"].as_str().context("the completed savepoint has no location")?;
    println!("Savepoint completed. Path: {location}");
    Ok(())
}

pub(super) fn savepoint(args: SavepointArgs) -> anyhow::Result<()> {
    let config = args.config.load()?;
    let client = RestClient::from_config(&cluster_address(args.jobmanager.as_deref(), &config)?, &config)?;
    let Some(job_id) = args.job_id else {
        let path = args.dispose.unwrap_or_default();
        return dispose(&client, &path);
    };
    println!("Triggering savepoint for job {job_id}.");
    println!("Waiting for response...");
    let location = take_savepoint(&client, &job_id, args.target_directory.as_deref(), false)?;
    println!("Savepoint completed. Path: {location}");
    println!("You can resume your program from this savepoint with the run command (wflink run -s {location} ...).");
    Ok(())
}

/// Triggers a savepoint of `job_id` (cancelling the job after it when
/// `cancel_job`) and waits for it; returns its location.
pub(super) fn take_savepoint(
    client: &RestClient,
    job_id: &str,
    target: Option<&str>,
    cancel_job: bool,
) -> anyhow::Result<String> {
    let mut body = json!({ "cancel-job": cancel_job });
    if let Some(target) = target {
        body["target-directory"] = json!(target);
    }
    let operation = run_operation(client, &format!("/jobs/{job_id}/savepoints"), &body, "savepoint")?;
    let location = operation["location"].as_str().context("the completed savepoint has no location")?;
    Ok(location.to_string())
}

/// `wflink checkpoint JOBID`: triggers a checkpoint and prints its id once it completed.
pub(super) fn checkpoint(args: CheckpointArgs) -> anyhow::Result<()> {
    let config = args.config.load()?;
    let client = RestClient::from_config(&cluster_address(args.jobmanager.as_deref(), &config)?, &config)?;
    let job_id = &args.job_id;
    println!("Triggering checkpoint for job {job_id}.");
    println!("Waiting for response...");
    let operation = run_operation(&client, &format!("/jobs/{job_id}/checkpoints"), &json!({}), "checkpoint")?;
    let id = operation["checkpointId"].as_u64().context("the completed checkpoint has no id")?;
    println!("Checkpoint {id} for job {job_id} completed.");
    println!("You can resume your program from this checkpoint with the run command.");
    Ok(())
}

/// `wflink savepoint -d PATH`: deletes a savepoint through the JobManager (which checks it is one).
fn dispose(client: &RestClient, path: &str) -> anyhow::Result<()> {
    println!("Disposing savepoint '{path}'.");
    println!("Waiting for response...");
    run_operation(client, "/savepoint-disposal", &json!({ "savepoint-path": path }), "savepoint disposal")?;
    println!("Savepoint '{path}' disposed.");
    Ok(())
}

/// Starts the asynchronous operation `POST path` with `body` and polls its status (`path/:request-id`, or
/// `/jobs/:id/savepoints/:request-id` for a stop) until it completed; returns its `operation`, or its failure
/// cause as the error.
fn run_operation(client: &RestClient, path: &str, body: &Value, what: &str) -> anyhow::Result<Value> {
    let answer = client.post_json(path, body)?;
    let request = answer["request-id"].as_str().with_context(|| format!("the {what} answer has no request-id"))?;
    let status_path = match path.strip_suffix("/stop") {
        Some(job) => format!("{job}/savepoints/{request}"),
        None => format!("{path}/{request}"),
    };
    let started = Instant::now();
    while started.elapsed() < SAVEPOINT_WAIT {
        let mut status = client.get(&status_path)?;
        if status["status"]["id"] == "COMPLETED" {
            let operation = status["operation"].take();
            if let Some(cause) = operation["failure-cause"]["stack-trace"].as_str() {
                bail!("the {what} failed: {cause}");
            }
            return Ok(operation);
        }
        std::thread::sleep(POLL);
    }
    bail!("the {what} did not complete within {SAVEPOINT_WAIT:?}")
}
