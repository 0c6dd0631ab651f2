//! Batches and keyed state as flat buffers: the layouts of the WIT `batch`
//! and `keyed-state` records, shared with the runtime through
//! [`wflink_abi`], so the chain can be tested on the host.

pub(crate) use wflink_abi::{Batch, KeyedState, slices};
