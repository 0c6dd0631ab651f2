//! The TaskManager: one per process (one per mini-cluster in local mode).
//! It starts its slots, each an actor on its own Arbiter, and offers them
//! to the ResourceManager: directly in-process ([`TaskManager`]), or over
//! the control connection from a TaskManager process ([`TaskExecutor`]).

mod broadcast_state;
mod checkpoints;
mod descriptor;
mod executor;
mod gateway;
pub mod messages;
pub mod registration;
pub mod reported;
mod running_values;
mod slot;
mod task;

pub use crate::operator::TaskError;
pub use descriptor::{DeployError, Locality};
pub use executor::{TaskExecutor, TaskExecutorSettings};
pub use gateway::{Deployment, LocalSlot, SlotGateway, TaskLinks};
pub use slot::{Slot, SlotNetwork};

use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, ActorContext, Addr, Arbiter, Context, Handler};

use crate::wasm::SlotMemory;

/// A TaskManager's slots, each on its own Arbiter (event loop thread).
pub struct Slots {
    /// The slot actors.
    pub slots: Vec<Addr<Slot>>,
    /// Their memory budgets, by index, read for the TaskManager's usage report.
    pub memory: Vec<Arc<SlotMemory>>,
    /// Keeps the slots' threads alive as long as the TaskManager.
    arbiters: Vec<Arbiter>,
}

impl Slots {
    /// Starts `count` slots splitting `memory_bytes` between them, wiring
    /// their tasks into `network`; a task cancelled there must end within
    /// `cancellation_timeout`.
    pub fn start(
        id: &str,
        count: u32,
        memory_bytes: u64,
        network: &SlotNetwork,
        cancellation_timeout: Duration,
    ) -> Self {
        let per_slot = (memory_bytes / count.max(1) as u64) as usize;
        let mut arbiters = Vec::new();
        let mut slots = Vec::new();
        let mut memory = Vec::new();
        for index in 0..count {
            let arbiter = Arbiter::new();
            let name = format!("{id}/slot-{index}");
            let budget = SlotMemory::new(per_slot);
            memory.push(budget.clone());
            let network = network.clone();
            slots.push(Slot::start_in_arbiter(&arbiter.handle(), move |_| {
                Slot::new(name, budget, network, cancellation_timeout)
            }));
            arbiters.push(arbiter);
        }
        Slots { slots, memory, arbiters }
    }

    /// Stops the slots' threads.
    pub fn stop(&self) {
        for arbiter in &self.arbiters {
            arbiter.stop();
        }
    }
}

/// An in-process TaskManager and its slots. Whoever starts it offers its
/// slots to the ResourceManager ([`TaskManager::slots`]): the
/// TaskManager itself knows nothing of the cluster above it.
pub struct TaskManager {
    /// Id shown in `/taskmanagers`, e.g. `local-tm-0`.
    id: String,
    slots: Slots,
    memory_bytes: u64,
}

impl TaskManager {
    /// A TaskManager with `slots` slots splitting `memory_bytes` between
    /// them, wiring their tasks into `network`; a task cancelled there
    /// must end within `cancellation_timeout`.
    pub fn new(
        id: String,
        slots: u32,
        memory_bytes: u64,
        network: &SlotNetwork,
        cancellation_timeout: Duration,
    ) -> Self {
        let slots = Slots::start(&id, slots, memory_bytes, network, cancellation_timeout);
        TaskManager { id, slots, memory_bytes }
    }

    /// Its id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its slot actors, by index.
    pub fn slots(&self) -> &[Addr<Slot>] {
        &self.slots.slots
    }

    /// The memory its slots share, in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.memory_bytes
    }
}

impl Actor for TaskManager {
    type Context = Context<Self>;

    fn started(&mut self, _ctx: &mut Context<Self>) {
        tracing::info!(task_manager = %self.id, slots = self.slots.slots.len(), "task manager started");
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        self.slots.stop();
    }
}

impl Handler<messages::Shutdown> for TaskManager {
    type Result = ();

    fn handle(&mut self, _msg: messages::Shutdown, ctx: &mut Context<Self>) {
        self.slots.stop();
        ctx.stop();
    }
}
