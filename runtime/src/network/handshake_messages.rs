//! The frames of the connection handshake ([`super::handshake`]), in the
//! order they travel: client, server, client, server.

use serde::{Deserialize, Serialize};

/// Client → server: a fresh random nonce.
#[derive(Debug, Serialize, Deserialize)]
pub struct Hello {
    /// [`super::handshake::NONCE_LEN`] random bytes.
    pub nonce: Vec<u8>,
}

/// Server → client: its own nonce, and its proof that it knows the
/// cluster secret (none when it has no secret).
#[derive(Debug, Serialize, Deserialize)]
pub struct Challenge {
    /// [`super::handshake::NONCE_LEN`] random bytes.
    pub nonce: Vec<u8>,
    /// HMAC of the server label and both nonces under the secret.
    pub proof: Option<Vec<u8>>,
}

/// Client → server: the client's proof (none when it has no secret).
#[derive(Debug, Serialize, Deserialize)]
pub struct Answer {
    /// HMAC of the client label and both nonces under the secret.
    pub proof: Option<Vec<u8>>,
}

/// Server → client: whether the connection may go on.
#[derive(Debug, Serialize, Deserialize)]
pub enum Verdict {
    /// It may; the connection's own protocol starts.
    Accepted,
    /// It may not, and why; the server closes the connection.
    Refused(String),
}
