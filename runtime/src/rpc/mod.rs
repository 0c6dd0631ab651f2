//! The control connection between the JobManager and each TaskManager
//! process ([`Connection`]) and the messages on it ([`protocol`]), as
//! length-prefixed MessagePack frames (`network::frame`), bounded in size,
//! time and number of connections (`network::limits`).

mod connection;
pub mod protocol;

pub use connection::{Connection, Incoming};
