//! The on-disk cache of compiled components.
//!
//! Compiling a component costs seconds for Python and JavaScript jobs
//! (they carry a whole interpreter) and loading the compiled artifact
//! milliseconds (POLYGLOT.md), so the first load of a component writes its
//! artifact (`Component::serialize`) and every later process loads it
//! (`Component::deserialize_file`). Artifacts are keyed by the component's
//! content hash and the engine's compatibility hash (wasmtime version,
//! target and settings), so an engine never loads an artifact it did not
//! make; a stale or damaged file is recompiled and replaced.
//!
//! The folder is `$WFLINK_CACHE_DIR` if set (`off` disables the cache),
//! else `$XDG_CACHE_HOME/wflink`, else `~/.cache/wflink`; artifacts live
//! in its `components/` subfolder.
//!
//! The folder is bounded: after each write, the least recently used
//! artifacts (by modification time, which a load refreshes) are deleted
//! until the folder holds at most `$WFLINK_CACHE_MAX_SIZE` (Flink's
//! memory syntax, default [`DEFAULT_MAX_SIZE`]). An artifact deleted under
//! another process only costs that process a compile.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

/// Environment variable naming the cache folder (`off` disables it).
pub const CACHE_DIR_ENV: &str = "WFLINK_CACHE_DIR";

/// Environment variable bounding the cache folder's size, e.g. `2g`.
pub const CACHE_MAX_SIZE_ENV: &str = "WFLINK_CACHE_MAX_SIZE";

/// The bound when [`CACHE_MAX_SIZE_ENV`] is not set: room for dozens of
/// Python or JavaScript artifacts (tens of MB each).
pub const DEFAULT_MAX_SIZE: u64 = 2 << 30;

/// Where compiled artifacts of one engine live.
pub(crate) struct ArtifactCache {
    /// `<cache dir>/components`, or `None` when caching is off or no
    /// folder can be found.
    dir: Option<PathBuf>,
    /// The engine's compatibility hash, part of every file name.
    engine_key: u64,
    /// Most bytes the folder keeps.
    max_size: u64,
}

impl ArtifactCache {
    /// The cache for `engine` in the folder `cache_dir` (see [`cache_dir`]).
    pub fn new(engine: &Engine, cache_dir: Option<PathBuf>) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        ArtifactCache {
            dir: cache_dir.map(|d| d.join("components")),
            engine_key: hasher.finish(),
            max_size: max_size(),
        }
    }

    fn path(&self, content_hash: u128) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(dir.join(format!("{content_hash:032x}-{:016x}.cwasm", self.engine_key)))
    }

    /// The cached artifact of the component with `content_hash`, if there
    /// is a usable one.
    pub fn load(&self, engine: &Engine, content_hash: u128) -> Option<Component> {
        let path = self.path(content_hash)?;
        if !path.is_file() {
            return None;
        }
        // SAFETY: the file was written by `store` below from
        // `Component::serialize` of an engine with the same compatibility
        // hash, into a folder only this user writes; wasmtime checks its
        // header and version and refuses anything else.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => {
                tracing::debug!(path = %path.display(), "loaded the cached artifact of the component");
                // Used now: the last to be evicted.
                let _ = std::fs::File::options()
                    .append(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(std::time::SystemTime::now()));
                Some(component)
            }
            Err(error) => {
                tracing::warn!(path = %path.display(), error = %format!("{error:#}"), "ignoring an unusable cached component");
                None
            }
        }
    }

    /// Writes the artifact of `component` for later processes. Failing to
    /// write only costs the next process a compile, so it is logged, not returned.
    pub fn store(&self, component: &Component, content_hash: u128) {
        let Some(path) = self.path(content_hash) else { return };
        if let Err(error) = write_atomically(&path, component) {
            tracing::warn!(path = %path.display(), %error, "cannot cache the compiled component");
            return;
        }
        if let Some(dir) = &self.dir {
            evict(dir, self.max_size, &path);
        }
    }
}

/// The bound [`CACHE_MAX_SIZE_ENV`] sets, else [`DEFAULT_MAX_SIZE`].
fn max_size() -> u64 {
    let Some(raw) = std::env::var_os(CACHE_MAX_SIZE_ENV) else { return DEFAULT_MAX_SIZE };
    match crate::config::parse_memory_size(&raw.to_string_lossy()) {
        Some(bytes) => bytes,
        None => {
            tracing::warn!(value = %raw.to_string_lossy(), "{CACHE_MAX_SIZE_ENV} is not a memory size such as '2g'; using the default");
            DEFAULT_MAX_SIZE
        }
    }
}

/// Deletes the least recently used artifacts in `dir` until the rest fit
/// in `max_size` bytes; `keep` (just written) stays whatever its size.
fn evict(dir: &Path, max_size: u64, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut artifacts: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some((meta.modified().ok()?, meta.len(), e.path()))
        })
        .collect();
    let mut total: u64 = artifacts.iter().map(|(_, size, _)| size).sum();
    artifacts.sort();
    for (_, size, path) in artifacts {
        if total <= max_size {
            break;
        }
        if path == keep {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {
                total -= size;
                tracing::info!(path = %path.display(), size, "evicted a cached component ({CACHE_MAX_SIZE_ENV})");
            }
            // Another process evicted it first.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => total -= size,
            Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot evict a cached component"),
        }
    }
}

/// Writes to a temporary file and renames it, so that a reader never sees
/// a half-written artifact, even with processes compiling side by side.
fn write_atomically(path: &Path, component: &Component) -> Result<(), String> {
    let bytes = component.serialize().map_err(|e| format!("{e:#}"))?;
    write_file_atomically(path, &bytes).map_err(|e| e.to_string())
}

fn write_file_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("artifact paths have a folder");
    std::fs::create_dir_all(dir)?;
    let temporary =
        dir.join(format!(".{}.{}.tmp", path.file_name().unwrap_or_default().to_string_lossy(), std::process::id()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)?;
    Ok(())
}

/// The cache folder the environment names, or `None` when it is `off`.
pub fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os(CACHE_DIR_ENV) {
        Some(dir) if dir == "off" => None,
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".cache")))
            .map(|base| base.join("wflink")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_artifacts_go_first_and_the_new_one_stays() {
        let dir = std::env::temp_dir().join(format!("wflink-artifact-lru-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for (i, name) in ["a.cwasm", "b.cwasm", "c.cwasm"].iter().enumerate() {
            let path = dir.join(name);
            std::fs::write(&path, vec![0u8; 100]).unwrap();
            let age = old + std::time::Duration::from_secs(i as u64);
            std::fs::File::options().append(true).open(&path).unwrap().set_modified(age).unwrap();
        }
        std::fs::write(dir.join("d.cwasm"), vec![0u8; 250]).unwrap();
        evict(&dir, 300, &dir.join("d.cwasm"));
        let mut left: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        left.sort();
        assert_eq!(left, ["d.cwasm"], "a, b and c are older than d, which alone takes 250 of 300 bytes");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
