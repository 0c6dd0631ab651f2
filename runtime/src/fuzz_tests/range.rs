//! The HTTP `Range` header of the log endpoints (`rest/range.rs`): any
//! header a client sends is a range, ignored, or a 400 that quotes it.

use proptest::prelude::*;

use super::cases;
use crate::rest::range::{ByteRange, content_range, parse};

/// The most bytes the log endpoints send in one page.
const CAP: u64 = 1 << 20;

/// A `Range` header's bytes as the REST server receives them (it refuses
/// a value that is not visible ASCII before parsing), parsed, and the
/// range used against files of a few sizes as the log handler uses it.
pub(super) fn header(bytes: &[u8]) -> Result<(), String> {
    let value = axum::http::HeaderValue::from_bytes(bytes).map_err(|e| format!("not a header value: {e}"))?;
    let text = value.to_str().map_err(|_| "invalid Range header: not ASCII text".to_string())?;
    let Some(range) = parse(text).map_err(|e| e.to_string())? else { return Ok(()) };
    for size in [0, 1, 100, u64::MAX] {
        serve(range, size);
    }
    Ok(())
}

/// What the log handler does with a range on a file of `size` bytes: the
/// page asked for, and the `Content-Range` of what it sends.
fn serve(range: ByteRange, size: u64) -> Option<String> {
    let (offset, length) = range.request(CAP);
    assert!(length <= CAP, "{range:?} asks for {length} bytes");
    if !range.satisfiable(size) {
        return None;
    }
    let start = offset.unwrap_or_else(|| size.saturating_sub(length)).min(size);
    let end = start.saturating_add(length).min(size);
    (end > start).then(|| content_range(start..=end - 1, size))
}

/// Headers clients send (curl, the dashboard's log viewer), and refusals.
pub(super) fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("first-page.txt", b"bytes=0-65535".to_vec()),
        ("from-offset.txt", b"bytes=1048576-".to_vec()),
        ("tail.txt", b"bytes=-4096".to_vec()),
        ("several-ranges.txt", b"bytes=0-9, 20-29,-5".to_vec()),
        ("other-unit.txt", b"items=0-9".to_vec()),
        ("largest-numbers.txt", b"bytes=18446744073709551614-18446744073709551615".to_vec()),
        ("bad-no-unit.txt", b"0-99".to_vec()),
        ("bad-reversed.txt", b"bytes=9-3".to_vec()),
        ("bad-overflow.txt", b"bytes=18446744073709551616-".to_vec()),
        ("bad-not-ascii.txt", "bytes=\u{661}-\u{662}".as_bytes().to_vec()),
        ("bad-control-character.txt", b"bytes=0-9\n".to_vec()),
    ]
}

fn byte_range() -> impl Strategy<Value = ByteRange> {
    let number = prop_oneof![0..1000u64, any::<u64>()];
    prop_oneof![
        (number.clone(), number.clone()).prop_map(|(a, b)| ByteRange::FromTo(a.min(b), a.max(b))),
        number.clone().prop_map(ByteRange::From),
        number.prop_map(ByteRange::Suffix),
    ]
}

fn written(range: ByteRange) -> String {
    match range {
        ByteRange::FromTo(a, b) => format!("{a}-{b}"),
        ByteRange::From(a) => format!("{a}-"),
        ByteRange::Suffix(n) => format!("-{n}"),
    }
}

proptest! {
    #![proptest_config(cases(3000))]

    /// Any text is a range, ignored, or refused quoting it; a range is
    /// served within the page cap without overflow.
    #[test]
    fn any_header_is_a_range_or_refused(value in prop_oneof![
        "\\PC{0,40}",
        "(bytes|BYTES|items)? ?= ?([0-9]{0,22}-?[0-9]{0,22} ?,? ?){0,4}",
    ]) {
        match parse(&value) {
            Ok(Some(range)) => {
                for size in [0, 1, 7, 4096, u64::MAX] {
                    serve(range, size);
                }
            }
            Ok(None) => {}
            Err(e) => prop_assert!(e.to_string().contains(&value), "{e}"),
        }
        let _ = header(value.as_bytes());
    }

    /// Ranges as a client writes them parse back to the first one.
    #[test]
    fn ranges_round_trip(ranges in prop::collection::vec(byte_range(), 1..4), spaces in any::<bool>()) {
        let separator = if spaces { ", " } else { "," };
        let value = format!("bytes={}", ranges.iter().map(|r| written(*r)).collect::<Vec<_>>().join(separator));
        prop_assert_eq!(parse(&value), Ok(Some(ranges[0])));
    }
}
