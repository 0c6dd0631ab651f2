//! Flink 2.3's recorded answers (`tests/flink-rest-samples/`) and the check
//! that wflink's answers have their shape.

use serde_json::Value;

/// Recursively checks that `ours` has every field of Flink's `sample`
/// with the same JSON type (arrays: their first elements).
pub fn assert_same_shape(path: &str, sample: &Value, ours: &Value) {
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    assert_eq!(kind(sample), kind(ours), "{path}: Flink has {sample}, we have {ours}");
    match (sample, ours) {
        (Value::Object(s), Value::Object(o)) => {
            for (key, value) in s {
                let field = format!("{path}.{key}");
                let ours = o.get(key).unwrap_or_else(|| panic!("{field} is missing from {ours}"));
                assert_same_shape(&field, value, ours);
            }
        }
        (Value::Array(s), Value::Array(o)) if !s.is_empty() && !o.is_empty() => {
            assert_same_shape(&format!("{path}[0]"), &s[0], &o[0])
        }
        _ => {}
    }
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
