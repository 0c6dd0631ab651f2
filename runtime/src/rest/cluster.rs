//! The cluster as a whole: `/overview`, `/config`, `/jobmanager/config`,
//! `/taskmanagers`, `/taskmanagers/:id`.
//!
//! Additions to Flink's fields, named so they cannot be mistaken for
//! Flink's: `/overview` has `jobmanager-start-time` and
//! `jobmanager-uptime` (ms); `/taskmanagers/:id` has `processMemory` in
//! `metrics`, and `index`, `tasks`, `memoryUsed`, `memoryLimit` per
//! allocated slot.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;

use super::{AppError, AppState, Errors};
use crate::dispatcher::messages::ListJobs;
use crate::protocol::JobStatus;
use crate::resource_manager::messages::{GetResources, GetTaskManagers, TaskManagerStatus};
use crate::time::now_millis;

/// The version shown where Flink shows its own.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `GET /overview`: TaskManagers, slots, jobs by outcome, and since when the JobManager runs.
#[utoipa::path(
    get,
    path = "/overview",
    summary = "Cluster overview: TaskManagers, slots, jobs by state",
    responses(
        (status = 200, description = "OK", body = Overview),
    ),
)]
pub async fn overview(State(state): State<AppState>) -> Result<Json<Overview>, AppError> {
    let resources = state.resource_manager.send(GetResources).await?;
    let jobs = state.dispatcher.send(ListJobs).await?;
    let count = |wanted: &[JobStatus]| jobs.iter().filter(|j| wanted.contains(&j.status)).count();
    let running =
        [JobStatus::Initializing, JobStatus::Created, JobStatus::Running, JobStatus::Failing, JobStatus::Cancelling];
    Ok(Json(Overview {
        taskmanagers: resources.task_managers,
        slots_total: resources.slots_total,
        slots_available: resources.slots_available,
        jobs_running: count(&running),
        jobs_finished: count(&[JobStatus::Finished]),
        jobs_cancelled: count(&[JobStatus::Canceled]),
        jobs_failed: count(&[JobStatus::Failed]),
        flink_version: VERSION,
        flink_commit: "wflink",
        jobmanager_start_time: state.start_time,
        jobmanager_uptime: now_millis().saturating_sub(state.start_time),
    }))
}

/// `GET /config`: what the dashboard needs to know about the server.
#[utoipa::path(
    get,
    path = "/config",
    summary = "Dashboard configuration (version, features)",
    responses(
        (status = 200, description = "OK", body = DashboardConfig),
    ),
)]
pub async fn dashboard_config(State(state): State<AppState>) -> Json<DashboardConfig> {
    Json(DashboardConfig {
        refresh_interval: 3000,
        timezone_name: "Coordinated Universal Time",
        timezone_offset: 0,
        flink_version: VERSION,
        flink_revision: format!("wflink {VERSION}"),
        features: Features {
            web_submit: state.guard.submit_enabled(),
            web_cancel: state.guard.cancel_enabled(),
            web_rescale: false,
            web_history: false,
        },
    })
}

/// `GET /jobmanager/config`: the effective configuration, `[{"key", "value"}]`.
#[utoipa::path(
    get,
    path = "/jobmanager/config",
    summary = "Effective configuration as [{key, value}]",
    responses(
        (status = 200, description = "OK", body = Vec<ConfigEntry>),
    ),
)]
pub async fn jobmanager_config(State(state): State<AppState>) -> Json<Vec<ConfigEntry>> {
    Json(ConfigEntry::all(&state.config))
}

/// `GET /taskmanagers`.
#[utoipa::path(
    get,
    path = "/taskmanagers",
    summary = "Registered TaskManagers with slots and heartbeat",
    responses(
        (status = 200, description = "OK", body = TaskManagers),
    ),
)]
pub async fn taskmanagers(State(state): State<AppState>) -> Result<Json<TaskManagers>, AppError> {
    let all = state.resource_manager.send(GetTaskManagers).await?;
    Ok(Json(TaskManagers { taskmanagers: all.iter().map(TaskManager::of).collect() }))
}

