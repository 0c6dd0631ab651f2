//! C guests: `app.c` (and any other `.c` files beside it) implementing the
//! exports of the bindings `wit-bindgen c` generates, with `wflink.h` for
//! batches and MessagePack; compiled by Debian's clang for `wasm32-wasi` as
//! a preview1 reactor and made a component with the preview1 adapter
//! wasmtime ships.
//!
//! The bindings and the component come from the libraries the `wit-bindgen`
//! and `wasm-tools` CLIs wrap (`wit-bindgen-c`, `wit-component`), linked
//! into wflink: a C build needs clang and wasi-libc, and no `cargo install`.

use std::path::{Path, PathBuf};
use std::process::Command;

use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_bindgen_core::wit_parser::Resolve;

use super::GuestBuildError;
use super::embedded::{C_HEADER, WIT, WORLD};
use super::tool::{find_program, run_step, write_file, write_tree};

/// What `apt-get` needs for clang to target wasm32-wasi.
const APT_PACKAGES: &str = "clang lld wasi-libc libclang-rt-dev-wasm32";

pub(super) fn build(dir: &Path, out_dir: &Path, wasm: &Path) -> Result<(), GuestBuildError> {
    let clang = find_program("clang").ok_or_else(|| GuestBuildError::MissingTool {
        tool: "clang".into(),
        hint: format!("run `apt-get install {APT_PACKAGES}`"),
    })?;

    let wit = out_dir.join("wit");
    write_tree(&wit, &WIT, ".wit")?;
    let include = out_dir.join("include");
    write_file(&include.join("wflink.h"), C_HEADER)?;
    let generated = out_dir.join("gen");
    generate_bindings(&wit, &generated).map_err(|e| step_error("generating the C bindings (wit-bindgen c)", dir, e))?;

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
    let hint = format!("clang (are {APT_PACKAGES} installed?)");
    run_step(&mut compile, &hint, dir)?;

    let module = std::fs::read(&core).map_err(|e| GuestBuildError::io(&core, e))?;
    let component = componentize(&module).map_err(|e| step_error("making the component (wit-component)", dir, e))?;
    std::fs::write(wasm, component).map_err(|e| GuestBuildError::io(wasm, e))
}

/// `wit-bindgen c WIT --world stream-job --out-dir OUT`: the header, the
/// glue code and the object file that carries the component type.
fn generate_bindings(wit: &Path, out: &Path) -> anyhow::Result<()> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_dir(wit)?;
    let world = resolve.select_world(&[package], Some(WORLD))?;
    let mut files = wit_bindgen_core::Files::default();
    wit_bindgen_c::Opts::default().build().generate(&mut resolve, world, &mut files)?;
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    std::fs::create_dir_all(out)?;
    for (name, contents) in files.iter() {
        std::fs::write(out.join(name), contents)?;
    }
    Ok(())
}

/// `wasm-tools component new CORE --adapt wasi_snapshot_preview1=REACTOR`:
/// the core module (with the component type clang linked in from the
/// bindings' object file) wrapped as a component, its preview1 imports
/// adapted to WASI 0.2.
fn componentize(module: &[u8]) -> anyhow::Result<Vec<u8>> {
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(module)?
        .adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER)?
        .encode()
}

fn step_error(step: &str, dir: &Path, error: anyhow::Error) -> GuestBuildError {
    GuestBuildError::StepError { step: step.to_owned(), dir: dir.to_path_buf(), reason: format!("{error:#}") }
}

/// The `.c` files of the project's folder, sorted.
fn c_sources(dir: &Path) -> Result<Vec<PathBuf>, GuestBuildError> {
    let entries = std::fs::read_dir(dir).map_err(|e| GuestBuildError::io(dir, e))?;
    let mut sources: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "c"))
        .collect();
    sources.sort();
    Ok(sources)
}
