//! An in-process cluster: Dispatcher, ResourceManager and TaskManagers as
//! actors of one process, for `wflink run --local`, the demo and tests.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use actix::{Actor, Addr};

use crate::config::Configuration;
use crate::dispatcher::messages::{SavepointRestoreSettings, SubmitJob, WaitForJob};
use crate::dispatcher::{Dispatcher, prepare};
use crate::job_manager::JobDetails;
use crate::network::ChannelRegistry;
use crate::protocol::LOCAL_ADDRESS;
use crate::resource_manager::ResourceManager;
use crate::resource_manager::messages::{GetResources, RegisterTaskManager, SlotOffer, TaskManagerInfo};
use crate::task_manager::messages::Shutdown;
use crate::task_manager::{LocalSlot, SlotNetwork, TaskManager};
use crate::wasm::WasmEngine;

/// How long start-up may take before it is reported as stuck.
const STARTUP_DEADLINE: Duration = Duration::from_secs(10);

/// A running in-process cluster.
pub struct MiniCluster {
    /// The front door: submit, wait, cancel.
    pub dispatcher: Addr<Dispatcher>,
    /// The slots.
    pub resource_manager: Addr<ResourceManager>,
    /// The TaskManagers.
    task_managers: Vec<Addr<TaskManager>>,
}

impl MiniCluster {
    /// Starts the cluster with `task_managers` TaskManagers of `slots`
    /// slots each, and returns once every slot is registered. Must run
    /// inside an actix `System`.
    pub async fn start(
        engine: Arc<WasmEngine>,
        config: Configuration,
        task_managers: u32,
        slots: u32,
    ) -> anyhow::Result<Self> {
        let memory = config.memory_size("taskmanager.memory.flink.size")?;
        let cancellation_timeout = config.duration("task.cancellation.timeout")?;
        let resource_manager = ResourceManager::default().start();
        // One process: every channel between its tasks stays in memory, in one registry.
        let network = SlotNetwork { registry: Arc::new(ChannelRegistry::default()), address: LOCAL_ADDRESS.into() };
        let task_managers: Vec<Addr<TaskManager>> = (0..task_managers)
            .map(|i| {
                let id = format!("local-tm-{i}");
                let task_manager = TaskManager::new(id, slots, memory, &network, cancellation_timeout);
                resource_manager.do_send(offer_local_slots(&task_manager));
                task_manager.start()
            })
            .collect();
        let expected = task_managers.len() * slots as usize;
        let started = Instant::now();
        loop {
            let resources = resource_manager.send(GetResources).await?;
            if resources.slots_total >= expected {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < STARTUP_DEADLINE,
                "the local cluster did not start within {STARTUP_DEADLINE:?}"
            );
            actix_rt::time::sleep(Duration::from_millis(1)).await;
        }
        let blobs = Arc::new(crate::blob_store::BlobStore::default());
        let preparing = crate::dispatcher::PreparePool::from_config(&config)?;
        let dispatcher = Dispatcher::new(engine, config, resource_manager.clone(), blobs, preparing).start();
        Ok(MiniCluster { dispatcher, resource_manager, task_managers })
    }

    /// Stops the TaskManagers and their slot threads.
    pub async fn shutdown(self) {
        for task_manager in &self.task_managers {
            let _ = task_manager.send(Shutdown).await;
        }
    }
}

/// The registration of an in-process TaskManager: its slots, reached as
/// local actors, and its data address [`LOCAL_ADDRESS`] (records between
/// its tasks stay in memory).
fn offer_local_slots(task_manager: &TaskManager) -> RegisterTaskManager {
    let id = task_manager.id().to_string();
    let slots = task_manager
        .slots()
        .iter()
        .enumerate()
        .map(|(index, slot)| SlotOffer {
            task_manager: id.clone(),
            index,
            slot: Arc::new(LocalSlot(slot.clone())),
            data_address: LOCAL_ADDRESS.to_string(),
        })
        .collect();
    let info = TaskManagerInfo {
        id,
        data_address: LOCAL_ADDRESS.to_string(),
        memory_bytes: task_manager.memory_bytes(),
        cpu_cores: std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1),
        physical_memory: 0,
        last_heartbeat: Arc::new(AtomicU64::new(crate::time::now_millis())),
        usage: Default::default(),
    };
    RegisterTaskManager { info, slots, connection: None }
}

/// Prepares, runs and waits for one job on a fresh mini-cluster sized to
/// the job (as many slots as its highest parallelism, or the configured
/// slot count if larger); returns the job's final details.
pub fn run_job_locally(
    engine: Arc<WasmEngine>,
    component: &[u8],
    args: &[String],
    parallelism: Option<u32>,
    config: Configuration,
) -> anyhow::Result<JobDetails> {
    run_job_locally_from(engine, component, args, parallelism, None, config)
}

/// [`run_job_locally`], starting from a savepoint when one is given.
pub fn run_job_locally_from(
    engine: Arc<WasmEngine>,
    component: &[u8],
    args: &[String],
    parallelism: Option<u32>,
    savepoint: Option<SavepointRestoreSettings>,
    config: Configuration,
) -> anyhow::Result<JobDetails> {
    run_job_locally_with(engine, component, args, parallelism, savepoint, config, |_| {})
}

/// [`run_job_locally_from`], calling `started` with the cluster on its actix thread once it runs and before the job
/// is submitted (e.g. to serve its metrics).
pub fn run_job_locally_with(
    engine: Arc<WasmEngine>,
    component: &[u8],
    args: &[String],
    parallelism: Option<u32>,
    savepoint: Option<SavepointRestoreSettings>,
    config: Configuration,
    started: impl FnOnce(&MiniCluster),
) -> anyhow::Result<JobDetails> {
    let prepared = prepare(&engine, component, args, parallelism, &config)?;
    let slots = prepared.job_graph.slots_needed().max(config.positive_int("taskmanager.numberOfTaskSlots")?);
    let component: Arc<[u8]> = component.into();
    let args = args.to_vec();
    // Prepared once: the Dispatcher takes the plan instead of describing the job again.
    let prepared = Some(prepared);
    actix::System::new().block_on(async move {
        let cluster = MiniCluster::start(engine, config, 1, slots).await?;
        started(&cluster);
        let result = async {
            let job_id =
                cluster.dispatcher.send(SubmitJob { component, args, parallelism, savepoint, prepared }).await??;
            anyhow::Ok(cluster.dispatcher.send(WaitForJob { job_id }).await??)
        }
        .await;
        cluster.shutdown().await;
        result
    })
}
