//! How records travel between tasks: batches of records in flat buffers
//! ([`Batch`]), control messages beside them ([`StreamMessage`]:
//! watermarks, checkpoint barriers), aligned by the [`InputGate`],
//! bounded channels that block a fast producer (backpressure), and the
//! [`OutputWriter`] that partitions a task's output and sends each batch
//! when it is full or has waited `execution.buffer-timeout`. Channels
//! are found by [`ChannelKey`] in a [`ChannelRegistry`]; between
//! processes they run over TCP ([`tcp`]) or TLS ([`Link`]), after a
//! [`handshake`] that proves both ends know the cluster secret when one
//! is set.

mod channel;
pub mod frame;
mod gate;
pub mod handshake;
pub mod handshake_messages;
pub mod limits;
pub mod link;
mod message;
mod output;
mod registry;
pub mod tcp;

pub use channel::{CHANNEL_CAPACITY, LOW_LATENCY_SPIN, OutputChannel, SendError, bounded};
pub use frame::{FrameError, FrameReader, TimedStream, read_frame, write_frame, write_frame_within};
pub use gate::{GateEvent, InputGate};
pub use limits::{ConnectionLimit, ConnectionPermit, FrameBound, FrameLimits, limits};
pub use link::Link;
pub use message::{StreamMessage, Tagged};
pub use output::{BATCH_BYTES, BATCH_RECORDS, OutputWriter};
pub use registry::{ChannelKey, ChannelRegistry};
/// A batch of records: the layout that crosses the WASM boundary, shared
/// with the SDK ([`wflink_abi`]), so handing a batch to a guest moves
/// buffers instead of converting records.
pub use wflink_abi::Batch;
