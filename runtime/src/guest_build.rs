//! Builds a guest crate into a `.wasm` component: the one helper behind
//! `wflink build`, `wflink demo` and the tests.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The target guests compile to: it emits a component directly.
pub const GUEST_TARGET: &str = "wasm32-wasip2";

/// Why a guest could not be built.
#[derive(Debug, thiserror::Error)]
pub enum GuestBuildError {
    /// The directory has no `Cargo.toml`.
    #[error("'{0}' is not a Rust guest crate: it has no Cargo.toml")]
    NotACrate(PathBuf),
    /// The wasm target is missing from the toolchain.
    #[error("the {GUEST_TARGET} target is not installed: run `rustup target add {GUEST_TARGET}`")]
    MissingTarget,
    /// Cargo could not be started.
    #[error("cannot run cargo: {0}")]
    Cargo(std::io::Error),
    /// The crate did not compile (cargo printed why above).
    #[error("building '{0}' failed (see the compiler output above)")]
    Failed(PathBuf),
    /// The build produced no `.wasm` (e.g. the crate is not a cdylib or bin).
    #[error("building '{0}' produced no .wasm file: is the crate a cdylib (crate-type = [\"cdylib\"])?")]
    NoArtifact(PathBuf),
}

/// Compiles the guest crate in `dir` in release mode for the wasm target
/// and returns the path of its component. `target_dir` overrides cargo's
/// target directory (so several guest workspaces can share their builds).
pub fn build_guest(dir: &Path, target_dir: Option<&Path>) -> Result<PathBuf, GuestBuildError> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(GuestBuildError::NotACrate(dir.to_path_buf()));
    }
    let manifest = manifest.canonicalize().map_err(GuestBuildError::Cargo)?;
    let dir = manifest.parent().expect("a manifest has a parent").to_path_buf();
    check_target_installed(&dir)?;

    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(&dir)
        .args(["build", "--release", "--target", GUEST_TARGET, "--message-format=json-render-diagnostics"])
        .arg("--manifest-path")
        .arg(&manifest)
        // Host build settings must not leak into the guest build.
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(target_dir) = target_dir {
        cargo.env("CARGO_TARGET_DIR", target_dir);
    } else {
        cargo.env_remove("CARGO_TARGET_DIR");
    }
    let mut child = cargo.spawn().map_err(GuestBuildError::Cargo)?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut artifact = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.map_err(GuestBuildError::Cargo)?;
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let ours = message["manifest_path"].as_str().is_some_and(|m| Path::new(m) == manifest);
        let wasm = message["filenames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str())
            .find(|f| f.ends_with(".wasm"));
        if let (true, Some(wasm)) = (ours, wasm) {
            artifact = Some(PathBuf::from(wasm));
        }
    }
    let status = child.wait().map_err(GuestBuildError::Cargo)?;
    if !status.success() {
        return Err(GuestBuildError::Failed(dir));
    }
    artifact.ok_or(GuestBuildError::NoArtifact(dir))
}

/// Fails early, with the command to fix it, when the wasm target is missing.
fn check_target_installed(dir: &Path) -> Result<(), GuestBuildError> {
    let output = Command::new("rustc")
        .current_dir(dir)
        .args(["--print", "target-libdir", "--target", GUEST_TARGET])
        .output()
        .map_err(GuestBuildError::Cargo)?;
    let libdir = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !output.status.success() || libdir.is_empty() || !Path::new(&libdir).is_dir() {
        return Err(GuestBuildError::MissingTarget);
    }
    Ok(())
}

/// The repository's own folders, for the demo and the tests.
pub mod repo {
    use std::path::PathBuf;

    /// The repository root (the runtime crate's parent).
    pub fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("runtime/ has a parent").to_path_buf()
    }

    /// The shared target directory for every guest built from the repository.
    pub fn guest_target_dir() -> PathBuf {
        root().join("target").join("guests")
    }

    /// A guest example by folder name, e.g. `wordcount`.
    pub fn example(name: &str) -> PathBuf {
        root().join("guest-examples").join(name)
    }
}
