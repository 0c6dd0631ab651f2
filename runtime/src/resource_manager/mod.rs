//! The ResourceManager: knows every TaskManager and slot of the cluster
//! and grants slots to jobs.

pub mod messages;
mod slot_pool;

pub use slot_pool::{NotEnoughSlots, SlotPool};

use std::collections::BTreeSet;

use actix::{Actor, Context, Handler, MessageResult};

use messages::{ClusterResources, GetResources, RegisterTaskManager, ReleaseSlots, RequestSlots, SlotOffer};

/// The cluster's slots and who holds them.
#[derive(Default)]
pub struct ResourceManager {
    pool: SlotPool,
    /// The offer behind each pool index.
    offers: Vec<SlotOffer>,
    task_managers: BTreeSet<String>,
}

impl Actor for ResourceManager {
    type Context = Context<Self>;
}

impl Handler<RegisterTaskManager> for ResourceManager {
    type Result = ();

    fn handle(&mut self, msg: RegisterTaskManager, _ctx: &mut Context<Self>) {
        tracing::info!(task_manager = %msg.id, slots = msg.slots.len(), "task manager registered");
        self.pool.add(msg.slots.len());
        self.offers.extend(msg.slots);
        self.task_managers.insert(msg.id);
    }
}

impl Handler<RequestSlots> for ResourceManager {
    type Result = MessageResult<RequestSlots>;

    fn handle(&mut self, msg: RequestSlots, _ctx: &mut Context<Self>) -> Self::Result {
        let granted = self
            .pool
            .allocate(msg.job_id, msg.count)
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
