//! The JobManager: one actor per job. It builds the ExecutionGraph, asks
//! the ResourceManager for slots, deploys the tasks, follows their states
//! and ends the job FINISHED, FAILED or CANCELED.

pub mod checkpoint_trigger;
mod checkpointing;
mod execution_graph;
mod failure;
pub mod messages;
pub mod recovery;
pub mod restart;
pub mod savepoint;
mod scheduler;

pub use recovery::Restore;
pub use scheduler::TaskSettings;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Actor, ActorFutureExt, Addr, AsyncContext, Context, Handler, MessageResult, Recipient, WrapFuture};
use serde::Serialize;
use tokio::sync::oneshot;

use crate::checkpoint::coordinator::{CheckpointCoordinator, CheckpointSettings, CheckpointStats};
use crate::checkpoint::storage::CheckpointStorage;
use crate::checkpoint::{CheckpointId, CheckpointReport, TaskCommand};

use crate::graph::{JobGraph, SubtaskId};
use crate::ids::JobId;
use crate::metrics::{MetricRates, MetricsSnapshot, RateWindow};
use crate::protocol::{FailureKind, JobStatus, TaskFailure, TaskState, TaskStateChanged};
use crate::resource_manager::ResourceManager;
use crate::resource_manager::messages::{ReleaseSlots, RequestSlots, SlotOffer};
use crate::task_manager::{Deployment, TaskLinks};
use crate::time::now_millis;
use crate::wasm::JobComponent;
use execution_graph::ExecutionGraph;
use failure::root_cause;
pub use failure::{FailureLocation, JobFailure};
use messages::{CancelJob, GetJobDetails, JobTerminated};

/// A cancel that cannot happen.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    /// No job has this id (answered by the Dispatcher).
    #[error("job {0} not found")]
    UnknownJob(JobId),
    /// The job already ended.
    #[error("job {0} has already ended ({1}) and cannot be cancelled")]
    AlreadyEnded(JobId, JobStatus),
    /// The job's JobManager did not answer (the cluster is shutting down).
    #[error("the job manager of job {0} is unreachable")]
    Unreachable(JobId),
}

/// What a JobManager needs to run its job.
pub struct JobSubmission {
    /// The job's id.
    pub job_id: JobId,
    /// The chained plan.
    pub job_graph: Arc<JobGraph>,
    /// The compiled component.
    pub component: JobComponent,
    /// The job's arguments.
    pub args: Vec<String>,
    /// Settings shared by its tasks.
    pub settings: TaskSettings,
    /// How long to wait for enough free slots (`slot.request.timeout`).
    pub slot_request_timeout: Duration,
    /// Checkpointing settings.
    pub checkpointing: CheckpointSettings,
    /// The checkpoint storage (`state.checkpoints.dir`), opened.
    pub storage: CheckpointStorage,
    /// `restart-strategy.*`.
    pub restart: crate::config::RestartStrategy,
    /// The savepoint the job starts from (`wflink run -s`), checked.
    pub restore: Option<Restore>,
}

/// A vertex as the REST API and the CLI show it.
#[derive(Debug, Clone, Serialize)]
pub struct VertexDetails {
    /// Vertex id (32 hex).
    pub id: String,
    /// Chain name.
    pub name: String,
    /// Parallelism.
    pub parallelism: u32,
    /// Aggregated state of its subtasks.
    pub status: TaskState,
    /// Subtask counts per state.
    pub tasks: BTreeMap<TaskState, usize>,
    /// Sum of its subtasks' metrics.
    pub metrics: MetricsSnapshot,
    /// Each subtask, by index.
    pub subtasks: Vec<SubtaskDetails>,
}

/// One subtask as the dashboard shows it: its state, where it runs, its metrics.
#[derive(Debug, Clone, Serialize)]
pub struct SubtaskDetails {
    /// 0-based index within the vertex.
    pub index: u32,
    /// Its state.
    pub state: TaskState,
    /// The TaskManager running it, once deployed.
    pub task_manager: Option<String>,
    /// The data address (`host:port`) of that TaskManager.
    pub endpoint: Option<String>,
    /// Its own metrics.
    pub metrics: MetricsSnapshot,
    /// Its counters per second, over the last few seconds.
    pub rates: MetricRates,
    /// When it entered each state of the current attempt, ms since the epoch.
    pub timestamps: BTreeMap<TaskState, u64>,
}

