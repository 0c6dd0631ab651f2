//! Mutual authentication of the connections between wflink processes
//! (TaskManager → JobManager RPC, TaskManager → TaskManager data), by the
//! cluster secret (`security.internal.secret`):
//!
//! 1. the client sends a random nonce ([`Hello`]);
//! 2. the server answers its own nonce and, if it has the secret, the
//!    HMAC of a server label and both nonces ([`Challenge`]);
//! 3. a client with the secret checks that proof and stops if it is
//!    missing or wrong, so a server without the secret never learns
//!    anything; otherwise it sends the HMAC of a client label and both
//!    nonces ([`Answer`]);
//! 4. a server with the secret checks it and says whether the connection
//!    may go on ([`Verdict`]), then closes it if not.
//!
//! The secret never travels, fresh nonces on both sides make a recorded
//! proof useless, and the two labels keep a server's proof from being
//! replayed as a client's. A process without a secret runs the same
//! exchange with empty proofs, so "off" is the default and a mismatch in
//! either direction is named. With a secret alone, the frames are still in
//! the clear: internal TLS (`security.ssl.internal.enabled`, [`Link`]) is
//! what hides the records themselves; the exchange then runs inside it.

use std::sync::OnceLock;
use std::time::Instant;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::handshake_messages::{Answer, Challenge, Hello, Verdict};
use super::limits::HANDSHAKE_TIMEOUT_KEY;
use super::link::Link;
use super::{FrameBound, FrameError, FrameReader, TimedStream, write_frame_within};
use crate::security::Secret;

/// Bytes of each side's nonce.
pub const NONCE_LEN: usize = 32;

/// The key of the cluster secret, named in errors.
pub const SECRET_KEY: &str = "security.internal.secret";
/// The key of the file that holds it.
pub const SECRET_FILE_KEY: &str = "security.internal.secret-file";

const SERVER_LABEL: &[u8] = b"wflink handshake v1: server";
const CLIENT_LABEL: &[u8] = b"wflink handshake v1: client";

/// Handshake frames are a few dozen bytes; nothing larger is read.
const BOUND: FrameBound = FrameBound { max: 1024, key: "the handshake's fixed limit of 1 KiB" };

/// Why a connection was not authenticated.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The connection failed, or a frame was malformed, too large or late.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The peer sent something that is not this handshake.
    #[error("{peer} does not speak wflink's handshake: {what}")]
    Protocol {
        /// Who.
        peer: String,
        /// What was wrong.
        what: String,
    },
    /// A client without the secret, at a server that has one.
    #[error("{peer} did not present the cluster secret ({SECRET_KEY}); refused")]
    Missing {
        /// Who.
        peer: String,
    },
    /// A client whose proof is wrong: it has another secret.
    #[error("{peer} presented a wrong cluster secret ({SECRET_KEY}); refused")]
    Wrong {
        /// Who.
        peer: String,
    },
    /// A server that did not prove it knows the secret this client has.
    #[error(
        "{peer} did not prove it knows the cluster secret ({SECRET_KEY} is set here; is the same secret set there?); not connecting"
    )]
    Unproven {
        /// Who.
        peer: String,
    },
    /// The server refused this client, saying why.
    #[error("{peer} refused this process: {reason}")]
    Refused {
        /// Who.
        peer: String,
        /// What the server said.
        reason: String,
    },
}

impl HandshakeError {
    /// Whether trying again cannot help: the two ends have different secrets.
    pub fn is_refusal(&self) -> bool {
        matches!(self, HandshakeError::Refused { .. } | HandshakeError::Unproven { .. })
    }
}

static SECRET: OnceLock<Option<Secret>> = OnceLock::new();

/// Sets this process's cluster secret; the first call wins (a process has
/// one configuration), later ones are ignored.
pub fn configure(secret: Option<Secret>) {
    let _ = SECRET.set(secret);
}

/// This process's cluster secret, if it has one.
pub fn cluster_secret() -> Option<&'static Secret> {
    SECRET.get_or_init(|| None).as_ref()
}

/// The server's side, on a connection just accepted from `peer`; every
/// frame must have arrived by `deadline`. Reads unbuffered, so nothing of
/// the connection's own protocol is read away.
pub fn server(stream: &Link, peer: &str, secret: Option<&Secret>, deadline: Instant) -> Result<(), HandshakeError> {
    let mut input = FrameReader::new(TimedStream::new(stream), BOUND, peer);
    let hello: Hello = expect(input.read_by(deadline, HANDSHAKE_TIMEOUT_KEY)?, peer, "a hello")?;
    nonce_ok(&hello.nonce, peer)?;
    let nonce = fresh_nonce();
    let parts = |label| [label, &hello.nonce[..], &nonce[..]];
    let proof = secret.map(|s| s.mac(&parts(SERVER_LABEL)).to_vec());
    send(stream, &Challenge { nonce: nonce.to_vec(), proof }, peer)?;
    let answer: Answer = expect(input.read_by(deadline, HANDSHAKE_TIMEOUT_KEY)?, peer, "an answer")?;
    let refusal = match (secret, answer.proof) {
        (None, _) => None,
        (Some(_), None) => Some(HandshakeError::Missing { peer: peer.to_string() }),
        (Some(secret), Some(proof)) if secret.verify(&parts(CLIENT_LABEL), &proof) => None,
        (Some(_), Some(_)) => Some(HandshakeError::Wrong { peer: peer.to_string() }),
    };
    match refusal {
        None => send(stream, &Verdict::Accepted, peer),
        Some(error) => {
            let reason = match error {
                HandshakeError::Missing { .. } => format!("it requires the cluster secret ({SECRET_KEY})"),
                _ => format!("the cluster secret ({SECRET_KEY}) does not match"),
            };
            let _ = send(stream, &Verdict::Refused(reason), peer);
            Err(error)
        }
    }
}

