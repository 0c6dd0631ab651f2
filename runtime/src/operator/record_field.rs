//! One numeric field of a MessagePack record, found without decoding the
//! rest: the elements before it are skipped header by header, nothing is
//! allocated. The host's aggregations read records this way on the hot path.

use std::ops::Range;

use crate::graph::AggregateField;

/// A number as MessagePack carries it: every integer width as `i64`,
/// both float widths as `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
}

impl Number {
    /// The value as a float (for comparing an integer with a float).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// The fixed-width encoding: 9 bytes whatever the value (int 64 or
    /// float 64), so a running value can be overwritten where it stands.
    pub fn encoded(self) -> [u8; FIXED_WIDTH] {
        let mut bytes = [0; FIXED_WIDTH];
        let (marker, payload) = match self {
            Number::Int(i) => (0xd3, i.to_be_bytes()),
            Number::Float(f) => (0xcb, f.to_be_bytes()),
        };
        bytes[0] = marker;
        bytes[1..].copy_from_slice(&payload);
        bytes
    }
}

/// Length of [`Number::encoded`].
pub const FIXED_WIDTH: usize = 9;

/// Why a record's field cannot be read as a number.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FieldError {
    /// The record has no such field.
    #[error("{0}")]
    Missing(String),
    /// The field holds something else than a number.
    #[error("the field is not a number")]
    NotANumber,
    /// An unsigned integer above `i64::MAX`.
    #[error("the field's value {0} does not fit a 64-bit signed integer")]
    OutOfRange(u64),
    /// The bytes are not MessagePack.
    #[error("the record is not valid MessagePack ({0})")]
    Malformed(&'static str),
}

/// One MessagePack item's header.
enum Token {
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(Range<usize>),
    Array(u32),
    Map(u32),
    Other,
}

/// Where `field` sits in `record` and its value.
pub fn locate(record: &[u8], field: &AggregateField) -> Result<(Range<usize>, Number), FieldError> {
    let start = field_start(record, field)?;
    let (token, end) = token(record, start)?;
    let number = match token {
        Token::Int(i) => Number::Int(i),
        Token::UInt(u) => Number::Int(i64::try_from(u).map_err(|_| FieldError::OutOfRange(u))?),
        Token::Float(f) => Number::Float(f),
        _ => return Err(FieldError::NotANumber),
    };
    Ok((start..end, number))
}

/// Where `field` sits in `record`, whatever it holds: the bytes a key-by
/// by field keys the record with.
pub fn field_range(record: &[u8], field: &AggregateField) -> Result<Range<usize>, FieldError> {
    let start = field_start(record, field)?;
    Ok(start..skip(record, start)?)
}

/// Where `field` starts in `record`.
#[inline]
fn field_start(record: &[u8], field: &AggregateField) -> Result<usize, FieldError> {
    match field {
        AggregateField::Whole => Ok(0),
        AggregateField::Position(position) => element(record, *position),
        AggregateField::Name(name) => entry(record, name.as_bytes()),
    }
}

/// Where element `position` of the array `record` starts.
fn element(record: &[u8], position: u32) -> Result<usize, FieldError> {
    let (Token::Array(len), mut at) = token(record, 0)? else {
        return Err(FieldError::Missing("the record is not a tuple, list or struct".into()));
    };
    if position >= len {
        return Err(FieldError::Missing(format!("the record has {len} fields")));
    }
    for _ in 0..position {
        at = skip(record, at)?;
    }
    Ok(at)
}

/// Where the value under the string key `name` of the map `record` starts.
fn entry(record: &[u8], name: &[u8]) -> Result<usize, FieldError> {
    let (Token::Map(len), mut at) = token(record, 0)? else {
        return Err(FieldError::Missing("the record is not a map (a dict or an object)".into()));
    };
    for _ in 0..len {
        let (key, value) = token(record, at)?;
        if let Token::Str(range) = key
            && &record[range] == name
        {
            return Ok(value);
        }
        at = skip(record, skip(record, at)?)?;
    }
    Err(FieldError::Missing("the record has no such key".into()))
}

