//! `wflink list [-r] [-s] [-a]` and `wflink cancel JOBID`, against a
//! cluster's REST API, printed as `flink list` and `flink cancel` print.

use serde_json::Value;

use super::ConfigArgs;
use super::client::{RestClient, cluster_address};

/// How long `cancel` waits for the job to reach CANCELED.
const CANCEL_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

const RULE: &str = "--------------------------------------------------------------";

#[derive(clap::Args, Debug)]
pub(super) struct ListArgs {
    /// The cluster's REST address, `HOST:PORT`.
    #[arg(short = 'm', long = "jobmanager")]
    jobmanager: Option<String>,
    /// Only running jobs.
    #[arg(short = 'r', long)]
    running: bool,
    /// Only scheduled jobs.
    #[arg(short = 's', long)]
    scheduled: bool,
    /// All jobs, including ended ones.
    #[arg(short = 'a', long)]
    all: bool,
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(clap::Args, Debug)]
pub(super) struct CancelArgs {
    /// The cluster's REST address, `HOST:PORT`.
    #[arg(short = 'm', long = "jobmanager")]
    jobmanager: Option<String>,
    #[command(flatten)]
    config: ConfigArgs,
    /// Take a savepoint under DIR first, then cancel (stop-with-savepoint).
    #[arg(short = 's', long = "savepoint", visible_alias = "withSavepoint", value_name = "DIR")]
    savepoint: Option<String>,
    /// The job to cancel (32 hex characters).
    job_id: String,
}

pub(super) fn list(args: ListArgs) -> anyhow::Result<()> {
    let config = args.config.load()?;
    let client = RestClient::from_config(&cluster_address(args.jobmanager.as_deref(), &config)?, &config)?;
    println!("Waiting for response...");
    let overview = client.get("/jobs/overview")?;
    let mut jobs: Vec<&Value> = overview["jobs"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    jobs.sort_by_key(|j| j["start-time"].as_i64().unwrap_or(0));
    let state = |j: &Value| j["state"].as_str().unwrap_or("").to_string();
    let running: Vec<&Value> = jobs
        .iter()
        .copied()
        .filter(|j| matches!(state(j).as_str(), "RUNNING" | "RESTARTING" | "FAILING" | "CANCELLING"))
        .collect();
    let scheduled: Vec<&Value> =
        jobs.iter().copied().filter(|j| matches!(state(j).as_str(), "CREATED" | "INITIALIZING")).collect();
    let ended: Vec<&Value> =
        jobs.iter().copied().filter(|j| matches!(state(j).as_str(), "FINISHED" | "FAILED" | "CANCELED")).collect();
    let (show_running, show_scheduled) = match (args.running, args.scheduled) {
        (false, false) => (true, true),
        flags => flags,
    };
    if show_running || args.all {
        section("Running/Restarting Jobs", &running, "No running jobs.");
    }
    if show_scheduled || args.all {
        section("Scheduled Jobs", &scheduled, "No scheduled jobs.");
    }
    if args.all {
        section("Terminated Jobs", &ended, "No terminated jobs.");
    }
    Ok(())
}

fn section(title: &str, jobs: &[&Value], empty: &str) {
    if jobs.is_empty() {
        println!("{empty}");
        return;
    }
    let title = format!(" {title} ");
    let left = (RULE.len() - title.len()) / 2;
    println!("{}{title}{}", &RULE[..left], &RULE[..RULE.len() - left - title.len()]);
    for job in jobs {
        println!(
            "{} : {} : {} ({})",
            format_time(job["start-time"].as_i64().unwrap_or(0)),
            job["jid"].as_str().unwrap_or(""),
            job["name"].as_str().unwrap_or(""),
            job["state"].as_str().unwrap_or("")
        );
    }
    println!("{RULE}");
}

/// `dd.MM.yyyy HH:mm:ss` in UTC, as `flink list` prints start times.
fn format_time(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{day:02}.{month:02}.{year} {:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60)
}

pub(super) fn cancel(args: CancelArgs) -> anyhow::Result<()> {
    let config = args.config.load()?;
    let client = RestClient::from_config(&cluster_address(args.jobmanager.as_deref(), &config)?, &config)?;
    if let Some(dir) = &args.savepoint {
        println!("Cancelling job {} with savepoint to {dir}.", args.job_id);
        let location = super::savepoint::take_savepoint(&client, &args.job_id, Some(dir), true)?;
        wait_for_canceled(&client, &args.job_id)?;
        println!("Cancelled job {}. Savepoint stored in {location}.", args.job_id);
        return Ok(());
    }
    println!("Cancelling job {}.", args.job_id);
    client.patch(&format!("/jobs/{}?mode=cancel", args.job_id))?;
    wait_for_canceled(&client, &args.job_id)?;
    println!("Cancelled job {}.", args.job_id);
    Ok(())
}

fn wait_for_canceled(client: &RestClient, job_id: &str) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    while started.elapsed() < CANCEL_WAIT {
        if client.get(&format!("/jobs/{job_id}/status"))?["status"] == "CANCELED" {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    anyhow::bail!("job {job_id} did not reach CANCELED within {CANCEL_WAIT:?}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_print_as_flink_prints_them() {
        assert_eq!(super::format_time(1_795_955_443_000), "29.11.2026 12:30:43");
        assert_eq!(super::format_time(0), "01.01.1970 00:00:00");
    }
}
