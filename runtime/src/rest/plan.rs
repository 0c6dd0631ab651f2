//! A JobGraph as Flink's REST API shows a plan (`/jobs/:id/plan`,
//! `/jars/:id/plan`, and inside `/jobs/:id`).

use serde_json::{Value, json};

use crate::graph::{JobGraph, Partitioning};

/// `{"jid", "name", "type", "nodes": [...]}`, nodes from sink to source as Flink lists them.
pub fn plan_json(job_id: &str, job: &JobGraph) -> Value {
    let nodes: Vec<Value> = job
        .vertices
        .iter()
        .rev()
        .map(|v| {
            let mut parts = v.name.split(" -> ");
            let mut description = format!("{}<br/>", parts.next().unwrap_or_default());
            for part in parts {
                description.push_str(&format!("+- {part}<br/>"));
            }
            let mut node = json!({
                "id": v.id,
                "operator": "",
                "parallelism": v.parallelism,
                "operator_strategy": "",
                "description": description,
                "optimizer_properties": {},
            });
            let inputs: Vec<Value> = job
                .edges
                .iter()
                .filter(|e| e.target == v.index)
                .enumerate()
                .map(|(num, e)| {
                    json!({
                        "id": job.vertices[e.source].id,
                        "num": num,
                        "exchange": "pipelined_bounded",
                        "ship_strategy": ship_strategy(e.partitioning),
                    })
                })
                .collect();
            if !inputs.is_empty() {
                node["inputs"] = Value::Array(inputs);
            }
            node
        })
        .collect();
    json!({ "jid": job_id, "name": job.job_name, "type": "STREAMING", "nodes": nodes })
}

fn ship_strategy(partitioning: Partitioning) -> &'static str {
    match partitioning {
        Partitioning::Forward => "FORWARD",
        Partitioning::Hash => "HASH",
        Partitioning::Rebalance => "REBALANCE",
    }
}
