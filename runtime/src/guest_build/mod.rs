//! Builds a guest project into a `.wasm` job component: the one helper
//! behind `wflink build`, `wflink demo`, `wflink bench` and the tests.
//!
//! The language is told by the file that marks the project:
//!
//! | marker | language | toolchain |
//! |---|---|---|
//! | `Cargo.toml` | Rust | cargo, `--target wasm32-wasip2` (added with rustup when missing) |
//! | `app.py` | Python | componentize-py (installed into `DIR/.venv` when missing) |
//! | `package.json` | JavaScript | esbuild, then componentize-js (`npm ci` when `node_modules` lacks them) |
//! | `app.c` | C | clang + wasi-libc; bindings and component by the linked-in `wit-bindgen-c` and `wit-component` |
//!
//! Python, JavaScript and C builds take the WIT package and their guest
//! library from this binary ([`embedded`]), so a job builds against
//! exactly the contract of the wflink that runs it.

mod c;
mod embedded;
mod javascript;
mod python;
mod rust;
mod tool;

use std::path::{Path, PathBuf};

pub use rust::GUEST_TARGET;

/// The languages `wflink build` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestLanguage {
    /// A cargo crate using `wflink-sdk`.
    Rust,
    /// An `app.py` using the `wflink` Python library.
    Python,
    /// A `package.json` whose `main` module uses the `wflink` JS library.
    JavaScript,
    /// An `app.c` (and any other `.c` files) on the generated C bindings.
    C,
}

/// Why a guest could not be built.
#[derive(Debug, thiserror::Error)]
pub enum GuestBuildError {
    /// The directory has none of the marker files.
    #[error(
        "'{0}' is not a guest project: expected Cargo.toml (Rust), app.py (Python), package.json (JavaScript) or app.c (C)"
    )]
    NotAJob(PathBuf),
    /// The wasm target is missing from the Rust toolchain and could not be added.
    #[error("the {GUEST_TARGET} target is not installed: {hint}")]
    MissingTarget {
        /// What to do about it.
        hint: String,
    },
    /// A tool the language needs is not installed.
    #[error("{tool} is not installed: {hint}")]
    MissingTool {
        /// The tool, e.g. `clang`.
        tool: String,
        /// How to install it.
        hint: String,
    },
    /// A tool could not be started.
    #[error("cannot run {tool}: {error}")]
    Spawn {
        /// The tool.
        tool: String,
        /// Why.
        error: std::io::Error,
    },
    /// A build step wflink runs itself (bindings, componentizing) failed.
    #[error("{step} failed for '{dir}': {reason}")]
    StepError {
        /// What ran, e.g. generating the C bindings.
        step: String,
        /// The guest project.
        dir: PathBuf,
        /// Why, with its causes.
        reason: String,
    },
    /// A build step failed; the tool printed why above.
    #[error("{step} failed for '{dir}' (see its output above)")]
    StepFailed {
        /// What ran, e.g. `componentize-py`.
        step: String,
        /// The guest project.
        dir: PathBuf,
    },
    /// Reading or writing a build file failed.
    #[error("cannot write or read '{path}': {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The Rust crate did not compile (cargo printed why above).
    #[error("building '{0}' failed (see the compiler output above)")]
    Failed(PathBuf),
    /// The build produced no `.wasm` (e.g. the crate is not a cdylib).
    #[error("building '{0}' produced no .wasm file: is the crate a cdylib (crate-type = [\"cdylib\"])?")]
    NoArtifact(PathBuf),
}

impl GuestBuildError {
    pub(crate) fn io(path: &Path, error: std::io::Error) -> Self {
        GuestBuildError::Io { path: path.to_path_buf(), error }
    }
}

/// Tells the language of the guest project in `dir` by its marker file.
pub fn detect(dir: &Path) -> Result<GuestLanguage, GuestBuildError> {
    let markers = [
        ("Cargo.toml", GuestLanguage::Rust),
        ("app.py", GuestLanguage::Python),
        ("package.json", GuestLanguage::JavaScript),
        ("app.c", GuestLanguage::C),
    ];
    markers
        .into_iter()
        .find(|(file, _)| dir.join(file).is_file())
        .map(|(_, language)| language)
        .ok_or_else(|| GuestBuildError::NotAJob(dir.to_path_buf()))
}

/// Builds the guest project in `dir` and returns the path of its component.
///
/// `target_dir` is where build outputs go: cargo's target directory for
/// Rust (so guest workspaces can share their builds), and the parent of a
/// per-project folder for the other languages; by default `DIR/target`.
pub fn build_guest(dir: &Path, target_dir: Option<&Path>) -> Result<PathBuf, GuestBuildError> {
    let language = detect(dir)?;
    let dir = dir.canonicalize().map_err(|e| GuestBuildError::io(dir, e))?;
    if language == GuestLanguage::Rust {
        return rust::build(&dir, target_dir);
    }
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "job".into());
    let out_dir = match target_dir {
        Some(target) => target.join(&name),
        None => dir.join("target"),
    };
    std::fs::create_dir_all(&out_dir).map_err(|e| GuestBuildError::io(&out_dir, e))?;
    let wasm = out_dir.join(format!("{name}.wasm"));
    match language {
        GuestLanguage::Python => python::build(&dir, &out_dir, &wasm)?,
        GuestLanguage::JavaScript => javascript::build(&dir, &out_dir, &wasm)?,
        GuestLanguage::C => c::build(&dir, &out_dir, &wasm)?,
        GuestLanguage::Rust => unreachable!("built above"),
    }
    Ok(wasm)
}

/// The repository's own folders, for the demo, the benchmark and the tests.
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
