//! The wasm host: compiles a job's component once ([`WasmEngine`]),
//! instantiates it per subtask chain in its own sandboxed store
//! ([`GuestInstance`]), and turns what crosses the boundary into runtime
//! types. This module holds the only `bindgen!`.

mod artifact_cache;
mod bindings;
mod context;
mod contract;
mod engine;
mod error;
mod guest_output;
mod host;
mod instance;
mod interrupt;
mod limits;
mod plan;

pub use artifact_cache::{CACHE_DIR_ENV, cache_dir};
pub use bindings::operator::SubtaskInfo;
pub use context::{CallTime, ContextOutput};
pub use contract::WIT_PACKAGE;
pub use engine::{JobComponent, WasmEngine};
pub use error::WasmError;
pub use instance::{GuestInstance, InstanceSettings};
pub use interrupt::CancelFlag;
pub use limits::SlotMemory;
