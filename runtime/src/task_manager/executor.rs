//! The TaskManager of a `wflink taskmanager` process: it holds the
//! control connection to the JobManager process, turns the deployments
//! it receives into tasks in its slots (fetching and compiling each
//! component once, by content hash), reports task states and counters
//! back, heartbeats with what its slots hold, and serves its log and
//! stdout files to the JobManager. When the JobManager is lost (its
//! connection closes, or it stays silent for `heartbeat.timeout`) the
//! TaskExecutor cancels the tasks it ran for it and registers again,
//! with a back-off, until a JobManager answers at the same address.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Actor, ActorContext, Addr, AsyncContext, Context, Handler};

use super::messages::{
    CancelTasks, CommandTask, Compiled, DeployTask, Deployment, JobCheckpointReport, JobTaskState, ReleaseJob,
    TaskLinks,
};
use super::registration::{Backoff, Reregistered, reregister_in_background};
use super::reported::ReportedTasks;
use super::{SlotNetwork, Slots};
use crate::checkpoint::CheckpointReport;
use crate::graph::SubtaskId;
use crate::ids::JobId;
use crate::logs::{LogFiles, LogRequest};
use crate::metrics::TaskMetrics;
use crate::network::ChannelRegistry;
use crate::protocol::TaskDescriptor;
use crate::protocol::{FailureKind, TaskFailure, TaskState, TaskStateChanged};
use crate::protocol::{SlotUsage, TaskManagerUsage};
use crate::rpc::protocol::{TaskManagerRegistration, ToJobManager, ToTaskManager};
use crate::rpc::{Connection, Incoming};
use crate::wasm::{JobComponent, WasmEngine};

/// What a TaskExecutor is configured with.
pub struct TaskExecutorSettings {
    /// What it registers with: its id, slots and data address (`host:port`,
    /// where other TaskManagers send records).
    pub registration: TaskManagerRegistration,
    /// The JobManager's RPC address, `HOST:PORT`, registered with again after a loss.
    pub jobmanager: String,
    /// `heartbeat.interval`.
    pub heartbeat_interval: Duration,
    /// `heartbeat.timeout`: JobManager silence after which it counts as lost.
    pub heartbeat_timeout: Duration,
    /// Waits between registration attempts after a loss.
    pub backoff: Backoff,
    /// `task.cancellation.timeout`: how long a cancelled task may take to end.
    pub cancellation_timeout: Duration,
}

/// A task running here: its slot (which holds its cancel flag and command channel) and its counters.
struct RunningTask {
    slot: usize,
    metrics: Arc<TaskMetrics>,
}

/// The TaskManager actor of a TaskManager process.
pub struct TaskExecutor {
    settings: TaskExecutorSettings,
    connection: Option<Connection<ToJobManager>>,
    /// When the JobManager was last heard from.
    last_seen: Instant,
    slots: Slots,
    registry: Arc<ChannelRegistry>,
    engine: Arc<WasmEngine>,
    /// Compiled components by content hash.
    components: HashMap<String, JobComponent>,
    /// Deployments waiting for their component, by hash.
    waiting: HashMap<String, Vec<(usize, TaskDescriptor)>>,
    running: HashMap<(JobId, SubtaskId), RunningTask>,
    /// This process's log and stdout files.
    logs: Arc<LogFiles>,
    /// The running tasks as the Prometheus endpoint reports them.
    reported: Arc<ReportedTasks>,
}

/// Tags the state changes and checkpoint answers of one job's tasks with the job id.
struct JobReporter {
    job_id: JobId,
    executor: Addr<TaskExecutor>,
}

impl Actor for JobReporter {
    type Context = Context<Self>;
}

impl Handler<TaskStateChanged> for JobReporter {
    type Result = ();

    fn handle(&mut self, change: TaskStateChanged, _ctx: &mut Context<Self>) {
        self.executor.do_send(JobTaskState { job_id: self.job_id, change });
    }
}

impl Handler<CheckpointReport> for JobReporter {
    type Result = ();

    fn handle(&mut self, report: CheckpointReport, _ctx: &mut Context<Self>) {
        self.executor.do_send(JobCheckpointReport { job_id: self.job_id, report });
    }
}

