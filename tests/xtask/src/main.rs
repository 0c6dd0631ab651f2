//! `cargo xtask test`: the README's second command, and what CI runs.
//!
//! It installs what the tests need where it is missing (Debian packages,
//! with `sudo` when not root; the `wasm32-wasip2` target and the rustfmt
//! and clippy components through rustup; the npm packages of the
//! JavaScript projects, of the JavaScript library and of the browser test;
//! pytest in the Python library's `.venv`; schemathesis from PyPI into a
//! virtual environment under `target/`, for the API fuzz test; the Kafka
//! broker tansu from crates.io into `target/tools`), then runs
//! `cargo fmt --check`, `cargo clippy --workspace --all-targets -- -D warnings`
//! and `cargo test --workspace`, printing how long each step took. What cannot be
//! installed is named once and fails the run: no test is skipped because
//! a tool is missing.
//!
//! `cargo xtask install` does the installs alone. Arguments after `test`
//! go to `cargo test` (e.g. `cargo xtask test --test e2e polyglot::`).
//!
//! No dependencies: a fresh clone compiles this before anything else.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// The target guest crates compile to (runtime/src/guest_build/rust.rs).
const GUEST_TARGET: &str = "wasm32-wasip2";

/// How to tell that something the tests need is there.
enum Check {
    /// The Debian package is installed.
    Dpkg,
    /// This command runs and succeeds (a tool may come from elsewhere than
    /// Debian, e.g. Node.js from NodeSource or Python from pyenv).
    Runs(&'static [&'static str]),
    /// This file exists (the dashboard test starts `/usr/bin/chromium`).
    File(&'static str),
}

/// A Debian package the tests need.
struct Need {
    package: &'static str,
    check: Check,
}

/// Everything the tests take from Debian: clang with wasi-libc and the
/// wasm32 builtins for C guests; Python with venv (componentize-py is
/// installed into a venv) and Node.js with npm for the Python and
/// JavaScript guests; chromium for the dashboard test; openssl, whose
/// command makes the TLS tests' certificates.
const NEEDS: &[Need] = &[
    Need { package: "clang", check: Check::Dpkg },
    Need { package: "lld", check: Check::Dpkg },
    Need { package: "wasi-libc", check: Check::Dpkg },
    Need { package: "libclang-rt-dev-wasm32", check: Check::Dpkg },
    Need { package: "python3", check: Check::Runs(&["python3", "--version"]) },
    Need { package: "python3-venv", check: Check::Runs(&["python3", "-c", "import ensurepip, venv"]) },
    Need { package: "nodejs", check: Check::Runs(&["node", "--version"]) },
    Need { package: "npm", check: Check::Runs(&["npm", "--version"]) },
    Need { package: "chromium", check: Check::File("/usr/bin/chromium") },
    Need { package: "openssl", check: Check::Runs(&["openssl", "version"]) },
];

/// The JavaScript guests. They pin the same componentize-js (their lock
/// files differ in the project name only), so the first is installed with
/// `npm ci` and hard-linked into the others instead of unpacking ~390 MB
/// per project.
const JS_PROJECTS: &[&str] = &[
    "guest-examples/wordcount-js",
    "guest-examples/sensor-alerts-js",
    "tests/guests/failing-js",
    "tests/guests/multi-input-js",
];
/// What a JavaScript guest build needs in `node_modules`: componentize-js
/// and esbuild (runtime/src/guest_build/javascript.rs).
const JS_BUILD_MODULES: &[&str] =
    &["node_modules/@bytecodealliance/componentize-js/src/componentize.js", "node_modules/esbuild/lib/main.js"];
