//! The JobManager process's side of one TaskManager process: it offers
//! the TaskManager's slots to the ResourceManager (each reached through a
//! [`RemoteSlot`], the same gateway in-process slots have), forwards deployments
//! and cancels over the control connection, routes task reports back to
//! their JobManagers, serves component fetches, relays log requests
//! (with a deadline), keeps its usage report, and declares the
//! TaskManager lost when its connection drops or its heartbeats stop.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::{Actor, ActorContext, Addr, AsyncContext, Context, Handler, ResponseFuture};
use tokio::sync::oneshot;

use super::ResourceManager;
use super::messages::{
    CancelRemote, CommandRemote, DeployRemote, FetchLogs, RegisterTaskManager, ReleaseRemote, SlotOffer,
    TaskManagerInfo, UnregisterTaskManager,
};
use crate::blob_store::BlobStore;
use crate::checkpoint::TaskCommand;
use crate::graph::SubtaskId;
use crate::ids::JobId;
use crate::logs::{LogError, LogResponse};
use crate::protocol::TaskManagerUsage;
use crate::protocol::{FailureKind, TaskFailure, TaskState, TaskStateChanged};
use crate::rpc::protocol::{TaskManagerRegistration, ToJobManager, ToTaskManager};
use crate::rpc::{Connection, Incoming};
use crate::task_manager::{Deployment, SlotGateway, TaskLinks};
use crate::time::now_millis;

/// Slot `index` of a TaskManager process, reached through its gateway.
/// The component is not sent with a deployment: the TaskManager fetches
/// it by its hash, once.
#[derive(Debug)]
pub struct RemoteSlot {
    gateway: Addr<TaskManagerGateway>,
    index: usize,
}

impl SlotGateway for RemoteSlot {
    fn deploy(&self, deployment: Deployment) {
        let Deployment { descriptor, links, component: _ } = deployment;
        self.gateway.do_send(DeployRemote { slot: self.index, descriptor, links });
    }

    fn cancel(&self, job_id: JobId) {
        self.gateway.do_send(CancelRemote { job_id });
    }

    fn command(&self, job_id: JobId, subtask: SubtaskId, command: TaskCommand) {
        self.gateway.do_send(CommandRemote { job_id, subtask, command });
    }

    fn release(&self, job_id: JobId) {
        self.gateway.do_send(ReleaseRemote { job_id });
    }
}

/// How long a TaskManager may take to answer a log request.
const LOG_DEADLINE: Duration = Duration::from_secs(10);

/// A TaskManager process as seen from the JobManager process.
pub struct TaskManagerGateway {
    registration: TaskManagerRegistration,
    connection: Option<Connection<ToTaskManager>>,
    resource_manager: Addr<ResourceManager>,
    blobs: Arc<BlobStore>,
    /// Where each of its tasks reports, and the counters shown for it.
    tasks: HashMap<(JobId, SubtaskId), TaskLinks>,
    /// Last time anything arrived.
    last_seen: Instant,
    /// The same, in ms since the epoch, for `/taskmanagers`.
    last_heartbeat: Arc<AtomicU64>,
    /// Silence after which the TaskManager counts as lost.
    timeout: Duration,
    /// Its slots and memory as of its last heartbeat, shared with `/taskmanagers`.
    usage: Arc<Mutex<TaskManagerUsage>>,
    /// Log requests waiting for their answer, by request id.
    log_requests: HashMap<u64, oneshot::Sender<Result<LogResponse, LogError>>>,
    next_request: u64,
}

impl TaskManagerGateway {
    /// A gateway for the TaskManager that sent `registration`.
    pub fn new(
        registration: TaskManagerRegistration,
        resource_manager: Addr<ResourceManager>,
        blobs: Arc<BlobStore>,
        timeout: Duration,
    ) -> Self {
        TaskManagerGateway {
            registration,
            connection: None,
            resource_manager,
            blobs,
            tasks: HashMap::new(),
            last_seen: Instant::now(),
            last_heartbeat: Arc::new(AtomicU64::new(now_millis())),
            timeout,
            usage: Default::default(),
            log_requests: HashMap::new(),
            next_request: 0,
        }
    }

    /// Attaches the control connection (made once the actor has an address).
    pub fn attach(&mut self, connection: Connection<ToTaskManager>) {
        self.connection = Some(connection);
    }

    fn send(&self, message: ToTaskManager) {
        if let Some(connection) = &self.connection {
            connection.send(message);
        }
    }

    /// The TaskManager is gone: fail its tasks, withdraw its slots, stop.
    fn lost(&mut self, reason: &str, ctx: &mut Context<Self>) {
        // Interval ticks queued while the process was paused may call this again after the stop.
        if ctx.state().stopping() {
            return;
        }
        let id = &self.registration.id;
        tracing::warn!(task_manager = %id, reason, "task manager lost");
        for ((_, subtask), task) in self.tasks.drain() {
            let error = TaskFailure::new(FailureKind::TaskManagerLost, format!("TaskManager {id} was lost: {reason}"));
            let failed = TaskStateChanged { subtask, state: TaskState::Failed, error: Some(error), final_state: None };
            task.report.do_send(failed);
        }
        self.resource_manager.do_send(UnregisterTaskManager { id: id.clone(), gateway: ctx.address() });
        if let Some(connection) = self.connection.take() {
            connection.close();
        }
        ctx.stop();
    }
}