/// The state of a job at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct JobDetails {
    /// The job's id.
    pub job_id: JobId,
    /// The job's name.
    pub name: String,
    /// Its status.
    pub status: JobStatus,
    /// When it was submitted (ms since the epoch).
    pub start_time: u64,
    /// When it ended, if it did.
    pub end_time: Option<u64>,
    /// Its vertices.
    pub vertices: Vec<VertexDetails>,
    /// The failure that ended it, if any.
    pub failure: Option<JobFailure>,
    /// Failures the job restarted from, oldest first.
    pub exceptions: Vec<JobFailure>,
    /// Restarts so far.
    pub restarts: u32,
    /// Its checkpoints.
    pub checkpoints: CheckpointStats,
    /// Its checkpointing settings (for `/jobs/:id/checkpoints/config`).
    #[serde(skip)]
    pub checkpoint_settings: CheckpointSettings,
    /// When it entered each status it went through (ms since the epoch).
    pub timestamps: BTreeMap<JobStatus, u64>,
    /// The chained plan (for `/jobs/:id/plan`).
    #[serde(skip)]
    pub job_graph: Arc<JobGraph>,
    /// The program arguments it was submitted with (for `/jobs/:id/config`).
    #[serde(skip)]
    pub args: Vec<String>,
    /// Its restart strategy (for `/jobs/:id/config`).
    #[serde(skip)]
    pub restart: crate::config::RestartStrategy,
}

/// The actor running one job.
pub struct JobManager {
    submission: JobSubmission,
    status: JobStatus,
    /// Every subtask of the current attempt: its state, slot and counters.
    execution: ExecutionGraph,
    /// The slots the job holds, each reached through its gateway.
    slots: Vec<SlotOffer>,
    resource_manager: Addr<ResourceManager>,
    dispatcher: Recipient<JobTerminated>,
    failure: Option<JobFailure>,
    start_time: u64,
    end_time: Option<u64>,
    timestamps: BTreeMap<JobStatus, u64>,
    /// When the first slot request was made, to give up after the timeout.
    waiting_for_slots_since: Option<Instant>,
    /// The checkpoint coordinator (ids and statistics live across restarts).
    checkpoints: CheckpointCoordinator,
    /// Where the job's checkpoints go.
    storage: CheckpointStorage,
    /// Savepoints being taken, by checkpoint id.
    savepoints: HashMap<CheckpointId, checkpointing::SavepointRequest>,
    /// The savepoint that ends the job (stop-with-savepoint, or cancel-with-savepoint) whose barrier
    /// went out: no other checkpoint is triggered after it.
    stopping: Option<CheckpointId>,
    /// A stop-with-savepoint that completed: its answer (the location) goes out when the job ended.
    stopped: Option<(oneshot::Sender<Result<String, savepoint::SavepointError>>, String)>,
    /// Checkpoints triggered on request (`POST /jobs/:id/checkpoints`), waiting for their outcome.
    checkpoint_requests: HashMap<CheckpointId, checkpoint_trigger::CheckpointReply>,
    /// How failures are answered.
    backoff: restart::RestartBackoff,
    /// Execution attempt: 0 first, one more per restart.
    attempt: u32,
    /// What the next deployment restores.
    restore: Option<Restore>,
    /// While RESTARTING: the delay before the new attempt, until it is scheduled.
    restart_delay: Option<Duration>,
    /// Failures the job restarted from.
    exceptions: Vec<JobFailure>,
    /// Recent samples of the subtasks' counters, for their rates per second.
    rates: RateWindow,
}

/// How often the JobManager samples its subtasks' counters for their rates.
const RATE_SAMPLE: Duration = Duration::from_secs(1);
/// Samples kept: rates are taken over the last `RATE_SAMPLES - 1` seconds, several heartbeats of a remote task.
const RATE_SAMPLES: usize = 6;

/// Interval between slot requests while the cluster has too few free slots.
const SLOT_RETRY: Duration = Duration::from_millis(100);

impl JobManager {
    /// A JobManager for `submission`.
    pub fn new(
        submission: JobSubmission,
        resource_manager: Addr<ResourceManager>,
        dispatcher: Recipient<JobTerminated>,
    ) -> Self {
        let execution = ExecutionGraph::new(&submission.job_graph);
        let parallelism = submission.job_graph.vertices.iter().map(|v| v.parallelism).collect();
        JobManager {
            checkpoints: CheckpointCoordinator::new(submission.checkpointing.clone(), parallelism),
            storage: submission.storage.clone(),
            savepoints: HashMap::new(),
            checkpoint_requests: HashMap::new(),
            stopping: None,
            stopped: None,
            backoff: restart::RestartBackoff::new(submission.restart.clone()),
            attempt: 0,
            restore: submission.restore.clone(),
            restart_delay: None,
            exceptions: Vec::new(),
            rates: RateWindow::new(RATE_SAMPLES),
            submission,
            status: JobStatus::Initializing,
            execution,
            slots: Vec::new(),
            resource_manager,
            dispatcher,
            failure: None,
            start_time: now_millis(),
            end_time: None,
            timestamps: BTreeMap::from([(JobStatus::Initializing, now_millis())]),
            waiting_for_slots_since: None,
        }
    }

