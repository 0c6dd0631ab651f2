//! The bounds on what a peer can make a process hold: frame sizes and
//! read timeouts ([`FrameLimits`], set once per process from its
//! configuration) and the number of open connections per server
//! ([`ConnectionLimit`]).

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::config::{ConfigError, Configuration};

/// Key of the RPC frame bound (Flink's name for the largest message
/// between JobManager and TaskManagers).
pub const RPC_FRAME_KEY: &str = "pekko.framesize";
/// Key of the data frame bound.
pub const DATA_FRAME_KEY: &str = "taskmanager.network.max-frame-size";
/// Key of the handshake timeout.
pub const HANDSHAKE_TIMEOUT_KEY: &str = "network.handshake-timeout";

/// Room on top of the largest upload for the rest of the message that carries it.
const RPC_HEADROOM: u64 = 1 << 20;

/// The largest frame one kind of connection accepts, and the key that sets it.
#[derive(Debug, Clone, Copy)]
pub struct FrameBound {
    /// Bytes.
    pub max: usize,
    /// Named in errors, so the reader knows what to raise.
    pub key: &'static str,
}

/// How frames are bounded in this process.
#[derive(Debug, Clone)]
pub struct FrameLimits {
    /// Largest control frame: a component travels to TaskManagers in one,
    /// so by default the upload limit plus [`RPC_HEADROOM`].
    pub rpc_max: usize,
    /// Largest data frame: one batch, as big as its largest record.
    pub data_max: usize,
    /// A frame that has begun must end within this (`network.read-timeout`).
    pub read_timeout: Duration,
    /// A new connection must deliver its first message within this
    /// (`network.handshake-timeout`).
    pub handshake_timeout: Duration,
}

impl Default for FrameLimits {
    fn default() -> Self {
        FrameLimits::from_config(&Configuration::default()).expect("the defaults are valid")
    }
}

impl FrameLimits {
    /// The limits `config` sets.
    pub fn from_config(config: &Configuration) -> Result<Self, ConfigError> {
        let rpc_max = match config.text(RPC_FRAME_KEY) {
            empty if empty.is_empty() => {
                config.memory_size("rest.server.max-content-length")?.saturating_add(RPC_HEADROOM)
            }
            _ => config.memory_size(RPC_FRAME_KEY)?,
        };
        Ok(FrameLimits {
            rpc_max: clamp(rpc_max),
            data_max: clamp(config.memory_size(DATA_FRAME_KEY)?),
            read_timeout: config.duration("network.read-timeout")?,
            handshake_timeout: config.duration(HANDSHAKE_TIMEOUT_KEY)?,
        })
    }

    /// The bound of control connections.
    pub fn rpc(&self) -> FrameBound {
        FrameBound { max: self.rpc_max, key: RPC_FRAME_KEY }
    }

    /// The bound of record connections.
    pub fn data(&self) -> FrameBound {
        FrameBound { max: self.data_max, key: DATA_FRAME_KEY }
    }
}

/// Frame lengths travel as u32.
fn clamp(bytes: u64) -> usize {
    bytes.min(u32::MAX as u64) as usize
}

static LIMITS: OnceLock<FrameLimits> = OnceLock::new();

/// Sets this process's limits; the first call wins (a process has one
/// configuration), later ones are ignored.
pub fn configure(limits: FrameLimits) {
    let _ = LIMITS.set(limits);
}

/// This process's limits: as configured, else the defaults.
pub fn limits() -> &'static FrameLimits {
    LIMITS.get_or_init(FrameLimits::default)
}

/// A cap on the connections a server holds open at once; the key that
/// sets it is named when a connection is refused.
#[derive(Debug, Clone)]
pub struct ConnectionLimit {
    open: Arc<AtomicUsize>,
    max: usize,
    key: &'static str,
}

/// One open connection's place under a [`ConnectionLimit`], given back when dropped.
#[derive(Debug)]
pub struct ConnectionPermit(Arc<AtomicUsize>);

impl ConnectionLimit {
    /// At most `max` connections, set by `key`.
    pub fn new(max: usize, key: &'static str) -> Self {
        ConnectionLimit { open: Arc::new(AtomicUsize::new(0)), max, key }
    }

    /// The cap from the positive integer at `key`.
    pub fn from_config(config: &Configuration, key: &'static str) -> Result<Self, ConfigError> {
        Ok(Self::new(config.positive_int(key)? as usize, key))
    }

    /// A place for one more connection, or `None` when all are taken.
    pub fn try_acquire(&self) -> Option<ConnectionPermit> {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| (open < self.max).then_some(open + 1))
            .ok()
            .map(|_| ConnectionPermit(self.open.clone()))
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// The cap.
    pub fn max(&self) -> usize {
        self.max
    }

    /// The key that sets the cap.
    pub fn key(&self) -> &'static str {
        self.key
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rpc_bound_follows_the_upload_limit_unless_set() {
        let limits = FrameLimits::default();
        assert_eq!(limits.rpc_max, (100 << 20) + (1 << 20));
        assert_eq!(limits.data_max, 64 << 20);
        let config = Configuration::default().with_overrides(&["rest.server.max-content-length=10m"]).unwrap();
        assert_eq!(FrameLimits::from_config(&config).unwrap().rpc_max, 11 << 20);
        let config = Configuration::default().with_overrides(&["pekko.framesize=2m"]).unwrap();
        assert_eq!(FrameLimits::from_config(&config).unwrap().rpc_max, 2 << 20);
    }

    #[test]
    fn permits_are_capped_and_given_back() {
        let limit = ConnectionLimit::new(2, "test.max-connections");
        let a = limit.try_acquire().unwrap();
        let _b = limit.try_acquire().unwrap();
        assert!(limit.try_acquire().is_none());
        drop(a);
        assert_eq!(limit.open(), 1);
        assert!(limit.try_acquire().is_some());
    }
}
