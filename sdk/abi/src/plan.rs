//! The plan a job describes (the WIT `plan` interface): the StreamGraph as
//! plain values, which the SDK builds and the runtime checks and turns
//! into its JobGraph. Names follow WIT; with the `serde` feature they
//! serialize as `wflink info` and the REST plan show them.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::timers::TimeDomain;

/// How records travel along an edge (WIT `partitioning`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "SCREAMING_SNAKE_CASE"))]
pub enum Partitioning {
    /// Subtask `i` feeds subtask `i` of the next node; lets the two chain.
    /// The default edge: where the parallelisms differ it becomes rebalance.
    Forward,
    /// Round-robin over the next node's subtasks.
    Rebalance,
    /// By the key's key group: the edge leaving a key-by node.
    Hash,
    /// Round-robin over a subset of the next node's subtasks: subtasks are
    /// paired pointwise (Flink's rescale), so fewer channels are opened.
    Rescale,
    /// Each record to a random subtask of the next node.
    Shuffle,
    /// Each record to every subtask of the next node.
    Broadcast,
    /// Every record to the first subtask of the next node.
    Global,
    /// Asked for with `forward()`: as [`Partitioning::Forward`], but a plan
    /// where the two parallelisms differ is refused, as Flink does.
    ForwardStrict,
    /// Each record to the subtask a user function picked (Flink's
    /// `partitionCustom`): the edge leaving a [`NodeKind::PartitionCustom`].
    Custom,
}

impl Partitioning {
    /// Whether subtask `i` feeds subtask `i` (so the two nodes may chain).
    pub fn is_forward(self) -> bool {
        matches!(self, Partitioning::Forward | Partitioning::ForwardStrict)
    }

    /// Flink's name for the ship strategy (`FORWARD`, `HASH`, `REBALANCE`,
    /// `RESCALE`, `SHUFFLE`, `BROADCAST`, `GLOBAL`, `CUSTOM`), as plans show it.
    pub fn ship_strategy(self) -> &'static str {
        match self {
            Partitioning::Forward | Partitioning::ForwardStrict => "FORWARD",
            Partitioning::Rebalance => "REBALANCE",
            Partitioning::Hash => "HASH",
            Partitioning::Rescale => "RESCALE",
            Partitioning::Shuffle => "SHUFFLE",
            Partitioning::Broadcast => "BROADCAST",
            Partitioning::Global => "GLOBAL",
            Partitioning::Custom => "CUSTOM",
        }
    }
}

/// A host connector and its options (WIT `connector`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Connector {
    /// Connector name: `file`, `socket`, `datagen`, `print`, `discard`.
    pub name: String,
    /// Options as key/value strings, e.g. (`path`, `/data/in.txt`).
    pub options: Vec<(String, String)>,
}

impl Connector {
    /// A connector `name` with `options`.
    pub fn new(name: &str, options: &[(&str, String)]) -> Self {
        let options = options.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        Connector { name: name.to_owned(), options }
    }

    /// The value of option `key`, if set.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// What a node does (WIT `node-kind`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename_all = "kebab-case"))]
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
    /// Picks each record's subtask of the next node (guest functions: a
    /// key selector and a partitioner, Flink's `partitionCustom`); the edge
    /// leaving it is [`Partitioning::Custom`]. It ends its chain, whose
    /// output keys are the picked subtasks (4 bytes little-endian).
    PartitionCustom,
    /// Keyed running reduce, emitting after each update (guest function).
    Reduce,
    /// A built-in keyed aggregation the host runs (`sum`, `min`, `max`,
    /// `min_by`, `max_by`; no guest function). Needs keyed input.
    Aggregate(Aggregation),
    /// Sets event timestamps (guest function); the host makes watermarks.
    AssignTimestamps(WatermarkStrategy),
    /// A ProcessFunction (guest function): side outputs, timestamps, the watermark.
    Process,
    /// A KeyedProcessFunction or a window (guest function): named state,
    /// timers and side outputs.
    KeyedProcess(KeyedProcessSpec),
    /// The side output `tag` of its input node; feeds a sink.
    SideOutput {
        /// Tag id the producing operator uses.
        tag: u32,
        /// The tag's name in the job.
        name: String,
    },
    /// Writes to a host connector.
    Sink(Connector),
    /// Several streams of one type merged into one (`union`): no guest
    /// function; the host passes every input's records on.
    Union,
    /// A non-keyed operator of two inputs (`connect`: CoMap, CoFlatMap,
    /// CoProcessFunction; guest function). Its first edge is input 0, its
    /// second input 1; runs through `process-with-context`, which names
    /// the input of each batch.
    CoProcess,
    /// A keyed operator of two inputs (KeyedCoProcessFunction; guest
    /// function): both edges are hash-partitioned by comparable keys, and
    /// the two inputs of a key share its named state and timers.
    KeyedCoProcess(KeyedProcessSpec),
    /// An operator of two inputs with broadcast state (Broadcast- or
    /// KeyedBroadcastProcessFunction; guest function): input 0 is the
    /// processed stream (hash-partitioned when keyed), input 1 the
    /// broadcast stream, which reaches every subtask.
    BroadcastProcess(BroadcastProcessSpec),
    /// A key-by the host evaluates (no guest function, Flink's positional
    /// `keyBy(0)`): each record's key is the MessagePack bytes of its
    /// field, which the host slices out of the value. It ends its chain;
    /// the edge leaving it is [`Partitioning::Hash`].
    KeyByField(AggregateField),
}

