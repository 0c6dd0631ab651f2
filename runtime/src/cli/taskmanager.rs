//! `wflink taskmanager`: a TaskManager process. It listens for records
//! from other TaskManagers on its data port (`taskmanager.data.port`, 0
//! picks a free one, so several run on one machine), registers its slots
//! with the JobManager at `--jobmanager HOST:PORT` (default
//! `jobmanager.rpc.address:jobmanager.rpc.port`), and runs what it is given.
//! Print sinks write to its stdout. When the JobManager is lost it
//! cancels that JobManager's tasks and registers again at the same
//! address, backing off from `taskmanager.registration.initial-backoff`
//! to `taskmanager.registration.max-backoff`, until one answers or the
//! process is stopped (SIGTERM/SIGINT end it as always).

use std::net::TcpListener;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, AsyncContext};
use anyhow::Context;

use super::ConfigArgs;
use crate::metrics::proc_kb;
use crate::metrics::prometheus::{self, Collect};
use crate::network::handshake::{SECRET_FILE_KEY, SECRET_KEY};
use crate::network::{ChannelRegistry, tcp};
use crate::network::{ConnectionLimit, FrameLimits};
use crate::rpc::Connection;
use crate::rpc::protocol::TaskManagerRegistration;
use crate::security::Secret;
use crate::task_manager::registration::{Backoff, register_at_start};
use crate::task_manager::reported::ReportedTasks;
use crate::task_manager::{TaskExecutor, TaskExecutorSettings};
use crate::wasm::WasmEngine;

/// How long to keep trying to reach the JobManager at start.
const CONNECT_DEADLINE: Duration = Duration::from_secs(30);

#[derive(clap::Args, Debug)]
pub(super) struct TaskManagerArgs {
    /// The JobManager's RPC address, `HOST:PORT`.
    #[arg(long)]
    jobmanager: Option<String>,
    #[command(flatten)]
    config: ConfigArgs,
}

pub(super) fn taskmanager(args: TaskManagerArgs) -> anyhow::Result<()> {
    let config = args.config.load()?;
    let slots = config.positive_int("taskmanager.numberOfTaskSlots")?;
    let memory_bytes = config.memory_size("taskmanager.memory.flink.size")?;
    let heartbeat_interval = config.duration("heartbeat.interval")?;
    let heartbeat_timeout = config.duration("heartbeat.timeout")?;
    let backoff = Backoff {
        initial: config.duration("taskmanager.registration.initial-backoff")?,
        max: config.duration("taskmanager.registration.max-backoff")?,
    };
    let host = config.text("taskmanager.host");
    let jobmanager = match args.jobmanager {
        Some(address) => address,
        None => format!("{}:{}", config.text("jobmanager.rpc.address"), config.port("jobmanager.rpc.port")?),
    };
    let data_port = config.port("taskmanager.data.port")?;
    crate::network::limits::configure(FrameLimits::from_config(&config)?);
    crate::network::handshake::configure(Secret::from_config(&config, SECRET_KEY, SECRET_FILE_KEY)?);
    crate::network::link::configure(crate::security::tls::internal(&config)?);
    let data_connections = ConnectionLimit::from_config(&config, tcp::MAX_CONNECTIONS_KEY)?;
    let listener = TcpListener::bind((host.as_str(), data_port))
        .with_context(|| format!("cannot listen on {host}:{data_port} (taskmanager.data.port)"))?;
    let data_address = format!("{host}:{}", listener.local_addr()?.port());
    let id = format!("{data_address}-{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
    let registry = Arc::new(ChannelRegistry::default());
    tcp::serve(listener, registry.clone(), data_connections)?;

    let registration = TaskManagerRegistration {
        id: id.clone(),
        slots,
        data_address: data_address.clone(),
        memory_bytes,
        cpu_cores: std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1),
        physical_memory: proc_kb("/proc/meminfo", "MemTotal:"),
    };
    let stream = register_at_start(&jobmanager, &registration, backoff, CONNECT_DEADLINE)
        .with_context(|| format!("cannot register with the JobManager at {jobmanager} (--jobmanager)"))?;
    tracing::info!(task_manager = %id, %jobmanager, "registered with the resource manager");
    let engine = WasmEngine::new()?;
    let cancellation_timeout = config.duration("task.cancellation.timeout")?;

    let prometheus = super::prometheus_listener(&config)?;
    let reported = Arc::new(ReportedTasks::default());

    let system = actix::System::new();
    system.block_on(async {
        if let Some(listener) = prometheus {
            let url = format!("http://{host}:{}/metrics", listener.local_addr().map_or(0, |a| a.port()));
            let (reported, id, host) = (reported.clone(), id.clone(), host.clone());
            let collect: Collect = Rc::new(move || {
                let process = crate::metrics::process::this_process().read();
                let series = reported.series(&id, &host, &process, memory_bytes);
                Box::pin(std::future::ready(series))
            });
            actix::spawn(async move {
                if let Err(e) = prometheus::serve(listener, collect).await {
                    tracing::error!(error = %e, "the Prometheus endpoint stopped");
                }
            });
            eprintln!("Prometheus endpoint: {url}");
        }
        let jobmanager = jobmanager.clone();
        let settings = TaskExecutorSettings {
            registration,
            jobmanager,
            heartbeat_interval,
            heartbeat_timeout,
            backoff,
            cancellation_timeout,
        };
        TaskExecutor::create(move |ctx| {
            let mut executor =
                TaskExecutor::new(settings, slots, memory_bytes, registry, engine).reporting_to(reported);
            match Connection::start(stream, "jobmanager", ctx.address().recipient()) {
                Ok(connection) => executor.attach(connection),
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the connection threads");
                    actix::System::current().stop_with_code(1);
                }
            }
            executor
        });
    });
    eprintln!("TaskManager {id} started: {slots} slot(s), data port {data_address}, JobManager {jobmanager}");
    system.run().context("the TaskManager stopped with an error")
}