impl Actor for TaskManagerGateway {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let r = &self.registration;
        let offers = (0..r.slots as usize)
            .map(|index| SlotOffer {
                task_manager: r.id.clone(),
                index,
                slot: Arc::new(RemoteSlot { gateway: ctx.address(), index }),
                data_address: r.data_address.clone(),
            })
            .collect();
        let info = TaskManagerInfo {
            id: r.id.clone(),
            data_address: r.data_address.clone(),
            memory_bytes: r.memory_bytes,
            cpu_cores: r.cpu_cores,
            physical_memory: r.physical_memory,
            last_heartbeat: self.last_heartbeat.clone(),
            usage: self.usage.clone(),
        };
        self.resource_manager.do_send(RegisterTaskManager { info, slots: offers, connection: Some(ctx.address()) });
        self.send(ToTaskManager::Registered);
        ctx.run_interval(self.timeout / 5, |act, ctx| {
            if act.last_seen.elapsed() > act.timeout {
                let reason = format!("no heartbeat for {:?}", act.timeout);
                act.lost(&reason, ctx);
            }
        });
    }
}

impl Handler<Incoming<ToJobManager>> for TaskManagerGateway {
    type Result = ();

    fn handle(&mut self, msg: Incoming<ToJobManager>, ctx: &mut Context<Self>) {
        let message = match msg {
            Incoming::Message(message) => message,
            Incoming::Closed(reason) => return self.lost(&reason, ctx),
        };
        self.last_seen = Instant::now();
        self.last_heartbeat.store(now_millis(), Ordering::Relaxed);
        match message {
            ToJobManager::Register(_) => {
                tracing::warn!(task_manager = %self.registration.id, "registered twice; ignored")
            }
            ToJobManager::Heartbeat { metrics, usage } => {
                for (job_id, subtask, snapshot) in metrics {
                    if let Some(task) = self.tasks.get(&(job_id, subtask)) {
                        task.metrics.set(&snapshot);
                    }
                }
                *self.usage.lock().unwrap_or_else(|e| e.into_inner()) = usage;
                self.send(ToTaskManager::Heartbeat);
            }
            ToJobManager::Logs { request_id, result } => {
                if let Some(waiting) = self.log_requests.remove(&request_id) {
                    let _ = waiting.send(result);
                }
            }
            ToJobManager::TaskState { job_id, subtask, state, error, final_state, metrics } => {
                let key = (job_id, subtask);
                let Some(task) = self.tasks.get(&key) else { return };
                task.metrics.set(&metrics);
                task.report.do_send(TaskStateChanged { subtask, state, error, final_state });
                if state.is_terminal() {
                    self.tasks.remove(&key);
                }
            }
            ToJobManager::Checkpoint { job_id, report } => {
                if let Some(task) = self.tasks.get(&(job_id, report.subtask)) {
                    task.checkpoints.do_send(report);
                }
            }
            ToJobManager::FetchComponent { hash } => {
                let bytes = self.blobs.get(&hash);
                if bytes.is_none() {
                    tracing::warn!(%hash, "a task manager asked for an unknown component");
                }
                self.send(ToTaskManager::Component { hash, bytes });
            }
        }
    }
}

impl Handler<DeployRemote> for TaskManagerGateway {
    type Result = ();

    fn handle(&mut self, msg: DeployRemote, _ctx: &mut Context<Self>) {
        let key = (msg.descriptor.job_id, msg.descriptor.subtask);
        self.tasks.insert(key, msg.links);
        self.send(ToTaskManager::Deploy { slot: msg.slot, descriptor: Box::new(msg.descriptor) });
    }
}

impl Handler<CancelRemote> for TaskManagerGateway {
    type Result = ();

    fn handle(&mut self, msg: CancelRemote, _ctx: &mut Context<Self>) {
        self.send(ToTaskManager::CancelJob { job_id: msg.job_id });
    }
}

impl Handler<CommandRemote> for TaskManagerGateway {
    type Result = ();

    fn handle(&mut self, msg: CommandRemote, _ctx: &mut Context<Self>) {
        let CommandRemote { job_id, subtask, command } = msg;
        self.send(ToTaskManager::TaskCommand { job_id, subtask, command });
    }
}

impl Handler<ReleaseRemote> for TaskManagerGateway {
    type Result = ();

    fn handle(&mut self, msg: ReleaseRemote, _ctx: &mut Context<Self>) {
        self.tasks.retain(|(job, _), _| *job != msg.job_id);
        self.send(ToTaskManager::ReleaseJob { job_id: msg.job_id });
    }
}

impl Handler<FetchLogs> for TaskManagerGateway {
    type Result = ResponseFuture<Result<LogResponse, LogError>>;

    fn handle(&mut self, FetchLogs(request): FetchLogs, _ctx: &mut Context<Self>) -> Self::Result {
        let id = self.registration.id.clone();
        let (answer, waiting) = oneshot::channel();
        let request_id = self.next_request;
        self.next_request += 1;
        // Requests whose caller gave up are forgotten with the next one.
        self.log_requests.retain(|_, sender| !sender.is_closed());
        self.log_requests.insert(request_id, answer);
        self.send(ToTaskManager::Logs { request_id, request });
        Box::pin(async move {
            match tokio::time::timeout(LOG_DEADLINE, waiting).await {
                Ok(Ok(result)) => result,
                Ok(Err(_)) => Err(LogError::Unreachable(format!("TaskManager {id} left before sending its log"))),
                Err(_) => {
                    Err(LogError::Unreachable(format!("TaskManager {id} did not send its log within {LOG_DEADLINE:?}")))
                }
            }
        })
    }
}