/// `GET /taskmanagers/:id`: with the slots that hold tasks (`allocatedSlots`)
/// and its memory (`metrics`), as its last heartbeat reported them. Flink's
/// heap is the JVM's; here it is the guests' linear memory, whose budget
/// is `taskmanager.memory.flink.size`.
#[utoipa::path(
    get,
    path = "/taskmanagers/{id}",
    summary = "One TaskManager",
    params(
        ("id" = String, Path, description = "TaskManager id"),
    ),
    responses(
        (status = 200, description = "OK", body = TaskManagerDetails),
        (status = 404, description = "No such TaskManager", body = Errors),
    ),
)]
pub async fn taskmanager(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TaskManagerDetails>, AppError> {
    let all = state.resource_manager.send(GetTaskManagers).await?;
    let found = all
        .iter()
        .find(|tm| tm.info.id == id)
        .ok_or_else(|| AppError::not_found(format!("TaskManager {id} not found")))?;
    let usage = found.info.usage.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let cores = found.info.cpu_cores as f64 / found.slots.max(1) as f64;
    let allocated_slots = usage
        .slots
        .iter()
        .enumerate()
        .flat_map(|(index, slot)| {
            slot.jobs.iter().map(move |job| AllocatedSlot {
                job_id: job.to_string(),
                resource: Resource::new(cores, slot.memory_limit >> 20),
                index,
                tasks: slot.tasks,
                memory_used: slot.memory_used,
                memory_limit: slot.memory_limit,
            })
        })
        .collect();
    let used: u64 = usage.slots.iter().map(|s| s.memory_used).sum();
    let metrics = TaskManagerMetrics {
        heap_used: used,
        heap_committed: used,
        heap_max: found.info.memory_bytes,
        process_memory: usage.process_memory,
        ..TaskManagerMetrics::default()
    };
    Ok(Json(TaskManagerDetails { summary: TaskManager::of(found), allocated_slots, metrics }))
}

/// `/overview`: Flink's fields, then when the JobManager started and how long it has run (ms).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Overview {
    /// Registered TaskManagers.
    taskmanagers: usize,
    /// Slots in total.
    slots_total: usize,
    /// Slots free.
    slots_available: usize,
    /// Jobs not yet ended (initializing, created, running, failing, cancelling).
    jobs_running: usize,
    /// Jobs that finished.
    jobs_finished: usize,
    /// Jobs that were cancelled.
    jobs_cancelled: usize,
    /// Jobs that failed.
    jobs_failed: usize,
    /// wflink's version, where Flink gives its own.
    flink_version: &'static str,
    /// Always `wflink`.
    flink_commit: &'static str,
    /// When the JobManager started, ms since the epoch.
    jobmanager_start_time: u64,
    /// How long the JobManager has run, ms.
    jobmanager_uptime: u64,
}

/// `/config`: what the dashboard needs to know about the server.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct DashboardConfig {
    /// How often the dashboard refreshes, ms.
    refresh_interval: u64,
    /// Times are UTC.
    timezone_name: &'static str,
    /// Offset of the timezone from UTC, ms.
    timezone_offset: i64,
    /// wflink's version.
    flink_version: &'static str,
    /// `wflink VERSION`.
    flink_revision: String,
    /// What the dashboard may offer.
    features: Features,
}

/// The dashboard's switches: submit and cancel follow `web.submit.enable` and `web.cancel.enable`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Features {
    /// Jobs may be uploaded and run.
    web_submit: bool,
    /// Jobs may be cancelled.
    web_cancel: bool,
    /// Always false: no rescaling of a running job.
    web_rescale: bool,
    /// Always false: no history server.
    web_history: bool,
}

/// One `/jobmanager/config` entry (sensitive values masked).
#[derive(Serialize, ToSchema)]
pub struct ConfigEntry {
    /// The configuration key, e.g. `rest.port`.
    key: String,
    /// Its effective value.
    value: String,
}

impl ConfigEntry {
    /// Every key of the effective configuration, secrets masked.
    pub(super) fn all(config: &crate::config::Configuration) -> Vec<ConfigEntry> {
        config.effective_masked().into_iter().map(|(key, value)| ConfigEntry { key, value }).collect()
    }
}

/// `/taskmanagers`.
#[derive(Serialize, ToSchema)]
pub struct TaskManagers {
    /// Every registered TaskManager.
    taskmanagers: Vec<TaskManager>,
}

/// A TaskManager as `/taskmanagers` lists it. Flink's memory fields that have no
/// meaning here (framework, off-heap, network, managed, JVM) are 0.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskManager {
    /// Its id, as it registered.
    id: String,
    /// `wflink.tcp://HOST:DATAPORT/taskmanager`.
    path: String,
    /// The port records from other TaskManagers arrive at; -1 if unknown.
    data_port: i64,
    /// Always -1: no JMX.
    jmx_port: i64,
    /// ms since its last heartbeat.
    time_since_last_heartbeat: u64,
    /// Slots it offers.
    slots_number: usize,
    /// Slots free.
    free_slots: usize,
    /// Tasks deployed in its slots.
    assigned_tasks: u32,
    /// All its slots' resources.
    total_resource: Resource,
    /// Its free slots' resources.
    free_resource: Resource,
    /// The machine it runs on.
    hardware: Hardware,
    /// Its memory budget in Flink's terms.
    memory_configuration: MemoryConfiguration,
}

