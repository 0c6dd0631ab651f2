//! Python guests: an `app.py` defining `Job, Operator = export_job(build)`
//! with the `wflink` Python library, made into a component (CPython and
//! the app inside) by componentize-py.

use std::path::Path;
use std::process::Command;

use super::GuestBuildError;
use super::embedded::{PYTHON_SDK, WIT, WORLD};
use super::tool::{find_program, first_line, run_step, write_tree};

/// The componentize-py release wflink builds with (measured in POLYGLOT.md).
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

pub(super) fn build(dir: &Path, out_dir: &Path, wasm: &Path) -> Result<(), GuestBuildError> {
    let componentize = ensure_componentize_py(dir)?;
    let wit = out_dir.join("wit");
    write_tree(&wit, &WIT, ".wit")?;
    let library = out_dir.join("python");
    write_tree(&library.join("wflink"), &PYTHON_SDK, ".py")?;
    // Only the app's own modules go in: a .venv or target/ under the
    // project would otherwise be bundled into the component.
    let app = out_dir.join("app");
    if app.exists() {
        std::fs::remove_dir_all(&app).map_err(|e| GuestBuildError::io(&app, e))?;
    }
    copy_python_sources(dir, &app)?;

    let mut command = Command::new(&componentize);
    command
        .arg("-d")
        .arg(&wit)
        .args(["-w", WORLD, "componentize", "app", "-p"])
        .arg(&app)
        .arg("-p")
        .arg(&library)
        .arg("-o")
        .arg(wasm);
    run_step(&mut command, "componentize-py", dir)
}

/// The project's componentize-py, installed from PyPI into `DIR/.venv`
/// (pinned to [`COMPONENTIZE_PY_VERSION`]) when missing or of another version.
fn ensure_componentize_py(dir: &Path) -> Result<std::path::PathBuf, GuestBuildError> {
    let venv = dir.join(".venv");
    let componentize = venv.join("bin").join("componentize-py");
    let wanted = format!("componentize-py {COMPONENTIZE_PY_VERSION}");
    if first_line(&componentize, &["--version"]).as_deref() == Some(wanted.as_str()) {
        return Ok(componentize);
    }
    let pip = venv.join("bin").join("pip");
    if !pip.is_file() {
        let python = find_program("python3").ok_or_else(|| GuestBuildError::MissingTool {
            tool: "python3".into(),
            hint: "install Python 3.10 or newer (e.g. `apt-get install python3 python3-venv`)".into(),
        })?;
        eprintln!("Creating a Python virtual environment in {} ...", venv.display());
        run_step(Command::new(python).args(["-m", "venv"]).arg(&venv), "python3 -m venv", dir)?;
    }
    eprintln!("Installing componentize-py {COMPONENTIZE_PY_VERSION} into {} ...", venv.display());
    let requirement = format!("componentize-py=={COMPONENTIZE_PY_VERSION}");
    run_step(
        Command::new(&pip).args(["install", "--quiet", "--disable-pip-version-check", &requirement]),
        "pip install componentize-py",
        dir,
    )?;
    Ok(componentize)
}

/// Copies the `.py` files of `from` and of its package folders (those
/// with an `__init__.py`) to `to`.
fn copy_python_sources(from: &Path, to: &Path) -> Result<(), GuestBuildError> {
    std::fs::create_dir_all(to).map_err(|e| GuestBuildError::io(to, e))?;
    let entries = std::fs::read_dir(from).map_err(|e| GuestBuildError::io(from, e))?;
    for entry in entries {
        let path = entry.map_err(|e| GuestBuildError::io(from, e))?.path();
        let name = path.file_name().unwrap_or_default();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() && path.join("__init__.py").is_file() {
            copy_python_sources(&path, &to.join(name))?;
        } else if path.extension().is_some_and(|e| e == "py") {
            std::fs::copy(&path, to.join(name)).map_err(|e| GuestBuildError::io(&path, e))?;
        }
    }
    Ok(())
}