/// The client's side, on a connection just made to `peer`; every frame
/// must have arrived by `deadline`.
pub fn client(stream: &Link, peer: &str, secret: Option<&Secret>, deadline: Instant) -> Result<(), HandshakeError> {
    let mut input = FrameReader::new(TimedStream::new(stream), BOUND, peer);
    let nonce = fresh_nonce();
    send(stream, &Hello { nonce: nonce.to_vec() }, peer)?;
    let challenge: Challenge = expect(input.read_by(deadline, HANDSHAKE_TIMEOUT_KEY)?, peer, "a challenge")?;
    nonce_ok(&challenge.nonce, peer)?;
    let parts = |label| [label, &nonce[..], &challenge.nonce[..]];
    let proof = match secret {
        None => None,
        Some(secret) => match &challenge.proof {
            Some(proof) if secret.verify(&parts(SERVER_LABEL), proof) => {
                Some(secret.mac(&parts(CLIENT_LABEL)).to_vec())
            }
            _ => return Err(HandshakeError::Unproven { peer: peer.to_string() }),
        },
    };
    send(stream, &Answer { proof }, peer)?;
    match expect(input.read_by(deadline, HANDSHAKE_TIMEOUT_KEY)?, peer, "a verdict")? {
        Verdict::Accepted => Ok(()),
        Verdict::Refused(reason) => Err(HandshakeError::Refused { peer: peer.to_string(), reason }),
    }
}

fn send<T: Serialize>(stream: &Link, message: &T, peer: &str) -> Result<(), HandshakeError> {
    write_frame_within(&mut &*stream, message, &mut Vec::new(), &BOUND, peer)?;
    Ok(())
}

fn expect<T: DeserializeOwned>(frame: Option<T>, peer: &str, what: &str) -> Result<T, HandshakeError> {
    frame.ok_or_else(|| HandshakeError::Protocol {
        peer: peer.to_string(),
        what: format!("it closed the connection instead of sending {what}"),
    })
}

fn nonce_ok(nonce: &[u8], peer: &str) -> Result<(), HandshakeError> {
    if nonce.len() == NONCE_LEN {
        return Ok(());
    }
    Err(HandshakeError::Protocol { peer: peer.to_string(), what: format!("a nonce of {} bytes", nonce.len()) })
}

/// [`NONCE_LEN`] bytes from the operating system's random source (through
/// two version-4 UUIDs, 244 random bits, so no other crate is needed).
fn fresh_nonce() -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    nonce[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    nonce[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    nonce
}

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    use super::*;

    /// Runs the server with `server_secret` and the client with `client_secret` over loopback.
    fn shake(server_secret: Option<&str>, client_secret: Option<&str>) -> (Result<(), String>, Result<(), String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let server_secret = server_secret.map(Secret::new);
        let serving = std::thread::spawn(move || {
            let stream = Link::plain(listener.accept().unwrap().0);
            let deadline = Instant::now() + Duration::from_secs(5);
            server(&stream, "the client", server_secret.as_ref(), deadline).map_err(|e| e.to_string())
        });
        let stream = Link::plain(TcpStream::connect(address).unwrap());
        let deadline = Instant::now() + Duration::from_secs(5);
        let client_secret = client_secret.map(Secret::new);
        let client = client(&stream, "the server", client_secret.as_ref(), deadline).map_err(|e| e.to_string());
        drop(stream);
        (serving.join().unwrap(), client)
    }

    #[test]
    fn the_same_secret_or_none_is_accepted() {
        assert_eq!(shake(Some("s"), Some("s")), (Ok(()), Ok(())));
        assert_eq!(shake(None, None), (Ok(()), Ok(())));
    }

    #[test]
    fn a_client_without_or_with_another_secret_is_refused() {
        let (server, client) = shake(Some("s"), None);
        assert!(server.unwrap_err().contains("did not present the cluster secret"));
        assert!(client.unwrap_err().contains("requires the cluster secret"));
        // Another secret: the client already fails to verify the server, and hangs up.
        let (server, client) = shake(Some("s"), Some("t"));
        assert!(server.is_err());
        assert!(client.unwrap_err().contains("did not prove it knows the cluster secret"));
    }

    #[test]
    fn a_client_with_a_secret_does_not_trust_a_server_without() {
        let (server, client) = shake(None, Some("s"));
        assert!(client.unwrap_err().contains("did not prove it knows the cluster secret"));
        assert!(server.is_err(), "the client hung up instead of answering");
    }
}
