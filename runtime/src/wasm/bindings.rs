//! Host bindings generated from `wit/` (the `wflink:job` world).

wasmtime::component::bindgen!({
    path: "../wit",
    world: "stream-job",
});

pub use exports::wflink::job::operator;
pub use wflink::job::{logging, metrics, plan, state, types};