    fn transition(&mut self, next: JobStatus) {
        debug_assert!(self.status.can_become(next), "illegal job transition {} -> {next}", self.status);
        tracing::info!(job = %self.submission.job_id, from = %self.status, to = %next, "job status changed");
        self.status = next;
        self.timestamps.insert(next, now_millis());
    }

    fn fail(&mut self, failure: JobFailure, ctx: &mut Context<Self>) {
        root_cause(&mut self.failure, failure);
        self.abort_all_checkpoints("the job failed");
        match self.status {
            JobStatus::Initializing => {
                self.transition(JobStatus::Failed);
                self.terminate(ctx);
            }
            JobStatus::Created | JobStatus::Running | JobStatus::Restarting => {
                self.forget_undeployed();
                self.transition(JobStatus::Failing);
                self.cancel_tasks();
                self.end_if_all_terminal(ctx);
            }
            _ => {}
        }
    }

    /// While the job still waits for slots nothing runs: its subtasks
    /// end CANCELED right away, so the job can end.
    fn forget_undeployed(&mut self) {
        if self.status == JobStatus::Created {
            let subtasks: Vec<SubtaskId> = self.execution.subtasks().collect();
            for subtask in subtasks {
                self.execution.set_state(subtask, TaskState::Canceled);
            }
        }
    }

    fn cancel_tasks(&self) {
        for slot in &self.slots {
            slot.slot.cancel(self.submission.job_id);
        }
    }

    /// Asks for slots; while there are too few, asks again until
    /// `slot.request.timeout`, then fails the job.
    fn request_slots(&mut self, ctx: &mut Context<Self>) {
        let request =
            RequestSlots { job_id: self.submission.job_id, count: self.submission.job_graph.slots_needed() as usize };
        let since = *self.waiting_for_slots_since.get_or_insert_with(Instant::now);
        let ask = self.resource_manager.send(request).into_actor(self).map(move |granted, act, ctx| match granted {
            Ok(Ok(slots)) if act.status == JobStatus::Created => {
                act.slots = slots;
                act.deploy(ctx);
            }
            Ok(Ok(_)) => act.resource_manager.do_send(ReleaseSlots { job_id: act.submission.job_id }),
            Ok(Err(_)) if act.status == JobStatus::Created && since.elapsed() < act.submission.slot_request_timeout => {
                ctx.run_later(SLOT_RETRY, |act, ctx| act.request_slots(ctx));
            }
            Ok(Err(not_enough)) => {
                let timeout = act.submission.slot_request_timeout;
                act.fail(
                    JobFailure::new(
                        format!("{not_enough} (waited {timeout:?}, slot.request.timeout)"),
                        FailureKind::Resources,
                    ),
                    ctx,
                )
            }
            Err(mailbox) => {
                let message = format!("the resource manager is unreachable: {mailbox}");
                act.fail(JobFailure::new(message, FailureKind::Resources), ctx)
            }
        });
        ctx.wait(ask);
    }

    /// Deploys every subtask of the attempt into its shared slot, each
    /// through its slot's gateway, in this process or another alike.
    fn deploy(&mut self, ctx: &mut Context<Self>) {
        let addresses: Vec<String> = self.slots.iter().map(|s| s.data_address.clone()).collect();
        let submission = &self.submission;
        let placements = scheduler::plan_deployments(
            submission.job_id,
            &submission.job_graph,
            &self.execution,
            &submission.component.hash,
            &submission.args,
            &submission.settings,
            &addresses,
        );
        self.transition(JobStatus::Running);
        let report = ctx.address().recipient::<TaskStateChanged>();
        let checkpoints = ctx.address().recipient::<CheckpointReport>();
        let mut restores = self.restore.as_ref().map(|r| r.assign(&self.submission.job_graph));
        if let Some(restore) = &self.restore {
            let job = self.submission.job_id;
            let (checkpoint, location) = (restore.metadata.checkpoint_id, &restore.location);
            tracing::info!(%job, checkpoint, %location, "restoring");
            self.checkpoints.restored(restore.describe());
        }
        for mut placement in placements {
            let subtask @ SubtaskId { vertex, index } = placement.descriptor.subtask;
            placement.descriptor.attempt = self.attempt;
            placement.descriptor.restore = restores.as_mut().and_then(|r| r[vertex][index as usize].take());
            self.execution.deploying(subtask, placement.slot);
            let component = placement.descriptor.component_hash.is_some().then(|| self.submission.component.clone());
            let metrics = self.execution.get(subtask).metrics.clone();
            let links = TaskLinks { report: report.clone(), checkpoints: checkpoints.clone(), metrics };
            self.slots[placement.slot].slot.deploy(Deployment { descriptor: placement.descriptor, component, links });
        }
    }