/// The JavaScript library's package: typescript checks its JSDoc types
/// (tests/libraries.rs).
const JS_LIBRARY: &str = "sdk/js";
const TYPESCRIPT: &str = "node_modules/typescript/bin/tsc";
/// The Python library's package: its tests run under pytest from this
/// virtual environment, where the package is installed editable with its
/// `test` extra (tests/libraries.rs).
const PYTHON_LIBRARY: &str = "sdk/python";
const PYTEST: &str = ".venv/bin/pytest";
/// The browser test's project: playwright-core drives Debian's chromium.
const BROWSER_PROJECT: &str = "tests/browser";
const PLAYWRIGHT: &str = "node_modules/playwright-core/package.json";
/// The API fuzz test (`tests/api_fuzz.rs`) runs schemathesis from this
/// virtual environment (under `target/`, so `cargo clean` removes it and git
/// ignores it), pinned so CI's runs are repeatable.
const SCHEMATHESIS_VENV: &str = "target/schemathesis";
const SCHEMATHESIS: &str = "schemathesis==4.32.5";
/// The Kafka-protocol broker the Kafka tests start (tests/common/kafka.rs):
/// tansu from crates.io, with the `dynostore` feature its in-memory storage
/// needs, built in debug (it serves a few test topics; a release build
/// takes twice as long) into `target/tools` (so `cargo clean` removes it
/// and git ignores it), pinned by its lock file.
const TANSU: &str = "tansu";
const TANSU_VERSION: &str = "0.6.0";
const TOOLS: &str = "target/tools";
/// Flink's own dashboard, for `tests/flink_dashboard.rs`: the `web/` folder of
/// `flink-dist`, which the `apache-flink-libraries` wheel on PyPI carries
/// (329 MB; about 10 s to download and extract here). Only the folder is
/// kept, under `target/` (never committed); pip runs from its own virtual
/// environment beside it.
const FLINK_DASHBOARD_DIR: &str = "target/flink-dashboard";
const FLINK_LIBRARIES: &str = "apache-flink-libraries==2.3.0";
/// Extracts `web/` from the flink-dist jar inside the wheel in `argv[1]` into `argv[2]`.
const EXTRACT_FLINK_WEB: &str = r#"
import glob, os, shutil, sys, tempfile, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "apache_flink_libraries-*.whl"))[0]
with tempfile.TemporaryDirectory(dir=sys.argv[1]) as tmp, zipfile.ZipFile(wheel) as w:
    dist = next(n for n in w.namelist() if n.startswith("pyflink/lib/flink-dist-") and n.endswith(".jar"))
    with zipfile.ZipFile(w.extract(dist, tmp)) as jar:
        jar.extractall(tmp + "/out", [n for n in jar.namelist() if n.startswith("web/")])
    shutil.rmtree(sys.argv[2], ignore_errors=True)
    shutil.move(tmp + "/out/web", sys.argv[2])
"#;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let started = Instant::now();
    let result = match args.first().map(String::as_str) {
        Some("test") => install().and_then(|()| check(&args[1..])),
        Some("install") if args.len() == 1 => install(),
        _ => {
            eprintln!("usage: cargo xtask test [CARGO TEST ARGS...] | cargo xtask install");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => {
            println!("xtask: {} done in {}", args[0], minutes(started.elapsed()));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("xtask: error: {error}");
            eprintln!("xtask: {} failed after {}", args[0], minutes(started.elapsed()));
            ExitCode::FAILURE
        }
    }
}

/// Installs whatever the tests need and is missing.
fn install() -> Result<(), String> {
    install_debian_packages()?;
    install_rust_parts()?;
    install_npm_packages()?;
    install_python_packages()?;
    install_schemathesis()?;
    install_tansu()?;
    install_flink_dashboard()
}

/// Flink's dashboard into `target/flink-dashboard/web` unless it is there: the wheel is downloaded with pip, its
/// `web/` folder extracted, the wheel deleted.
fn install_flink_dashboard() -> Result<(), String> {
    let dir = root().join(FLINK_DASHBOARD_DIR);
    if dir.join("web").join("index.html").is_file() {
        return Ok(());
    }
    step(&format!("Flink's dashboard from {FLINK_LIBRARIES} (into {FLINK_DASHBOARD_DIR}/web)"), || {
        let venv = dir.join("venv");
        if !venv.join("bin").join("pip").is_file() {
            run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        }
        let download = dir.join("download");
        run(Command::new(venv.join("bin").join("pip"))
            .args(["download", "--quiet", "--disable-pip-version-check", "--no-deps", "--only-binary=:all:"])
            .arg("--dest")
            .arg(&download)
            .arg(FLINK_LIBRARIES))?;
        let extracted = run(Command::new(venv.join("bin").join("python"))
            .args(["-c", EXTRACT_FLINK_WEB])
            .arg(&download)
            .arg(dir.join("web")));
        let _ = std::fs::remove_dir_all(&download);
        extracted
    })
    .map_err(|error| format!("cannot install Flink's dashboard: {error}"))
}

