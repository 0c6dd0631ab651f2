//! The flat-buffer layouts that cross wflink's WebAssembly boundary, as
//! the WIT package `wflink:job` declares them in `wit/types.wit`, written
//! once for both sides: the host runtime (`wflink`) and the guest SDK
//! (`wflink-sdk`), which compiles to `wasm32-wasip2`. Hence `no_std`.
//!
//! Every layout is a set of byte buffers holding its items back to back,
//! each with a list of end offsets: item `i` of `values` is
//! `values[value_ends[i-1]..value_ends[i]]`. One allocation per field
//! instead of one per record is what makes a batch cheap to hand across
//! the canonical ABI. Buffers that come from the other side are checked
//! once ([`Batch::check`] and friends) so the per-item loops can slice
//! without bounds failures.
//!
//! | WIT record | type here |
//! |---|---|
//! | `batch` | [`Batch`] |
//! | `keyed-state` | [`KeyedState`] |
//! | `state-entries` | [`StateEntries`] |
//! | `timers` | [`Timers`] (with [`TimeDomain`]) |
//! | `plan` interface: `stream-plan`, `node`, `window-spec`, … | [`plan`] |
//!
//! [`ttl`] holds the stored form of state with a time to live, which both
//! sides read.

#![no_std]
#![warn(missing_docs)]

extern crate alloc;

mod batch;
mod ends;
mod keyed_state;
pub mod plan;
mod state_entries;
mod timers;
pub mod ttl;

pub use batch::Batch;
pub use ends::{LayoutError, check_count, check_ends, slice, slices};
pub use keyed_state::KeyedState;
pub use state_entries::{EntryAddress, StateEntries};
pub use timers::{TimeDomain, Timers};
