//! A JobGraph as Flink's REST API shows a plan (`/jobs/:id/plan`,
//! `/jars/:id/plan`, and inside `/jobs/:id`).

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::graph::{JobGraph, Partitioning};

/// `/jobs/:id/plan` and `/jars/:id/plan`: `{"plan": {...}}`.
#[derive(Serialize, ToSchema)]
pub struct PlanAnswer {
    /// The plan.
    pub plan: Plan,
}

/// A plan as Flink shows it: `{"jid", "name", "type", "nodes": [...]}`.
#[derive(Serialize, ToSchema)]
pub struct Plan {
    /// The job's id (zeros for a jar's plan, which is no job yet).
    jid: String,
    /// The job's name.
    name: String,
    /// Always `STREAMING`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// The chained vertices, from sink to source as Flink lists them.
    nodes: Vec<PlanNode>,
}

/// A chained vertex of a plan.
#[derive(Serialize, ToSchema)]
pub struct PlanNode {
    /// Vertex id (32 hex).
    id: String,
    /// Always empty.
    operator: &'static str,
    /// Its parallelism.
    parallelism: u32,
    /// Always empty.
    operator_strategy: &'static str,
    /// The chained operators' names, one per line (`<br/>`), as Flink's dashboard draws them.
    description: String,
    /// Always empty.
    optimizer_properties: BTreeMap<String, String>,
    /// The vertices it reads from; absent for a source.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    inputs: Vec<PlanInput>,
}

/// An edge into a plan node.
#[derive(Serialize, ToSchema)]
pub struct PlanInput {
    /// The upstream vertex's id.
    id: String,
    /// The input's number at this node.
    num: usize,
    /// Always `pipelined_bounded`.
    exchange: &'static str,
    /// Flink's name: `FORWARD`, `HASH`, `REBALANCE`, `RESCALE`, `SHUFFLE`, `BROADCAST`, `GLOBAL` or `CUSTOM`.
    ship_strategy: &'static str,
}

/// The plan of `job`, nodes from sink to source as Flink lists them.
pub fn plan(job_id: &str, job: &JobGraph) -> Plan {
    let nodes = job
        .vertices
        .iter()
        .rev()
        .map(|v| {
            let mut parts = v.name.split(" -> ");
            let mut description = format!("{}<br/>", parts.next().unwrap_or_default());
            for part in parts {
                description.push_str(&format!("+- {part}<br/>"));
            }
            let inputs = job
                .edges
                .iter()
                .filter(|e| e.target == v.index)
                .enumerate()
                .map(|(num, e)| PlanInput {
                    id: job.vertices[e.source].id.clone(),
                    num,
                    exchange: "pipelined_bounded",
                    ship_strategy: ship_strategy(e.partitioning),
                })
                .collect();
            PlanNode {
                id: v.id.clone(),
                operator: "",
                parallelism: v.parallelism,
                operator_strategy: "",
                description,
                optimizer_properties: BTreeMap::new(),
                inputs,
            }
        })
        .collect();
    Plan { jid: job_id.to_string(), name: job.job_name.clone(), kind: "STREAMING", nodes }
}

fn ship_strategy(partitioning: Partitioning) -> &'static str {
    partitioning.ship_strategy()
}
