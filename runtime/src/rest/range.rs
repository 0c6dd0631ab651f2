//! The HTTP `Range` header (RFC 9110 §14) of the log endpoints, parsed by
//! hand: neither `headers` nor `http-range-header` is in the dependency
//! tree, and one byte range is all a log viewer or `curl -r` asks for.
//!
//! Choices RFC 9110 leaves to the server: a unit other than `bytes` is
//! ignored (the whole answer is sent, as the RFC requires); a malformed
//! `bytes` specifier is refused with 400 naming it; of several ranges only
//! the first is served, and `Content-Range` says which bytes were sent.

use std::ops::RangeInclusive;

/// One range of a `Range: bytes=...` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-last`, both inclusive.
    FromTo(u64, u64),
    /// `bytes=first-`: from `first` to the end.
    From(u64),
    /// `bytes=-n`: the last `n` bytes.
    Suffix(u64),
}

/// Why a `Range` header was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid Range header '{0}': expected bytes=FIRST-LAST, bytes=FIRST- or bytes=-SUFFIX")]
pub struct RangeError(pub String);

/// Parses a `Range` header value: `Ok(None)` for a unit other than
/// `bytes` (to be ignored), else the first of its byte ranges, every one
/// of them checked.
pub fn parse(value: &str) -> Result<Option<ByteRange>, RangeError> {
    let invalid = || RangeError(value.to_string());
    let (unit, ranges) = value.trim().split_once('=').ok_or_else(invalid)?;
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Ok(None);
    }
    let number = |digits: &str| -> Result<u64, RangeError> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        digits.parse().map_err(|_| invalid())
    };
    let mut first = None;
    // Empty list elements are allowed by the list syntax; at least one range is not optional.
    for spec in ranges.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (start, end) = spec.split_once('-').ok_or_else(invalid)?;
        let range = match (start, end) {
            ("", suffix) => ByteRange::Suffix(number(suffix)?),
            (start, "") => ByteRange::From(number(start)?),
            (start, end) => match (number(start)?, number(end)?) {
                (start, end) if end >= start => ByteRange::FromTo(start, end),
                _ => return Err(invalid()),
            },
        };
        first.get_or_insert(range);
    }
    first.map(Some).ok_or_else(invalid)
}

impl ByteRange {
    /// What to read for this range, as the paging of [`crate::logs::LogFiles::read`]
    /// takes it: the first byte (`None`: the tail) and how many bytes, at most `cap`.
    pub fn request(self, cap: u64) -> (Option<u64>, u64) {
        match self {
            ByteRange::FromTo(start, end) => (Some(start), (end - start).saturating_add(1).min(cap)),
            ByteRange::From(start) => (Some(start), cap),
            ByteRange::Suffix(n) => (None, n.min(cap)),
        }
    }

    /// Whether any byte of a file of `size` bytes is in the range.
    pub fn satisfiable(self, size: u64) -> bool {
        match self {
            ByteRange::FromTo(start, _) | ByteRange::From(start) => start < size,
            ByteRange::Suffix(n) => n > 0 && size > 0,
        }
    }
}

/// `Content-Range` of a partial answer: `bytes first-last/size`.
pub fn content_range(sent: RangeInclusive<u64>, size: u64) -> String {
    format!("bytes {}-{}/{size}", sent.start(), sent.end())
}

/// `Content-Range` of a 416 answer: `bytes */size`.
pub fn unsatisfied_range(size: u64) -> String {
    format!("bytes */{size}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms_parse() {
        assert_eq!(parse("bytes=0-99"), Ok(Some(ByteRange::FromTo(0, 99))));
        assert_eq!(parse("bytes=5-5"), Ok(Some(ByteRange::FromTo(5, 5))));
        assert_eq!(parse("bytes=100-"), Ok(Some(ByteRange::From(100))));
        assert_eq!(parse("bytes=-500"), Ok(Some(ByteRange::Suffix(500))));
        assert_eq!(parse(" Bytes = 1-2 "), Ok(Some(ByteRange::FromTo(1, 2))), "unit case and spaces");
    }

    #[test]
    fn several_ranges_give_the_first_and_are_all_checked() {
        assert_eq!(parse("bytes=0-9, 20-29,-5"), Ok(Some(ByteRange::FromTo(0, 9))));
        assert_eq!(parse("bytes=, 3-4"), Ok(Some(ByteRange::FromTo(3, 4))));
        assert!(parse("bytes=0-9, x-2").is_err());
    }

    #[test]
    fn other_units_are_ignored() {
        assert_eq!(parse("items=0-9"), Ok(None));
    }

    #[test]
    fn malformed_ranges_are_refused_naming_the_header() {
        for bad in [
            "bytes",
            "bytes=",
            "bytes=,",
            "bytes=abc",
            "bytes=5",
            "bytes=9-3",
            "bytes=-",
            "bytes=+1-2",
            "bytes=1-2-3",
            "bytes=99999999999999999999-",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.to_string().contains(bad), "{bad}: {err}");
        }
    }

    #[test]
    fn requests_respect_the_cap_and_satisfiability_the_size() {
        assert_eq!(ByteRange::FromTo(10, 19).request(1024), (Some(10), 10));
        assert_eq!(ByteRange::FromTo(0, u64::MAX).request(1024), (Some(0), 1024));
        assert_eq!(ByteRange::From(7).request(1024), (Some(7), 1024));
        assert_eq!(ByteRange::Suffix(5000).request(1024), (None, 1024));
        assert!(ByteRange::FromTo(9, 20).satisfiable(10));
        assert!(!ByteRange::From(10).satisfiable(10));
        assert!(!ByteRange::Suffix(0).satisfiable(10));
        assert!(!ByteRange::Suffix(3).satisfiable(0));
        assert!(ByteRange::Suffix(30).satisfiable(10));
        assert_eq!(content_range(2..=5, 10), "bytes 2-5/10");
        assert_eq!(unsatisfied_range(10), "bytes */10");
    }
}
