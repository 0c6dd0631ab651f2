//! How a TaskManager process registers with the JobManager: connect,
//! send its registration, and wait for the JobManager to confirm it. At
//! start this is tried for a bounded time (a wrong `--jobmanager` must
//! fail); after the JobManager is lost it is retried with a bounded
//! exponential back-off for as long as the TaskManager lives, as Flink's
//! TaskExecutor keeps trying to reach its ResourceManager.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use actix::{Addr, Message};

use super::TaskExecutor;
use crate::network::handshake::{self, HandshakeError, cluster_secret};
use crate::network::{FrameError, Link, read_frame, write_frame};
use crate::rpc::protocol::{TaskManagerRegistration, ToJobManager, ToTaskManager};

/// How long one attempt may take to connect and to be answered.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why one registration attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// The address does not resolve.
    #[error("cannot resolve the JobManager address {address}: {source}")]
    Resolve {
        /// `HOST:PORT` as given.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// Nothing accepts connections there (yet).
    #[error("cannot connect to the JobManager at {address}: {source}")]
    Connect {
        /// `HOST:PORT` as given.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// The JobManager and this TaskManager do not share the cluster secret;
    /// trying again cannot help.
    #[error("the JobManager at {address} and this TaskManager do not share the cluster secret: {source}")]
    Refused {
        /// `HOST:PORT` as given.
        address: String,
        /// Which side refused, and why.
        source: HandshakeError,
    },
    /// The connection broke before the JobManager confirmed.
    #[error("the JobManager at {address} did not confirm the registration: {reason}")]
    Unconfirmed {
        /// `HOST:PORT` as given.
        address: String,
        /// What happened instead.
        reason: String,
    },
}

/// The waits between registration attempts: `initial`, doubling up to `max`
/// (`taskmanager.registration.initial-backoff` / `max-backoff`).
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The first wait.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Backoff {
    /// The wait after `failures` failed attempts (1 for the first).
    pub fn delay(&self, failures: u32) -> Duration {
        let doubled =
            self.initial.saturating_mul(1u32.checked_shl(failures.saturating_sub(1).min(31)).unwrap_or(u32::MAX));
        doubled.min(self.max).max(Duration::from_millis(1))
    }
}

/// Connects to `address`, sends `registration` and waits for the
/// JobManager's confirmation; the stream is then ready for
/// [`crate::rpc::Connection::start`].
pub fn register(address: &str, registration: &TaskManagerRegistration) -> Result<Link, RegistrationError> {
    let targets: Vec<SocketAddr> = address
        .to_socket_addrs()
        .map_err(|source| RegistrationError::Resolve { address: address.to_string(), source })?
        .collect();
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "the address resolves to nothing");
    let stream = targets
        .iter()
        .find_map(|target| TcpStream::connect_timeout(target, ATTEMPT_TIMEOUT).map_err(|e| last = e).ok())
        .ok_or_else(|| RegistrationError::Connect { address: address.to_string(), source: last })?;
    let unconfirmed = |reason: String| RegistrationError::Unconfirmed { address: address.to_string(), reason };
    let frame_error = |e: FrameError| unconfirmed(e.to_string());
    let deadline = Instant::now() + ATTEMPT_TIMEOUT;
    // TLS first when it is on (security.ssl.internal.enabled), then the secret inside it.
    let stream = Link::client(stream, address, deadline).map_err(|e| unconfirmed(e.to_string()))?;
    match handshake::client(&stream, address, cluster_secret(), deadline) {
        Ok(()) => {}
        Err(source) if source.is_refusal() => {
            return Err(RegistrationError::Refused { address: address.to_string(), source });
        }
        Err(e) => return Err(unconfirmed(e.to_string())),
    }
    stream.socket().set_read_timeout(Some(ATTEMPT_TIMEOUT)).map_err(|e| unconfirmed(e.to_string()))?;
    write_frame(&mut &stream, &ToJobManager::Register(registration.clone()), &mut Vec::new()).map_err(frame_error)?;
    // Unbuffered, so nothing after the confirmation is read away from the connection.
    match read_frame::<_, ToTaskManager>(&mut &stream, &mut Vec::new()).map_err(frame_error)? {
        Some(ToTaskManager::Registered) => {}
        Some(other) => return Err(unconfirmed(format!("it answered {other:?}"))),
        None => return Err(unconfirmed("it closed the connection".into())),
    }
    stream.socket().set_read_timeout(None).map_err(|e| unconfirmed(e.to_string()))?;
    Ok(stream)
}

/// Registers at start, retrying with `backoff` until `deadline` has passed;
/// a refusal for the cluster secret ends it at once.
pub fn register_at_start(
    address: &str,
    registration: &TaskManagerRegistration,
    backoff: Backoff,
    deadline: Duration,
) -> Result<Link, RegistrationError> {
    let started = Instant::now();
    let mut failures = 0;
    loop {
        match register(address, registration) {
            Ok(stream) => return Ok(stream),
            Err(e @ RegistrationError::Refused { .. }) => return Err(e),
            Err(e) if started.elapsed() >= deadline => return Err(e),
            Err(_) => {
                failures += 1;
                std::thread::sleep(backoff.delay(failures));
            }
        }
    }
}

/// A new, confirmed connection to the JobManager after the old one was lost.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Reregistered {
    /// The connection, past the registration.
    pub stream: Link,
}

/// Retries the registration on a thread of its own until it succeeds
/// (then delivers [`Reregistered`]) or `executor` has stopped. Sleeping
/// here never holds up the process: a signal still ends it at once.
pub fn reregister_in_background(
    address: String,
    registration: TaskManagerRegistration,
    backoff: Backoff,
    executor: Addr<TaskExecutor>,
) -> std::io::Result<()> {
    std::thread::Builder::new().name("reregister".into()).spawn(move || {
        let mut failures = 0u32;
        while executor.connected() {
            match register(&address, &registration) {
                Ok(stream) => {
                    tracing::info!(jobmanager = %address, attempts = failures + 1, "registered again with the JobManager");
                    executor.do_send(Reregistered { stream });
                    return;
                }
                Err(e) => {
                    failures += 1;
                    let wait = backoff.delay(failures);
                    // The first failures are expected while a JobManager restarts; later ones say it stays away.
                    if failures.is_power_of_two() {
                        tracing::warn!(error = %e, attempts = failures, retry_in = ?wait, "the JobManager does not answer yet");
                    }
                    std::thread::sleep(wait);
                }
            }
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_bound() {
        let backoff = Backoff { initial: Duration::from_millis(100), max: Duration::from_secs(5) };
        let waits: Vec<u128> = (1..=9).map(|n| backoff.delay(n).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
        assert_eq!(backoff.delay(u32::MAX), Duration::from_secs(5));
        let zero = Backoff { initial: Duration::ZERO, max: Duration::ZERO };
        assert_eq!(zero.delay(3), Duration::from_millis(1), "never spins");
    }

    #[test]
    fn an_unreachable_jobmanager_is_named() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        drop(listener);
        let registration = TaskManagerRegistration {
            id: "tm".into(),
            slots: 1,
            data_address: "127.0.0.1:1".into(),
            memory_bytes: 0,
            cpu_cores: 1,
            physical_memory: 0,
        };
        let err = register(&address, &registration).unwrap_err();
        assert!(err.to_string().contains(&address), "{err}");
    }
}
