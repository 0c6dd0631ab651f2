//! `wflink savepoint JOBID [DIR]`: takes a savepoint of a running job
//! through the REST API (trigger, then poll the request) and prints its
//! path; also used by `wflink cancel --savepoint DIR JOBID`.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

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
    /// The job (32 hex characters).
    job_id: String,
    /// Directory the savepoint is written under (default: state.savepoints.dir).
    target_directory: Option<String>,
}

pub(super) fn savepoint(args: SavepointArgs) -> anyhow::Result<()> {
    let config = args.config.load()?;
    let client = RestClient::from_config(&cluster_address(args.jobmanager.as_deref(), &config)?, &config)?;
    println!("Triggering savepoint for job {}.", args.job_id);
    println!("Waiting for response...");
    let location = take_savepoint(&client, &args.job_id, args.target_directory.as_deref(), false)?;
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
    let answer = client.post_json(&format!("/jobs/{job_id}/savepoints"), &body)?;
    let request = answer["request-id"].as_str().context("the savepoint answer has no request-id")?.to_string();
    let started = Instant::now();
    while started.elapsed() < SAVEPOINT_WAIT {
        let status = client.get(&format!("/jobs/{job_id}/savepoints/{request}"))?;
        if status["status"]["id"] == "COMPLETED" {
            let operation = &status["operation"];
            if let Some(location) = operation["location"].as_str() {
                return Ok(location.to_string());
            }
            let cause = operation["failure-cause"]["stack-trace"].as_str().unwrap_or("no reason given");
            bail!("{cause}");
        }
        std::thread::sleep(POLL);
    }
    bail!("the savepoint of job {job_id} did not complete within {SAVEPOINT_WAIT:?}")
}
