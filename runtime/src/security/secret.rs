//! Secrets from the configuration (a value, or a file that holds it so it
//! stays off command lines and out of `ps`), compared in constant time and
//! never shown: their `Debug` is a mask.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::config::{Configuration, MASK};

/// Why a secret could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The file named by the `-file` key cannot be read.
    #[error("cannot read the file '{path}' named by {key}: {source}")]
    File {
        /// The key.
        key: &'static str,
        /// Its value.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The secret is empty or blank.
    #[error("{key} is set but empty")]
    Empty {
        /// The key that named it.
        key: &'static str,
    },
}

/// A secret: a cluster secret or a REST token.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(MASK)
    }
}

impl Secret {
    /// A secret of these bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }

    /// The secret set by `key`, else by the file `file_key` names (its
    /// content, without the trailing newline), else none.
    pub fn from_config(
        config: &Configuration,
        key: &'static str,
        file_key: &'static str,
    ) -> Result<Option<Secret>, SecretError> {
        let value = config.text(key);
        if !value.is_empty() {
            return Ok(Some(Secret(value.into_bytes())));
        }
        let file = config.text(file_key);
        if file.is_empty() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(Path::new(&file)).map_err(|source| SecretError::File {
            key: file_key,
            path: file.clone(),
            source,
        })?;
        let text = text.trim();
        if text.is_empty() {
            return Err(SecretError::Empty { key: file_key });
        }
        Ok(Some(Secret(text.as_bytes().to_vec())))
    }

    /// Whether `offered` is this secret, in time that does not depend on
    /// where they differ (both are hashed first, so not on their lengths either).
    pub fn matches(&self, offered: &[u8]) -> bool {
        constant_time_eq(&Sha256::digest(&self.0), &Sha256::digest(offered))
    }

    /// HMAC-SHA-256 of `parts` (concatenated) under this secret.
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        hmac_sha256(&self.0, parts)
    }

    /// Whether `proof` is the HMAC of `parts` under this secret, compared in constant time.
    pub fn verify(&self, parts: &[&[u8]], proof: &[u8]) -> bool {
        constant_time_eq(&self.mac(parts), proof)
    }
}

/// HMAC-SHA-256 (RFC 2104) of the concatenation of `parts` under `key`.
/// Written out over `sha2` (which wasmtime already builds) rather than
/// adding a crate for its dozen lines; checked against RFC 4231 below.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Whether `a == b`, in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Keeps the compiler from ending the loop early on a difference.
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2.
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(hex(&mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        // Test case 6: a key longer than a block.
        let mac = hmac_sha256(&[0xaa; 131], &[b"Test Using Larger Than Block-Size Key - Hash Key First"]);
        assert_eq!(hex(&mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn secrets_compare_and_never_show() {
        let secret = Secret::new("s3cret");
        assert!(secret.matches(b"s3cret"));
        assert!(!secret.matches(b"s3cret "));
        assert!(!secret.matches(b""));
        assert_eq!(format!("{secret:?}"), MASK);
        assert!(
            constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd") && !constant_time_eq(b"a", b"ab")
        );
    }

    #[test]
    fn a_secret_comes_from_its_key_or_its_file() {
        let dir = std::env::temp_dir().join(format!("wflink-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("secret");
        std::fs::write(&file, "from-file\n").unwrap();
        let keys = ("security.internal.secret", "security.internal.secret-file");
        let config = Configuration::default()
            .with_overrides(&[format!("security.internal.secret-file={}", file.display())])
            .unwrap();
        assert!(Secret::from_config(&config, keys.0, keys.1).unwrap().unwrap().matches(b"from-file"));
        let config = config.with_overrides(&["security.internal.secret=inline"]).unwrap();
        assert!(Secret::from_config(&config, keys.0, keys.1).unwrap().unwrap().matches(b"inline"));
        assert!(Secret::from_config(&Configuration::default(), keys.0, keys.1).unwrap().is_none());
        let missing = Configuration::default()
            .with_overrides(&[format!("security.internal.secret-file={}", dir.join("nope").display())])
            .unwrap();
        let err = Secret::from_config(&missing, keys.0, keys.1).unwrap_err().to_string();
        assert!(err.contains("security.internal.secret-file") && err.contains("nope"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
