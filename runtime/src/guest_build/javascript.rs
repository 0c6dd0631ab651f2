//! JavaScript guests: a `package.json` whose `main` module exports
//! `{ job, operator } = exportJob(build)` from the `wflink` JS library,
//! made into a component (StarlingMonkey and the app inside) by
//! componentize-js from the project's own `node_modules`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::GuestBuildError;
use super::embedded::{JS_BUILD_SCRIPT, JS_SDK, WIT, WORLD};
use super::tool::{find_program, run_step, write_tree};

/// The componentize-js module the build script imports.
const COMPONENTIZE_JS: &str = "node_modules/@bytecodealliance/componentize-js/src/componentize.js";

pub(super) fn build(dir: &Path, out_dir: &Path, wasm: &Path) -> Result<(), GuestBuildError> {
    let node = find_program("node").ok_or_else(|| GuestBuildError::MissingTool {
        tool: "node".into(),
        hint: "install Node.js 18 or newer with npm (e.g. `apt-get install nodejs npm`)".into(),
    })?;
    ensure_node_modules(dir)?;
    let main = main_module(dir)?;

    let wit = out_dir.join("wit");
    write_tree(&wit, WIT)?;
    // The app's modules with the library beside them, `"wflink"` imports
    // pointed at it (componentize-js follows relative imports only).
    let app = out_dir.join("app");
    write_tree(&app.join("wflink"), JS_SDK)?;
    copy_js_sources(dir, &app, 0)?;
    let script = out_dir.join("build.mjs");
    std::fs::write(&script, JS_BUILD_SCRIPT).map_err(|e| GuestBuildError::io(&script, e))?;

    let mut command = Command::new(node);
    command.arg(&script).arg(dir).arg(app.join(&main)).arg(&wit).arg(WORLD).arg(wasm);
    run_step(&mut command, "componentize-js", dir)
}

/// Installs the project's npm dependencies when componentize-js is missing:
/// `npm ci` with a lock file (the versions it pins), `npm install` without.
fn ensure_node_modules(dir: &Path) -> Result<(), GuestBuildError> {
    if dir.join(COMPONENTIZE_JS).is_file() {
        return Ok(());
    }
    let npm = find_program("npm").ok_or_else(|| GuestBuildError::MissingTool {
        tool: "npm".into(),
        hint: "install npm (e.g. `apt-get install npm`)".into(),
    })?;
    let install = if dir.join("package-lock.json").is_file() { "ci" } else { "install" };
    eprintln!("Installing the npm packages of {} (npm {install}) ...", dir.display());
    run_step(
        Command::new(npm).current_dir(dir).args([install, "--no-audit", "--no-fund"]),
        &format!("npm {install}"),
        dir,
    )?;
    if !dir.join(COMPONENTIZE_JS).is_file() {
        return Err(GuestBuildError::MissingTool {
            tool: "@bytecodealliance/componentize-js".into(),
            hint: format!("add it to the devDependencies of {}", dir.join("package.json").display()),
        });
    }
    Ok(())
}

/// The `main` module named in `package.json` (default `app.js`).
fn main_module(dir: &Path) -> Result<PathBuf, GuestBuildError> {
    let manifest = dir.join("package.json");
    let text = std::fs::read_to_string(&manifest).map_err(|e| GuestBuildError::io(&manifest, e))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| GuestBuildError::io(&manifest, std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    let main = json["main"].as_str().unwrap_or("app.js");
    if !dir.join(main).is_file() {
        let missing =
            std::io::Error::new(std::io::ErrorKind::NotFound, "the main module of package.json does not exist");
        return Err(GuestBuildError::io(&dir.join(main), missing));
    }
    Ok(PathBuf::from(main))
}

/// Copies the `.js`/`.mjs` files of `from` (and its folders, except
/// `node_modules`, `target` and hidden ones) to `to`, pointing imports of
/// `"wflink"` at the library copied into `<app>/wflink/`.
fn copy_js_sources(from: &Path, to: &Path, depth: usize) -> Result<(), GuestBuildError> {
    std::fs::create_dir_all(to).map_err(|e| GuestBuildError::io(to, e))?;
    let entries = std::fs::read_dir(from).map_err(|e| GuestBuildError::io(from, e))?;
    for entry in entries {
        let path = entry.map_err(|e| GuestBuildError::io(from, e))?.path();
        let name = path.file_name().unwrap_or_default();
        let text_name = name.to_string_lossy();
        if text_name.starts_with('.') || text_name == "node_modules" || text_name == "target" {
            continue;
        }
        if path.is_dir() {
            if depth == 0 && text_name == "wflink" {
                continue;
            }
            copy_js_sources(&path, &to.join(name), depth + 1)?;
        } else if path.extension().is_some_and(|e| e == "js" || e == "mjs") {
            let source = std::fs::read_to_string(&path).map_err(|e| GuestBuildError::io(&path, e))?;
            let library = format!("{}wflink/index.js", if depth == 0 { "./".to_owned() } else { "../".repeat(depth) });
            let source = source
                .replace("from \"wflink\"", &format!("from \"{library}\""))
                .replace("from 'wflink'", &format!("from '{library}'"));
            let target = to.join(name);
            std::fs::write(&target, source).map_err(|e| GuestBuildError::io(&target, e))?;
        }
    }
    Ok(())
}
