//! Messages the ResourceManager handles.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use actix::{Addr, Message};
use serde::Serialize;

use super::gateway::TaskManagerGateway;
use super::slot_pool::NotEnoughSlots;
use crate::checkpoint::TaskCommand;
use crate::graph::SubtaskId;
use crate::ids::JobId;
use crate::logs::{LogError, LogRequest, LogResponse};
use crate::protocol::{TaskDescriptor, TaskManagerUsage};
use crate::task_manager::{SlotGateway, TaskLinks};

/// One slot a TaskManager offers.
#[derive(Clone, Debug)]
pub struct SlotOffer {
    /// The TaskManager that owns it.
    pub task_manager: String,
    /// Its index within that TaskManager.
    pub index: usize,
    /// How to reach it, wherever it is.
    pub slot: Arc<dyn SlotGateway>,
    /// Data address of its TaskManager (records to its tasks go there).
    pub data_address: String,
}

/// What the cluster shows of a TaskManager (`/taskmanagers`).
#[derive(Clone, Debug, Serialize)]
pub struct TaskManagerInfo {
    /// Its id.
    pub id: String,
    /// Data address `host:port` (`local` for in-process ones).
    pub data_address: String,
    /// Memory its slots share, in bytes.
    pub memory_bytes: u64,
    /// CPU cores of its machine.
    pub cpu_cores: u32,
    /// Physical memory of its machine, in bytes.
    pub physical_memory: u64,
    /// When it was last heard from (ms since the epoch), updated by its connection.
    #[serde(skip)]
    pub last_heartbeat: Arc<AtomicU64>,
    /// What its slots hold, as of its last heartbeat (empty for in-process ones).
    #[serde(skip)]
    pub usage: Arc<Mutex<TaskManagerUsage>>,
}

/// A TaskManager joins the cluster with its slots.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RegisterTaskManager {
    /// Who it is.
    pub info: TaskManagerInfo,
    /// The slots it offers.
    pub slots: Vec<SlotOffer>,
    /// The connection of a TaskManager process (`None` in-process): its
    /// logs are fetched through it, and it alone may unregister it.
    pub connection: Option<Addr<TaskManagerGateway>>,
}

/// A TaskManager left (it stopped or was lost): its slots go away.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UnregisterTaskManager {
    /// Its id.
    pub id: String,
    /// The connection it was lost on: a TaskManager that registered again
    /// under the same id over a new connection stays.
    pub gateway: Addr<TaskManagerGateway>,
}

/// A job asks for `count` slots.
#[derive(Message)]
#[rtype(result = "Result<Vec<SlotOffer>, NotEnoughSlots>")]
pub struct RequestSlots {
    /// The job.
    pub job_id: JobId,
    /// Slots needed (the job's highest parallelism).
    pub count: usize,
}

/// A job gives its slots back.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ReleaseSlots {
    /// The job.
    pub job_id: JobId,
}

/// Slot counts for the overview.
#[derive(Message)]
#[rtype(result = "ClusterResources")]
pub struct GetResources;

/// What the cluster has.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct ClusterResources {
    /// Registered TaskManagers.
    pub task_managers: usize,
    /// Slots in total.
    pub slots_total: usize,
    /// Slots free.
    pub slots_available: usize,
}

/// Every TaskManager with its slot counts.
#[derive(Message)]
#[rtype(result = "Vec<TaskManagerStatus>")]
pub struct GetTaskManagers;

/// The gateway of a TaskManager process by id; `None` if unknown or in-process.
#[derive(Message)]
#[rtype(result = "Option<Addr<TaskManagerGateway>>")]
pub struct GetGateway {
    /// The TaskManager's id.
    pub id: String,
}

/// Lists or reads the log files of a TaskManager process (sent to its gateway).
#[derive(Message)]
#[rtype(result = "Result<LogResponse, LogError>")]
pub struct FetchLogs(pub LogRequest);

/// A TaskManager and how many of its slots are free.
#[derive(Debug, Clone)]
pub struct TaskManagerStatus {
    /// Who it is.
    pub info: TaskManagerInfo,
    /// Its slots.
    pub slots: usize,
    /// Its free slots.
    pub free_slots: usize,
}

/// Deploy a task into slot `slot` of a TaskManager process (sent to its gateway).
#[derive(Message)]
#[rtype(result = "()")]
pub struct DeployRemote {
    /// Slot index within the TaskManager.
    pub slot: usize,
    /// The task.
    pub descriptor: TaskDescriptor,
    /// Where it reports; its counters are kept current from heartbeats.
    pub links: TaskLinks,
}

/// Hand a checkpoint command to one task on a TaskManager process.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CommandRemote {
    /// The job.
    pub job_id: JobId,
    /// The task.
    pub subtask: SubtaskId,
    /// The command.
    pub command: TaskCommand,
}

/// Cancel every task of a job on a TaskManager process.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CancelRemote {
    /// The job.
    pub job_id: JobId,
}

/// The job ended: the TaskManager process may forget it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ReleaseRemote {
    /// The job.
    pub job_id: JobId,
}
