//! The TaskManager: one per process (one per mini-cluster in local mode).
//! It starts its slots, each an actor on its own Arbiter, and offers them
//! to the ResourceManager: directly in-process ([`TaskManager`]), or over
//! the control connection from a TaskManager process ([`TaskExecutor`]).

mod checkpoints;
mod descriptor;
mod executor;
pub mod messages;
pub mod registration;
mod slot;
mod task;

pub use checkpoints::SideSinkState;
pub use descriptor::{
    ChannelTarget, DeployError, InputDescriptor, LOCAL_ADDRESS, Locality, OutputDescriptor, TaskDescriptor,
};
pub use executor::{TaskExecutor, TaskExecutorSettings};
pub use slot::Slot;
pub use task::TaskError;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use actix::{Actor, ActorContext, Addr, Arbiter, Context, Handler};

use crate::resource_manager::ResourceManager;
use crate::resource_manager::messages::{RegisterTaskManager, SlotOffer, SlotRef, TaskManagerInfo};
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
    /// Starts `count` slots splitting `memory_bytes` between them; a task
    /// cancelled there must end within `cancellation_timeout`.
    pub fn start(id: &str, count: u32, memory_bytes: u64, cancellation_timeout: Duration) -> Self {
        let per_slot = (memory_bytes / count.max(1) as u64) as usize;
        let mut arbiters = Vec::new();
        let mut slots = Vec::new();
        let mut memory = Vec::new();
        for index in 0..count {
            let arbiter = Arbiter::new();
            let name = format!("{id}/slot-{index}");
            let budget = SlotMemory::new(per_slot);
            memory.push(budget.clone());
            slots.push(Slot::start_in_arbiter(&arbiter.handle(), move |_| {
                Slot::new(name, budget, cancellation_timeout)
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

/// An in-process TaskManager and its slots.
pub struct TaskManager {
    /// Id shown in `/taskmanagers`, e.g. `local-tm-0`.
    id: String,
    slots: Slots,
    memory_bytes: u64,
    resource_manager: Addr<ResourceManager>,
}

impl TaskManager {
    /// A TaskManager with `slots` slots splitting `memory_bytes` between
    /// them, registering with `resource_manager` when started.
    pub fn new(
        id: String,
        slots: u32,
        memory_bytes: u64,
        cancellation_timeout: Duration,
        resource_manager: Addr<ResourceManager>,
    ) -> Self {
        let slots = Slots::start(&id, slots, memory_bytes, cancellation_timeout);
        TaskManager { id, slots, memory_bytes, resource_manager }
    }
}

impl Actor for TaskManager {
    type Context = Context<Self>;

    fn started(&mut self, _ctx: &mut Context<Self>) {
        let offers = self
            .slots
            .slots
            .iter()
            .enumerate()
            .map(|(index, slot)| SlotOffer {
                task_manager: self.id.clone(),
                index,
                slot: SlotRef::Local(slot.clone()),
                data_address: LOCAL_ADDRESS.to_string(),
            })
            .collect();
        tracing::info!(task_manager = %self.id, slots = self.slots.slots.len(), "task manager started");
        let info = TaskManagerInfo {
            id: self.id.clone(),
            data_address: LOCAL_ADDRESS.to_string(),
            memory_bytes: self.memory_bytes,
            cpu_cores: std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1),
            physical_memory: 0,
            last_heartbeat: Arc::new(AtomicU64::new(crate::time::now_millis())),
            usage: Default::default(),
        };
        self.resource_manager.do_send(RegisterTaskManager { info, slots: offers });
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
