//! Who may use a cluster. Everything here is off by default, as in Flink,
//! and each part is turned on by one key:
//! - [`secret`]: secrets from the configuration (the cluster secret
//!   `security.internal.secret`, the REST token), compared in constant
//!   time, never shown;
//! - [`io_roots`]: the directories jobs may read and write
//!   (`wflink.io.allowed-paths`).
//!
//! Where they are enforced: the handshake by which the two ends of an RPC
//! or data connection prove they know the cluster secret is
//! `network::handshake`; the REST side (bearer token, `Origin`/`Host`
//! checks, `web.submit.enable`) is the guard of `rest`. This module
//! depends on the configuration only, so both can use it.

pub mod io_roots;
pub mod secret;
pub mod tls;

pub use io_roots::{ForbiddenPath, IoRoots};
pub use secret::{Secret, SecretError};
