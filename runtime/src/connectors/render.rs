//! Renders MessagePack values as text the way Flink prints Java objects:
//! arrays (tuples) as `(a,b)`, maps as `{k=v, ...}`, strings as they are.

use std::fmt::Write;

use rmpv::ValueRef;

/// Appends the text of the MessagePack value in `bytes` to `out`; bytes
/// that are not MessagePack are written as lossy UTF-8.
pub fn render(bytes: &[u8], out: &mut String) {
    let mut reader = bytes;
    match rmpv::decode::read_value_ref(&mut reader) {
        Ok(value) => write_value(&value, out),
        Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

/// Appends the text of `value` to `out`.
pub fn render_value(value: &ValueRef<'_>, out: &mut String) {
    write_value(value, out)
}

fn write_value(value: &ValueRef<'_>, out: &mut String) {
    match value {
        ValueRef::Nil => out.push_str("null"),
        ValueRef::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        ValueRef::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        ValueRef::F32(f) => {
            let _ = write!(out, "{f}");
        }
        ValueRef::F64(f) => {
            let _ = write!(out, "{f}");
        }
        ValueRef::String(s) => out.push_str(&String::from_utf8_lossy(s.as_bytes())),
        ValueRef::Binary(b) => {
            for byte in *b {
                let _ = write!(out, "{byte:02x}");
            }
        }
        ValueRef::Array(items) => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(')');
        }
        ValueRef::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(k, out);
                out.push('=');
                write_value(v, out);
            }
            out.push('}');
        }
        ValueRef::Ext(kind, data) => {
            let _ = write!(out, "ext({kind},{} bytes)", data.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        let mut out = String::new();
        render(bytes, &mut out);
        out
    }

    #[test]
    fn tuples_render_like_flink() {
        let mut bytes = Vec::new();
        rmp::encode::write_array_len(&mut bytes, 2).unwrap();
        rmp::encode::write_str(&mut bytes, "hello").unwrap();
        rmp::encode::write_sint(&mut bytes, 3).unwrap();
        assert_eq!(text(&bytes), "(hello,3)");
    }

    #[test]
    fn strings_numbers_and_garbage() {
        let mut bytes = Vec::new();
        rmp::encode::write_str(&mut bytes, "a line").unwrap();
        assert_eq!(text(&bytes), "a line");
        assert_eq!(text(&[0x2a]), "42");
        assert_eq!(text(&[0xa5, b'h']), "\u{fffd}h", "a truncated string is shown, not dropped");
    }
}
