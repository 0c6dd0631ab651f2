//! The end-to-end tests, one module a file beside this one, linked into
//! ONE test binary: each binary links wasmtime and the whole runtime, so
//! twelve binaries spent minutes linking what one links once. Run one
//! file's tests with `cargo test --test e2e polyglot::` (or a single test
//! with its full name, e.g. `polyglot::c_counts_are_exact_at_parallelism_1`).
//! A new file of tests needs only a `mod` line here.

mod common;

mod aggregations;
mod api_fuzz;
mod apply_to_keyed_state;
mod bad_input;
mod bench_latency;
mod broadcast_state;
mod cli_operations;
mod cluster;
mod dashboard;
mod event_time;
mod examples;
mod fault_tolerance;
mod flink_dashboard;
mod flink_shapes;
mod hostile_jobs;
mod joins;
mod js_inputs;
mod kafka;
mod kafka_source;
mod key_by_field;
mod lazy_state;
mod libraries;
mod limits;
mod logs;
mod metrics;
mod multi_input;
mod order_payments;
mod polyglot;
mod polyglot_inputs;
mod python_inputs;
mod sandbox;
mod security;
mod socket_source;
mod tls;
mod wordcount;
