//! wflink: a stream processor whose jobs are WebAssembly components.
//!
//! # Layout, in the order a job and its records travel
//!
//! ```text
//!  cli ──submit──▶ dispatcher ──▶ job_manager ──slots──▶ resource_manager
//!                    │ prepare:        │ deploy
//!                    │ wasm (compile,  ▼
//!                    │ describe) →  task_manager: Slot ─▶ Task thread
//!                    ▼ graph               source ─▶ wasm chain ─▶ network ─▶ … ─▶ sink
//! ```
//!
//! Dependencies point one way, down this list's layers: the shared
//! vocabulary (`ids`, `config`, `time`, `graph`, `network`, `checkpoint`,
//! `protocol`) below the sandbox and data path (`state`, `wasm`,
//! `connectors`, `operator`), below the roles (`task_manager`,
//! `resource_manager`, `job_manager`, `dispatcher`), below the edges
//! (`rest`, `cli`, `minicluster`). `layering_tests` fails on a cycle;
//! `fuzz_tests` feeds every decoder of untrusted bytes arbitrary input.
//!
//! - [`cli`]: the `wflink` command line.
//! - [`checkpoint`]: checkpoints and savepoints: barriers, snapshots, storage.
//! - [`dispatcher`]: front door; prepares jobs and starts a JobManager each.
//! - [`graph`]: StreamGraph → JobGraph (chaining) → ExecutionGraph; partitioning.
//! - [`job_manager`]: one actor per job: slots (each through one gateway, wherever it is), deployment, states.
//! - [`resource_manager`]: the cluster's slots.
//! - [`task_manager`]: TaskManager and Slot actors, the slot gateway; the Task loop.
//! - [`wasm`]: the engine, component cache, sandboxed instances.
//! - [`state`]: keyed state by key group; state travels with the batch.
//! - [`time`]: watermarks (generated, combined across channels) and timers.
//! - [`operator`]: the context a guest chain runs in (time, named state, timers, side outputs) and the task error.
//! - [`network`]: batches, bounded channels, partitioned output, frames and TCP between processes.
//! - [`protocol`]: what the roles share: job and task states, failure kinds, deployment descriptors, slot usage.
//! - [`rpc`]: the control connection and its messages between JobManager and TaskManager processes.
//! - [`blob_store`]: components of submitted jobs, fetched by TaskManager processes.
//! - [`rest`]: the Flink-shaped REST API of a JobManager process.
//! - [`security`]: the cluster secret, its handshake, the directories jobs may use.
//! - [`connectors`]: sources and sinks (files, sockets, Kafka) and record formats.
//! - [`minicluster`]: everything in one process.
//! - [`logs`]: the log and stdout files a process serves through the REST API.
//! - [`config`], [`ids`], [`metrics`], [`panics`]: shared vocabulary.

pub mod blob_store;
pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod connectors;
pub mod dispatcher;
pub mod graph;
pub mod guest_build;
pub mod ids;
pub mod job_manager;
pub mod logs;
pub mod metrics;
pub mod minicluster;
pub mod network;
pub mod operator;
pub mod panics;
pub mod protocol;
pub mod resource_manager;
pub mod rest;
pub mod rpc;
pub mod security;
pub mod state;
pub mod task_manager;
pub mod time;
pub mod wasm;

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod layering_tests;
