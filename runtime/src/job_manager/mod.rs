//! The JobManager: one actor per job. It builds the ExecutionGraph, asks
//! the ResourceManager for slots, deploys the tasks, follows their states
//! and ends the job FINISHED, FAILED or CANCELED.

pub mod lifecycle;
pub mod messages;
mod scheduler;

pub use scheduler::TaskSettings;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{SystemTime, UNIX_EPOCH};

use actix::{Actor, ActorFutureExt, Addr, AsyncContext, Context, Handler, MessageResult, Recipient, WrapFuture};
use serde::Serialize;

use crate::dispatcher::messages::JobTerminated;
use crate::graph::{ExecutionGraph, JobGraph, SubtaskId};
use crate::ids::JobId;
use crate::metrics::{MetricsSnapshot, TaskMetrics};
use crate::resource_manager::ResourceManager;
use crate::resource_manager::messages::{ReleaseSlots, RequestSlots, SlotOffer};
use crate::task_manager::messages::{CancelTasks, DeployTask};
use crate::wasm::JobComponent;
use lifecycle::{JobStatus, TaskState};
use messages::{CancelJob, GetJobDetails, TaskStateChanged};

/// A cancel that cannot happen.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    /// The job already ended.
    #[error("job {0} has already ended ({1}) and cannot be cancelled")]
    AlreadyEnded(JobId, JobStatus),
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
}

/// The first failure of a job, shown as its root exception.
#[derive(Debug, Clone, Serialize)]
pub struct JobFailure {
    /// The error, naming the task.
    pub message: String,
    /// When it happened (ms since the epoch).
    pub timestamp: u64,
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
    /// Its first failure, if any.
    pub failure: Option<JobFailure>,
}

/// The actor running one job.
pub struct JobManager {
    submission: JobSubmission,
    status: JobStatus,
    execution: ExecutionGraph,
    /// Cancel flag of every subtask, `[vertex][index]`.
    cancelled: Vec<Vec<Arc<AtomicBool>>>,
    /// Metrics of every subtask, `[vertex][index]`.
    metrics: Vec<Vec<Arc<TaskMetrics>>>,
    /// The slots the job holds.
    slots: Vec<SlotOffer>,
    resource_manager: Addr<ResourceManager>,
    dispatcher: Recipient<JobTerminated>,
    failure: Option<JobFailure>,
    start_time: u64,
    end_time: Option<u64>,
}

