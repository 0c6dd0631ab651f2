//! Host connectors: where records enter a job (sources) and where they
//! leave it (sinks). They run in the host, outside the sandbox, so a job
//! reads and writes only what its plan names.
//!
//! Text sources emit each line as a MessagePack string; text sinks render
//! MessagePack values as text ([`render`]).

pub mod formats;
pub mod kafka;
pub mod render;
pub mod sinks;
pub mod sources;

use std::io;

/// A connector that cannot be opened or that failed while running.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The plan names a connector that does not exist.
    #[error("unknown {kind} connector '{name}' (known: {known})")]
    Unknown {
        /// "source" or "sink".
        kind: &'static str,
        /// The name given.
        name: String,
        /// The names that exist.
        known: &'static str,
    },
    /// An option is missing or has a bad value.
    #[error("the '{connector}' connector: {problem}")]
    BadOption {
        /// Connector name.
        connector: String,
        /// What is wrong, naming the option.
        problem: String,
    },
    /// The path lies outside `wflink.io.allowed-paths`.
    #[error(transparent)]
    Forbidden(#[from] crate::security::ForbiddenPath),
    /// A record its format cannot read, with `bad-records=fail`.
    #[error("bad record at {position}: {problem} (bad-records=skip would skip it)")]
    BadRecord {
        /// Where it is: topic, partition and offset, or file and line.
        position: String,
        /// What is wrong with it.
        problem: String,
    },
    /// Reading or writing failed, naming the file or address.
    #[error("{what}: {cause}")]
    Io {
        /// The file or address involved.
        what: String,
        /// The underlying error (part of the message, not a separate cause).
        cause: io::Error,
    },
}

impl ConnectorError {
    pub(crate) fn io(what: impl Into<String>, source: io::Error) -> Self {
        ConnectorError::Io { what: what.into(), cause: source }
    }

    pub(crate) fn option(connector: &str, problem: impl Into<String>) -> Self {
        ConnectorError::BadOption { connector: connector.to_string(), problem: problem.into() }
    }
}
