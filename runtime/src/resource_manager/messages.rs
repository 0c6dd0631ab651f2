//! Messages the ResourceManager handles.

use actix::{Addr, Message};

use super::slot_pool::NotEnoughSlots;
use crate::ids::JobId;
use crate::task_manager::Slot;

/// One slot a TaskManager offers.
#[derive(Clone, Debug)]
pub struct SlotOffer {
    /// The TaskManager that owns it.
    pub task_manager: String,
    /// Its index within that TaskManager.
    pub index: usize,
    /// The slot actor.
    pub slot: Addr<Slot>,
}

/// A TaskManager joins the cluster with its slots.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RegisterTaskManager {
    /// The TaskManager's id.
    pub id: String,
    /// The slots it offers.
    pub slots: Vec<SlotOffer>,
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
