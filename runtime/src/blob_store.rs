//! The components of submitted jobs by content hash, so TaskManager
//! processes can fetch each one once (Flink's BlobServer).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Component bytes by content hash.
#[derive(Default)]
pub struct BlobStore {
    blobs: Mutex<HashMap<String, Arc<[u8]>>>,
}

/// The content hash wflink names components by: xxh3-128, 32 hex chars
/// (the same as [`JobComponent::hash`](crate::wasm::JobComponent)).
pub fn content_hash(bytes: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
}

impl BlobStore {
    /// Keeps `bytes`; returns their hash.
    pub fn put(&self, bytes: Arc<[u8]>) -> String {
        let hash = content_hash(&bytes);
        self.blobs.lock().expect("blob store poisoned").entry(hash.clone()).or_insert(bytes);
        hash
    }

    /// The bytes with `hash`, if kept.
    pub fn get(&self, hash: &str) -> Option<Arc<[u8]>> {
        self.blobs.lock().expect("blob store poisoned").get(hash).cloned()
    }
}
