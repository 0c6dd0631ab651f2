//! The StreamGraph: the logical plan exactly as the job's `describe`
//! returned it, checked for the mistakes a job can make.

use serde::{Deserialize, Serialize};

use super::Partitioning;
use crate::ids::NodeId;

/// A plan that cannot run, naming the node at fault.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    /// The job described no nodes at all.
    #[error("the job's plan is empty: it declares no source")]
    Empty,
    /// Two nodes share an id.
    #[error("the job's plan uses node id {0} twice")]
    DuplicateId(NodeId),
    /// An edge names a node that does not exist or comes later.
    #[error("node '{node}' reads from node id {input}, which is not declared before it")]
    UnknownInput {
        /// Name of the node with the bad edge.
        node: String,
        /// The id it names.
        input: NodeId,
    },
    /// A parallelism of zero or above the maximum parallelism.
    #[error("node '{node}' has parallelism {parallelism}; it must be between 1 and {max}")]
    BadParallelism {
        /// Name of the node.
        node: String,
        /// The parallelism it asked for.
        parallelism: u32,
        /// The maximum parallelism (number of key groups).
        max: u32,
    },
    /// A keyed operator whose input is not keyed.
    #[error("node '{0}' keeps keyed state but its input is not keyed: add a key_by before it")]
    NotKeyed(String),
    /// A node shape the runtime does not run yet (e.g. two inputs).
    #[error("node '{node}' is not supported: {reason}")]
    Unsupported {
        /// Name of the node.
        node: String,
        /// What is not supported.
        reason: String,
    },
    /// A connector that does not exist or lacks an option.
    #[error("{0}")]
    Connector(String),
}

/// A host connector with its options, as the job named it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connector {
    /// Connector name: `file`, `socket`, `datagen`, `print`, `discard`.
    pub name: String,
    /// Options, e.g. `path`.
    pub options: Vec<(String, String)>,
}

impl Connector {
    /// The value of option `key`, if set.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The value of a required option, or an error naming connector and option.
    pub fn required(&self, key: &str) -> Result<&str, PlanError> {
        self.option(key)
            .ok_or_else(|| PlanError::Connector(format!("the '{}' connector needs the option '{key}'", self.name)))
    }
}

/// What a node does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum NodeKind {
    /// A host source connector.
    Source(Connector),
    /// A user map function.
    Map,
    /// A user flat-map function.
    FlatMap,
    /// A user filter.
    Filter,
    /// A user key selector; the edge leaving it is hash-partitioned.
    KeyBy,
    /// A keyed running reduce with one state value per key.
    Reduce,
    /// A user timestamp extractor; the host emits watermarks after it.
    AssignTimestamps(WatermarkStrategy),
    /// A user ProcessFunction (side outputs, timestamps, the watermark).
    Process,
    /// A keyed operator with named state, timers and side outputs
    /// (KeyedProcessFunction or window).
    KeyedProcess(KeyedProcessSpec),
    /// The side output `tag` of the input node; feeds a sink.
    SideOutput {
        /// Tag id the producing operator uses.
        tag: u32,
        /// The tag's name in the job.
        name: String,
    },
    /// A host sink connector.
    Sink(Connector),
}

impl NodeKind {
    /// Whether the guest runs this node (as opposed to a host connector
    /// or a side output, which the host routes).
    pub fn is_user_function(&self) -> bool {
        !matches!(self, NodeKind::Source(_) | NodeKind::Sink(_) | NodeKind::SideOutput { .. })
    }

    /// Whether the node keeps keyed state and so needs keyed input.
    pub fn is_keyed(&self) -> bool {
        matches!(self, NodeKind::Reduce | NodeKind::KeyedProcess(_))
    }

    /// Whether the guest runs the node through `process-with-context`
    /// (it needs time, named state, timers or side outputs).
    pub fn needs_context(&self) -> bool {
        matches!(self, NodeKind::AssignTimestamps(_) | NodeKind::Process | NodeKind::KeyedProcess(_))
    }
}

/// How event timestamps become watermarks (WIT `watermark-strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WatermarkStrategy {
    /// Bounded out-of-orderness in ms.
    pub max_out_of_orderness_ms: u64,
    /// Idle after this long without records, if set.
    pub idle_timeout_ms: Option<u64>,
}

