//! Who may use a cluster. Everything here is off by default, as in Flink,
//! and each part is turned on by one key:
//! - [`secret`]: the cluster secret (`security.internal.secret`), and the
//!   constant-time comparisons every check here uses;
//! - [`handshake`]: how the two ends of an RPC or data connection prove to
//!   each other that they know the secret, without sending it;
//! - [`messages`]: the frames of that handshake;
//! - [`io_roots`]: the directories jobs may read and write
//!   (`wflink.io.allowed-paths`).
//!
//! The REST side (bearer token, `Origin`/`Host` checks, `web.submit.enable`)
//! is [`crate::rest`]'s guard, built on [`secret::Secret`].

pub mod handshake;
pub mod io_roots;
pub mod messages;
pub mod secret;

pub use handshake::{HandshakeError, cluster_secret};
pub use io_roots::{ForbiddenPath, IoRoots};
pub use secret::{Secret, SecretError};