impl NodeKind {
    /// Whether the guest runs this node (as opposed to a host connector
    /// or a side output, which the host routes).
    pub fn is_user_function(&self) -> bool {
        !matches!(
            self,
            NodeKind::Source(_)
                | NodeKind::Sink(_)
                | NodeKind::SideOutput { .. }
                | NodeKind::Union
                | NodeKind::Aggregate(_)
                | NodeKind::KeyByField(_)
        )
    }

    /// Whether the node reads several inputs (and so starts a chain, as in Flink).
    pub fn is_multi_input(&self) -> bool {
        matches!(
            self,
            NodeKind::Union | NodeKind::CoProcess | NodeKind::KeyedCoProcess(_) | NodeKind::BroadcastProcess(_)
        )
    }

    /// The input (0 or 1) that the node's edge at `position` feeds: a
    /// two-input operator's edges are its inputs in order; every edge of
    /// any other node (a union's too) feeds its one input, 0.
    pub fn input_of_edge(&self, position: usize) -> u32 {
        match self {
            NodeKind::CoProcess | NodeKind::KeyedCoProcess(_) | NodeKind::BroadcastProcess(_) => position as u32,
            _ => 0,
        }
    }

    /// Whether the node keeps keyed state and so needs keyed input.
    pub fn is_keyed(&self) -> bool {
        match self {
            NodeKind::BroadcastProcess(spec) => spec.keyed.is_some(),
            other => matches!(
                other,
                NodeKind::Reduce | NodeKind::Aggregate(_) | NodeKind::KeyedProcess(_) | NodeKind::KeyedCoProcess(_)
            ),
        }
    }

    /// Whether the guest runs the node through `process-with-context`
    /// (it needs time, named state, timers or side outputs).
    pub fn needs_context(&self) -> bool {
        matches!(
            self,
            NodeKind::AssignTimestamps(_)
                | NodeKind::Process
                | NodeKind::KeyedProcess(_)
                | NodeKind::CoProcess
                | NodeKind::KeyedCoProcess(_)
                | NodeKind::BroadcastProcess(_)
        )
    }

    /// The kebab-case name used in default uids (`flat-map`, `source-file`, …).
    pub fn slug(&self) -> String {
        match self {
            NodeKind::Source(c) => format!("source-{}", c.name),
            NodeKind::Map => "map".into(),
            NodeKind::FlatMap => "flat-map".into(),
            NodeKind::Filter => "filter".into(),
            NodeKind::KeyBy => "key-by".into(),
            NodeKind::PartitionCustom => "partition-custom".into(),
            NodeKind::Reduce => "reduce".into(),
            NodeKind::Aggregate(_) => "aggregate".into(),
            NodeKind::AssignTimestamps(_) => "timestamps".into(),
            NodeKind::Process => "process".into(),
            NodeKind::KeyedProcess(spec) if spec.window.is_some() => "window".into(),
            NodeKind::KeyedProcess(_) => "keyed-process".into(),
            NodeKind::SideOutput { name, .. } => format!("side-output-{name}"),
            NodeKind::Sink(c) => format!("sink-{}", c.name),
            NodeKind::Union => "union".into(),
            NodeKind::CoProcess => "co-process".into(),
            NodeKind::KeyedCoProcess(_) => "keyed-co-process".into(),
            NodeKind::BroadcastProcess(spec) if spec.keyed.is_some() => "keyed-broadcast-process".into(),
            NodeKind::BroadcastProcess(_) => "broadcast-process".into(),
            NodeKind::KeyByField(_) => "key-by".into(),
        }
    }
}

/// The function of a built-in keyed aggregation (WIT `aggregate-function`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum AggregateFunction {
    /// The key's first record with the field replaced by its running sum.
    Sum,
    /// The key's first record with the field replaced by its least value so far.
    Min,
    /// The key's first record with the field replaced by its greatest value so far.
    Max,
    /// The whole record with the least field so far (the earlier on ties).
    MinBy,
    /// The whole record with the greatest field so far (the earlier on ties).
    MaxBy,
    /// The key's first record paired with the number of its records so
    /// far, `(record, count)`; reads no field.
    Count,
}

impl AggregateFunction {
    /// Flink's name of the function in capitals, as plans show it (`SUM`, `MIN_BY`, …).
    pub fn label(self) -> &'static str {
        match self {
            AggregateFunction::Sum => "SUM",
            AggregateFunction::Min => "MIN",
            AggregateFunction::Max => "MAX",
            AggregateFunction::MinBy => "MIN_BY",
            AggregateFunction::MaxBy => "MAX_BY",
            AggregateFunction::Count => "COUNT",
        }
    }
}

