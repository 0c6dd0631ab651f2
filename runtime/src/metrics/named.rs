//! Flink's names for what a task and a process report, written once for the REST metric endpoints and the
//! Prometheus endpoint alike: the task's own metrics, its operators' (scoped by operator), and a process's
//! `Status.*` figures.

use super::process::ProcessStats;
use super::{MetricRates, MetricsSnapshot};
use crate::graph::JobVertex;

/// A metric's value: counts, bytes, ms and timestamps are integers, rates and shares floats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A count, ms, bytes or a timestamp.
    Int(i64),
    /// A rate or a share.
    Float(f64),
}

impl Value {
    /// As a float (Prometheus, aggregates).
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
        }
    }

    /// As Flink writes it in a REST `value`: `42`, `520.96`, `9.0`.
    pub fn text(self) -> String {
        match self {
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format!("{f:?}"),
        }
    }

    fn count(n: u64) -> Self {
        Value::Int(n.min(i64::MAX as u64) as i64)
    }
}

/// A task's own metrics (Flink's task scope).
pub fn task(m: &MetricsSnapshot, r: &MetricRates) -> Vec<(&'static str, Value)> {
    vec![
        ("numRecordsIn", Value::count(m.read_records)),
        ("numRecordsOut", Value::count(m.write_records)),
        ("numBytesIn", Value::count(m.read_bytes)),
        ("numBytesOut", Value::count(m.write_bytes)),
        ("numRecordsInPerSecond", Value::Float(r.records_in)),
        ("numRecordsOutPerSecond", Value::Float(r.records_out)),
        ("numBytesInPerSecond", Value::Float(r.bytes_in)),
        ("numBytesOutPerSecond", Value::Float(r.bytes_out)),
        ("busyTimeMsPerSecond", Value::Float(r.busy_ms.round())),
        ("idleTimeMsPerSecond", Value::Int(r.idle_ms.round() as i64)),
        ("backPressuredTimeMsPerSecond", Value::Int(r.backpressured_ms.round() as i64)),
        ("accumulateBusyTimeMs", Value::count(m.accumulated_busy_time)),
        ("accumulateIdleTimeMs", Value::count(m.accumulated_idle_time)),
        ("accumulateBackPressuredTimeMs", Value::count(m.accumulated_backpressured_time)),
        ("currentInputWatermark", Value::Int(m.input_watermark)),
    ]
}

/// The names of a chain's operators, in chain order (the vertex name split where chaining joined it).
pub fn operator_names(vertex: &JobVertex) -> Vec<&str> {
    let names: Vec<&str> = vertex.name.split(" -> ").collect();
    if names.len() == vertex.nodes.len() || vertex.nodes.is_empty() { names } else { vec![vertex.name.as_str()] }
}

/// The metrics of a chain's operators, as `(operator index, metric, value)`: the head's input (and, for a source,
/// the bad records it skipped), the tail's output and watermarks, and the guest's counters under the chain's first user operator (one guest call runs the whole
/// chain, so a counter cannot be told apart by operator).
pub fn operators(vertex: &JobVertex, m: &MetricsSnapshot, r: &MetricRates) -> Vec<(usize, String, Value)> {
    let count = operator_names(vertex).len();
    if count == 0 {
        return Vec::new();
    }
    let tail = count - 1;
    let mut metrics = vec![
        (0, "numRecordsIn".to_string(), Value::count(m.read_records)),
        (0, "numRecordsInPerSecond".into(), Value::Float(r.records_in)),
        (0, "currentInputWatermark".into(), Value::Int(m.input_watermark)),
        (tail, "numRecordsOut".into(), Value::count(m.write_records)),
        (tail, "numRecordsOutPerSecond".into(), Value::Float(r.records_out)),
        (tail, "currentOutputWatermark".into(), Value::Int(m.output_watermark)),
    ];
    if vertex.source.is_some() {
        // FLIP-33's source metric: records the source could not read and skipped (`bad-records=skip`).
        metrics.push((0, "numRecordsInErrors".into(), Value::count(m.skipped_records)));
    }
    let user = vertex.nodes.iter().position(|n| vertex.user_nodes.contains(n)).filter(|i| *i < count).unwrap_or(0);
    metrics.extend(m.counters.iter().map(|(name, n)| (user, name.clone(), Value::count(*n))));
    metrics
}

/// A process's `Status.*` metrics; `heap` is what stands for the JVM heap there (used, max).
pub fn process(stats: &ProcessStats, heap: (u64, u64)) -> Vec<(&'static str, Value)> {
    let zero = Value::Int(0);
    vec![
        ("Status.JVM.Memory.Heap.Used", Value::count(heap.0)),
        ("Status.JVM.Memory.Heap.Committed", Value::count(heap.0)),
        ("Status.JVM.Memory.Heap.Max", Value::count(heap.1)),
        ("Status.JVM.Memory.NonHeap.Used", zero),
        ("Status.JVM.Memory.NonHeap.Committed", zero),
        ("Status.JVM.Memory.NonHeap.Max", zero),
        ("Status.JVM.Memory.Metaspace.Used", zero),
        ("Status.JVM.Memory.Metaspace.Max", zero),
        ("Status.JVM.Memory.Direct.Count", zero),
        ("Status.JVM.Memory.Direct.MemoryUsed", zero),
        ("Status.JVM.Memory.Direct.TotalCapacity", zero),
        ("Status.JVM.Memory.Mapped.Count", zero),
        ("Status.JVM.Memory.Mapped.MemoryUsed", zero),
        ("Status.JVM.Memory.Mapped.TotalCapacity", zero),
        ("Status.JVM.CPU.Load", Value::Float(stats.cpu_load)),
        ("Status.JVM.CPU.Time", Value::count(stats.cpu_time_ms.saturating_mul(1_000_000))),
        ("Status.JVM.Threads.Count", Value::count(stats.threads)),
        ("Status.ProcessTree.Memory.RSS", Value::count(stats.rss)),
        ("Status.ProcessTree.Memory.Virtual", Value::count(stats.virtual_memory)),
    ]
}

/// A TaskManager's metrics: its process's, the heap standing for its guests' linear memory against its budget,
/// and Flink's managed and shuffle memory, none here.
pub fn taskmanager(stats: &ProcessStats, guest_memory: u64, budget: u64) -> Vec<(&'static str, Value)> {
    let mut metrics = process(stats, (guest_memory, budget));
    for name in [
        "Status.Flink.Memory.Managed.Used",
        "Status.Flink.Memory.Managed.Total",
        "Status.Shuffle.Netty.UsedMemory",
        "Status.Shuffle.Netty.TotalMemory",
    ] {
        metrics.push((name, Value::Int(0)));
    }
    metrics
}