    /// Hands `command` to the running task `subtask`; a task not deployed
    /// (or already gone) never sees it.
    fn send_task_command(&self, subtask: SubtaskId, command: TaskCommand) {
        match self.execution.get(subtask).slot.and_then(|slot| self.slots.get(slot)) {
            Some(slot) => slot.slot.command(self.submission.job_id, subtask, command),
            None => tracing::debug!(?subtask, ?command, "this subtask is not deployed"),
        }
    }

    fn end_if_all_terminal(&mut self, ctx: &mut Context<Self>) {
        if !self.execution.all_terminal() {
            return;
        }
        let next = match self.status {
            JobStatus::Running if self.execution.all_finished() => JobStatus::Finished,
            JobStatus::Running => JobStatus::Failed,
            JobStatus::Failing => JobStatus::Failed,
            JobStatus::Cancelling => JobStatus::Canceled,
            JobStatus::Restarting => return self.schedule_restart(ctx),
            _ => return,
        };
        if next == JobStatus::Failed && self.status == JobStatus::Running {
            self.transition(JobStatus::Failing);
        }
        self.transition(next);
        self.terminate(ctx);
    }

    /// Gives the job's slots back.
    fn release_slots(&mut self) {
        let job_id = self.submission.job_id;
        for slot in self.slots.drain(..) {
            slot.slot.release(job_id);
        }
        self.resource_manager.do_send(ReleaseSlots { job_id });
    }

    /// Fresh subtasks (states, slots, counters) for a new attempt.
    fn reset_attempt(&mut self) {
        self.execution = ExecutionGraph::new(&self.submission.job_graph);
        self.rates.clear();
    }

    /// Samples every subtask's counters into the rate window.
    fn sample_rates(&mut self) {
        let snapshots: Vec<MetricsSnapshot> =
            self.execution.subtasks().map(|s| self.execution.get(s).metrics.snapshot()).collect();
        self.rates.record(Instant::now(), snapshots.iter());
    }

    /// Cancels the job: its tasks stop, it ends CANCELED.
    fn cancel(&mut self, ctx: &mut Context<Self>) -> Result<(), CancelError> {
        match self.status {
            JobStatus::Created | JobStatus::Running | JobStatus::Restarting => {
                self.abort_all_checkpoints("the job was cancelled");
                self.forget_undeployed();
                self.transition(JobStatus::Cancelling);
                self.cancel_tasks();
                self.end_if_all_terminal(ctx);
                Ok(())
            }
            JobStatus::Cancelling | JobStatus::Failing | JobStatus::Initializing => Ok(()),
            ended => Err(CancelError::AlreadyEnded(self.submission.job_id, ended)),
        }
    }

    /// Reports the result, gives the slots back and stops.
    fn terminate(&mut self, ctx: &mut Context<Self>) {
        self.end_time = Some(now_millis());
        let status = self.status;
        self.answer_stop((status != JobStatus::Finished).then(|| format!("it ended {status}")));
        self.abort_all_checkpoints("the job ended");
        self.release_slots();
        self.dispatcher.do_send(JobTerminated { details: self.details() });
        actix::ActorContext::stop(ctx);
    }

