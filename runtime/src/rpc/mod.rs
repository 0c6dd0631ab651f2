//! Messages between processes: length-prefixed MessagePack (rmp-serde)
//! frames over TCP ([`frame`]), bounded in size, time and number of
//! connections ([`limits`]), for the control messages between JobManager
//! and TaskManagers ([`protocol`]) and for records between TaskManagers
//! ([`crate::network::tcp`]).

mod connection;
pub mod frame;
pub mod limits;
pub mod protocol;

pub use connection::{Connection, Incoming};
pub use frame::{FrameError, FrameReader, TimedStream, read_frame, write_frame, write_frame_within};
pub use limits::{ConnectionLimit, ConnectionPermit, FrameBound, FrameLimits, limits};