/// The field of a record a built-in aggregation reads, or a host key-by
/// keys by (WIT `aggregate-field`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum AggregateField {
    /// The element at this position of a record encoded as an array (tuples, lists, Rust structs).
    Position(u32),
    /// The value under this key of a record encoded as a map (dicts, objects).
    Name(String),
    /// The record itself (a number, for an aggregation).
    Whole,
}

/// A built-in keyed aggregation (WIT `aggregation`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Aggregation {
    /// What it computes.
    pub function: AggregateFunction,
    /// The field it reads.
    pub field: AggregateField,
}

impl Aggregation {
    /// How plans show it: `SUM(1)`, `MAX_BY(price)`, `MIN()` for the whole record.
    pub fn describe(&self) -> String {
        let function = self.function.label();
        match &self.field {
            AggregateField::Position(position) => format!("{function}({position})"),
            AggregateField::Name(name) => format!("{function}({name})"),
            AggregateField::Whole => format!("{function}()"),
        }
    }
}

/// How the host makes watermarks after an assigner (WIT `watermark-strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WatermarkStrategy {
    /// Bounded out-of-orderness in ms.
    pub max_out_of_orderness_ms: u64,
    /// Idle after this long without records, if set.
    pub idle_timeout_ms: Option<u64>,
}

/// The kind of a declared keyed state (WIT `state-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
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
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StateDescriptor {
    /// Id used in state entries (a hash of the name).
    pub id: u32,
    /// The user's name for it.
    pub name: String,
    /// Its kind.
    pub kind: StateKind,
    /// Read per call through the `state` import instead of sent with batches.
    pub lazy: bool,
    /// Its time to live in ms, if it has one: its values carry stamps (see
    /// [`crate::ttl`]), and snapshots leave expired ones out.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub ttl_ms: Option<u64>,
}

/// How records are assigned to windows (WIT `window-assigner`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename_all = "kebab-case"))]
pub enum WindowAssigner {
    /// Fixed, non-overlapping windows of `size_ms`, shifted by `offset_ms`.
    Tumbling {
        /// Window length in ms.
        size_ms: u64,
        /// Shift of the window boundaries from the epoch in ms.
        offset_ms: u64,
    },
    /// Fixed windows of `size_ms`, a new one every `slide_ms`.
    Sliding {
        /// Window length in ms.
        size_ms: u64,
        /// Distance between window starts in ms.
        slide_ms: u64,
        /// Shift of the window boundaries from the epoch in ms.
        offset_ms: u64,
    },
    /// Windows of a key's activity, closed by a gap of `gap_ms`.
    Session {
        /// The gap in ms.
        gap_ms: u64,
    },
}

/// A keyed window as the job declared it (WIT `window-spec`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WindowSpec {
    /// How records are assigned to windows.
    pub assigner: WindowAssigner,
    /// The clock windows follow.
    pub domain: TimeDomain,
    /// How long after a window's end (in event time) late records still update it, in ms.
    pub allowed_lateness_ms: u64,
    /// Side output tag that receives records too late for any window.
    pub late_output_tag: Option<u32>,
    /// The window function: `reduce`, `aggregate` or `process`.
    pub function: String,
}

/// What a keyed process node declares (WIT `keyed-process-spec`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KeyedProcessSpec {
    /// Its keyed states.
    pub states: Vec<StateDescriptor>,
    /// Set when the operator is a window.
    pub window: Option<WindowSpec>,
}

/// What a broadcast process node declares (WIT `broadcast-process-spec`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BroadcastProcessSpec {
    /// Its broadcast map states: every subtask holds the same copy.
    pub broadcast_states: Vec<StateDescriptor>,
    /// Its keyed states, when its first input is keyed.
    pub keyed: Option<KeyedProcessSpec>,
}

/// An edge into a node (WIT `edge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Edge {
    /// Id of the upstream node.
    pub source: u32,
    /// How records are distributed to this node's subtasks.
    pub partitioning: Partitioning,
}

/// One node of the plan (WIT `node`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Node {
    /// Unique id given by the job.
    pub id: u32,
    /// Name shown in plans and the dashboard.
    pub name: String,
    /// Stable operator id (for state restore); defaults to `<kind>-<id>`.
    pub uid: String,
    /// What the node does.
    pub kind: NodeKind,
    /// Parallelism set on the node in code.
    pub parallelism: Option<u32>,
    /// Incoming edges; empty for sources.
    pub inputs: Vec<Edge>,
}

/// The StreamGraph of a job (WIT `stream-plan`): nodes in topological order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StreamPlan {
    /// Name of the job.
    pub job_name: String,
    /// Nodes, every input id appearing before the node that reads it.
    pub nodes: Vec<Node>,
    /// Default parallelism set in code for the whole job.
    pub parallelism: Option<u32>,
}