impl TaskExecutor {
    /// A TaskExecutor with `slots` slots sharing `memory_bytes`, receiving
    /// records through `registry`.
    pub fn new(
        settings: TaskExecutorSettings,
        slots: u32,
        memory_bytes: u64,
        registry: Arc<ChannelRegistry>,
        engine: Arc<WasmEngine>,
    ) -> Self {
        let network = SlotNetwork { registry: registry.clone(), address: settings.registration.data_address.clone() };
        let id = &settings.registration.id;
        let slots = Slots::start(id, slots, memory_bytes, &network, settings.cancellation_timeout);
        TaskExecutor {
            settings,
            connection: None,
            last_seen: Instant::now(),
            slots,
            registry,
            engine,
            components: HashMap::new(),
            waiting: HashMap::new(),
            running: HashMap::new(),
            logs: Arc::new(LogFiles::of_this_process()),
            reported: Arc::new(ReportedTasks::default()),
        }
    }

    /// Reports the running tasks into `reported`, which this process's Prometheus endpoint reads.
    pub fn reporting_to(mut self, reported: Arc<ReportedTasks>) -> Self {
        self.reported = reported;
        self
    }

    /// Attaches the control connection (made once the actor has an address).
    pub fn attach(&mut self, connection: Connection<ToJobManager>) {
        self.connection = Some(connection);
        self.last_seen = Instant::now();
    }

    /// The JobManager is gone: its jobs stop here, their slots and
    /// channels are freed, and the connection closes. Its
    /// [`Incoming::Closed`] then starts the registration anew.
    fn drop_jobmanager(&mut self, reason: &str) {
        let Some(connection) = self.connection.take() else { return };
        connection.close();
        let mut jobs: Vec<JobId> = self.running.keys().map(|(job, _)| *job).collect();
        jobs.extend(self.waiting.values().flatten().map(|(_, d)| d.job_id));
        jobs.sort_unstable();
        jobs.dedup();
        tracing::warn!(
            task_manager = %self.settings.registration.id,
            jobmanager = %self.settings.jobmanager,
            reason,
            cancelled_jobs = jobs.len(),
            "lost the JobManager; cancelling its tasks and registering again"
        );
        for job in jobs {
            self.cancel_job(job);
            self.registry.release_job(job);
        }
        self.waiting.clear();
    }

    fn send(&self, message: ToJobManager) {
        if let Some(connection) = &self.connection {
            connection.send(message);
        }
    }

    fn deploy(&mut self, slot: usize, descriptor: TaskDescriptor, ctx: &mut Context<Self>) {
        let component = match &descriptor.component_hash {
            None => None,
            Some(hash) => match self.components.get(hash) {
                Some(component) => Some(component.clone()),
                None => {
                    let hash = hash.clone();
                    let waiting = self.waiting.entry(hash.clone()).or_default();
                    let first = waiting.is_empty();
                    waiting.push((slot, descriptor));
                    if first {
                        self.send(ToJobManager::FetchComponent { hash });
                    }
                    return;
                }
            },
        };
        let (job_id, subtask) = (descriptor.job_id, descriptor.subtask);
        let Some(target) = self.slots.slots.get(slot) else {
            return self.report_failure(job_id, subtask, format!("this TaskManager has no slot {slot}"));
        };
        let metrics = Arc::new(TaskMetrics::default());
        let reporter = JobReporter { job_id, executor: ctx.address() }.start();
        let links = TaskLinks {
            report: reporter.clone().recipient(),
            checkpoints: reporter.recipient(),
            metrics: metrics.clone(),
        };
        self.reported.insert(&descriptor, metrics.clone());
        self.running.insert((job_id, subtask), RunningTask { slot, metrics });
        // The slot wires the task into this process, as in-process slots do.
        target.do_send(DeployTask(Deployment { descriptor, component, links }));
    }

    /// A task that could not be deployed here fails.
    fn report_failure(&self, job_id: JobId, subtask: SubtaskId, error: String) {
        self.send(ToJobManager::TaskState {
            job_id,
            subtask,
            state: TaskState::Failed,
            error: Some(TaskFailure::new(FailureKind::Deployment, error)),
            final_state: None,
            metrics: Default::default(),
        });
    }