/// Milliseconds since the epoch.
pub(crate) fn now_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl JobManager {
    /// A JobManager for `submission`.
    pub fn new(
        submission: JobSubmission,
        resource_manager: Addr<ResourceManager>,
        dispatcher: Recipient<JobTerminated>,
    ) -> Self {
        let execution = ExecutionGraph::new(&submission.job_graph);
        let per_subtask = |job: &JobGraph| -> Vec<Vec<()>> {
            job.vertices.iter().map(|v| vec![(); v.parallelism as usize]).collect()
        };
        let shape = per_subtask(&submission.job_graph);
        JobManager {
            cancelled: shape.iter().map(|v| v.iter().map(|_| Arc::new(AtomicBool::new(false))).collect()).collect(),
            metrics: shape.iter().map(|v| v.iter().map(|_| Arc::new(TaskMetrics::default())).collect()).collect(),
            submission,
            status: JobStatus::Initializing,
            execution,
            slots: Vec::new(),
            resource_manager,
            dispatcher,
            failure: None,
            start_time: now_millis(),
            end_time: None,
        }
    }

    fn transition(&mut self, next: JobStatus) {
        debug_assert!(self.status.can_become(next), "illegal job transition {} -> {next}", self.status);
        tracing::info!(job = %self.submission.job_id, from = %self.status, to = %next, "job status changed");
        self.status = next;
    }

    fn fail(&mut self, message: String, ctx: &mut Context<Self>) {
        if self.failure.is_none() {
            self.failure = Some(JobFailure { message, timestamp: now_millis() });
        }
        match self.status {
            JobStatus::Initializing => {
                self.transition(JobStatus::Failed);
                self.terminate(ctx);
            }
            JobStatus::Created | JobStatus::Running => {
                self.transition(JobStatus::Failing);
                self.cancel_tasks();
                self.end_if_all_terminal(ctx);
            }
            _ => {}
        }
    }

    fn cancel_tasks(&self) {
        for flag in self.cancelled.iter().flatten() {
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        for slot in &self.slots {
            slot.slot.do_send(CancelTasks { job_id: self.submission.job_id });
        }
    }

    fn deploy(&mut self, ctx: &mut Context<Self>) {
        let placements = scheduler::plan_deployments(
            self.submission.job_id,
            &self.submission.job_graph,
            &self.execution,
            &self.submission.component,
            &self.submission.args,
            &self.submission.settings,
            &ctx.address().recipient(),
            &self.cancelled,
            &self.metrics,
        );
        self.transition(JobStatus::Running);
        for placement in placements {
            self.execution.set_state(placement.deployment.subtask, TaskState::Deploying);
            self.slots[placement.slot].slot.do_send(DeployTask(placement.deployment));
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
            _ => return,
        };
        if next == JobStatus::Failed && self.status == JobStatus::Running {
            self.transition(JobStatus::Failing);
        }
        self.transition(next);
        self.terminate(ctx);
    }

    /// Gives the slots back, reports the result and stops.
    fn terminate(&mut self, ctx: &mut Context<Self>) {
        self.end_time = Some(now_millis());
        self.resource_manager.do_send(ReleaseSlots { job_id: self.submission.job_id });
        self.dispatcher.do_send(JobTerminated { details: self.details() });
        actix::ActorContext::stop(ctx);
    }

    fn details(&self) -> JobDetails {
        let job = &self.submission.job_graph;
        let vertices = job
            .vertices
            .iter()
            .map(|v| {
                let states = self.execution.vertex_states(v.index);
                let mut tasks = BTreeMap::new();
                for state in states {
                    *tasks.entry(*state).or_insert(0) += 1;
                }
                let mut metrics = MetricsSnapshot::default();
                for m in &self.metrics[v.index] {
                    metrics += m.snapshot();
                }
                VertexDetails {
                    id: v.id.clone(),
                    name: v.name.clone(),
                    parallelism: v.parallelism,
                    status: aggregate(states),
                    tasks,
                    metrics,
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
        let request = RequestSlots {
            job_id: self.submission.job_id,
            count: self.submission.job_graph.slots_needed() as usize,
        };
        let ask = self.resource_manager.send(request).into_actor(self).map(|granted, act, ctx| match granted {
            Ok(Ok(slots)) => {
                act.slots = slots;
                act.deploy(ctx);
            }
            Ok(Err(not_enough)) => act.fail(not_enough.to_string(), ctx),
            Err(mailbox) => act.fail(format!("the resource manager is unreachable: {mailbox}"), ctx),
        });
        ctx.wait(ask);
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
            let error = msg.error.unwrap_or_else(|| "unknown error".into());
            let message = format!("{} ({}/{}) failed: {error}", vertex.name, index + 1, vertex.parallelism);
            self.fail(message, ctx);
        }
        self.end_if_all_terminal(ctx);
    }
}

impl Handler<CancelJob> for JobManager {
    type Result = Result<(), CancelError>;

    fn handle(&mut self, _msg: CancelJob, ctx: &mut Context<Self>) -> Self::Result {
        match self.status {
            JobStatus::Created | JobStatus::Running => {
                self.transition(JobStatus::Cancelling);
                self.cancel_tasks();
                self.end_if_all_terminal(ctx);
                Ok(())
            }
            JobStatus::Cancelling | JobStatus::Failing | JobStatus::Initializing => Ok(()),
            ended => Err(CancelError::AlreadyEnded(self.submission.job_id, ended)),
        }
    }
}

impl Handler<GetJobDetails> for JobManager {
    type Result = MessageResult<GetJobDetails>;

    fn handle(&mut self, _msg: GetJobDetails, _ctx: &mut Context<Self>) -> Self::Result {
        MessageResult(self.details())
    }
}