/// `cargo fmt --check`, `cargo clippy --all-targets -- -D warnings`, then
/// `cargo test` with `test_args`; clippy and the tests with `--workspace`,
/// so they cover this crate too (it is not a default member). This crate
/// has no dependencies, so `--workspace` unifies the same features as a
/// plain `cargo test` and reuses its build.
fn check(test_args: &[String]) -> Result<(), String> {
    step("cargo fmt --check", || cargo(&["fmt", "--check"]))?;
    let clippy = ["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"];
    step("cargo clippy --workspace --all-targets -- -D warnings", || cargo(&clippy))?;
    let mut args = vec!["test", "--workspace"];
    args.extend(test_args.iter().map(String::as_str));
    step(&format!("cargo {}", args.join(" ")), || cargo(&args))
}

fn install_debian_packages() -> Result<(), String> {
    let missing: Vec<&str> = NEEDS.iter().filter(|need| !is_present(need)).map(|need| need.package).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names = missing.join(" ");
    if !succeeds(&["apt-get", "--version"]) {
        return Err(format!(
            "the tests need these Debian packages, and there is no apt-get to install them: {names} (install them, or what gives the same tools, by hand)"
        ));
    }
    let sudo = if is_root() {
        false
    } else if succeeds(&["sudo", "--version"]) {
        true
    } else {
        return Err(format!("the tests need these Debian packages: {names} (run as root, or install sudo)"));
    };
    step(&format!("apt-get install {names}"), || {
        run(&mut as_root(sudo, &["apt-get", "update", "-qq"]))?;
        let mut install = vec!["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq"];
        install.extend(&missing);
        // dpkg's "Setting up ..." lines for ~100 packages would bury the
        // tests' output; apt-get's errors go to stderr.
        run(as_root(sudo, &install).stdout(std::process::Stdio::null()))
    })
    .map_err(|error| format!("cannot install the Debian packages {names}: {error}"))?;
    let still: Vec<&str> = NEEDS.iter().filter(|need| !is_present(need)).map(|need| need.package).collect();
    if !still.is_empty() {
        return Err(format!("after apt-get install, still missing: {}", still.join(" ")));
    }
    Ok(())
}

/// `command`, run through `sudo` when `sudo` is set.
fn as_root(sudo: bool, command: &[&str]) -> Command {
    let (program, args) = if sudo { ("sudo", command) } else { (command[0], &command[1..]) };
    let mut command = Command::new(program);
    command.args(args);
    command
}

/// The wasm target and the rustfmt and clippy components, which
/// `rust-toolchain.toml` lists but rustup installs only along with the
/// toolchain itself.
fn install_rust_parts() -> Result<(), String> {
    let has_target = || {
        output(Command::new("rustc").current_dir(root()).args(["--print", "target-libdir", "--target", GUEST_TARGET]))
            .is_some_and(|libdir| Path::new(libdir.trim()).is_dir())
    };
    let has_components = || succeeds(&["cargo", "fmt", "--version"]) && succeeds(&["cargo", "clippy", "--version"]);
    if has_target() && has_components() {
        return Ok(());
    }
    let Some(rustup) = find_rustup() else {
        return Err(format!(
            "the Rust toolchain lacks the {GUEST_TARGET} target or rustfmt/clippy, and there is no rustup to add them: install Rust with rustup (https://rustup.rs)"
        ));
    };
    if !has_target() {
        step(&format!("rustup target add {GUEST_TARGET}"), || {
            run(Command::new(&rustup).current_dir(root()).args(["target", "add", GUEST_TARGET]))
        })?;
    }
    if !has_components() {
        step("rustup component add rustfmt clippy", || {
            run(Command::new(&rustup).current_dir(root()).args(["component", "add", "rustfmt", "clippy"]))
        })?;
    }
    Ok(())
}