    fn cancel_job(&mut self, job_id: JobId) {
        // Tasks still waiting for their component never start.
        let never_started: Vec<SubtaskId> = self
            .waiting
            .values_mut()
            .flat_map(|waiting| {
                waiting.extract_if(.., |(_, d)| d.job_id == job_id).map(|(_, d)| d.subtask).collect::<Vec<_>>()
            })
            .collect();
        for subtask in never_started {
            let state = TaskState::Canceled;
            let metrics = Default::default();
            self.send(ToJobManager::TaskState { job_id, subtask, state, error: None, final_state: None, metrics });
        }
        for slot in &self.slots.slots {
            slot.do_send(CancelTasks { job_id });
        }
    }

    /// What the slots hold now, for the heartbeat.
    fn usage(&self) -> TaskManagerUsage {
        let mut slots: Vec<SlotUsage> = self
            .slots
            .memory
            .iter()
            .map(|m| SlotUsage { memory_used: m.used() as u64, memory_limit: m.limit() as u64, ..Default::default() })
            .collect();
        for ((job, _), task) in &self.running {
            if let Some(slot) = slots.get_mut(task.slot) {
                slot.tasks += 1;
                if !slot.jobs.contains(job) {
                    slot.jobs.push(*job);
                }
            }
        }
        let process = crate::metrics::process::this_process().read();
        TaskManagerUsage { slots, process_memory: process.rss, process }
    }

    /// Answers a log request on a thread of its own: a slow disk must not hold up heartbeats.
    fn serve_logs(&self, request_id: u64, request: LogRequest) {
        let (logs, connection) = (self.logs.clone(), self.connection.clone());
        let spawned = std::thread::Builder::new().name("logs".into()).spawn(move || {
            let result = logs.answer(&request);
            if let Some(connection) = connection {
                connection.send(ToJobManager::Logs { request_id, result });
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a thread to read the log files");
        }
    }

    fn compile(&self, hash: String, bytes: Arc<[u8]>, ctx: &mut Context<Self>) {
        let (engine, me) = (self.engine.clone(), ctx.address());
        // Compiling may take seconds; heartbeats must go on meanwhile.
        let spawned = std::thread::Builder::new().name("compile".into()).spawn(move || {
            let result = engine.load(&bytes).map_err(|e| e.to_string());
            me.do_send(Compiled { hash, result });
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a compile thread");
        }
    }
}

impl Actor for TaskExecutor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(self.settings.heartbeat_interval, |act, _ctx| {
            if act.connection.is_some() && act.last_seen.elapsed() > act.settings.heartbeat_timeout {
                let reason = format!("no heartbeat from the JobManager for {:?}", act.settings.heartbeat_timeout);
                return act.drop_jobmanager(&reason);
            }
            let metrics =
                act.running.iter().map(|((job, subtask), task)| (*job, *subtask, task.metrics.snapshot())).collect();
            let usage = act.usage();
            act.reported.sample(usage.slots.iter().map(|s| s.memory_used).sum());
            act.send(ToJobManager::Heartbeat { metrics, usage });
        });
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        self.slots.stop();
    }
}

impl Handler<Incoming<ToTaskManager>> for TaskExecutor {
    type Result = ();

