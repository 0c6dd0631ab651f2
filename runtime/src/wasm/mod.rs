//! The wasm host: compiles a job's component once ([`WasmEngine`]),
//! instantiates it per subtask chain in its own sandboxed store
//! ([`GuestInstance`]), and turns what crosses the boundary into runtime
//! types. This module holds the only `bindgen!`.

mod bindings;
mod context;
mod engine;
mod error;
mod host;
mod instance;
mod limits;
mod plan;

pub use context::{CallTime, ContextOutput};
pub use engine::{JobComponent, WasmEngine};
pub use error::WasmError;
pub use bindings::operator::SubtaskInfo;
pub use instance::{GuestInstance, InstanceSettings};
pub use limits::SlotMemory;
