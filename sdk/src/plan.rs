//! The StreamGraph a job describes, as plain Rust values (the WIT `plan`
//! interface, minus the bindings, so it can be built and tested on the host).

/// How records travel along an edge (WIT `partitioning`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partitioning {
    /// Subtask `i` feeds subtask `i` of the next node; lets the two chain.
    Forward,
    /// Round-robin over the next node's subtasks.
    Rebalance,
    /// By the key's key group: the edge leaving a key-by node.
    Hash,
}

/// A host connector and its options (WIT `connector`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connector {
    /// Connector name: `file`, `socket`, `datagen`, `print`, `discard`.
    pub name: String,
    /// Options as key/value strings, e.g. (`path`, `/data/in.txt`).
    pub options: Vec<(String, String)>,
}

impl Connector {
    pub(crate) fn new(name: &str, options: &[(&str, String)]) -> Self {
        let options = options.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        Connector { name: name.to_owned(), options }
    }
}

/// What a node does (WIT `node-kind`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// Reads from a host connector.
    Source(Connector),
    /// One output per input (guest function).
    Map,
    /// Zero or more outputs per input (guest function).
    FlatMap,
    /// Keeps the records a predicate accepts (guest function).
    Filter,
    /// Computes each record's key; the edge leaving it is [`Partitioning::Hash`].
    KeyBy,
    /// Keyed running reduce, emitting after each update (guest function).
    Reduce,
    /// Sets event timestamps (guest function); the host makes watermarks.
    AssignTimestamps(WatermarkStrategySpec),
    /// A ProcessFunction (guest function).
    Process,
    /// A KeyedProcessFunction or a window (guest function).
    KeyedProcess(KeyedProcessSpec),
    /// The side output `tag` of its input node.
    SideOutput {
        /// Tag id.
        tag: u32,
        /// Tag name.
        name: String,
    },
    /// Writes to a host connector.
    Sink(Connector),
}

/// How the host makes watermarks after an assigner (WIT `watermark-strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatermarkStrategySpec {
    /// Bounded out-of-orderness in ms.
    pub max_out_of_orderness_ms: u64,
    /// Idle timeout in ms, if any.
    pub idle_timeout_ms: Option<u64>,
}

/// The kind of a keyed state (WIT `state-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateKind {
    /// One value.
    Value,
    /// A list.
    List,
    /// A map.
    Map,
    /// Reduced.
    Reducing,
    /// Aggregated.
    Aggregating,
}

/// A declared keyed state (WIT `state-descriptor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDescriptor {
    /// Id in state entries (a hash of the name).
    pub id: u32,
    /// The user's name.
    pub name: String,
    /// Its kind.
    pub kind: StateKind,
    /// Read per call through the `state` import instead of sent with batches.
    pub lazy: bool,
}

/// How records are assigned to windows (WIT `window-assigner`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignerSpec {
    /// Tumbling windows of `size_ms`, shifted by `offset_ms`.
    Tumbling {
        /// Window length.
        size_ms: u64,
        /// Offset from the epoch.
        offset_ms: u64,
    },
    /// Sliding windows.
    Sliding {
        /// Window length.
        size_ms: u64,
        /// Distance between starts.
        slide_ms: u64,
        /// Offset from the epoch.
        offset_ms: u64,
    },
    /// Session windows closed by a gap.
    Session {
        /// The gap in ms.
        gap_ms: u64,
    },
}

/// A declared window (WIT `window-spec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSpec {
    /// The assigner.
    pub assigner: AssignerSpec,
    /// Event time (`true`) or processing time.
    pub event_time: bool,
    /// Allowed lateness in ms.
    pub allowed_lateness_ms: u64,
    /// Side output tag for late records.
    pub late_output_tag: Option<u32>,
    /// `reduce`, `aggregate` or `process`.
    pub function: String,
}

/// What a keyed process node declares (WIT `keyed-process-spec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedProcessSpec {
    /// Its keyed states.
    pub states: Vec<StateDescriptor>,
    /// Set for windows.
    pub window: Option<WindowSpec>,
}

impl NodeKind {
    /// The kebab-case name used in default uids (`flat-map`, `source-file`, …).
    pub(crate) fn slug(&self) -> String {
        match self {
            NodeKind::Source(c) => format!("source-{}", c.name),
            NodeKind::Map => "map".into(),
            NodeKind::FlatMap => "flat-map".into(),
            NodeKind::Filter => "filter".into(),
            NodeKind::KeyBy => "key-by".into(),
            NodeKind::Reduce => "reduce".into(),
            NodeKind::AssignTimestamps(_) => "timestamps".into(),
            NodeKind::Process => "process".into(),
            NodeKind::KeyedProcess(spec) if spec.window.is_some() => "window".into(),
            NodeKind::KeyedProcess(_) => "keyed-process".into(),
            NodeKind::SideOutput { name, .. } => format!("side-output-{name}"),
            NodeKind::Sink(c) => format!("sink-{}", c.name),
        }
    }

    /// Whether the node runs a guest function (only these are ever named in `open`).
    pub fn is_user_function(&self) -> bool {
        !matches!(self, NodeKind::Source(_) | NodeKind::Sink(_) | NodeKind::SideOutput { .. })
    }
}

/// An edge into a node (WIT `edge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// Id of the upstream node.
    pub source: u32,
    /// How records are distributed to this node's subtasks.
    pub partitioning: Partitioning,
}

/// One node of the plan (WIT `node`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Unique id, equal to the node's index in [`StreamPlan::nodes`].
    pub id: u32,
    /// Name shown in plans and the dashboard.
    pub name: String,
    /// Stable operator id (for state restore); defaults to `<kind>-<id>`.
    pub uid: String,
    /// What the node does.
    pub kind: NodeKind,
    /// Parallelism set on the node in code.
    pub parallelism: Option<u32>,
    /// Incoming edges; empty for sources, exactly one otherwise.
    pub inputs: Vec<Edge>,
}

/// The StreamGraph of a job (WIT `stream-plan`): nodes in topological order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamPlan {
    /// Name of the job.
    pub job_name: String,
    /// Nodes, every input id appearing before the node that reads it.
    pub nodes: Vec<Node>,
    /// Default parallelism set in code for the whole job.
    pub parallelism: Option<u32>,
}
