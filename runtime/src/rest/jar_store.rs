//! Uploaded components ("jars", as Flink's API calls them): checked and
//! compiled at upload, kept on disk under the upload directory
//! (`web.upload.dir`) as `<uuid>_<file name>` as Flink names uploaded
//! jars. Only their names are held in memory: a JobManager with many
//! large uploads holds their bytes on disk, and reads one back when it is
//! run or planned.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The longest upload file name kept: its id (`<uuid>_<name>`) must fit
/// in one file name on every filesystem (255 bytes).
pub const MAX_NAME: usize = 200;

/// Why an upload cannot be kept.
#[derive(Debug, thiserror::Error)]
pub enum JarError {
    /// The file name is longer than [`MAX_NAME`].
    #[error("the file name '{shown}…' is {length} characters long; at most {MAX_NAME} are accepted")]
    NameTooLong {
        /// Its first characters.
        shown: String,
        /// Its length in characters.
        length: usize,
    },
    /// The upload directory failed.
    #[error("cannot store the upload in {dir}: {source}")]
    Io {
        /// The upload directory.
        dir: String,
        /// Why.
        source: std::io::Error,
    },
}

/// One uploaded component.
#[derive(Clone, Debug)]
pub struct Jar {
    /// `<uuid>_<file name>`.
    pub id: String,
    /// The file name as uploaded.
    pub name: String,
    /// Upload time, ms since the epoch.
    pub uploaded: u64,
    /// Where its bytes are.
    pub path: PathBuf,
}

impl Jar {
    /// The component's bytes, read from disk (blocking).
    pub fn read(&self) -> std::io::Result<Arc<[u8]>> {
        std::fs::read(&self.path).map(Into::into)
    }
}

/// A file an upload is being written to, not yet a jar.
#[derive(Debug)]
pub struct PendingUpload {
    /// The id it gets once kept.
    pub id: String,
    /// The file name as uploaded.
    pub name: String,
    /// Where its bytes are written.
    pub path: PathBuf,
}

/// Every uploaded component.
pub struct JarStore {
    dir: PathBuf,
    /// Whether this process made `dir`, and so removes it at the end.
    created_dir: bool,
    jars: Mutex<BTreeMap<String, Jar>>,
}

impl JarStore {
    /// A store keeping its files in `dir` (created if missing).
    pub fn new(dir: PathBuf) -> std::io::Result<Self> {
        let created_dir = !dir.exists();
        std::fs::create_dir_all(&dir)?;
        Ok(JarStore { dir, created_dir, jars: Mutex::new(BTreeMap::new()) })
    }

    /// Where an upload named `name` is to be written while it is checked;
    /// refused if the name is too long to keep.
    pub fn begin(&self, name: &str) -> Result<PendingUpload, JarError> {
        let length = name.chars().count();
        if length > MAX_NAME {
            return Err(JarError::NameTooLong { shown: name.chars().take(40).collect(), length });
        }
        let safe: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
            .collect();
        let id = format!("{}_{safe}", uuid::Uuid::new_v4());
        let path = self.dir.join(format!(".{id}.part"));
        Ok(PendingUpload { id, name: name.to_string(), path })
    }

    /// Keeps a checked upload; returns it with its path.
    pub fn keep(&self, upload: PendingUpload) -> Result<Jar, JarError> {
        let path = self.dir.join(&upload.id);
        std::fs::rename(&upload.path, &path)
            .map_err(|source| JarError::Io { dir: self.dir.display().to_string(), source })?;
        let jar = Jar { id: upload.id.clone(), name: upload.name, uploaded: crate::time::now_millis(), path };
        self.jars.lock().expect("jar store poisoned").insert(upload.id, jar.clone());
        Ok(jar)
    }

    /// Forgets an upload that was refused, deleting what was written of it.
    pub fn discard(&self, upload: &PendingUpload) {
        let _ = std::fs::remove_file(&upload.path);
    }

    /// The component with `id`.
    pub fn get(&self, id: &str) -> Option<Jar> {
        self.jars.lock().expect("jar store poisoned").get(id).cloned()
    }

    /// Every component, newest first.
    pub fn list(&self) -> Vec<Jar> {
        let mut all: Vec<Jar> = self.jars.lock().expect("jar store poisoned").values().cloned().collect();
        all.sort_by_key(|j| std::cmp::Reverse(j.uploaded));
        all
    }

    /// Forgets the component with `id` and deletes its file; false if unknown.
    pub fn remove(&self, id: &str) -> bool {
        let removed = self.jars.lock().expect("jar store poisoned").remove(id);
        if let Some(jar) = &removed {
            let _ = std::fs::remove_file(&jar.path);
        }
        removed.is_some()
    }

    /// Deletes every upload of this process, and the directory if this
    /// process made it (or it is left empty): the JobManager is stopping.
    pub fn clean_up(&self) {
        let jars = std::mem::take(&mut *self.jars.lock().expect("jar store poisoned"));
        for jar in jars.values() {
            let _ = std::fs::remove_file(&jar.path);
        }
        // A directory the user named may hold other files: it goes only if empty.
        let result = if self.created_dir { std::fs::remove_dir_all(&self.dir) } else { std::fs::remove_dir(&self.dir) };
        match result {
            Ok(()) => tracing::info!(dir = %self.dir.display(), "removed the upload directory"),
            Err(e) => tracing::debug!(dir = %self.dir.display(), error = %e, "the upload directory stays"),
        }
    }

    /// The upload directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_live_on_disk_and_long_names_are_refused() {
        let dir = std::env::temp_dir().join(format!("wflink-jar-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = JarStore::new(dir.clone()).unwrap();
        let err = store.begin(&"a".repeat(300)).unwrap_err();
        assert!(err.to_string().contains("300 characters"), "{err}");
        let upload = store.begin("my job/v1.wasm").unwrap();
        std::fs::write(&upload.path, b"bytes").unwrap();
        let jar = store.keep(upload).unwrap();
        assert!(jar.id.ends_with("_my_job_v1.wasm"), "{}", jar.id);
        assert_eq!(&*store.get(&jar.id).unwrap().read().unwrap(), b"bytes");
        let refused = store.begin("bad.wasm").unwrap();
        std::fs::write(&refused.path, b"x").unwrap();
        store.discard(&refused);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "only the kept jar is on disk");
        store.clean_up();
        assert!(!dir.exists(), "the directory this store made is gone");
    }
}
