//! Records the plan while the user's build function runs.
//!
//! Every stream handle shares one [`PlanBuilder`]; each fluent call appends a
//! node, so node ids are creation order and the plan is topologically sorted
//! by construction. User nodes also keep their [`Operator`] (the closure,
//! type-erased) so that `open` can take the ones of its chain.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::JobError;
use crate::chain::Operator;
use crate::plan::{Edge, Node, NodeKind, Partitioning, StreamPlan};

/// The builder every stream handle of one build run points to.
pub(crate) type SharedBuilder = Rc<RefCell<PlanBuilder>>;

/// Job name when the build function sets none.
pub(crate) const DEFAULT_JOB_NAME: &str = "wflink job";

/// The plan under construction.
#[derive(Default)]
pub(crate) struct PlanBuilder {
    /// Nodes so far, indexed by id.
    nodes: Vec<RecordedNode>,
    /// Set by `env.set_job_name`.
    job_name: Option<String>,
    /// Set by `env.set_parallelism`.
    parallelism: Option<u32>,
    /// First misuse seen while building (a zero parallelism, say): fluent
    /// calls cannot return errors, so it is reported when the build ends.
    error: Option<JobError>,
}

/// A node plus what only the SDK needs about it.
struct RecordedNode {
    /// The node as the host will see it.
    node: Node,
    /// The user function, for user nodes.
    operator: Option<Box<dyn Operator>>,
    /// How many nodes read this one; a non-sink node read by none is an error.
    consumers: u32,
}

/// A finished plan and the operators of its user nodes, indexed by node id.
pub(crate) struct Recorded {
    /// The plan returned by `describe`.
    pub plan: StreamPlan,
    /// `Some` for every user node.
    pub operators: Vec<Option<Box<dyn Operator>>>,
}

impl PlanBuilder {
    /// Appends a node reading `input` (if any) and returns its id.
    pub fn add(&mut self, kind: NodeKind, name: &str, input: Option<u32>, operator: Option<Box<dyn Operator>>) -> u32 {
        let inputs: Vec<(u32, Option<Partitioning>)> = input.map(|source| (source, None)).into_iter().collect();
        self.add_reading(kind, name, &inputs, operator)
    }

    /// Appends a node reading `inputs`, in order (a union's streams, or
    /// the two inputs of a connected operator), each through the
    /// partitioning the stream asked for (`rebalance()` and the like), if
    /// any, and returns its id.
    pub fn add_reading(
        &mut self,
        kind: NodeKind,
        name: &str,
        inputs: &[(u32, Option<Partitioning>)],
        operator: Option<Box<dyn Operator>>,
    ) -> u32 {
        let id = self.nodes.len() as u32;
        let inputs = inputs
            .iter()
            .map(|&(source, asked)| {
                let upstream = &mut self.nodes[source as usize];
                upstream.consumers += 1;
                // The rule of edges: what the stream asked for; else leaving a key-by is hash, leaving a
                // partition-custom custom, all else forward.
                let partitioning = asked.unwrap_or(match upstream.node.kind {
                    NodeKind::KeyBy => Partitioning::Hash,
                    NodeKind::PartitionCustom => Partitioning::Custom,
                    _ => Partitioning::Forward,
                });
                Edge { source, partitioning }
            })
            .collect();
        let uid = format!("{}-{id}", kind.slug());
        let node = Node { id, name: name.to_owned(), uid, kind, parallelism: None, inputs };
        self.nodes.push(RecordedNode { node, operator, consumers: 0 });
        id
    }

    /// Renames node `id`.
    pub fn set_name(&mut self, id: u32, name: String) {
        self.nodes[id as usize].node.name = name;
    }

    /// Sets the uid of node `id`.
    pub fn set_uid(&mut self, id: u32, uid: String) {
        self.nodes[id as usize].node.uid = uid;
    }

    /// Sets the parallelism of node `id` (the plan's when `None`).
    pub fn set_parallelism(&mut self, id: Option<u32>, parallelism: u32) {
        if parallelism == 0 {
            let what = match id {
                Some(id) => format!("node {id} '{}'", self.nodes[id as usize].node.name),
                None => "the job".to_owned(),
            };
            self.fail(JobError::invalid_plan(format!("parallelism of {what} must be at least 1")));
            return;
        }
        match id {
            Some(id) => self.nodes[id as usize].node.parallelism = Some(parallelism),
            None => self.parallelism = Some(parallelism),
        }
    }

    /// Sets the job name.
    pub fn set_job_name(&mut self, name: String) {
        self.job_name = Some(name);
    }

    /// Remembers the first misuse.
    pub fn fail(&mut self, error: JobError) {
        self.error.get_or_insert(error);
    }

    /// Checks the plan and hands it over with its operators.
    pub fn finish(self) -> Result<Recorded, JobError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if !self.nodes.iter().any(|n| matches!(n.node.kind, NodeKind::Sink(_))) {
            return Err(JobError::invalid_plan(
                "the job defines no sink: end a stream with print(), write_as_text(..) or discard()",
            ));
        }
        if let Some(open) = self.nodes.iter().find(|n| n.consumers == 0 && !matches!(n.node.kind, NodeKind::Sink(_))) {
            return Err(JobError::invalid_plan(format!(
                "the stream of node {} '{}' goes nowhere: end it with print(), write_as_text(..) or discard()",
                open.node.id, open.node.name
            )));
        }
        let mut uids = HashMap::new();
        for n in &self.nodes {
            if let Some(other) = uids.insert(n.node.uid.as_str(), n.node.id) {
                return Err(JobError::invalid_plan(format!(
                    "uid '{}' is used by nodes {other} and {}; uids must be unique",
                    n.node.uid, n.node.id
                )));
            }
        }
        let (nodes, operators) = self.nodes.into_iter().map(|n| (n.node, n.operator)).unzip();
        let job_name = self.job_name.unwrap_or_else(|| DEFAULT_JOB_NAME.to_owned());
        Ok(Recorded { plan: StreamPlan { job_name, nodes, parallelism: self.parallelism }, operators })
    }
}
