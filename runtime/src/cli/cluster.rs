//! `wflink cluster start [--taskmanagers N]` and `wflink cluster stop`: a
//! local session cluster in the background, as Flink's start-cluster.sh:
//! pid files and logs under `log/` (`*.out` is a process's stdout, where
//! print sinks write; `*.log` its log). `stop` ends exactly the processes
//! whose pid files `start` wrote.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::ConfigArgs;
use super::client::RestClient;
use super::processes::{Output, Processes, wait_for_jobmanager, wait_for_taskmanagers};

#[derive(clap::Subcommand, Debug)]
pub(super) enum ClusterCommand {
    /// Start a JobManager and N TaskManagers in the background.
    Start(StartArgs),
    /// Stop the processes `cluster start` started.
    Stop(StopArgs),
}

#[derive(clap::Args, Debug)]
pub(super) struct StartArgs {
    /// Number of TaskManager processes.
    #[arg(long, default_value_t = 1)]
    taskmanagers: u32,
    /// Where pid files and logs go.
    #[arg(long, default_value = "log")]
    log_dir: PathBuf,
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(clap::Args, Debug)]
pub(super) struct StopArgs {
    /// Where `cluster start` put its pid files.
    #[arg(long, default_value = "log")]
    log_dir: PathBuf,
}

pub(super) fn cluster(command: ClusterCommand) -> anyhow::Result<()> {
    match command {
        ClusterCommand::Start(args) => start(args),
        ClusterCommand::Stop(args) => stop(&args.log_dir),
    }
}

fn start(args: StartArgs) -> anyhow::Result<()> {
    let config = args.config.load()?;
    let log = &args.log_dir;
    std::fs::create_dir_all(log).with_context(|| format!("cannot create {}", log.display()))?;
    if let Some(pid) = read_pid(&log.join("jobmanager.pid")).filter(|pid| is_wflink(*pid, "jobmanager")) {
        bail!(
            "a cluster is already running from {} (JobManager pid {pid}); run `wflink cluster stop` first",
            log.display()
        );
    }
    let mut processes = Processes::default();
    let stem = log.join("wflink-jobmanager");
    let mut jm_args = vec!["jobmanager".to_string()];
    jm_args.extend(args.config.to_args());
    let pid = processes.spawn("JobManager", &jm_args, Output::Files(&stem))?;
    write_pid(&log.join("jobmanager.pid"), pid)?;
    let (rest_url, rpc) = wait_for_jobmanager(&stem.with_extension("out"), &mut processes)?;
    for i in 0..args.taskmanagers {
        let mut tm_args = vec!["taskmanager".to_string(), "--jobmanager".into(), rpc.clone()];
        tm_args.extend(args.config.to_args());
        let pid =
            processes.spawn("TaskManager", &tm_args, Output::Files(&log.join(format!("wflink-taskmanager-{i}"))))?;
        write_pid(&log.join(format!("taskmanager-{i}.pid")), pid)?;
    }
    wait_for_taskmanagers(&RestClient::from_config(&rest_url, &config)?, args.taskmanagers as usize, &mut processes)?;
    println!(
        "Started a cluster with {} TaskManager(s): {rest_url} (logs and pid files in {})",
        args.taskmanagers,
        log.display()
    );
    processes.detach();
    Ok(())
}

fn stop(log: &Path) -> anyhow::Result<()> {
    let mut pid_files: Vec<PathBuf> = std::fs::read_dir(log)
        .with_context(|| format!("no cluster to stop: cannot read {}", log.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pid"))
        .collect();
    // TaskManagers before the JobManager.
    pid_files.sort_by_key(|p| p.file_name().is_some_and(|n| n == "jobmanager.pid"));
    if pid_files.is_empty() {
        println!("No cluster to stop in {}.", log.display());
    }
    for file in pid_files {
        let role = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let kind = if role.starts_with("jobmanager") { "jobmanager" } else { "taskmanager" };
        match read_pid(&file) {
            Some(pid) if is_wflink(pid, kind) => {
                println!("Stopping {role} (pid: {pid}).");
                terminate(pid)?;
            }
            Some(pid) => println!("No {role} to stop (pid {pid} is not running it)."),
            None => println!("Ignoring unreadable pid file {}.", file.display()),
        }
        std::fs::remove_file(&file).with_context(|| format!("cannot remove {}", file.display()))?;
    }
    Ok(())
}

fn write_pid(path: &Path, pid: u32) -> anyhow::Result<()> {
    std::fs::write(path, format!("{pid}\n")).with_context(|| format!("cannot write {}", path.display()))
}

fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether `pid` is a live `wflink <kind>` process (not a reused pid).
fn is_wflink(pid: u32, kind: &str) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return false };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    args.first().is_some_and(|exe| exe.ends_with(b"wflink")) && args.contains(&kind.as_bytes())
}

/// SIGTERM, then SIGKILL if it is still there after a few seconds.
fn terminate(pid: u32) -> anyhow::Result<()> {
    let signal = |sig| {
        // SAFETY: kill(2) only sends a signal; the pid was checked to be our wflink process.
        if unsafe { libc::kill(pid as libc::pid_t, sig) } != 0 {
            return Err(std::io::Error::last_os_error()).with_context(|| format!("cannot signal process {pid}"));
        }
        Ok(())
    };
    signal(libc::SIGTERM)?;
    let started = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid) {
        if started.elapsed() > Duration::from_secs(5) {
            signal(libc::SIGKILL)?;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with('Z')))
}
