//! Reads `conf/config.yaml`: Flink's flat keys (`rest.port: 8081`) or the
//! same keys nested (`rest: {port: 8081}`), every scalar kept as text so
//! the typed getters of [`Configuration`](super::Configuration) parse it.

use std::collections::BTreeMap;
use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

use super::ConfigError;

/// Reads the file at `path` into flat `key -> value` pairs.
pub(super) fn read(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::File { path: path.display().to_string(), reason: e.to_string() })?;
    parse(&text).map_err(|reason| ConfigError::File { path: path.display().to_string(), reason })
}

/// Parses YAML text into flat `key -> value` pairs.
pub(crate) fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    let documents = YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
    let mut flat = BTreeMap::new();
    match documents.into_iter().next() {
        None | Some(Yaml::Null) => {}
        Some(Yaml::Hash(map)) => flatten("", &Yaml::Hash(map), &mut flat)?,
        Some(_) => return Err("expected a mapping of configuration keys to values".into()),
    }
    Ok(flat)
}

fn flatten(prefix: &str, node: &Yaml, out: &mut BTreeMap<String, String>) -> Result<(), String> {
    let scalar = match node {
        Yaml::Hash(map) => {
            for (key, value) in map {
                let key = scalar_text(key).ok_or_else(|| format!("a key under '{prefix}' is not a scalar"))?;
                let full = if prefix.is_empty() { key } else { format!("{prefix}.{key}") };
                flatten(&full, value, out)?;
            }
            return Ok(());
        }
        // Flink writes lists as `a;b`; none of our keys takes one yet.
        Yaml::Array(items) => items.iter().map(|i| scalar_text(i).unwrap_or_default()).collect::<Vec<_>>().join(";"),
        other => scalar_text(other).ok_or_else(|| format!("the value of '{prefix}' is not a scalar"))?,
    };
    out.insert(prefix.to_string(), scalar);
    Ok(())
}

fn scalar_text(node: &Yaml) -> Option<String> {
    match node {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        Yaml::Null => Some(String::new()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_and_nested_keys_become_flat_text() {
        let flat =
            parse("rest.port: 8081\njobmanager:\n  rpc:\n    port: 6123\nexecution.buffer-timeout: 1 ms\n").unwrap();
        assert_eq!(flat["rest.port"], "8081");
        assert_eq!(flat["jobmanager.rpc.port"], "6123");
        assert_eq!(flat["execution.buffer-timeout"], "1 ms");
        assert!(parse("- a\n- b\n").is_err());
        assert!(parse("").unwrap().is_empty());
    }
}
