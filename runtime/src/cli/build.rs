//! `wflink build DIR`: build a guest project in any supported language, print the component's path.

use std::path::Path;

use crate::guest_build::build_guest;

pub(super) fn build(dir: &Path) -> anyhow::Result<()> {
    let wasm = build_guest(dir, None)?;
    println!("{}", wasm.display());
    Ok(())
}
