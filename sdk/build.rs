//! Copies the WIT contract (`../wit`) into `OUT_DIR` for `generate!`,
//! working around two spellings that wit-parser 0.254 (used by both
//! wit-bindgen 0.61 and wasmtime 48) rejects:
//!
//! - `map` is a keyword (the map type), so a variant case spelled `map` must
//!   be written `%map` (the same name in the component);
//! - a world may not share its name with an interface of its package, so
//!   `world job` beside `interface job` is renamed `world job-world` here.
//!   World names do not appear in the component's imports or exports.
//!
//! Once `wit/` is fixed the copy is verbatim; `generate!` names no world and
//! takes the package's only one, whatever it is called.

use std::{env, fs, path::PathBuf};

fn main() {
    let source = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../wit");
    let target = PathBuf::from(env::var("OUT_DIR").unwrap()).join("wit");
    println!("cargo:rerun-if-changed={}", source.display());
    fs::create_dir_all(&target).unwrap();
    let has_job_interface = fs::read_dir(&source)
        .unwrap()
        .filter_map(|e| fs::read_to_string(e.unwrap().path()).ok())
        .any(|text| text.lines().any(|l| l.trim() == "interface job {"));
    for entry in fs::read_dir(&source).expect("the WIT contract at ../wit") {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "wit") {
            continue;
        }
        println!("cargo:rerun-if-changed={}", path.display());
        let text = fs::read_to_string(&path).unwrap();
        let escaped: Vec<String> = text
            .lines()
            .map(|line| match line.trim() {
                "map," | "map" => line.replacen("map", "%map", 1),
                "world job {" if has_job_interface => {
                    line.replacen("world job", "world job-world", 1)
                }
                _ => line.to_owned(),
            })
            .collect();
        fs::write(
            target.join(path.file_name().unwrap()),
            escaped.join("\n") + "\n",
        )
        .unwrap();
    }
}
