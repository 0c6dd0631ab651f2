//! Disposing of a savepoint (`POST /savepoint-disposal`, `wflink savepoint -d PATH`):
//! its `_metadata` is read first, so only a directory that holds a whole
//! savepoint or retained checkpoint is deleted, never an arbitrary one.

use super::CheckpointStorage;
use super::metadata::{CheckpointMetadata, METADATA_FILE, RestoreError};

/// Deletes the savepoint (or retained checkpoint) at `path`, its directory
/// or its `_metadata` file, with every file in it.
pub async fn dispose_savepoint(path: &str) -> Result<(), RestoreError> {
    let trimmed = path.trim().trim_end_matches('/');
    let dir = trimmed.strip_suffix(METADATA_FILE).map(|d| d.trim_end_matches('/')).unwrap_or(trimmed);
    let is_local = url::Url::parse(dir).map_or(true, |u| u.scheme().len() <= 1);
    // Opening a local location creates it: look first, so a wrong path is not left behind as an empty directory.
    let local = match url::Url::parse(dir) {
        Ok(url) if url.scheme() == "file" => url.to_file_path().ok(),
        _ if is_local => Some(std::path::PathBuf::from(dir)),
        _ => None,
    };
    if dir.is_empty() || local.is_some_and(|d| !d.is_dir()) {
        return Err(RestoreError::NotFound(path.to_string()));
    }
    let storage = CheckpointStorage::open(dir)?;
    CheckpointMetadata::load(&storage, "").await?;
    storage.delete_dir_async("").await?;
    tracing::info!(location = storage.location(), "savepoint disposed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory without `_metadata` is refused and kept; a missing one is not created.
    #[test]
    fn only_a_savepoint_is_deleted() {
        let dir = std::env::temp_dir().join(format!("wflink-dispose-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("notes.txt"), "keep me").unwrap();
        let refused = futures::executor::block_on(dispose_savepoint(dir.to_str().unwrap())).unwrap_err();
        assert!(refused.to_string().contains("_metadata"), "{refused}");
        assert!(dir.join("notes.txt").exists());
        let missing = dir.join("missing");
        let refused = futures::executor::block_on(dispose_savepoint(missing.to_str().unwrap())).unwrap_err();
        assert!(matches!(refused, RestoreError::NotFound(_)), "{refused}");
        assert!(!missing.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