/// The kind of a declared keyed state (WIT `state-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateKind {
    /// One value.
    Value,
    /// A list.
    List,
    /// A map by user key.
    Map,
    /// Folded by a reduce function.
    Reducing,
    /// Folded by an aggregate function.
    Aggregating,
}

/// A keyed state an operator declares (WIT `state-descriptor`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateDescriptor {
    /// Id used in state entries.
    pub id: u32,
    /// The user's name for it.
    pub name: String,
    /// Its kind.
    pub kind: StateKind,
    /// Read per call instead of sent with batches.
    pub lazy: bool,
}

/// A declared window, for plans and checks (WIT `window-spec`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowSpec {
    /// E.g. `tumbling(10000)`, `sliding(60000, 10000)`, `session(5000)`.
    pub assigner: String,
    /// `event-time` or `processing-time`.
    pub domain: String,
    /// Allowed lateness in ms.
    pub allowed_lateness_ms: u64,
    /// Side output tag for late records.
    pub late_output_tag: Option<u32>,
    /// `reduce`, `aggregate` or `process`.
    pub function: String,
}

/// What a keyed process node declares (WIT `keyed-process-spec`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyedProcessSpec {
    /// Its keyed states.
    pub states: Vec<StateDescriptor>,
    /// Set for windows.
    pub window: Option<WindowSpec>,
}

/// An edge into a node.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StreamEdge {
    /// The upstream node.
    pub source: NodeId,
    /// How records are distributed.
    pub partitioning: Partitioning,
}

/// One node of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamNode {
    /// Id given by the job.
    pub id: NodeId,
    /// Display name.
    pub name: String,
    /// Stable operator id.
    pub uid: String,
    /// What it does.
    pub kind: NodeKind,
    /// Parallelism set in code, if any.
    pub parallelism: Option<u32>,
    /// Incoming edges.
    pub inputs: Vec<StreamEdge>,
}

/// The plan of a job, nodes in topological order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamGraph {
    /// Name of the job.
    pub job_name: String,
    /// Nodes, every input declared before the node that reads it.
    pub nodes: Vec<StreamNode>,
    /// Parallelism set in code for the whole job, if any.
    pub parallelism: Option<u32>,
}

impl StreamGraph {
    /// Checks what the runtime relies on: unique ids, inputs declared
    /// first, sensible parallelism, keyed operators after a key-by, and
    /// one input per node.
    pub fn validate(&self, max_parallelism: u32) -> Result<(), PlanError> {
        if self.nodes.is_empty() {
            return Err(PlanError::Empty);
        }
        let mut seen = std::collections::HashSet::new();
        for node in &self.nodes {
            for edge in &node.inputs {
                if !seen.contains(&edge.source) {
                    return Err(PlanError::UnknownInput { node: node.name.clone(), input: edge.source });
                }
            }
            if !seen.insert(node.id) {
                return Err(PlanError::DuplicateId(node.id));
            }
            for parallelism in node.parallelism.into_iter().chain(self.parallelism) {
                if parallelism == 0 || parallelism > max_parallelism {
                    return Err(PlanError::BadParallelism {
                        node: node.name.clone(),
                        parallelism,
                        max: max_parallelism,
                    });
                }
            }
            let is_source = matches!(node.kind, NodeKind::Source(_));
            match (is_source, node.inputs.len()) {
                (true, 0) | (false, 1) => {}
                (true, _) => return Err(unsupported(node, "a source cannot have inputs")),
                (false, 0) => return Err(unsupported(node, "it has no input")),
                (false, _) => return Err(unsupported(node, "operators with several inputs are not supported yet")),
            }
            if node.kind.is_keyed() && node.inputs.iter().any(|e| e.partitioning != Partitioning::Hash) {
                return Err(PlanError::NotKeyed(node.name.clone()));
            }
        }
        Ok(())
    }

    /// The node with id `id`.
    pub fn node(&self, id: NodeId) -> Option<&StreamNode> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The nodes that read from `id`.
    pub fn consumers(&self, id: NodeId) -> impl Iterator<Item = (&StreamNode, &StreamEdge)> {
        self.nodes.iter().flat_map(move |n| n.inputs.iter().filter(move |e| e.source == id).map(move |e| (n, e)))
    }
}

fn unsupported(node: &StreamNode, reason: &str) -> PlanError {
    PlanError::Unsupported { node: node.name.clone(), reason: reason.to_string() }
}
