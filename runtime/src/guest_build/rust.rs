//! Rust guests: a cargo crate built for `wasm32-wasip2`, which emits a
//! component directly.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::GuestBuildError;
use super::tool::{find_program, run_step};

/// The target guests compile to: it emits a component directly.
pub const GUEST_TARGET: &str = "wasm32-wasip2";

/// Compiles the guest crate in `dir` in release mode for the wasm target
/// and returns the path of its component. `target_dir` overrides cargo's
/// target directory (so several guest workspaces can share their builds).
pub(super) fn build(dir: &Path, target_dir: Option<&Path>) -> Result<PathBuf, GuestBuildError> {
    let manifest = dir.join("Cargo.toml");
    let manifest = manifest.canonicalize().map_err(cargo_error)?;
    let dir = manifest.parent().expect("a manifest has a parent").to_path_buf();
    ensure_target_installed(&dir)?;

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

/// Makes sure the toolchain that builds the guest has the wasm target.
///
/// rustup installs the targets `rust-toolchain.toml` lists only when it
/// installs the toolchain itself, so a machine whose stable toolchain came
/// first lacks the target; rustup adds it in seconds, as `wflink build`
/// installs componentize-py for Python jobs. Without rustup the error says
/// what to run.
fn ensure_target_installed(dir: &Path) -> Result<(), GuestBuildError> {
    ensure_target(dir, Path::new("rustc"), find_program("rustup").as_deref())
}

/// [`ensure_target_installed`] with the programs given, so tests can put
/// stand-ins in their place.
fn ensure_target(dir: &Path, rustc: &Path, rustup: Option<&Path>) -> Result<(), GuestBuildError> {
    if target_installed(dir, rustc)? {
        return Ok(());
    }
    let Some(rustup) = rustup else {
        return Err(GuestBuildError::MissingTarget {
            hint: format!(
                "there is no rustup to add it: install Rust with rustup (https://rustup.rs), then run `rustup target add {GUEST_TARGET}`"
            ),
        });
    };
    eprintln!("Installing the {GUEST_TARGET} target (rustup target add {GUEST_TARGET}) ...");
    let step = format!("rustup target add {GUEST_TARGET}");
    run_step(Command::new(rustup).current_dir(dir).args(["target", "add", GUEST_TARGET]), &step, dir)?;
    if !target_installed(dir, rustc)? {
        return Err(GuestBuildError::MissingTarget {
            hint: format!(
                "`{step}` succeeded, but {} still lacks it: is the rustc on PATH another than rustup's?",
                rustc.display()
            ),
        });
    }
    Ok(())
}

/// Whether `rustc` (run in the guest's folder, so its `rust-toolchain.toml`
/// applies) has the standard library of the wasm target.
fn target_installed(dir: &Path, rustc: &Path) -> Result<bool, GuestBuildError> {
    let output = Command::new(rustc)
        .current_dir(dir)
        .args(["--print", "target-libdir", "--target", GUEST_TARGET])
        .stdin(Stdio::null())
        .output()
        .map_err(|error| GuestBuildError::Spawn { tool: rustc.display().to_string(), error })?;
    let libdir = String::from_utf8_lossy(&output.stdout).trim().to_string();
    Ok(output.status.success() && !libdir.is_empty() && Path::new(&libdir).is_dir())
}

fn cargo_error(error: std::io::Error) -> GuestBuildError {
    GuestBuildError::Spawn { tool: "cargo".into(), error }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A scratch folder with a stand-in `rustc` that has the target once a
    /// stand-in `rustup target add` ran (it leaves a marker file).
    struct Toolchain {
        dir: PathBuf,
    }

    impl Toolchain {
        fn new(name: &str, installed: bool) -> Self {
            let dir = std::env::temp_dir().join(format!("wflink-rust-target-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("lib")).unwrap();
            let marker = dir.join("installed");
            if installed {
                std::fs::write(&marker, "").unwrap();
            }
            let toolchain = Toolchain { dir };
            toolchain.script(
                "rustc",
                &format!(
                    "[ \"$*\" = '--print target-libdir --target {GUEST_TARGET}' ] || exit 2\n\
                     if [ -e '{marker}' ]; then echo '{lib}'; else echo 'error: no such target' >&2; exit 1; fi",
                    marker = marker.display(),
                    lib = toolchain.dir.join("lib").display()
                ),
            );
            toolchain.script(
                "rustup",
                &format!("[ \"$*\" = 'target add {GUEST_TARGET}' ] || exit 2\necho \"$PWD\" > '{}'", marker.display()),
            );
            toolchain
        }

        fn script(&self, name: &str, body: &str) {
            let path = self.dir.join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }

        fn rustc(&self) -> PathBuf {
            self.dir.join("rustc")
        }

        fn rustup(&self) -> PathBuf {
            self.dir.join("rustup")
        }

        fn marker(&self) -> Option<String> {
            std::fs::read_to_string(self.dir.join("installed")).ok()
        }
    }

    impl Drop for Toolchain {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    #[test]
    fn an_installed_target_runs_no_rustup() {
        let toolchain = Toolchain::new("present", true);
        std::fs::write(toolchain.dir.join("installed"), "untouched").unwrap();
        ensure_target(&toolchain.dir, &toolchain.rustc(), Some(&toolchain.rustup())).unwrap();
        assert_eq!(toolchain.marker().as_deref(), Some("untouched"));
    }

    #[test]
    fn a_missing_target_is_added_with_rustup_in_the_guest_folder() {
        let toolchain = Toolchain::new("added", false);
        let guest = toolchain.dir.join("lib");
        ensure_target(&guest, &toolchain.rustc(), Some(&toolchain.rustup())).unwrap();
        let ran_in = toolchain.marker().expect("rustup ran");
        assert_eq!(Path::new(ran_in.trim()), guest.canonicalize().unwrap(), "rust-toolchain.toml of the guest applies");
    }

    #[test]
    fn without_rustup_the_error_says_in_one_line_what_to_run() {
        let toolchain = Toolchain::new("no-rustup", false);
        let error = ensure_target(&toolchain.dir, &toolchain.rustc(), None).unwrap_err().to_string();
        assert!(!error.contains('\n'), "{error}");
        assert!(error.contains(&format!("the {GUEST_TARGET} target is not installed")), "{error}");
        assert!(error.contains(&format!("rustup target add {GUEST_TARGET}")), "{error}");
    }

    #[test]
    fn a_rustup_that_does_not_help_is_named() {
        let toolchain = Toolchain::new("unhelpful", false);
        toolchain.script("rustup", "exit 0");
        let error = ensure_target(&toolchain.dir, &toolchain.rustc(), Some(&toolchain.rustup())).unwrap_err();
        assert!(error.to_string().contains("still lacks it"), "{error}");
    }
}