fn install_npm_packages() -> Result<(), String> {
    let root = root();
    let first = root.join(JS_PROJECTS[0]);
    for project in JS_PROJECTS {
        let dir = root.join(project);
        if has_build_modules(&dir) {
            continue;
        }
        remove_node_modules(&dir)?;
        if dir != first && has_build_modules(&first) && same_lock_file(&first, &dir) {
            println!("xtask: {project}: node_modules hard-linked from {}", JS_PROJECTS[0]);
            let linked =
                run(Command::new("cp").arg("-al").arg(first.join("node_modules")).arg(dir.join("node_modules")));
            linked.map_err(|error| format!("cannot hard-link node_modules into {project}: {error}"))?;
        } else {
            step(&format!("npm ci ({project})"), || npm_ci(&dir))?;
        }
    }
    for (project, module) in [(JS_LIBRARY, TYPESCRIPT), (BROWSER_PROJECT, PLAYWRIGHT)] {
        let dir = root.join(project);
        if !dir.join(module).is_file() {
            remove_node_modules(&dir)?;
            step(&format!("npm ci ({project})"), || npm_ci(&dir))?;
        }
    }
    Ok(())
}

/// schemathesis into [`SCHEMATHESIS_VENV`] unless the pinned version is there.
fn install_schemathesis() -> Result<(), String> {
    let venv = root().join(SCHEMATHESIS_VENV);
    let st = venv.join("bin").join("st");
    let version = SCHEMATHESIS.split("==").nth(1).unwrap_or_default();
    if output(Command::new(&st).arg("--version")).is_some_and(|v| v.trim().ends_with(version)) {
        return Ok(());
    }
    step(&format!("pip install {SCHEMATHESIS} (into {SCHEMATHESIS_VENV})"), || {
        if !venv.join("bin").join("pip").is_file() {
            run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        }
        run(Command::new(venv.join("bin").join("pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            SCHEMATHESIS,
        ]))
    })
    .map_err(|error| format!("cannot install {SCHEMATHESIS}: {error}"))
}

/// tansu into [`TOOLS`] unless that version is there (cargo records what
/// it installed in `.crates.toml` beside `bin/`).
fn install_tansu() -> Result<(), String> {
    let tools = root().join(TOOLS);
    let installed = std::fs::read_to_string(tools.join(".crates.toml"))
        .is_ok_and(|list| list.contains(&format!("\"{TANSU} {TANSU_VERSION} ")));
    if installed && tools.join("bin").join(TANSU).is_file() {
        return Ok(());
    }
    let install = [
        "install",
        TANSU,
        "--version",
        TANSU_VERSION,
        "--features",
        "dynostore",
        "--locked",
        "--debug",
        "--root",
        TOOLS,
    ];
    step(&format!("cargo install {TANSU} {TANSU_VERSION} (the Kafka tests' broker, into {TOOLS})"), || {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        // Without debug info: with it the binary is ~470 MB and links slower.
        run(Command::new(cargo).current_dir(root()).args(install).env("CARGO_PROFILE_DEV_DEBUG", "false"))
    })
    .map_err(|error| format!("cannot install the Kafka broker {TANSU}: {error}"))
}

/// Whether a JavaScript guest project has what its build runs.
fn has_build_modules(dir: &Path) -> bool {
    JS_BUILD_MODULES.iter().all(|module| dir.join(module).is_file())
}

/// pytest in `sdk/python/.venv`, with the library installed editable (so a
/// broken `pyproject.toml` fails here).
fn install_python_packages() -> Result<(), String> {
    let dir = root().join(PYTHON_LIBRARY);
    let pytest = dir.join(PYTEST);
    if succeeds(&[&pytest.to_string_lossy(), "--version"]) {
        return Ok(());
    }
    step(&format!("pip install -e {PYTHON_LIBRARY}[test]"), || {
        run(Command::new("python3").current_dir(&dir).args(["-m", "venv", "--clear", ".venv"]))?;
        let pip = [".venv/bin/pip", "install", "--quiet", "--disable-pip-version-check", "--editable", ".[test]"];
        run(Command::new(pip[0]).current_dir(&dir).args(&pip[1..]))
    })
}

/// `npm ci` in `dir`; no browser is downloaded (Debian's chromium is used).
fn npm_ci(dir: &Path) -> Result<(), String> {
    run(Command::new("npm")
        .current_dir(dir)
        .args(["ci", "--no-audit", "--no-fund"])
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))
}

