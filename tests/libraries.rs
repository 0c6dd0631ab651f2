//! The Python and JavaScript libraries as packages, checked with their own
//! languages' tools: pytest runs the Python package's tests, `tsc
//! --checkJs` checks the JavaScript library's JSDoc types, and `node
//! --test` runs its tests. The tools come from `cargo xtask install`
//! (`sdk/python/.venv`, `sdk/js/node_modules`), pinned by
//! `sdk/python/pyproject.toml` and `sdk/js/package-lock.json`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::common::*;
use wflink::guest_build::repo;

/// Seconds on an idle machine; generous for a busy 2-core one.
const LIMIT: Duration = Duration::from_secs(120);

fn python_library() -> PathBuf {
    repo::root().join("sdk/python")
}

fn js_library() -> PathBuf {
    repo::root().join("sdk/js")
}

/// `path`, or a panic naming the command that installs it.
fn installed(path: PathBuf) -> PathBuf {
    assert!(path.is_file(), "{} is missing: run `cargo xtask install`", path.display());
    path
}

fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed ({})\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The files of `dir` whose names end with `suffix`, sorted.
fn files_ending_with(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .collect();
    files.sort();
    files
}

/// The Python package's tests pass under pytest (its settings, e.g. the
/// test folder, come from `pyproject.toml`).
#[test]
fn python_library_tests_pass_under_pytest() {
    let dir = python_library();
    let mut command = Command::new(installed(dir.join(".venv/bin/pytest")));
    // No bytecode beside the sources: the binary embeds sdk/python/wflink.
    command.current_dir(&dir).env("PYTHONDONTWRITEBYTECODE", "1").arg("-q");
    let output = run_with_limit(command, LIMIT);
    assert_success("pytest", &output);
    assert!(String::from_utf8_lossy(&output.stdout).contains(" passed"), "pytest ran tests");
}

/// The JavaScript library's JSDoc types check under `tsc --checkJs
/// --noEmit` (the settings of `sdk/js/tsconfig.json`).
#[test]
fn javascript_library_types_check_under_tsc() {
    let dir = js_library();
    let mut command = Command::new("node");
    command.current_dir(&dir).arg(installed(dir.join("node_modules/typescript/bin/tsc"))).args([
        "--project",
        "tsconfig.json",
        "--checkJs",
        "--noEmit",
    ]);
    assert_success("tsc --checkJs", &run_with_limit(command, LIMIT));
}

/// The JavaScript library's tests pass under `node --test`, with the host
/// imports stubbed (`tests/register.mjs`).
#[test]
fn javascript_library_tests_pass_under_node_test() {
    let dir = js_library();
    let tests = files_ending_with(&dir.join("tests"), ".test.mjs");
    assert!(tests.len() >= 3, "{tests:?}");
    let mut command = Command::new("node");
    command.current_dir(&dir).args(["--import", "./tests/register.mjs", "--test"]).args(&tests);
    let output = run_with_limit(command, LIMIT);
    assert_success("node --test", &output);
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("# fail 0") && !report.contains("# pass 0"), "{report}");
}

/// `wflink build DIR` bundles a JavaScript job's own modules with the
/// library (esbuild), and a stack in the job's error names the job's file
/// and line, not the bundle's, wherever the build writes its outputs
/// (here the default, `DIR/target`).
#[test]
fn javascript_job_modules_are_bundled_and_stacks_name_their_files() {
    let project = scratch("js-bundled-modules");
    let example = repo::example("wordcount-js");
    std::fs::copy(example.join("package.json"), project.join("package.json")).unwrap();
    let modules = installed(example.join("node_modules/esbuild/lib/main.js"));
    let modules = modules.ancestors().nth(3).unwrap();
    std::os::unix::fs::symlink(modules, project.join("node_modules")).unwrap();
    std::fs::create_dir(project.join("lib")).unwrap();
    let shout = "export function shout(s) {\n  if (s === \"boom\") throw new RangeError(`no ${s}`);\n  return s.toUpperCase();\n}\n";
    std::fs::write(project.join("lib/shout.js"), shout).unwrap();
    let app = "import { exportJob } from \"wflink\";\nimport { shout } from \"./lib/shout.js\";\n\n\
               export const { job, operator } = exportJob((env, args) =>\n  \
               env.readTextFile(args.required(\"input\")).map(shout).name(\"shout\").print(),\n);\n";
    std::fs::write(project.join("app.js"), app).unwrap();

    let mut build = wflink();
    build.arg("build").arg(&project);
    let built = run_with_limit(build, LIMIT);
    assert_success("wflink build", &built);
    let wasm = PathBuf::from(String::from_utf8_lossy(&built.stdout).trim());
    assert!(wasm.starts_with(project.join("target")), "{}", wasm.display());

    let input = project.join("input.txt");
    std::fs::write(&input, "fine\nboom\n").unwrap();
    let mut run = wflink();
    run.args(["run", "--local"]).arg(&wasm).arg("--input").arg(&input);
    let output = run_with_limit(run, LIMIT);
    assert_clean_failure(&output, "node 1 'shout' threw RangeError: no boom");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("shout@lib/shout.js:2:"), "names the job's file and line: {stderr}");
    assert!(!stderr.contains("wflink/chain.js") && !stderr.contains("bundle"), "no library frames: {stderr}");
    std::fs::remove_dir_all(&project).unwrap();
}
