//! The TaskManager: one per process (one per mini-cluster in local mode).
//! It starts its slots, each an actor on its own Arbiter, and offers them
//! to the ResourceManager.

pub mod messages;
mod slot;
mod task;

pub use slot::Slot;
pub use task::TaskError;

use actix::{Actor, ActorContext, Addr, Arbiter, Context, Handler};

use crate::resource_manager::ResourceManager;
use crate::resource_manager::messages::{RegisterTaskManager, SlotOffer};

/// A TaskManager and its slots.
pub struct TaskManager {
    /// Id shown in `/taskmanagers`, e.g. `localhost:0-1a2b3c`.
    id: String,
    /// Its slots, each on its own Arbiter (event loop thread).
    slots: Vec<Addr<Slot>>,
    /// Keeps the slots' threads alive as long as the TaskManager.
    arbiters: Vec<Arbiter>,
    resource_manager: Addr<ResourceManager>,
}

impl TaskManager {
    /// A TaskManager with `slots` slots splitting `memory_bytes` between
    /// them, registering with `resource_manager` when started.
    pub fn new(id: String, slots: u32, memory_bytes: u64, resource_manager: Addr<ResourceManager>) -> Self {
        let per_slot = (memory_bytes / slots.max(1) as u64) as usize;
        let mut arbiters = Vec::new();
        let mut addrs = Vec::new();
        for index in 0..slots {
            let arbiter = Arbiter::new();
            let name = format!("{id}/slot-{index}");
            addrs.push(Slot::start_in_arbiter(&arbiter.handle(), move |_| Slot::new(name, per_slot)));
            arbiters.push(arbiter);
        }
        TaskManager { id, slots: addrs, arbiters: arbiters, resource_manager }
    }
}

impl Actor for TaskManager {
    type Context = Context<Self>;

    fn started(&mut self, _ctx: &mut Context<Self>) {
        let offers = self
            .slots
            .iter()
            .enumerate()
            .map(|(index, slot)| SlotOffer { task_manager: self.id.clone(), index, slot: slot.clone() })
            .collect();
        tracing::info!(task_manager = %self.id, slots = self.slots.len(), "task manager started");
        self.resource_manager.do_send(RegisterTaskManager { id: self.id.clone(), slots: offers });
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        for arbiter in &self.arbiters {
            arbiter.stop();
        }
    }
}

impl Handler<messages::Shutdown> for TaskManager {
    type Result = ();

    fn handle(&mut self, _msg: messages::Shutdown, ctx: &mut Context<Self>) {
        for arbiter in &self.arbiters {
            arbiter.stop();
        }
        ctx.stop();
    }
}
