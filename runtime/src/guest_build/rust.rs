//! Rust guests: a cargo crate built for `wasm32-wasip2`, which emits a
//! component directly.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::GuestBuildError;

/// The target guests compile to: it emits a component directly.
pub const GUEST_TARGET: &str = "wasm32-wasip2";

/// Compiles the guest crate in `dir` in release mode for the wasm target
/// and returns the path of its component. `target_dir` overrides cargo's
/// target directory (so several guest workspaces can share their builds).
pub(super) fn build(dir: &Path, target_dir: Option<&Path>) -> Result<PathBuf, GuestBuildError> {
    let manifest = dir.join("Cargo.toml");
    let manifest = manifest.canonicalize().map_err(cargo_error)?;
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
    let mut child = cargo.spawn().map_err(cargo_error)?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut artifact = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.map_err(cargo_error)?;
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
    let status = child.wait().map_err(cargo_error)?;
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
        .map_err(cargo_error)?;
    let libdir = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !output.status.success() || libdir.is_empty() || !Path::new(&libdir).is_dir() {
        return Err(GuestBuildError::MissingTarget);
    }
    Ok(())
}

fn cargo_error(error: std::io::Error) -> GuestBuildError {
    GuestBuildError::Spawn { tool: "cargo".into(), error }
}
