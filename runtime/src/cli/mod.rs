//! The `wflink` command line: one file per command (group).

mod application;
mod bench;
mod bench_bytewax;
mod bench_flink;
mod bench_kafka;
mod bench_languages;
mod bench_latency;
mod bench_windows;
mod build;
pub mod client;
mod cluster;
mod demo;
mod info;
mod jobmanager;
mod list;
mod processes;
mod run;
mod savepoint;
mod taskmanager;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{ConfigError, Configuration};

/// wflink: a stream processor whose jobs are WebAssembly components.
#[derive(Parser, Debug)]
#[command(name = "wflink", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the configuration comes from: `--config FILE` (default
/// `conf/config.yaml` if present) and `-D key=value` overrides.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct ConfigArgs {
    /// Configuration file (default: conf/config.yaml if it exists).
    #[arg(long = "config", value_name = "FILE")]
    file: Option<PathBuf>,
    /// Configuration override, `key=value` (repeatable).
    #[arg(short = 'D', value_name = "KEY=VALUE")]
    overrides: Vec<String>,
}

impl ConfigArgs {
    /// The effective configuration.
    pub(crate) fn load(&self) -> Result<Configuration, ConfigError> {
        Configuration::load(self.file.as_deref(), &self.overrides)
    }

    /// The same options as arguments, for a child process.
    pub(crate) fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(file) = &self.file {
            args.extend(["--config".to_string(), file.display().to_string()]);
        }
        for kv in &self.overrides {
            args.extend(["-D".to_string(), kv.clone()]);
        }
        args
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build a guest project (Rust, Python, JavaScript or C) into a job component and print the path of the .wasm.
    Build {
        /// The guest project's directory.
        dir: PathBuf,
    },
    /// Run a job: on a cluster (-m HOST:PORT, default from the configuration) or in this process (--local).
    #[command(visible_alias = "submit")]
    Run(run::RunArgs),
    /// Run one job on a cluster of its own (JobManager and TaskManagers as child processes), then tear it down.
    RunApplication(application::ApplicationArgs),
    /// List a cluster's running and scheduled jobs (-a: also ended ones).
    List(list::ListArgs),
    /// Cancel a job on a cluster (with --savepoint DIR: take a savepoint first).
    Cancel(list::CancelArgs),
    /// Take a savepoint of a running job and print its path (-d PATH: dispose of a savepoint).
    Savepoint(savepoint::SavepointArgs),
    /// Stop a running job with a savepoint (--drain: fire every event-time window and timer first) and print its path.
    Stop(savepoint::StopArgs),
    /// Trigger a checkpoint of a running job and print its id.
    Checkpoint(savepoint::CheckpointArgs),
    /// Start a JobManager process: Dispatcher, ResourceManager, RPC endpoint and REST API.
    Jobmanager(ConfigArgs),
    /// Start a TaskManager process that registers with a JobManager.
    Taskmanager(taskmanager::TaskManagerArgs),
    /// Start or stop a local session cluster in the background.
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// Print a job's plan (StreamGraph and chained JobGraph) as JSON.
    Info {
        /// Parallelism given at submit.
        #[arg(short = 'p', long)]
        parallelism: Option<u32>,
        #[command(flatten)]
        config: ConfigArgs,
        /// The job's .wasm component.
        job: PathBuf,
        /// Arguments for the job.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Build the wordcount example and count the words of a built-in text.
    Demo {
        /// Parallelism of the demo job.
        #[arg(short = 'p', long, default_value_t = 2)]
        parallelism: u32,
    },
    /// Measure word count throughput: wflink at p=1 and p=2 against a plain Rust loop and Apache Flink 2.3.
    Bench(bench::BenchArgs),
    /// Measure the wordcount example in each guest language: size, compile, cached load, instantiation, words/s.
    BenchLanguages(bench_languages::BenchLanguagesArgs),
    /// Measure Kafka → word count → Kafka at p=1 and p=2 against the broker's own
    /// producer and consumer and a plain Rust loop, and p99 latency at a fixed rate.
    BenchKafka(bench_kafka::BenchKafkaArgs),
    /// Measure a keyed-window job (sensor readings, 10 s tumbling windows)
    /// at p=1 and p=2 against a plain Rust loop.
    BenchWindows(bench_windows::BenchWindowsArgs),
    /// Measure emit-to-sink latency (p50, p99, p99.9, max) of a source at a fixed rate → key-by → map → sink,
    /// with the default buffer timeout and with 0, against Apache Flink 2.3 running the same job.
    BenchLatency(bench_latency::BenchLatencyArgs),
}

impl Cli {
    /// Runs the command; the error is printed by `main` as one line.
    pub fn execute(self) -> anyhow::Result<()> {
        processes::exit_with_parent_if_tied();
        match self.command {
            Command::Build { dir } => build::build(&dir),
            Command::Run(args) => run::run(args),
            Command::RunApplication(args) => application::run_application(args),
            Command::List(args) => {
                end_quietly_when_stdout_closes();
                list::list(args)
            }
            Command::Cancel(args) => list::cancel(args),
            Command::Savepoint(args) => savepoint::savepoint(args),
            Command::Stop(args) => savepoint::stop(args),
            Command::Checkpoint(args) => savepoint::checkpoint(args),
            Command::Jobmanager(args) => jobmanager::jobmanager(args),
            Command::Taskmanager(args) => taskmanager::taskmanager(args),
            Command::Cluster(command) => cluster::cluster(command),
            Command::Info { parallelism, config, job, args } => {
                end_quietly_when_stdout_closes();
                info::info(&job, &args, parallelism, &config.load()?)
            }
            Command::Demo { parallelism } => demo::demo(parallelism),
            Command::Bench(args) => bench::bench(args),
            Command::BenchLanguages(args) => bench_languages::bench_languages(args),
            Command::BenchKafka(args) => bench_kafka::bench_kafka(args),
            Command::BenchWindows(args) => bench_windows::bench_windows(args),
            Command::BenchLatency(args) => bench_latency::bench_latency(args),
        }
    }
}

/// Lets a command that only prints end quietly when its reader goes away (`wflink info job.wasm | head`), as Unix
/// tools do, where `println!` would panic on the broken pipe. Only for commands that print and hold nothing that
/// must be closed cleanly; sockets are unaffected (Rust writes to them with `MSG_NOSIGNAL`).
fn end_quietly_when_stdout_closes() {
    // SAFETY: sets the default disposition of one signal; no handler runs Rust code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The Prometheus endpoint's socket when the configuration names Flink's reporter (`metrics.reporter.*`), bound to
/// the first free port of its range before the process starts its work, so a taken range stops it at once.
fn prometheus_listener(config: &Configuration) -> anyhow::Result<Option<std::net::TcpListener>> {
    use anyhow::Context;
    let Some(settings) = crate::metrics::prometheus::PrometheusSettings::from_config(config)? else { return Ok(None) };
    let listener = settings.bind().with_context(|| {
        format!("no free port for the Prometheus endpoint in {:?} (metrics.reporter.*.port)", settings.ports)
    })?;
    Ok(Some(listener))
}
