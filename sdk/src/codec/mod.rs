//! How user types cross the boundary: MessagePack via rmp-serde, structs and
//! tuples as arrays (`(String, i64)` is `[str, int]`), never as maps.

mod encoder;
#[cfg(test)]
mod encoder_tests;

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

impl<K: Serialize + 'static> Key for K {}

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
}
