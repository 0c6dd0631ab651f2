//! How user types cross the boundary: MessagePack via rmp-serde, structs and
//! tuples as arrays (`(String, i64)` is `[str, int]`), never as maps.

mod encoder;
#[cfg(test)]
mod encoder_tests;

use std::any::Any;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A type that can flow in a stream: encoded as MessagePack between tasks,
/// cloned only when a keyed operator both keeps and emits a value.
///
/// Implemented for every `Serialize + DeserializeOwned + Clone + 'static`
/// type; derive `Serialize, Deserialize, Clone` on your own structs.
pub trait Data: Serialize + DeserializeOwned + Clone + 'static {}

impl<T: Serialize + DeserializeOwned + Clone + 'static> Data for T {}

/// A type that can be a key: its MessagePack encoding is what the host
/// hashes to a key group, so equal keys must encode equally.
pub trait Key: Serialize + 'static {}

impl<K: Serialize + ?Sized + 'static> Key for K {}

/// Appends the MessagePack encoding of `value` to `buf`; on failure `buf`
/// is left as it was.
#[inline]
pub(crate) fn encode_into<T: Serialize + ?Sized>(buf: &mut Vec<u8>, value: &T) -> Result<(), String> {
    let start = buf.len();
    let result = match encoder::write(buf, value) {
        Err(encoder::EncodeError::Unsupported) => {
            buf.truncate(start);
            rmp_serde::encode::write(buf, value).map_err(|e| e.to_string())
        }
        other => other.map_err(|e| e.to_string()),
    };
    result.map_err(|e| {
        buf.truncate(start);
        format!("cannot encode {} as MessagePack: {e}", std::any::type_name::<T>())
    })
}

/// Decodes one value of type `T`.
#[inline]
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, rmp_serde::decode::Error> {
    rmp_serde::from_slice(bytes)
}

/// Decodes one input record of type `T`, as [`decode`] does.
#[inline]
pub(crate) fn decode_record<T: DeserializeOwned + 'static>(bytes: &[u8]) -> Result<T, rmp_serde::decode::Error> {
    // Text sources hand every chain its lines as strings: those take a
    // path of their own (no serde visitor, an ASCII check a word at a time).
    let mut decoded: Option<T> = None;
    if let Some(text) = (&mut decoded as &mut dyn Any).downcast_mut::<Option<String>>()
        && let Some(string) = ascii_string(bytes)
    {
        *text = Some(string);
        return Ok(decoded.expect("just set"));
    }
    rmp_serde::from_slice(bytes)
}

/// The string `bytes` encodes when it is one MessagePack string, all of it
/// ASCII; `None` for anything else (which `rmp_serde` then decodes).
fn ascii_string(bytes: &[u8]) -> Option<String> {
    let (&marker, rest) = bytes.split_first()?;
    let text = match marker {
        0xa0..=0xbf => rest,
        0xd9 => rest.get(1..)?,
        0xda => rest.get(2..)?,
        0xdb => rest.get(4..)?,
        _ => return None,
    };
    let len = match marker {
        0xa0..=0xbf => (marker & 0x1f) as usize,
        0xd9 => rest[0] as usize,
        0xda => u16::from_be_bytes([rest[0], rest[1]]) as usize,
        _ => u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize,
    };
    if text.len() != len {
        return None;
    }
    let mut words = text.chunks_exact(8);
    let high_bits = (&mut words).fold(0u64, |acc, w| acc | u64::from_le_bytes(w.try_into().expect("8 bytes")));
    let tail = words.remainder().iter().fold(0u8, |acc, &b| acc | b);
    if high_bits & 0x8080_8080_8080_8080 != 0 || tail & 0x80 != 0 {
        return None;
    }
    // SAFETY: every byte is below 0x80, and ASCII is valid UTF-8.
    Some(unsafe { String::from_utf8_unchecked(text.to_vec()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuples_are_arrays_and_strings_are_str() {
        let mut buf = Vec::new();
        encode_into(&mut buf, &("ab".to_owned(), 3i64)).unwrap();
        assert_eq!(buf, [0x92, 0xa2, b'a', b'b', 0x03]);
        buf.clear();
        encode_into(&mut buf, "abc").unwrap();
        assert_eq!(buf, [0xa3, b'a', b'b', b'c']);
        assert_eq!(decode::<(String, i64)>(&[0x92, 0xa2, b'a', b'b', 0x03]).unwrap(), ("ab".into(), 3));
    }

    #[test]
    fn strings_decode_alike_on_the_ascii_path_and_off_it() {
        for text in ["", "a", "sensor-17,1700000000000,21.5", &"x".repeat(40), &"y".repeat(300), &"z".repeat(70_000)] {
            let mut buf = Vec::new();
            encode_into(&mut buf, text).unwrap();
            assert_eq!(ascii_string(&buf).as_deref(), Some(text));
            assert_eq!(decode_record::<String>(&buf).unwrap(), text);
        }
        for text in ["café", "naïve line of more than eight bytes", "\u{7f}\u{80}"] {
            let mut buf = Vec::new();
            encode_into(&mut buf, text).unwrap();
            assert_eq!(ascii_string(&buf), None, "{text}");
            assert_eq!(decode_record::<String>(&buf).unwrap(), text);
        }
        // Not one whole string: left to rmp_serde, which says what is wrong.
        assert_eq!(ascii_string(&[0xa3, b'a', b'b']), None);
        assert_eq!(ascii_string(&[0xa1, b'a', b'b']), None);
        assert_eq!(ascii_string(&[0xd9]), None);
        assert!(decode_record::<String>(&[0xa3, b'a', b'b']).is_err());
        assert!(decode_record::<String>(&[0xa1, 0xff]).is_err());
        assert_eq!(decode_record::<i64>(&[0x05]).unwrap(), 5);
    }
}
