//! The cluster as a whole: `/overview`, `/config`, `/jobmanager/config`,
//! `/taskmanagers`, `/taskmanagers/:id`.
//!
//! Additions to Flink's fields, named so they cannot be mistaken for
//! Flink's: `/overview` has `jobmanager-start-time` and
//! `jobmanager-uptime` (ms); `/taskmanagers/:id` has `processMemory` in
//! `metrics`, and `index`, `tasks`, `memoryUsed`, `memoryLimit` per
//! allocated slot.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

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
        (status = 200, description = "OK", body = serde_json::Value),
    ),
)]
pub async fn overview(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    let resources = state.resource_manager.send(GetResources).await?;
    let jobs = state.dispatcher.send(ListJobs).await?;
    let count = |wanted: &[JobStatus]| jobs.iter().filter(|j| wanted.contains(&j.status)).count();
    Ok(Json(json!({
        "taskmanagers": resources.task_managers,
        "slots-total": resources.slots_total,
        "slots-available": resources.slots_available,
        "jobs-running": count(&[JobStatus::Initializing, JobStatus::Created, JobStatus::Running, JobStatus::Failing, JobStatus::Cancelling]),
        "jobs-finished": count(&[JobStatus::Finished]),
        "jobs-cancelled": count(&[JobStatus::Canceled]),
        "jobs-failed": count(&[JobStatus::Failed]),
        "flink-version": VERSION,
        "flink-commit": "wflink",
        "jobmanager-start-time": state.start_time,
        "jobmanager-uptime": now_millis().saturating_sub(state.start_time),
    })))
}

/// `GET /config`: what the dashboard needs to know about the server.
#[utoipa::path(
    get,
    path = "/config",
    summary = "Dashboard configuration (version, features)",
    responses(
        (status = 200, description = "OK", body = serde_json::Value),
    ),
)]
pub async fn dashboard_config(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "refresh-interval": 3000,
        "timezone-name": "Coordinated Universal Time",
        "timezone-offset": 0,
        "flink-version": VERSION,
        "flink-revision": format!("wflink {VERSION}"),
        "features": {
            "web-submit": state.guard.submit_enabled(),
            "web-cancel": state.guard.cancel_enabled(), "web-rescale": false, "web-history": false },
    }))
}

/// `GET /jobmanager/config`: the effective configuration, `[{"key", "value"}]`.
#[utoipa::path(
    get,
    path = "/jobmanager/config",
    summary = "Effective configuration as [{key, value}]",
    responses(
        (status = 200, description = "OK", body = serde_json::Value),
    ),
)]
pub async fn jobmanager_config(State(state): State<AppState>) -> Json<Value> {
    let entries: Vec<Value> =
        state.config.effective_masked().into_iter().map(|(key, value)| json!({ "key": key, "value": value })).collect();
    Json(Value::Array(entries))
}

/// `GET /taskmanagers`.
#[utoipa::path(
    get,
    path = "/taskmanagers",
    summary = "Registered TaskManagers with slots and heartbeat",
    responses(
        (status = 200, description = "OK", body = serde_json::Value),
    ),
)]
pub async fn taskmanagers(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    let all = state.resource_manager.send(GetTaskManagers).await?;
    Ok(Json(json!({ "taskmanagers": all.iter().map(taskmanager_json).collect::<Vec<_>>() })))
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
        (status = 200, description = "OK", body = serde_json::Value),
        (status = 404, description = "No such TaskManager", body = Errors),
    ),
)]
pub async fn taskmanager(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let all = state.resource_manager.send(GetTaskManagers).await?;
    let found = all
        .iter()
        .find(|tm| tm.info.id == id)
        .ok_or_else(|| AppError::not_found(format!("TaskManager {id} not found")))?;
    let usage = found.info.usage.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut body = taskmanager_json(found);
    let cores = found.info.cpu_cores as f64 / found.slots.max(1) as f64;
    let allocated: Vec<Value> = usage
        .slots
        .iter()
        .enumerate()
        .flat_map(|(index, slot)| {
            slot.jobs.iter().map(move |job| {
                json!({
                    "jobId": job.to_string(),
                    "resource": resource(cores, slot.memory_limit >> 20),
                    "index": index,
                    "tasks": slot.tasks,
                    "memoryUsed": slot.memory_used,
                    "memoryLimit": slot.memory_limit,
                })
            })
        })
        .collect();
    let used: u64 = usage.slots.iter().map(|s| s.memory_used).sum();
    body["allocatedSlots"] = Value::Array(allocated);
    body["metrics"] = json!({
        "heapUsed": used,
        "heapCommitted": used,
        "heapMax": found.info.memory_bytes,
        "nonHeapUsed": 0, "nonHeapCommitted": 0, "nonHeapMax": 0,
        "directCount": 0, "directUsed": 0, "directMax": 0,
        "mappedCount": 0, "mappedUsed": 0, "mappedMax": 0,
        "memorySegmentsAvailable": 0, "memorySegmentsTotal": 0,
        "nettyShuffleMemorySegmentsAvailable": 0, "nettyShuffleMemorySegmentsUsed": 0, "nettyShuffleMemorySegmentsTotal": 0,
        "nettyShuffleMemoryAvailable": 0, "nettyShuffleMemoryUsed": 0, "nettyShuffleMemoryTotal": 0,
        "garbageCollectors": [],
        "processMemory": usage.process_memory,
    });
    Ok(Json(body))
}

fn taskmanager_json(tm: &TaskManagerStatus) -> Value {
    let info = &tm.info;
    let mb = |bytes: u64| bytes >> 20;
    let per_slot = info.memory_bytes / tm.slots.max(1) as u64;
    let data_port: i64 = info.data_address.rsplit_once(':').and_then(|(_, p)| p.parse().ok()).unwrap_or(-1);
    let last = info.last_heartbeat.load(Ordering::Relaxed);
    let cores = info.cpu_cores as f64;
    let assigned: u32 = info.usage.lock().unwrap_or_else(|e| e.into_inner()).slots.iter().map(|s| s.tasks).sum();
    json!({
        "id": info.id,
        "path": format!("wflink.tcp://{}/taskmanager", info.data_address),
        "dataPort": data_port,
        "jmxPort": -1,
        "timeSinceLastHeartbeat": now_millis().saturating_sub(last),
        "slotsNumber": tm.slots,
        "freeSlots": tm.free_slots,
        "assignedTasks": assigned,
        "totalResource": resource(cores, mb(info.memory_bytes)),
        "freeResource": resource(cores * tm.free_slots as f64 / tm.slots.max(1) as f64, mb(per_slot * tm.free_slots as u64)),
        "hardware": {
            "cpuCores": info.cpu_cores,
            "physicalMemory": info.physical_memory,
            "freeMemory": info.memory_bytes,
            "managedMemory": 0,
        },
        "memoryConfiguration": {
            "frameworkHeap": 0,
            "taskHeap": info.memory_bytes,
            "frameworkOffHeap": 0,
            "taskOffHeap": 0,
            "networkMemory": 0,
            "managedMemory": 0,
            "jvmMetaspace": 0,
            "jvmOverhead": 0,
            "totalFlinkMemory": info.memory_bytes,
            "totalProcessMemory": info.memory_bytes,
        },
    })
}

fn resource(cores: f64, task_heap_mb: u64) -> Value {
    json!({
        "cpuCores": cores,
        "taskHeapMemory": task_heap_mb,
        "taskOffHeapMemory": 0,
        "managedMemory": 0,
        "networkMemory": 0,
        "extendedResources": {},
    })
}
