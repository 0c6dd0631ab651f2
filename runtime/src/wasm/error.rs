//! What can go wrong between the host and a guest, each naming the thing
//! that was wrong.

use std::time::Duration;

/// A failure loading or running a component.
#[derive(Debug, thiserror::Error)]
pub enum WasmError {
    /// The bytes are not WebAssembly at all.
    #[error("not a WebAssembly component: the file does not start with the wasm magic bytes")]
    NotWasm,
    /// A core module was given where a component is needed.
    #[error(
        "a core WebAssembly module, not a component: build the job for the wasm32-wasip2 target (e.g. `wflink build DIR`)"
    )]
    CoreModule,
    /// The component does not compile (malformed or uses unsupported features).
    #[error("invalid WebAssembly component: {0}")]
    Compile(String),
    /// The component is valid but is not a wflink job.
    #[error("the component does not implement the wflink:job@0.6.0 world: {0}")]
    WrongWorld(String),
    /// The component was built against another, incompatible version of
    /// the WIT package; rebuilding it against this wflink's `wit/` helps.
    #[error(
        "the component was built against {found}, but this wflink runs jobs of {expected}: rebuild the job against the WIT of this wflink (e.g. `wflink build DIR`)"
    )]
    WitVersion {
        /// The package version this runtime implements.
        expected: String,
        /// The version the component uses.
        found: String,
    },
    /// Instantiating the component failed (e.g. its start-up trapped).
    #[error("failed to instantiate the job's component: {0}")]
    Instantiate(String),
    /// The guest trapped (a panic, an out-of-bounds access, out of memory).
    #[error("guest trapped in '{function}': {message}{}", stderr_suffix(.stderr))]
    Trap {
        /// The export that was running.
        function: &'static str,
        /// The trap as wasmtime reports it.
        message: String,
        /// The end of what the guest wrote to stderr (its panic message).
        stderr: String,
    },
    /// A guest call ran past its deadline.
    #[error(
        "guest call '{function}' ran longer than the {timeout:?} deadline ({}) and was stopped",
        timeout_key(function)
    )]
    Timeout {
        /// The export that was running.
        function: &'static str,
        /// The deadline.
        timeout: Duration,
    },
    /// The task was cancelled while the guest ran (never reported as a
    /// failure: the task ends CANCELED).
    #[error("guest call '{function}' stopped: the task was cancelled")]
    Cancelled {
        /// The export that was running.
        function: &'static str,
    },
    /// The guest called `exit` (e.g. `std::process::exit`, `sys.exit`).
    #[error("the job called exit({code}) in '{function}'")]
    Exit {
        /// The export that was running.
        function: &'static str,
        /// The exit code the guest gave.
        code: i32,
    },
    /// The guest returned an error of its own.
    #[error("{0}")]
    Job(String),
    /// The guest returned data that breaks the contract (bad offsets).
    #[error("the guest returned malformed data from '{function}': {detail}")]
    Contract {
        /// The export that was running.
        function: &'static str,
        /// What was wrong.
        detail: String,
    },
}

/// The configuration key that sets the deadline of `function`.
fn timeout_key(function: &str) -> &'static str {
    if function == "describe" { "wasm.describe.timeout" } else { "wasm.call-timeout" }
}

pub(super) fn stderr_suffix(stderr: &str) -> String {
    if stderr.trim().is_empty() { String::new() } else { format!("; guest stderr: {}", stderr.trim()) }
}
