//! `wflink run-application [-p N] JOB.wasm [ARGS]`: a cluster for one job
//! (Flink's application mode). A JobManager and the TaskManagers the job
//! needs start as child processes on free ports, the job runs, and
//! everything is torn down when it ends; the exit code tells how it ended.
//! Print sinks write to this command's stdout.

use std::path::PathBuf;

use anyhow::Context;

use super::ConfigArgs;
use super::client::RestClient;
use super::processes::{Output, Processes, wait_for_jobmanager, wait_for_taskmanagers};
use super::run::{run_jar, wait_for_end};

#[derive(clap::Args, Debug)]
pub(super) struct ApplicationArgs {
    /// Parallelism for operators that set none in code.
    #[arg(short = 'p', long)]
    parallelism: Option<u32>,
    /// Entry point of the component (components export one job, `default`).
    #[arg(short = 'c', long = "class")]
    entry: Option<String>,
    #[command(flatten)]
    config: ConfigArgs,
    /// The job's .wasm component.
    job: PathBuf,
    /// Arguments for the job (everything after the .wasm).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

pub(super) fn run_application(args: ApplicationArgs) -> anyhow::Result<()> {
    let config = args.config.load()?;
    let bytes = std::fs::read(&args.job).with_context(|| format!("cannot read job file '{}'", args.job.display()))?;
    let work = std::env::temp_dir().join(format!("wflink-application-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let mut processes = Processes::tied();
    let result = (|| {
        let stem = work.join("jobmanager");
        let mut jm_args = vec!["jobmanager".to_string()];
        jm_args.extend(args.config.to_args());
        jm_args.extend(["-D".into(), "rest.port=0".into(), "-D".into(), "jobmanager.rpc.port=0".into()]);
        processes.spawn("JobManager", &jm_args, Output::OutFile(&stem))?;
        let (rest_url, rpc) = wait_for_jobmanager(&stem.with_extension("out"), &mut processes)?;
        let client = RestClient::from_config(&rest_url, &config)?;

        // As many TaskManagers as the job's slots need.
        let name = args.job.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "job.wasm".into());
        let jar_id = client.upload(&name, &bytes)?;
        let mut plan_body = serde_json::json!({ "programArgsList": args.args });
        if let Some(p) = args.parallelism {
            plan_body["parallelism"] = p.into();
        }
        let plan = client.post_json(&format!("/jars/{jar_id}/plan"), &plan_body)?;
        let slots_needed = plan["plan"]["nodes"]
            .as_array()
            .map(|nodes| nodes.iter().filter_map(|n| n["parallelism"].as_u64()).max().unwrap_or(1))
            .unwrap_or(1);
        let per_tm = config.positive_int("taskmanager.numberOfTaskSlots")? as u64;
        let task_managers = slots_needed.div_ceil(per_tm) as usize;
        for _ in 0..task_managers {
            let mut tm_args = vec!["taskmanager".to_string(), "--jobmanager".into(), rpc.clone()];
            tm_args.extend(args.config.to_args());
            processes.spawn("TaskManager", &tm_args, Output::Inherit)?;
        }
        wait_for_taskmanagers(&client, task_managers, &mut processes)?;
        let job_id = run_jar(&client, &jar_id, args.entry.as_deref(), &args.args, args.parallelism, None)?;
        eprintln!("Job has been submitted with JobID {job_id}");
        wait_for_end(&client, &job_id)
    })();
    drop(processes);
    let _ = std::fs::remove_dir_all(&work);
    result
}
