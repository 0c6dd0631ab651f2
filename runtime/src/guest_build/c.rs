//! C guests: `app.c` (and any other `.c` files beside it) implementing the
//! exports of the bindings `wit-bindgen c` generates, with `wflink.h` for
//! batches and MessagePack; compiled by Debian's clang for
//! `wasm32-wasi` as a preview1 reactor and made a component by
//! `wasm-tools component new` with the preview1 adapter wasmtime ships.

use std::path::Path;
use std::process::Command;

use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};

use super::GuestBuildError;
use super::embedded::{C_HEADER, WIT, WORLD};
use super::tool::{find_program, first_line, run_step, write_tree};

/// The wit-bindgen CLI release wflink builds with (POLYGLOT.md).
pub const WIT_BINDGEN_VERSION: &str = "0.63.0";
/// The wasm-tools release wflink builds with (POLYGLOT.md).
pub const WASM_TOOLS_VERSION: &str = "1.263.0";

/// What `apt-get` needs for clang to target wasm32-wasi.
const APT_PACKAGES: &str = "clang lld wasi-libc libclang-rt-dev-wasm32";

pub(super) fn build(dir: &Path, out_dir: &Path, wasm: &Path) -> Result<(), GuestBuildError> {
    let clang = find_program("clang").ok_or_else(|| GuestBuildError::MissingTool {
        tool: "clang".into(),
        hint: format!("run `apt-get install {APT_PACKAGES}`"),
    })?;
    let wit_bindgen = cargo_tool("wit-bindgen", "wit-bindgen-cli", WIT_BINDGEN_VERSION)?;
    let wasm_tools = cargo_tool("wasm-tools", "wasm-tools", WASM_TOOLS_VERSION)?;

    let wit = out_dir.join("wit");
    write_tree(&wit, WIT)?;
    let include = out_dir.join("include");
    write_tree(&include, &[("wflink.h", C_HEADER)])?;
    let generated = out_dir.join("gen");
    let mut bindgen = Command::new(wit_bindgen);
    bindgen.arg("c").arg(&wit).args(["--world", WORLD, "--out-dir"]).arg(&generated);
    run_step(&mut bindgen, "wit-bindgen c", dir)?;

    let world = WORLD.replace('-', "_");
    let core = out_dir.join("core.wasm");
    let mut compile = Command::new(clang);
    compile
        .args(["--target=wasm32-wasi", "-mexec-model=reactor", "-O2", "-Wall", "-Wl,--strip-debug"])
        .arg("-I")
        .arg(&generated)
        .arg("-I")
        .arg(&include)
        .arg("-o")
        .arg(&core);
    for source in c_sources(dir)? {
        compile.arg(source);
    }
    compile.arg(generated.join(format!("{world}.c"))).arg(generated.join(format!("{world}_component_type.o")));
    run_step(&mut compile, "clang (is wasi-libc installed? `apt-get install wasi-libc libclang-rt-dev-wasm32`)", dir)?;

    let adapter = out_dir.join(format!("{WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME}.reactor.wasm"));
    std::fs::write(&adapter, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER).map_err(|e| GuestBuildError::io(&adapter, e))?;
    let mut component = Command::new(wasm_tools);
    component
        .args(["component", "new"])
        .arg(&core)
        .arg("--adapt")
        .arg(format!("{WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME}={}", adapter.display()))
        .arg("-o")
        .arg(wasm);
    run_step(&mut component, "wasm-tools component new", dir)
}

/// A tool installed with `cargo install`, at the pinned version.
fn cargo_tool(program: &str, package: &str, version: &str) -> Result<std::path::PathBuf, GuestBuildError> {
    let install = format!("run `cargo install --locked {package}@{version}`");
    let path = find_program(program)
        .ok_or_else(|| GuestBuildError::MissingTool { tool: program.into(), hint: install.clone() })?;
    let found = first_line(&path, &["--version"]).unwrap_or_default();
    if !found.split_whitespace().nth(1).is_some_and(|v| v == version) {
        return Err(GuestBuildError::MissingTool {
            tool: format!("{program} {version} (found '{found}')"),
            hint: install,
        });
    }
    Ok(path)
}

/// The `.c` files of the project's folder, sorted.
fn c_sources(dir: &Path) -> Result<Vec<std::path::PathBuf>, GuestBuildError> {
    let entries = std::fs::read_dir(dir).map_err(|e| GuestBuildError::io(dir, e))?;
    let mut sources: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "c"))
        .collect();
    sources.sort();
    Ok(sources)
}
