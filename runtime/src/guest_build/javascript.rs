//! JavaScript guests: a `package.json` whose `main` module exports
//! `{ job, operator } = exportJob(build)` from the `wflink` JS library.
//! esbuild bundles the app with the library this binary carries, then
//! componentize-js makes the bundle a component (StarlingMonkey and the
//! app inside); both run from the project's own `node_modules`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::GuestBuildError;
use super::embedded::{JS_BUILD_SCRIPT, JS_SDK, WIT, WORLD};
use super::tool::{find_program, run_step, write_file, write_tree};

/// The npm packages a JavaScript build runs, each with the module that
/// tells it is installed.
const BUILD_PACKAGES: &[(&str, &str)] = &[
    ("@bytecodealliance/componentize-js", "node_modules/@bytecodealliance/componentize-js/src/componentize.js"),
    ("esbuild", "node_modules/esbuild/lib/main.js"),
];

pub(super) fn build(dir: &Path, out_dir: &Path, wasm: &Path) -> Result<(), GuestBuildError> {
    let node = find_program("node").ok_or_else(|| GuestBuildError::MissingTool {
        tool: "node".into(),
        hint: "install Node.js 18 or newer with npm (e.g. `apt-get install nodejs npm`)".into(),
    })?;
    let manifest = read_manifest(dir)?;
    ensure_node_modules(dir, &manifest)?;
    let main = main_module(dir, &manifest)?;

    let wit = out_dir.join("wit");
    write_tree(&wit, &WIT, ".wit")?;
    // The library this binary carries: esbuild resolves `"wflink"` to it,
    // whatever the project's node_modules hold.
    let library = out_dir.join("wflink");
    write_tree(&library, &JS_SDK, ".js")?;
    let script = out_dir.join("build.mjs");
    write_file(&script, JS_BUILD_SCRIPT)?;

    let mut command = Command::new(node);
    command.arg(&script).arg(dir).arg(&main).arg(&library).arg(&wit).arg(WORLD).arg(out_dir).arg(wasm);
    run_step(&mut command, "esbuild and componentize-js", dir)
}

/// The project's `package.json`.
fn read_manifest(dir: &Path) -> Result<serde_json::Value, GuestBuildError> {
    let manifest = dir.join("package.json");
    let text = std::fs::read_to_string(&manifest).map_err(|e| GuestBuildError::io(&manifest, e))?;
    serde_json::from_str(&text)
        .map_err(|e| GuestBuildError::io(&manifest, std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

/// Whether `package.json` lists `package` in its dependencies or devDependencies.
fn declares(manifest: &serde_json::Value, package: &str) -> bool {
    ["dependencies", "devDependencies"].iter().any(|field| manifest[field].get(package).is_some())
}

/// The build packages missing from the project's `node_modules`.
fn missing_packages(dir: &Path) -> Vec<&'static str> {
    BUILD_PACKAGES.iter().filter(|(_, module)| !dir.join(module).is_file()).map(|(name, _)| *name).collect()
}

/// Installs the project's npm dependencies when a build package is
/// missing: `npm ci` with a lock file (the versions it pins), `npm install`
/// without. A build package that `package.json` does not list is named at
/// once, with the command that adds it.
fn ensure_node_modules(dir: &Path, manifest: &serde_json::Value) -> Result<(), GuestBuildError> {
    let missing = missing_packages(dir);
    if missing.is_empty() {
        return Ok(());
    }
    if let Some(package) = missing.iter().find(|package| !declares(manifest, package)) {
        return Err(not_declared(dir, package));
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
    match missing_packages(dir).first() {
        Some(package) => Err(not_declared(dir, package)),
        None => Ok(()),
    }
}

fn not_declared(dir: &Path, package: &str) -> GuestBuildError {
    GuestBuildError::MissingTool {
        tool: package.into(),
        hint: format!(
            "add it to the devDependencies of {} (`npm install --save-dev {package}` there)",
            dir.join("package.json").display()
        ),
    }
}

/// The `main` module named in `package.json` (default `app.js`).
fn main_module(dir: &Path, manifest: &serde_json::Value) -> Result<PathBuf, GuestBuildError> {
    let main = manifest["main"].as_str().unwrap_or("app.js");
    if !dir.join(main).is_file() {
        let missing =
            std::io::Error::new(std::io::ErrorKind::NotFound, "the main module of package.json does not exist");
        return Err(GuestBuildError::io(&dir.join(main), missing));
    }
    Ok(PathBuf::from(main))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A build package counts as listed in either dependency table.
    #[test]
    fn build_packages_are_found_in_either_dependency_table() {
        let manifest: serde_json::Value =
            serde_json::from_str(r#"{"dependencies": {"esbuild": "0.28.2"}, "devDependencies": {"x": "1"}}"#).unwrap();
        assert!(declares(&manifest, "esbuild"));
        assert!(declares(&manifest, "x"));
        assert!(!declares(&manifest, "@bytecodealliance/componentize-js"));
    }

    /// A project without esbuild is told, in one line, how to add it.
    #[test]
    fn a_project_without_esbuild_is_told_how_to_add_it() {
        let dir = std::env::temp_dir().join(format!("wflink-js-no-esbuild-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let manifest = r#"{"devDependencies": {"@bytecodealliance/componentize-js": "0.23.0"}}"#;
        std::fs::write(dir.join("package.json"), manifest).unwrap();
        std::fs::write(dir.join("app.js"), "").unwrap();
        let error = ensure_node_modules(&dir, &read_manifest(&dir).unwrap()).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!error.contains('\n'), "{error}");
        assert!(error.starts_with("esbuild is not installed: add it to the devDependencies of"), "{error}");
        assert!(error.contains("npm install --save-dev esbuild"), "{error}");
    }
}