/// Where the item starting at `at` ends, nested items included (no recursion).
#[inline]
fn skip(bytes: &[u8], mut at: usize) -> Result<usize, FieldError> {
    let mut pending: u64 = 1;
    while pending > 0 {
        let (token, next) = token(bytes, at)?;
        at = next;
        pending -= 1;
        match token {
            Token::Array(n) => pending += n as u64,
            Token::Map(n) => pending += 2 * n as u64,
            _ => {}
        }
    }
    Ok(at)
}

/// The item header at `at` and where the next item starts (after the
/// payload of strings, binaries and extensions; after the header of
/// arrays and maps).
#[inline]
fn token(bytes: &[u8], at: usize) -> Result<(Token, usize), FieldError> {
    let marker = *bytes.get(at).ok_or(FieldError::Malformed("it ends early"))?;
    let body = at + 1;
    let be = |len: usize| -> Result<u64, FieldError> {
        let slice = bytes.get(body..body + len).ok_or(FieldError::Malformed("it ends early"))?;
        Ok(slice.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64))
    };
    let payload = |header: usize, len: u64| -> Result<(Range<usize>, usize), FieldError> {
        let start = body + header;
        let end = start.checked_add(len as usize).filter(|&e| e <= bytes.len());
        let end = end.ok_or(FieldError::Malformed("a string or binary runs past its end"))?;
        Ok((start..end, end))
    };
    Ok(match marker {
        0x00..=0x7f => (Token::Int(marker as i64), body),
        0xe0..=0xff => (Token::Int(marker as i8 as i64), body),
        0x80..=0x8f => (Token::Map((marker & 0x0f) as u32), body),
        0x90..=0x9f => (Token::Array((marker & 0x0f) as u32), body),
        0xa0..=0xbf => {
            let (range, next) = payload(0, (marker & 0x1f) as u64)?;
            (Token::Str(range), next)
        }
        0xc0 | 0xc2..=0xc3 => (Token::Other, body),
        0xcc => (Token::UInt(be(1)?), body + 1),
        0xcd => (Token::UInt(be(2)?), body + 2),
        0xce => (Token::UInt(be(4)?), body + 4),
        0xcf => (Token::UInt(be(8)?), body + 8),
        0xd0 => (Token::Int(be(1)? as u8 as i8 as i64), body + 1),
        0xd1 => (Token::Int(be(2)? as u16 as i16 as i64), body + 2),
        0xd2 => (Token::Int(be(4)? as u32 as i32 as i64), body + 4),
        0xd3 => (Token::Int(be(8)? as i64), body + 8),
        0xca => (Token::Float(f32::from_bits(be(4)? as u32) as f64), body + 4),
        0xcb => (Token::Float(f64::from_bits(be(8)?)), body + 8),
        0xd9..=0xdb => {
            let width = 1 << (marker - 0xd9);
            let (range, next) = payload(width, be(width)?)?;
            (Token::Str(range), next)
        }
        0xc4..=0xc6 => (Token::Other, payload(1 << (marker - 0xc4), be(1 << (marker - 0xc4))?)?.1),
        0xd4..=0xd8 => (Token::Other, payload(1, 1 << (marker - 0xd4))?.1),
        0xc7..=0xc9 => {
            let width = 1 << (marker - 0xc7);
            (Token::Other, payload(width + 1, be(width)?)?.1)
        }
        0xdc => (Token::Array(be(2)? as u32), body + 2),
        0xdd => (Token::Array(be(4)? as u32), body + 4),
        0xde => (Token::Map(be(2)? as u32), body + 2),
        0xdf => (Token::Map(be(4)? as u32), body + 4),
        0xc1 => return Err(FieldError::Malformed("it uses the reserved marker 0xc1")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack<T: serde::Serialize>(value: &T) -> Vec<u8> {
        rmp_serde::to_vec(value).unwrap()
    }

    fn value_at(record: &[u8], field: &AggregateField) -> Result<Number, FieldError> {
        locate(record, field).map(|(range, n)| {
            let (again, end) = token(record, range.start).unwrap();
            assert!(matches!(again, Token::Int(_) | Token::UInt(_) | Token::Float(_)));
            assert_eq!(end, range.end);
            n
        })
    }

    #[test]
    fn finds_a_tuple_element_after_nested_and_long_items() {
        let long = "x".repeat(70_000);
        let record = pack(&(vec![(1, "a"), (2, "b")], long.as_str(), vec![0u8; 300], 7u8, -3i64, 2.5f64, u64::MAX));
        let at = |p| value_at(&record, &AggregateField::Position(p));
        assert_eq!(at(3), Ok(Number::Int(7)));
        assert_eq!(at(4), Ok(Number::Int(-3)));
        assert_eq!(at(5), Ok(Number::Float(2.5)));
        assert_eq!(at(6), Err(FieldError::OutOfRange(u64::MAX)));
        assert_eq!(at(1), Err(FieldError::NotANumber));
        assert_eq!(at(7), Err(FieldError::Missing("the record has 7 fields".into())));
        for i in [i64::MIN, -33, -1, 0, 127, 128, 70_000, i64::MAX] {
            assert_eq!(value_at(&pack(&("k", i)), &AggregateField::Position(1)), Ok(Number::Int(i)));
        }
        assert_eq!(value_at(&pack(&1.5f32), &AggregateField::Whole), Ok(Number::Float(1.5)));
    }

    #[test]
    fn finds_a_map_entry_by_name() {
        let record = pack(&std::collections::BTreeMap::from([("a", 1.0), ("price", 4.25), ("z", 9.0)]));
        assert_eq!(value_at(&record, &AggregateField::Name("price".into())), Ok(Number::Float(4.25)));
        let missing = value_at(&record, &AggregateField::Name("cost".into()));
        assert_eq!(missing, Err(FieldError::Missing("the record has no such key".into())));
        assert!(matches!(value_at(&record, &AggregateField::Position(0)), Err(FieldError::Missing(_))));
    }

    #[test]
    fn truncated_or_reserved_bytes_are_errors_not_panics() {
        let record = pack(&("word", 12345678i64));
        for cut in 0..record.len() {
            assert!(locate(&record[..cut], &AggregateField::Position(1)).is_err(), "cut at {cut}");
        }
        assert!(matches!(locate(&[0x92, 0xc1, 1], &AggregateField::Position(1)), Err(FieldError::Malformed(_))));
        let huge = [0x92, 0xdb, 0xff, 0xff, 0xff, 0xff, 1];
        assert!(matches!(locate(&huge, &AggregateField::Position(1)), Err(FieldError::Malformed(_))));
    }

    #[test]
    fn a_field_of_any_type_is_sliced_whole() {
        let record = pack(&("word", vec![(1, "a")], 300u32, Some(2.5)));
        let slice = |field| field_range(&record, &field).map(|r| record[r].to_vec());
        assert_eq!(slice(AggregateField::Position(0)), Ok(pack(&"word")));
        assert_eq!(slice(AggregateField::Position(1)), Ok(pack(&vec![(1, "a")])));
        assert_eq!(slice(AggregateField::Position(2)), Ok(pack(&300u32)));
        assert_eq!(slice(AggregateField::Position(3)), Ok(pack(&2.5)));
        assert_eq!(slice(AggregateField::Whole), Ok(record.clone()));
        assert!(matches!(slice(AggregateField::Position(4)), Err(FieldError::Missing(_))));
        let map = pack(&std::collections::BTreeMap::from([("n", vec![1, 2]), ("word", vec![3])]));
        let field = AggregateField::Name("word".into());
        assert_eq!(field_range(&map, &field).map(|r| map[r].to_vec()), Ok(pack(&vec![3])));
        assert!(field_range(&record[..3], &AggregateField::Position(0)).is_err());
    }

    #[test]
    fn the_fixed_encoding_reads_back() {
        for n in [Number::Int(-5), Number::Int(i64::MAX), Number::Float(-0.25)] {
            assert_eq!(value_at(&n.encoded(), &AggregateField::Whole), Ok(n));
        }
    }
}
