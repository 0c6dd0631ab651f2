//! The ResourceManager: knows every TaskManager and slot of the cluster,
//! grants slots to jobs, and forgets TaskManagers that leave. TaskManager
//! processes reach it through [`rpc_server`], each represented here by a
//! [`TaskManagerGateway`].

mod gateway;
pub mod messages;
pub mod rpc_server;
mod slot_pool;

pub use gateway::{RemoteSlot, TaskManagerGateway};
pub use slot_pool::{NotEnoughSlots, SlotPool};

use std::collections::BTreeMap;

use actix::{Actor, Addr, Context, Handler, MessageResult};

use messages::{
    ClusterResources, GetGateway, GetResources, GetTaskManagers, RegisterTaskManager, ReleaseSlots, RequestSlots,
    SlotOffer, TaskManagerInfo, TaskManagerStatus, UnregisterTaskManager,
};

/// A registered TaskManager.
struct Registered {
    /// Who it is.
    info: TaskManagerInfo,
    /// The pool indices of its slots.
    slots: Vec<usize>,
    /// Its connection, for a TaskManager process.
    connection: Option<Addr<TaskManagerGateway>>,
}

/// The cluster's slots and who holds them.
#[derive(Default)]
pub struct ResourceManager {
    pool: SlotPool,
    /// The offer behind each pool index.
    offers: Vec<SlotOffer>,
    /// Registered TaskManagers by id.
    task_managers: BTreeMap<String, Registered>,
}

impl ResourceManager {
    /// Free slots in the order they should be granted: one from each
    /// TaskManager in turn, so a job spreads over the cluster.
    fn spread_order(&self) -> Vec<usize> {
        let per_tm: Vec<&Vec<usize>> = self.task_managers.values().map(|tm| &tm.slots).collect();
        let deepest = per_tm.iter().map(|s| s.len()).max().unwrap_or(0);
        (0..deepest).flat_map(|depth| per_tm.iter().filter_map(move |slots| slots.get(depth).copied())).collect()
    }
}

impl Actor for ResourceManager {
    type Context = Context<Self>;
}

impl Handler<RegisterTaskManager> for ResourceManager {
    type Result = ();

    fn handle(&mut self, msg: RegisterTaskManager, _ctx: &mut Context<Self>) {
        tracing::info!(task_manager = %msg.info.id, slots = msg.slots.len(), "task manager registered");
        if let Some(old) = self.task_managers.remove(&msg.info.id) {
            // It registered again before its old connection was noticed lost: the new slots replace the old.
            tracing::warn!(task_manager = %msg.info.id, "task manager registered again; its old slots are withdrawn");
            self.pool.remove(old.slots);
        }
        let first = self.pool.add(msg.slots.len());
        let slots = (first..first + msg.slots.len()).collect();
        self.offers.extend(msg.slots);
        let registered = Registered { info: msg.info, slots, connection: msg.connection };
        self.task_managers.insert(registered.info.id.clone(), registered);
    }
}

impl Handler<UnregisterTaskManager> for ResourceManager {
    type Result = ();

    fn handle(&mut self, msg: UnregisterTaskManager, _ctx: &mut Context<Self>) {
        let registered_here = |tm: &Registered| tm.connection.as_ref() == Some(&msg.gateway);
        if !self.task_managers.get(&msg.id).is_some_and(registered_here) {
            return;
        }
        if let Some(tm) = self.task_managers.remove(&msg.id) {
            tracing::warn!(task_manager = %msg.id, "task manager left the cluster");
            self.pool.remove(tm.slots);
        }
    }
}

impl Handler<RequestSlots> for ResourceManager {
    type Result = MessageResult<RequestSlots>;

    fn handle(&mut self, msg: RequestSlots, _ctx: &mut Context<Self>) -> Self::Result {
        let order = self.spread_order();
        let granted = self
            .pool
            .allocate(msg.job_id, msg.count, &order)
            .map(|indices| indices.into_iter().map(|i| self.offers[i].clone()).collect());
        MessageResult(granted)
    }
}

impl Handler<ReleaseSlots> for ResourceManager {
    type Result = ();

    fn handle(&mut self, msg: ReleaseSlots, _ctx: &mut Context<Self>) {
        self.pool.release(msg.job_id);
    }
}

impl Handler<GetResources> for ResourceManager {
    type Result = MessageResult<GetResources>;

    fn handle(&mut self, _msg: GetResources, _ctx: &mut Context<Self>) -> Self::Result {
        MessageResult(ClusterResources {
            task_managers: self.task_managers.len(),
            slots_total: self.pool.total(),
            slots_available: self.pool.free(),
        })
    }
}

impl Handler<GetTaskManagers> for ResourceManager {
    type Result = MessageResult<GetTaskManagers>;

    fn handle(&mut self, _msg: GetTaskManagers, _ctx: &mut Context<Self>) -> Self::Result {
        MessageResult(
            self.task_managers
                .values()
                .map(|tm| TaskManagerStatus {
                    info: tm.info.clone(),
                    slots: tm.slots.len(),
                    free_slots: tm.slots.iter().filter(|i| self.pool.is_free(**i)).count(),
                })
                .collect(),
        )
    }
}

impl Handler<GetGateway> for ResourceManager {
    type Result = Option<actix::Addr<TaskManagerGateway>>;

    fn handle(&mut self, msg: GetGateway, _ctx: &mut Context<Self>) -> Self::Result {
        self.task_managers.get(&msg.id)?.connection.clone()
    }
}
