//! Where checkpoint and savepoint files live: an [`ObjectStore`] under a
//! root location. A plain directory (or `file://` URL) is the embedded
//! default, written with fsync before the rename that publishes a file,
//! so a file that exists is whole; other object stores are reached by URL
//! when the binary is built with their `object_store` feature.
//!
//! Tasks call the blocking methods from their own threads; actors use the
//! `_async` ones. Both run the store's I/O on one small runtime owned by
//! this module, so neither the task threads nor actix's event loop need a
//! tokio runtime of their own.

use std::ops::Range;
use std::sync::{Arc, LazyLock};

use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// The runtime checkpoint I/O runs on.
static IO: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("checkpoint-io")
        .enable_all()
        .build()
        .expect("the checkpoint I/O runtime starts")
});

/// Why a checkpoint file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The configured location is not a directory or a known URL.
    #[error("invalid checkpoint location '{location}': {reason}")]
    InvalidLocation {
        /// The location as configured.
        location: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The store failed (not found, disk full, permission, network).
    #[error("checkpoint storage {location}: {source}")]
    Store {
        /// The file or directory concerned.
        location: String,
        /// The store's error.
        #[source]
        source: object_store::Error,
    },
    /// The I/O runtime dropped the operation (the process is stopping).
    #[error("checkpoint storage {0}: the I/O runtime stopped")]
    Stopped(String),
}

impl StorageError {
    /// Whether the file simply does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StorageError::Store { source: object_store::Error::NotFound { .. }, .. })
    }
}

/// A checkpoint storage location: cheap to clone, shared by the
/// coordinator and the tasks of a process.
#[derive(Clone)]
pub struct CheckpointStorage {
    store: Arc<dyn ObjectStore>,
    /// Path of the root within the store.
    root: Path,
    /// The location as the user configured it, for messages and restores.
    location: String,
}

impl std::fmt::Debug for CheckpointStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointStorage").field("location", &self.location).finish()
    }
}

impl CheckpointStorage {
    /// Opens `location`: a directory path (created if missing), a
    /// `file://` URL, or another object store URL (`s3://bucket/prefix`, …)
    /// supported by this build.
    pub fn open(location: &str) -> Result<Self, StorageError> {
        let invalid = |reason: String| StorageError::InvalidLocation { location: location.to_string(), reason };
        let trimmed = location.trim();
        if trimmed.is_empty() {
            return Err(invalid("the location is empty".into()));
        }
        let directory = match url::Url::parse(trimmed) {
            Ok(url) if url.scheme() == "file" => {
                Some(url.to_file_path().map_err(|()| invalid("not a local file URL".into()))?)
            }
            // A Windows-style `C:\…` parses as a URL with a one-letter scheme.
            Ok(url) if url.scheme().len() > 1 => None,
            _ => Some(std::path::PathBuf::from(trimmed)),
        };
        let (store, root): (Arc<dyn ObjectStore>, Path) = match directory {
            Some(dir) => {
                std::fs::create_dir_all(&dir).map_err(|e| invalid(format!("cannot create the directory: {e}")))?;
                let fs = LocalFileSystem::new_with_prefix(&dir).map_err(|e| invalid(e.to_string()))?.with_fsync(true);
                (Arc::new(fs), Path::default())
            }
            None => {
                let url = url::Url::parse(trimmed).map_err(|e| invalid(e.to_string()))?;
                let (store, root) = object_store::parse_url(&url).map_err(|e| {
                    invalid(format!("{e} (this build stores checkpoints in local directories and file:// URLs)"))
                })?;
                (Arc::from(store), root)
            }
        };
        Ok(CheckpointStorage { store, root, location: trimmed.to_string() })
    }

    /// The location as configured.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The full location of `path`, for users and logs.
    pub fn describe(&self, path: &str) -> String {
        format!("{}/{}", self.location.trim_end_matches('/'), path)
    }

    fn path(&self, relative: &str) -> Path {
        let mut parts: Vec<object_store::path::PathPart<'_>> = self.root.parts().collect();
        parts.extend(relative.split('/').filter(|p| !p.is_empty()).map(object_store::path::PathPart::from));
        Path::from_iter(parts)
    }

