//! Running the external tools of a guest build.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use include_dir::Dir;

use super::GuestBuildError;

/// Runs one build step to its end. The tool's stdout goes to our stderr,
/// so that `wflink build` prints nothing on stdout but the component's path.
pub(super) fn run_step(command: &mut Command, step: &str, dir: &Path) -> Result<(), GuestBuildError> {
    tracing::debug!(?command, "guest build step");
    let status = command
        .stdin(Stdio::null())
        .stdout(stderr_as_stdio())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|error| GuestBuildError::Spawn { tool: step.to_owned(), error })?;
    if !status.success() {
        return Err(GuestBuildError::StepFailed { step: step.to_owned(), dir: dir.to_path_buf() });
    }
    Ok(())
}

fn stderr_as_stdio() -> Stdio {
    use std::os::fd::AsFd;
    std::io::stderr().as_fd().try_clone_to_owned().map(Stdio::from).unwrap_or_else(|_| Stdio::inherit())
}

/// The first line a tool prints for `args` (e.g. its version), or `None`
/// when it cannot be run or fails.
pub(super) fn first_line(program: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).stdin(Stdio::null()).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Some(text.lines().next().unwrap_or_default().trim().to_owned())
}

/// Where `name` is on `PATH` (or in `~/.cargo/bin`, where rustup puts
/// itself even when that folder is not on `PATH`).
pub(super) fn find_program(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME").map(PathBuf::from).or_else(|| home().map(|h| h.join(".cargo"))) {
        dirs.push(home.join("bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// The user's home directory.
pub(crate) fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

/// Writes the files of the embedded folder `files` whose name ends with
/// `extension` (e.g. `.py`) under `dir`, keeping their relative paths and
/// replacing what was there, so a build never sees files of an older wflink
/// (nor a stray `__pycache__` of the checkout the binary was built from).
pub(super) fn write_tree(dir: &Path, files: &Dir<'_>, extension: &str) -> Result<(), GuestBuildError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| GuestBuildError::io(dir, e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| GuestBuildError::io(dir, e))?;
    write_files(dir, files, extension)
}

fn write_files(root: &Path, files: &Dir<'_>, extension: &str) -> Result<(), GuestBuildError> {
    for file in files.files() {
        if !file.path().to_string_lossy().ends_with(extension) {
            continue;
        }
        let path = root.join(file.path());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| GuestBuildError::io(parent, e))?;
        }
        std::fs::write(&path, file.contents()).map_err(|e| GuestBuildError::io(&path, e))?;
    }
    files.dirs().try_for_each(|sub| write_files(root, sub, extension))
}

/// Writes one file, creating its folder.
pub(super) fn write_file(path: &Path, contents: &str) -> Result<(), GuestBuildError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| GuestBuildError::io(parent, e))?;
    }
    std::fs::write(path, contents).map_err(|e| GuestBuildError::io(path, e))
}