impl TaskManager {
    fn of(tm: &TaskManagerStatus) -> Self {
        let info = &tm.info;
        let mb = |bytes: u64| bytes >> 20;
        let per_slot = info.memory_bytes / tm.slots.max(1) as u64;
        let data_port = info.data_address.rsplit_once(':').and_then(|(_, p)| p.parse().ok()).unwrap_or(-1);
        let last = info.last_heartbeat.load(Ordering::Relaxed);
        let cores = info.cpu_cores as f64;
        let assigned = info.usage.lock().unwrap_or_else(|e| e.into_inner()).slots.iter().map(|s| s.tasks).sum();
        let free_share = tm.free_slots as f64 / tm.slots.max(1) as f64;
        TaskManager {
            id: info.id.clone(),
            path: format!("wflink.tcp://{}/taskmanager", info.data_address),
            data_port,
            jmx_port: -1,
            time_since_last_heartbeat: now_millis().saturating_sub(last),
            slots_number: tm.slots,
            free_slots: tm.free_slots,
            assigned_tasks: assigned,
            total_resource: Resource::new(cores, mb(info.memory_bytes)),
            free_resource: Resource::new(cores * free_share, mb(per_slot * tm.free_slots as u64)),
            hardware: Hardware {
                cpu_cores: info.cpu_cores,
                physical_memory: info.physical_memory,
                free_memory: info.memory_bytes,
                managed_memory: 0,
            },
            memory_configuration: MemoryConfiguration {
                task_heap: info.memory_bytes,
                total_flink_memory: info.memory_bytes,
                total_process_memory: info.memory_bytes,
                ..MemoryConfiguration::default()
            },
        }
    }
}

/// `/taskmanagers/:id`: the summary, plus its allocated slots and memory.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskManagerDetails {
    /// What `/taskmanagers` says of it.
    #[serde(flatten)]
    summary: TaskManager,
    /// One entry per job in each slot that holds tasks.
    allocated_slots: Vec<AllocatedSlot>,
    /// Its memory, as its last heartbeat reported it.
    metrics: TaskManagerMetrics,
}

/// A slot holding tasks of a job. `index`, `tasks`, `memoryUsed` and `memoryLimit` are wflink's additions.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllocatedSlot {
    /// The job whose tasks it holds.
    job_id: String,
    /// The slot's share of the TaskManager.
    resource: Resource,
    /// The slot's number within the TaskManager.
    index: usize,
    /// Tasks deployed in it.
    tasks: u32,
    /// Linear memory its guests use, bytes.
    memory_used: u64,
    /// Its memory budget, bytes.
    memory_limit: u64,
}

/// A share of a TaskManager, in Flink's terms (memory in MiB).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// CPU cores (fractional for a share).
    cpu_cores: f64,
    /// Memory for guests, MiB.
    task_heap_memory: u64,
    /// Always 0.
    task_off_heap_memory: u64,
    /// Always 0.
    managed_memory: u64,
    /// Always 0.
    network_memory: u64,
    /// Always empty.
    extended_resources: BTreeMap<String, f64>,
}

impl Resource {
    fn new(cpu_cores: f64, task_heap_memory: u64) -> Self {
        Resource {
            cpu_cores,
            task_heap_memory,
            task_off_heap_memory: 0,
            managed_memory: 0,
            network_memory: 0,
            extended_resources: BTreeMap::new(),
        }
    }
}

/// The machine a TaskManager runs on.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Hardware {
    /// CPU cores.
    cpu_cores: u32,
    /// The machine's memory, bytes.
    physical_memory: u64,
    /// The TaskManager's memory budget, bytes.
    free_memory: u64,
    /// Always 0.
    managed_memory: u64,
}

/// A TaskManager's memory in Flink's terms, bytes: only the task heap (the guests' budget) is not 0.
#[derive(Serialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct MemoryConfiguration {
    framework_heap: u64,
    task_heap: u64,
    framework_off_heap: u64,
    task_off_heap: u64,
    network_memory: u64,
    managed_memory: u64,
    jvm_metaspace: u64,
    jvm_overhead: u64,
    total_flink_memory: u64,
    total_process_memory: u64,
}

/// A TaskManager's memory metrics in Flink's names, bytes: heap is the guests' linear memory; the JVM's
/// fields are 0; `processMemory` (wflink's) is the process's resident memory.
#[derive(Serialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct TaskManagerMetrics {
    heap_used: u64,
    heap_committed: u64,
    heap_max: u64,
    non_heap_used: u64,
    non_heap_committed: u64,
    non_heap_max: u64,
    direct_count: u64,
    direct_used: u64,
    direct_max: u64,
    mapped_count: u64,
    mapped_used: u64,
    mapped_max: u64,
    memory_segments_available: u64,
    memory_segments_total: u64,
    netty_shuffle_memory_segments_available: u64,
    netty_shuffle_memory_segments_used: u64,
    netty_shuffle_memory_segments_total: u64,
    netty_shuffle_memory_available: u64,
    netty_shuffle_memory_used: u64,
    netty_shuffle_memory_total: u64,
    /// Always empty: no garbage collector.
    garbage_collectors: Vec<String>,
    process_memory: u64,
}