    fn error(&self, path: &str) -> impl Fn(object_store::Error) -> StorageError + '_ {
        let location = self.describe(path);
        move |source| StorageError::Store { location: location.clone(), source }
    }

    /// Writes `bytes` to `path` atomically: readers see the whole file or none.
    pub async fn put_async(&self, path: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        let (store, at) = (self.store.clone(), self.path(path));
        let done = IO.spawn(async move { store.put(&at, PutPayload::from(bytes)).await.map(|_| ()) });
        done.await.map_err(|_| StorageError::Stopped(self.describe(path)))?.map_err(self.error(path))
    }

    /// Reads the whole file at `path`.
    pub async fn get_async(&self, path: &str) -> Result<Vec<u8>, StorageError> {
        let (store, at) = (self.store.clone(), self.path(path));
        let done = IO.spawn(async move { store.get(&at).await?.bytes().await });
        let bytes = done.await.map_err(|_| StorageError::Stopped(self.describe(path)))?.map_err(self.error(path))?;
        Ok(bytes.to_vec())
    }

    /// Reads `range` of the file at `path`.
    pub async fn get_range_async(&self, path: &str, range: Range<u64>) -> Result<Vec<u8>, StorageError> {
        let (store, at) = (self.store.clone(), self.path(path));
        let done = IO.spawn(async move { store.get_range(&at, range).await });
        let bytes = done.await.map_err(|_| StorageError::Stopped(self.describe(path)))?.map_err(self.error(path))?;
        Ok(bytes.to_vec())
    }

    /// Names of the entries (files and directories) directly under `dir`.
    pub async fn list_async(&self, dir: &str) -> Result<Vec<String>, StorageError> {
        let (store, at) = (self.store.clone(), self.path(dir));
        let done = IO.spawn(async move { store.list_with_delimiter(Some(&at)).await });
        let listing = done.await.map_err(|_| StorageError::Stopped(self.describe(dir)))?.map_err(self.error(dir))?;
        let names = listing.common_prefixes.iter().chain(listing.objects.iter().map(|o| &o.location));
        Ok(names.filter_map(|p| p.filename().map(str::to_string)).collect())
    }

    /// Deletes every file under `dir` (a retired checkpoint).
    pub async fn delete_dir_async(&self, dir: &str) -> Result<(), StorageError> {
        let (store, at) = (self.store.clone(), self.path(dir));
        let done = IO.spawn(async move {
            let files: Vec<_> = store.list(Some(&at)).map_ok(|meta| meta.location).try_collect().await?;
            for file in files {
                store.delete(&file).await?;
            }
            Ok(())
        });
        done.await.map_err(|_| StorageError::Stopped(self.describe(dir)))?.map_err(self.error(dir))?;
        if let Some(local) = self.local_directory(dir) {
            // A local store leaves the emptied directories behind.
            let _ = std::fs::remove_dir_all(local);
        }
        Ok(())
    }

    /// The local directory of `dir`, when the store is a local filesystem.
    pub fn local_directory(&self, dir: &str) -> Option<std::path::PathBuf> {
        let url = url::Url::parse(&self.location).ok().filter(|u| u.scheme().len() > 1);
        let base = match url {
            Some(url) if url.scheme() == "file" => url.to_file_path().ok()?,
            Some(_) => return None,
            None => std::path::PathBuf::from(&self.location),
        };
        Some(base.join(dir))
    }

    /// [`Self::put_async`], blocking the calling thread (for task threads).
    pub fn put(&self, path: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        futures::executor::block_on(self.put_async(path, bytes))
    }

    /// [`Self::get_async`], blocking the calling thread.
    pub fn get(&self, path: &str) -> Result<Vec<u8>, StorageError> {
        futures::executor::block_on(self.get_async(path))
    }

    /// [`Self::get_range_async`], blocking the calling thread.
    pub fn get_range(&self, path: &str, range: Range<u64>) -> Result<Vec<u8>, StorageError> {
        futures::executor::block_on(self.get_range_async(path, range))
    }

    /// [`Self::list_async`], blocking the calling thread.
    pub fn list(&self, dir: &str) -> Result<Vec<String>, StorageError> {
        futures::executor::block_on(self.list_async(dir))
    }

    /// [`Self::delete_dir_async`], blocking the calling thread.
    pub fn delete_dir(&self, dir: &str) -> Result<(), StorageError> {
        futures::executor::block_on(self.delete_dir_async(dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_reads_lists_and_deletes_in_a_local_directory() {
        let dir = std::env::temp_dir().join(format!("wflink-storage-{}", uuid::Uuid::new_v4()));
        let storage = CheckpointStorage::open(dir.to_str().unwrap()).unwrap();
        storage.put("job/chk-1/_metadata", b"hello".to_vec()).unwrap();
        storage.put("job/chk-1/0-0.state", b"0123456789".to_vec()).unwrap();
        storage.put("job/chk-2/_metadata", b"x".to_vec()).unwrap();
        assert_eq!(storage.get("job/chk-1/_metadata").unwrap(), b"hello");
        assert_eq!(storage.get_range("job/chk-1/0-0.state", 2..5).unwrap(), b"234");
        let mut listed = storage.list("job").unwrap();
        listed.sort();
        assert_eq!(listed, ["chk-1", "chk-2"]);
        storage.delete_dir("job/chk-1").unwrap();
        assert!(storage.get("job/chk-1/_metadata").unwrap_err().is_not_found());
        assert!(!dir.join("job/chk-1").exists());
        assert_eq!(storage.list("job").unwrap(), ["chk-2"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refuses_unknown_schemes_and_empty_locations_by_name() {
        let err = CheckpointStorage::open("nosuch://bucket/x").unwrap_err().to_string();
        assert!(err.contains("nosuch://bucket/x"), "{err}");
        assert!(CheckpointStorage::open("  ").unwrap_err().to_string().contains("empty"));
    }
}