/// A `node_modules` without what the build needs was left by an
/// interrupted install: it goes, so `npm ci` or a hard link starts clean.
fn remove_node_modules(dir: &Path) -> Result<(), String> {
    let modules = dir.join("node_modules");
    match std::fs::remove_dir_all(&modules) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {error}", modules.display()))
        }
        _ => Ok(()),
    }
}

/// Whether the lock files of two projects pin the same packages (they may
/// differ in the projects' names).
fn same_lock_file(a: &Path, b: &Path) -> bool {
    let packages = |dir: &Path| {
        std::fs::read_to_string(dir.join("package-lock.json"))
            .ok()
            .map(|lock| lock.lines().filter(|line| !line.contains("\"name\"")).collect::<Vec<_>>().join("\n"))
    };
    matches!((packages(a), packages(b)), (Some(a), Some(b)) if a == b)
}

fn is_present(need: &Need) -> bool {
    match need.check {
        Check::Dpkg => output(Command::new("dpkg-query").args(["-W", "-f=${Status}", need.package]))
            .is_some_and(|status| status.trim() == "install ok installed"),
        Check::Runs(command) => succeeds(command),
        Check::File(path) => Path::new(path).exists(),
    }
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0")
}

/// rustup on `PATH`, or in `$CARGO_HOME/bin` (by default `~/.cargo/bin`).
fn find_rustup() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    dirs.extend(cargo_home.map(|home| home.join("bin")));
    dirs.into_iter().map(|dir| dir.join("rustup")).find(|path| path.is_file())
}

/// The repository's root (this crate is `tests/xtask`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("tests/xtask has a grandparent").to_path_buf()
}

/// Runs `cargo ARGS` at the repository's root with the cargo that runs us.
fn cargo(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(Command::new(cargo).current_dir(root()).args(args))
}

/// Runs `what`, printing how long it took.
fn step(name: &str, what: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    println!("xtask: {name} ...");
    let started = Instant::now();
    let result = what();
    let outcome = if result.is_ok() { "took" } else { "failed after" };
    println!("xtask: {name} {outcome} {}", minutes(started.elapsed()));
    result
}

/// Runs a command to its end, its output going to ours.
fn run(command: &mut Command) -> Result<(), String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let args: Vec<_> = command.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    let shown = format!("{program} {}", args.join(" "));
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("`{shown}` failed ({status})")),
        Err(error) => Err(format!("cannot run `{shown}`: {error}")),
    }
}

/// Whether `command` runs and succeeds, its output hidden.
fn succeeds(command: &[&str]) -> bool {
    output(Command::new(command[0]).args(&command[1..])).is_some()
}

/// The stdout of a command that succeeded, or `None`.
fn output(command: &mut Command) -> Option<String> {
    let output = command.stdin(std::process::Stdio::null()).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

fn minutes(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs();
    if seconds < 60 { format!("{seconds} s") } else { format!("{} min {:02} s", seconds / 60, seconds % 60) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(command: &Command) -> Vec<String> {
        std::iter::once(command.get_program()).chain(command.get_args()).map(|w| w.to_string_lossy().into()).collect()
    }

    #[test]
    fn apt_runs_through_sudo_only_when_asked() {
        assert_eq!(words(&as_root(false, &["apt-get", "update"])), ["apt-get", "update"]);
        assert_eq!(words(&as_root(true, &["apt-get", "update"])), ["sudo", "apt-get", "update"]);
    }

    #[test]
    fn lock_files_that_differ_in_the_name_only_are_the_same() {
        let dir = std::env::temp_dir().join(format!("xtask-locks-{}", std::process::id()));
        let (a, b, c) = (dir.join("a"), dir.join("b"), dir.join("c"));
        for (project, name, version) in [(&a, "a", "1.0.0"), (&b, "b", "1.0.0"), (&c, "a", "2.0.0")] {
            std::fs::create_dir_all(project).unwrap();
            let lock = format!("{{\n  \"name\": \"{name}\",\n  \"version\": \"{version}\"\n}}\n");
            std::fs::write(project.join("package-lock.json"), lock).unwrap();
        }
        assert!(same_lock_file(&a, &b));
        assert!(!same_lock_file(&a, &c));
        assert!(!same_lock_file(&a, &dir.join("none")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
