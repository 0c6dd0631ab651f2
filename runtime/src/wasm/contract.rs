//! Which version of the `wflink:job` WIT package a component was built
//! against, checked before linking so that an outdated job is refused with
//! both versions named instead of a missing-export error.

use wasmtime::Engine;
use wasmtime::component::Component;

use super::WasmError;

/// The WIT package this runtime implements (`wit/world.wit`).
pub const WIT_PACKAGE: &str = "wflink:job@0.6.0";

/// Refuses a component whose `wflink:job` imports or exports carry a
/// version that is not semver-compatible with [`WIT_PACKAGE`].
pub(crate) fn check_wit_version(engine: &Engine, component: &Component) -> Result<(), WasmError> {
    let ty = component.component_type();
    let names = ty.exports(engine).map(|(name, _)| name).chain(ty.imports(engine).map(|(name, _)| name));
    let (_, expected) = WIT_PACKAGE.split_once('@').expect("WIT_PACKAGE has a version");
    for name in names {
        let Some(rest) = name.strip_prefix("wflink:job/") else { continue };
        let found = rest.split_once('@').map_or("(none)", |(_, version)| version);
        if !compatible(expected, found) {
            return Err(WasmError::WitVersion {
                expected: WIT_PACKAGE.to_owned(),
                found: format!("wflink:job@{found}"),
            });
        }
    }
    Ok(())
}

/// Semver compatibility as the component model applies it: equal up to
/// the first non-zero component (`0.1.0` ~ `0.1.3`, `1.2.0` ~ `1.5.1`).
fn compatible(expected: &str, found: &str) -> bool {
    let parse = |v: &str| -> Option<Vec<u64>> {
        let core = v.split(['-', '+']).next()?;
        let parts: Option<Vec<u64>> = core.split('.').map(|p| p.parse().ok()).collect();
        parts.filter(|p| p.len() == 3)
    };
    let (Some(e), Some(f)) = (parse(expected), parse(found)) else { return false };
    match e.iter().position(|&part| part != 0) {
        Some(i) => e[..=i] == f[..=i],
        None => e == f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constant_names_the_package_of_wit() {
        let world = include_str!("../../../wit/world.wit");
        assert!(world.contains(&format!("package {WIT_PACKAGE};")), "update WIT_PACKAGE to match wit/world.wit");
    }

    #[test]
    fn versions_are_compatible_up_to_the_first_non_zero_part() {
        assert!(compatible("0.1.0", "0.1.0"));
        assert!(compatible("0.1.0", "0.1.7"));
        assert!(!compatible("0.1.0", "0.2.0"));
        assert!(!compatible("0.1.0", "0.0.9"));
        assert!(!compatible("0.1.0", "1.1.0"));
        assert!(compatible("1.2.0", "1.9.1"));
        assert!(!compatible("0.1.0", "(none)"));
    }
}
