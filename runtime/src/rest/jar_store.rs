//! Uploaded components ("jars", as Flink's API calls them): checked and
//! compiled at upload, kept on disk under the upload directory and in
//! memory by id, `<uuid>_<file name>` as Flink names uploaded jars.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// One uploaded component.
#[derive(Clone)]
pub struct Jar {
    /// `<uuid>_<file name>`.
    pub id: String,
    /// The file name as uploaded.
    pub name: String,
    /// Upload time, ms since the epoch.
    pub uploaded: u64,
    /// The component's bytes.
    pub bytes: Arc<[u8]>,
}

/// Every uploaded component.
pub struct JarStore {
    dir: PathBuf,
    jars: Mutex<BTreeMap<String, Jar>>,
}

impl JarStore {
    /// A store keeping its files in `dir` (created if missing).
    pub fn new(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(JarStore { dir, jars: Mutex::new(BTreeMap::new()) })
    }

    /// Keeps a checked component; returns it with its id and path.
    pub fn add(&self, name: &str, bytes: Arc<[u8]>) -> std::io::Result<(Jar, PathBuf)> {
        let safe: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
            .collect();
        let id = format!("{}_{safe}", uuid::Uuid::new_v4());
        let path = self.dir.join(&id);
        std::fs::write(&path, &bytes)?;
        let jar = Jar { id: id.clone(), name: name.to_string(), uploaded: crate::job_manager::now_millis(), bytes };
        self.jars.lock().expect("jar store poisoned").insert(id, jar.clone());
        Ok((jar, path))
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
        let removed = self.jars.lock().expect("jar store poisoned").remove(id).is_some();
        if removed {
            let _ = std::fs::remove_file(self.dir.join(id));
        }
        removed
    }
}
