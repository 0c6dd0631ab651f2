//! The components of submitted jobs by content hash, so TaskManager
//! processes can fetch each one once (Flink's BlobServer). A JobManager
//! process keeps them on disk under `blob.storage.directory`, as Flink
//! does, so every job it ever ran does not stay in its memory; the
//! in-process cluster keeps them in memory (nothing fetches them there).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Component bytes by content hash.
#[derive(Default)]
pub struct BlobStore {
    /// In memory: the in-process cluster, and what could not be written.
    blobs: Mutex<HashMap<String, Arc<[u8]>>>,
    /// Where blobs are files, if anywhere.
    dir: Option<BlobDir>,
}

struct BlobDir {
    path: PathBuf,
    /// Whether this process made it, and so removes it at the end.
    created: bool,
}

/// The content hash wflink names components by: xxh3-128, 32 hex chars
/// (the same as [`JobComponent::hash`](crate::wasm::JobComponent)).
pub fn content_hash(bytes: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
}

impl BlobStore {
    /// A store keeping its blobs as files in `dir` (created if missing).
    pub fn in_dir(dir: PathBuf) -> std::io::Result<Self> {
        let created = !dir.exists();
        std::fs::create_dir_all(&dir)?;
        Ok(BlobStore { blobs: Mutex::default(), dir: Some(BlobDir { path: dir, created }) })
    }

    /// Keeps `bytes`; returns their hash. A blob that cannot be written is
    /// kept in memory (logged), so the job still runs.
    pub fn put(&self, bytes: Arc<[u8]>) -> String {
        let hash = content_hash(&bytes);
        if let Some(dir) = &self.dir {
            let path = dir.path.join(&hash);
            match write_once(&path, &bytes) {
                Ok(()) => return hash,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot store a component; keeping it in memory")
                }
            }
        }
        self.blobs.lock().expect("blob store poisoned").entry(hash.clone()).or_insert(bytes);
        hash
    }

    /// The bytes with `hash`, if kept.
    pub fn get(&self, hash: &str) -> Option<Arc<[u8]>> {
        if let Some(bytes) = self.blobs.lock().expect("blob store poisoned").get(hash).cloned() {
            return Some(bytes);
        }
        let dir = self.dir.as_ref()?;
        // Hashes are hex; anything else names no file of ours.
        if hash.is_empty() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        std::fs::read(dir.path.join(hash)).ok().map(Into::into)
    }

    /// Deletes the folder if this process made it: the JobManager is stopping.
    pub fn clean_up(&self) {
        if let Some(dir) = self.dir.as_ref().filter(|d| d.created)
            && let Err(e) = std::fs::remove_dir_all(&dir.path)
        {
            tracing::debug!(dir = %dir.path.display(), error = %e, "the blob directory stays");
        }
    }
}

/// Writes `bytes` to `path` unless it is there already (same hash, same
/// bytes), through a temporary file so a reader never sees half of it.
fn write_once(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if path.is_file() {
        return Ok(());
    }
    let temporary = path.with_extension("part");
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_on_disk_are_files_not_memory_and_go_at_the_end() {
        let dir = std::env::temp_dir().join(format!("wflink-blobs-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = BlobStore::in_dir(dir.clone()).unwrap();
        let hash = store.put(Arc::from(&b"component"[..]));
        assert!(store.blobs.lock().unwrap().is_empty(), "nothing is held in memory");
        assert_eq!(store.put(Arc::from(&b"component"[..])), hash, "a second put of the same bytes is the same blob");
        assert_eq!(&*store.get(&hash).unwrap(), b"component");
        assert!(store.get("../etc").is_none() && store.get("0123").is_none());
        store.clean_up();
        assert!(!dir.exists());
    }
}
