//! The `wflink` command line: one file per command.

mod bench;
mod bench_languages;
mod bench_windows;
mod build;
mod demo;
mod info;
mod run;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// wflink: a stream processor whose jobs are WebAssembly components.
#[derive(Parser, Debug)]
#[command(name = "wflink", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build a guest project (Rust, Python, JavaScript or C) into a job component and print the path of the .wasm.
    Build {
        /// The guest project's directory.
        dir: PathBuf,
    },
    /// Run a job.
    Run(run::RunArgs),
    /// Print a job's plan (StreamGraph and chained JobGraph) as JSON.
    Info {
        /// Parallelism given at submit.
        #[arg(short = 'p', long)]
        parallelism: Option<u32>,
        /// Configuration override, `key=value` (repeatable).
        #[arg(short = 'D', value_name = "KEY=VALUE")]
        config: Vec<String>,
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
    /// Measure word count throughput: wflink at p=1 and p=2 against a plain Rust loop.
    Bench(bench::BenchArgs),
    /// Measure the wordcount example in each guest language: size, compile, cached load, instantiation, words/s.
    BenchLanguages(bench_languages::BenchLanguagesArgs),
    /// Measure a keyed-window job (sensor readings, 10 s tumbling windows)
    /// at p=1 and p=2 against a plain Rust loop.
    BenchWindows(bench_windows::BenchWindowsArgs),
}

impl Cli {
    /// Runs the command; the error is printed by `main` as one line.
    pub fn execute(self) -> anyhow::Result<()> {
        match self.command {
            Command::Build { dir } => build::build(&dir),
            Command::Run(args) => run::run(args),
            Command::Info { parallelism, config, job, args } => info::info(&job, &args, parallelism, &config),
            Command::Demo { parallelism } => demo::demo(parallelism),
            Command::Bench(args) => bench::bench(args),
            Command::BenchLanguages(args) => bench_languages::bench_languages(args),
            Command::BenchWindows(args) => bench_windows::bench_windows(args),
        }
    }
}
