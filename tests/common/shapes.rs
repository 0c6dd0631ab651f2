//! Flink 2.3's recorded answers (`tests/flink-rest-samples/`) and the check
//! that wflink's answers have their shape.

use serde_json::Value;

/// Recursively checks that `ours` has every field of Flink's `sample`
/// with the same JSON type (arrays: their first elements; objects keyed by
/// ids, such as a checkpoint's `tasks` by vertex id: every value against
/// the sample's first); fails naming every difference.
pub fn assert_same_shape(path: &str, sample: &Value, ours: &Value) {
    let mut differences = Vec::new();
    differences_in_shape(path, sample, ours, &mut differences);
    assert!(differences.is_empty(), "{path} differs from Flink's shape:\n  {}\nours: {ours}", differences.join("\n  "));
}

fn differences_in_shape(path: &str, sample: &Value, ours: &Value, differences: &mut Vec<String>) {
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    if kind(sample) != kind(ours) {
        differences.push(format!("{path}: Flink has {sample}, we have {ours}"));
        return;
    }
    match (sample, ours) {
        (Value::Object(s), Value::Object(o)) if !s.is_empty() && s.keys().all(|k| is_id(k)) => {
            let first = s.values().next().unwrap();
            if o.is_empty() || !o.keys().all(|k| is_id(k)) {
                differences.push(format!("{path}: Flink has values by id, {sample}; we have {ours}"));
            }
            for (key, value) in o {
                differences_in_shape(&format!("{path}.{key}"), first, value, differences);
            }
        }
        (Value::Object(s), Value::Object(o)) => {
            for (key, value) in s {
                let field = format!("{path}.{key}");
                match o.get(key) {
                    Some(ours) => differences_in_shape(&field, value, ours, differences),
                    None => differences.push(format!("{field} is missing (Flink has {value})")),
                }
            }
        }
        (Value::Array(s), Value::Array(o)) if !s.is_empty() && !o.is_empty() => {
            differences_in_shape(&format!("{path}[0]"), &s[0], &o[0], differences)
        }
        _ => {}
    }
}

/// A 32-hex-digit id (of a vertex, a job, …), as Flink keys maps by them.
fn is_id(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A response recorded from Flink 2.3 (`tests/flink-rest-samples/`, copied
/// from the team's shared recordings).
pub fn sample(name: &str) -> Value {
    let path = wflink::guest_build::repo::root().join("tests").join("flink-rest-samples").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Error samples start with a status line.
    let json = text.lines().filter(|l| !l.starts_with("{\"http_status\"")).collect::<Vec<_>>().join("\n");
    serde_json::from_str(&json).unwrap()
}