    fn handle(&mut self, msg: Incoming<ToTaskManager>, ctx: &mut Context<Self>) {
        if matches!(msg, Incoming::Message(_)) {
            // Still queued from a JobManager already counted as lost: a deploy now would start an orphan.
            if self.connection.is_none() {
                return;
            }
            self.last_seen = Instant::now();
        }
        match msg {
            // Confirmed already before the connection was handed over; heartbeat answers only count as a sign of life.
            Incoming::Message(ToTaskManager::Registered | ToTaskManager::Heartbeat) => {}
            Incoming::Message(ToTaskManager::Deploy { slot, descriptor }) => self.deploy(slot, *descriptor, ctx),
            Incoming::Message(ToTaskManager::CancelJob { job_id }) => self.cancel_job(job_id),
            Incoming::Message(ToTaskManager::TaskCommand { job_id, subtask, command }) => {
                // A task that already ended has nothing to do with it.
                if let Some(slot) = self.running.get(&(job_id, subtask)).and_then(|t| self.slots.slots.get(t.slot)) {
                    slot.do_send(CommandTask { job_id, subtask, command });
                }
            }
            Incoming::Message(ToTaskManager::ReleaseJob { job_id }) => {
                self.cancel_job(job_id);
                self.registry.release_job(job_id);
                for slot in &self.slots.slots {
                    slot.do_send(ReleaseJob { job_id });
                }
            }
            Incoming::Message(ToTaskManager::Logs { request_id, request }) => self.serve_logs(request_id, request),
            Incoming::Message(ToTaskManager::Component { hash, bytes: Some(bytes) }) => self.compile(hash, bytes, ctx),
            Incoming::Message(ToTaskManager::Component { hash, bytes: None }) => {
                ctx.notify(Compiled { hash, result: Err("the job manager does not have this component".into()) });
            }
            Incoming::Closed(reason) => {
                // Closed after a heartbeat timeout too: this is the one place registration starts again,
                // so a late close of an old connection can never end a new one.
                self.drop_jobmanager(&reason);
                let settings = &self.settings;
                let (address, registration) = (settings.jobmanager.clone(), settings.registration.clone());
                if let Err(e) = reregister_in_background(address, registration, settings.backoff, ctx.address()) {
                    give_up("cannot start a thread to register again", &e, ctx);
                }
            }
        }
    }
}

impl Handler<Reregistered> for TaskExecutor {
    type Result = ();

    fn handle(&mut self, msg: Reregistered, ctx: &mut Context<Self>) {
        match Connection::start(msg.stream, "jobmanager", ctx.address().recipient()) {
            Ok(connection) => self.attach(connection),
            Err(e) => give_up("cannot start the connection threads", &e, ctx),
        }
    }
}

/// Without threads a TaskManager cannot reach its JobManager again: the process ends with an error.
fn give_up(what: &str, error: &std::io::Error, ctx: &mut Context<TaskExecutor>) {
    tracing::error!(%error, "{what}; stopping the TaskManager");
    ctx.stop();
    actix::System::current().stop_with_code(1);
}

impl Handler<Compiled> for TaskExecutor {
    type Result = ();

    fn handle(&mut self, msg: Compiled, ctx: &mut Context<Self>) {
        let waiting = self.waiting.remove(&msg.hash).unwrap_or_default();
        match msg.result {
            Ok(component) if component.hash == msg.hash => {
                self.components.insert(msg.hash, component);
                for (slot, descriptor) in waiting {
                    self.deploy(slot, descriptor, ctx);
                }
            }
            result => {
                let error = match result {
                    Err(e) => format!("cannot load the job's component: {e}"),
                    Ok(_) => "the component received does not match its hash".to_string(),
                };
                for (_, descriptor) in waiting {
                    self.report_failure(descriptor.job_id, descriptor.subtask, error.clone());
                }
            }
        }
    }
}

impl Handler<JobCheckpointReport> for TaskExecutor {
    type Result = ();

    fn handle(&mut self, msg: JobCheckpointReport, _ctx: &mut Context<Self>) {
        self.send(ToJobManager::Checkpoint { job_id: msg.job_id, report: msg.report });
    }
}

impl Handler<JobTaskState> for TaskExecutor {
    type Result = ();

    fn handle(&mut self, msg: JobTaskState, _ctx: &mut Context<Self>) {
        let key = (msg.job_id, msg.change.subtask);
        let metrics = self.running.get(&key).map(|t| t.metrics.snapshot()).unwrap_or_default();
        if msg.change.state.is_terminal() {
            self.running.remove(&key);
            self.reported.remove(msg.job_id, msg.change.subtask);
        }
        self.send(ToJobManager::TaskState {
            job_id: msg.job_id,
            subtask: msg.change.subtask,
            state: msg.change.state,
            error: msg.change.error,
            final_state: msg.change.final_state,
            metrics,
        });
    }
}
