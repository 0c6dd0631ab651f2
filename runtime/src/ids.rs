//! Identifiers that users see: job ids as Flink prints them (32 lowercase
//! hex characters), and the ids of graph elements.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Identifies one job run, shown as 32 hex characters like Flink's `JobID`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JobId(u128);

impl JobId {
    /// A fresh random id.
    pub fn random() -> Self {
        JobId(uuid::Uuid::new_v4().as_u128())
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a string is not a job id.
#[derive(Debug, thiserror::Error)]
#[error("invalid job id '{0}': expected 32 hexadecimal characters")]
pub struct InvalidJobId(pub String);

impl FromStr for JobId {
    type Err = InvalidJobId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(InvalidJobId(s.to_string()));
        }
        u128::from_str_radix(s, 16).map(JobId).map_err(|_| InvalidJobId(s.to_string()))
    }
}

/// Index of a vertex in a [`JobGraph`](crate::graph::JobGraph).
pub type VertexIndex = usize;

/// Id of a node in the StreamGraph, as the job's `describe` assigned it.
pub type NodeId = u32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_id_round_trips_as_32_hex_chars() {
        let id = JobId::random();
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(text.parse::<JobId>().unwrap(), id);
        assert!("xyz".parse::<JobId>().is_err());
        assert!("g".repeat(32).parse::<JobId>().is_err());
    }
}
