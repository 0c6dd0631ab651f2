//! The directories jobs may read and write (`wflink.io.allowed-paths`):
//! file sources, file sinks, savepoint targets and the savepoints a job
//! starts from. Unset, any path goes, as in Flink.
//!
//! A path is judged by its text first: made absolute-only and normalised
//! (`.` and `..` resolved without the filesystem), then compared with the
//! roots component by component. Only a path that passes is looked up,
//! to follow symbolic links inside a root that lead out of it. So a path
//! outside the roots is refused with the same words whether it exists or
//! not: the answer is no oracle of what the host holds.

use std::path::{Component, Path, PathBuf};

use crate::config::Configuration;

/// The key of the roots.
pub const KEY: &str = "wflink.io.allowed-paths";

/// A path outside the allowed directories (or relative, which cannot be judged).
#[derive(Debug, thiserror::Error)]
#[error(
    "the path '{path}' is outside the directories this cluster allows ({KEY}; give an absolute path under one of them)"
)]
pub struct ForbiddenPath {
    /// The path as given.
    pub path: String,
}

/// The allowed roots; none means any path.
#[derive(Debug, Clone, Default)]
pub struct IoRoots {
    /// Local directories: as written (normalised), and with their links resolved.
    dirs: Vec<(PathBuf, PathBuf)>,
    /// Object store URL prefixes (`s3://bucket/prefix`), compared as text.
    urls: Vec<String>,
}

impl IoRoots {
    /// The roots `config` sets: `;`- or `,`-separated (a YAML list is read as `;`-separated).
    pub fn from_config(config: &Configuration) -> Self {
        let mut roots = IoRoots::default();
        for root in config.text(KEY).split([';', ',']).map(str::trim).filter(|r| !r.is_empty()) {
            match root.strip_prefix("file://") {
                Some(path) => roots.add_dir(path),
                None if root.contains("://") => roots.urls.push(root.trim_end_matches('/').to_string() + "/"),
                None => roots.add_dir(root),
            }
        }
        roots
    }

    fn add_dir(&mut self, dir: &str) {
        match normalise(Path::new(dir)) {
            Some(dir) => self.dirs.push((dir.clone(), resolve_existing(&dir))),
            None => tracing::warn!(root = dir, key = KEY, "a relative allowed path is ignored; give absolute ones"),
        }
    }

    /// Whether any path goes.
    pub fn is_open(&self) -> bool {
        self.dirs.is_empty() && self.urls.is_empty()
    }

    /// Refuses `path` (a local path, a `file://` URL or an object store URL)
    /// unless it lies under a root.
    pub fn check(&self, path: &str) -> Result<(), ForbiddenPath> {
        if self.is_open() || self.allows(path) {
            return Ok(());
        }
        Err(ForbiddenPath { path: path.to_string() })
    }

    fn allows(&self, path: &str) -> bool {
        let local = match path.strip_prefix("file://") {
            Some(local) => local,
            None if path.contains("://") => return self.urls.iter().any(|root| path.starts_with(root.as_str())),
            None => path,
        };
        let Some(normal) = normalise(Path::new(local)) else { return false };
        if !self.dirs.iter().any(|(written, real)| normal.starts_with(written) || normal.starts_with(real)) {
            return false;
        }
        // Inside by its text: now follow links, which may lead out.
        let resolved = resolve_existing(&normal);
        self.dirs.iter().any(|(_, real)| resolved.starts_with(real))
    }
}

/// `path` with `.` and `..` resolved by text; `None` if it is relative.
fn normalise(path: &Path) -> Option<PathBuf> {
    if !path.is_absolute() {
        return None;
    }
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Prefix(p) => normal.push(p.as_os_str()),
            Component::RootDir => normal.push(Component::RootDir.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            Component::Normal(name) => normal.push(name),
        }
    }
    Some(normal)
}

/// `path` with its longest existing ancestor's links resolved, the rest appended.
fn resolve_existing(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut existing = path;
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            return rest.iter().rev().fold(real, |acc, name| acc.join(name));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(value: &str) -> IoRoots {
        IoRoots::from_config(&Configuration::default().with_overrides(&[format!("{KEY}={value}")]).unwrap())
    }

    #[test]
    fn unset_roots_allow_anything() {
        assert!(IoRoots::from_config(&Configuration::default()).check("/etc/shadow").is_ok());
        assert!(roots("").check("relative/path").is_ok());
    }

    #[test]
    fn paths_are_judged_by_their_normalised_text() {
        let dir = std::env::temp_dir().join(format!("wflink-roots-{}", std::process::id()));
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let roots = roots(&format!("{};s3://bucket/jobs", data.display()));
        let inside = |p: &str| roots.check(p).is_ok();
        assert!(inside(&data.join("in.txt").display().to_string()));
        assert!(inside(&data.join("new/deeper/out").display().to_string()), "a missing path inside is allowed");
        assert!(inside(&format!("file://{}/x", data.display())));
        assert!(!inside(&format!("{}/../secret", data.display())));
        assert!(!inside(&format!("{}-other/x", data.display())), "a sibling with the same prefix is outside");
        assert!(!inside("data/in.txt"), "relative paths cannot be judged");
        assert!(inside("s3://bucket/jobs/sp-1") && !inside("s3://bucket/jobsx") && !inside("s3://other/jobs/x"));
        let existing = roots.check("/etc/passwd").unwrap_err().to_string();
        let missing = roots.check("/etc/no-such-file").unwrap_err().to_string();
        assert_eq!(existing.replace("passwd", "X"), missing.replace("no-such-file", "X"), "no existence oracle");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_link_inside_a_root_that_leads_out_is_refused() {
        let dir = std::env::temp_dir().join(format!("wflink-roots-link-{}", std::process::id()));
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::os::unix::fs::symlink("/etc", data.join("etc")).unwrap();
        let roots = roots(&data.display().to_string());
        assert!(roots.check(&data.join("etc/passwd").display().to_string()).is_err());
        assert!(roots.check(&data.join("etc/missing").display().to_string()).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