    fn details(&self) -> JobDetails {
        let job = &self.submission.job_graph;
        // Subtasks in the order the rate window samples them: vertex by vertex, by index.
        let rates = self.rates.rates();
        let mut flat = 0;
        let vertices = job
            .vertices
            .iter()
            .map(|v| {
                let executions = self.execution.vertex(v.index);
                let states: Vec<TaskState> = executions.iter().map(|e| e.state).collect();
                let mut tasks = BTreeMap::new();
                for state in &states {
                    *tasks.entry(*state).or_insert(0) += 1;
                }
                let mut metrics: Option<MetricsSnapshot> = None;
                let mut subtasks = Vec::with_capacity(executions.len());
                for (index, execution) in executions.iter().enumerate() {
                    let snapshot = execution.metrics.snapshot();
                    match &mut metrics {
                        Some(sum) => *sum += &snapshot,
                        None => metrics = Some(snapshot.clone()),
                    }
                    let rate = rates.get(flat).copied().unwrap_or_default();
                    flat += 1;
                    let slot = execution.slot.and_then(|s| self.slots.get(s));
                    subtasks.push(SubtaskDetails {
                        index: index as u32,
                        state: execution.state,
                        task_manager: slot.map(|s| s.task_manager.clone()),
                        endpoint: slot.map(|s| s.data_address.clone()),
                        metrics: snapshot,
                        rates: rate,
                        timestamps: execution.timestamps.clone(),
                    });
                }
                VertexDetails {
                    id: v.id.clone(),
                    name: v.name.clone(),
                    parallelism: v.parallelism,
                    status: aggregate(&states),
                    tasks,
                    metrics: metrics.unwrap_or_default(),
                    subtasks,
                }
            })
            .collect();
        JobDetails {
            job_id: self.submission.job_id,
            name: job.job_name.clone(),
            status: self.status,
            start_time: self.start_time,
            end_time: self.end_time,
            vertices,
            failure: self.failure.clone(),
            exceptions: self.exceptions.clone(),
            restarts: self.attempt,
            checkpoints: self.checkpoints.stats().clone(),
            checkpoint_settings: self.checkpoints.settings().clone(),
            timestamps: self.timestamps.clone(),
            job_graph: self.submission.job_graph.clone(),
            args: self.submission.args.clone(),
            restart: self.submission.restart.clone(),
        }
    }
}

/// One state standing for all subtasks of a vertex: a failure shows
/// first, then activity, then the common end state.
fn aggregate(states: &[TaskState]) -> TaskState {
    use TaskState::*;
    for candidate in [Failed, Canceling, Running, Initializing, Deploying, Created, Canceled] {
        if states.contains(&candidate) {
            return candidate;
        }
    }
    Finished
}

impl Actor for JobManager {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.transition(JobStatus::Created);
        self.start_checkpoint_timer(ctx);
        ctx.run_interval(RATE_SAMPLE, |act, _ctx| act.sample_rates());
        self.request_slots(ctx);
    }
}

impl Handler<TaskStateChanged> for JobManager {
    type Result = ();

    fn handle(&mut self, msg: TaskStateChanged, ctx: &mut Context<Self>) {
        let SubtaskId { vertex, index } = msg.subtask;
        if self.execution.state(msg.subtask).is_terminal() {
            return;
        }
        self.execution.set_state(msg.subtask, msg.state);
        if msg.state == TaskState::Failed {
            let vertex = &self.submission.job_graph.vertices[vertex];
            let error = msg.error.unwrap_or_else(|| TaskFailure::new(FailureKind::Internal, "unknown error"));
            let message = format!("{} ({}/{}) failed: {error}", vertex.name, index + 1, vertex.parallelism);
            let slot = self.execution.vertex(msg.subtask.vertex)[index as usize].slot.and_then(|s| self.slots.get(s));
            let location = slot
                .map(|s| FailureLocation { task_manager: s.task_manager.clone(), endpoint: s.data_address.clone() });
            self.on_task_failed(JobFailure::new(message, error.kind).at(location), ctx);
        } else if msg.state == TaskState::Finished {
            if let Some(state) = msg.final_state {
                self.checkpoints.finished(msg.subtask, *state);
            }
            // A task that ended cannot acknowledge what it has not yet.
            for id in self.checkpoints.awaiting(msg.subtask) {
                self.abort_checkpoint(id, "a task finished before it acknowledged");
            }
        }
        self.end_if_all_terminal(ctx);
    }
}

impl Handler<CheckpointReport> for JobManager {
    type Result = ();

    fn handle(&mut self, msg: CheckpointReport, ctx: &mut Context<Self>) {
        self.on_checkpoint_report(msg, ctx)
    }
}

impl Handler<CancelJob> for JobManager {
    type Result = Result<(), CancelError>;

    fn handle(&mut self, msg: CancelJob, ctx: &mut Context<Self>) -> Self::Result {
        debug_assert_eq!(msg.job_id, self.submission.job_id, "a cancel reached the JobManager of another job");
        self.cancel(ctx)
    }
}

impl Handler<GetJobDetails> for JobManager {
    type Result = MessageResult<GetJobDetails>;

    fn handle(&mut self, _msg: GetJobDetails, _ctx: &mut Context<Self>) -> Self::Result {
        MessageResult(self.details())
    }
}
