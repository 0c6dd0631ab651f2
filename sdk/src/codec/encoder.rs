//! A MessagePack serializer that writes straight into the batch's `Vec<u8>`.
//!
//! Every record and key a chain emits is encoded here, so this is on the
//! hot path of every job: `rmp_serde` goes through `io::Write` and checks
//! a `Result` per marker byte, which made encoding about a third of a
//! parse-and-key-by task's time. This writer pushes bytes infallibly and
//! produces exactly the bytes `rmp_serde::encode::write` does (structs as
//! arrays, the smallest integer and header forms, enums as rmp_serde tags
//! them), so the host, state written before, and the other languages read
//! the same values. The one shape it leaves to `rmp_serde` is its
//! extension-type newtype (`rmp_serde::MSGPACK_EXT_STRUCT_NAME`).

use std::fmt;

use serde::ser::{self, Serialize};

/// Why the writer stopped.
#[derive(Debug)]
pub(crate) enum EncodeError {
    /// A shape only `rmp_serde` writes (its extension type).
    Unsupported,
    /// The value's own `Serialize` failed, with its message.
    Custom(String),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::Unsupported => f.write_str("a MessagePack extension type"),
            EncodeError::Custom(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for EncodeError {}

impl ser::Error for EncodeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        EncodeError::Custom(message.to_string())
    }
}

/// Appends the MessagePack encoding of `value` to `buf`; on an error `buf`
/// may hold part of it (the caller truncates).
#[inline]
pub(crate) fn write<T: Serialize + ?Sized>(buf: &mut Vec<u8>, value: &T) -> Result<(), EncodeError> {
    value.serialize(Writer { buf })
}

/// The serializer: a borrowed output buffer.
pub(crate) struct Writer<'a> {
    buf: &'a mut Vec<u8>,
}

/// Appends a header: `fix` ORed with `len` when it fits in `fix_bits`,
/// else the 8-, 16- or 32-bit form of the markers `wide` (a `None` 8-bit
/// marker means the kind has no 8-bit form).
#[inline]
fn header(buf: &mut Vec<u8>, len: usize, fix: u8, fix_max: usize, wide: [Option<u8>; 3]) {
    if len <= fix_max {
        buf.push(fix | len as u8);
    } else if let (Some(marker), true) = (wide[0], len <= u8::MAX as usize) {
        buf.extend_from_slice(&[marker, len as u8]);
    } else if len <= u16::MAX as usize {
        buf.push(wide[1].expect("every kind has a 16-bit form"));
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(wide[2].expect("every kind has a 32-bit form"));
        buf.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

#[inline]
fn str_header(buf: &mut Vec<u8>, len: usize) {
    header(buf, len, 0xa0, 31, [Some(0xd9), Some(0xda), Some(0xdb)]);
}

#[inline]
fn array_header(buf: &mut Vec<u8>, len: usize) {
    header(buf, len, 0x90, 15, [None, Some(0xdc), Some(0xdd)]);
}

#[inline]
fn map_header(buf: &mut Vec<u8>, len: usize) {
    header(buf, len, 0x80, 15, [None, Some(0xde), Some(0xdf)]);
}

#[inline]
fn write_str(buf: &mut Vec<u8>, s: &str) {
    str_header(buf, s.len());
    buf.extend_from_slice(s.as_bytes());
}

#[inline]
fn write_bin(buf: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() <= u8::MAX as usize {
        buf.extend_from_slice(&[0xc4, bytes.len() as u8]);
    } else if bytes.len() <= u16::MAX as usize {
        buf.push(0xc5);
        buf.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    } else {
        buf.push(0xc6);
        buf.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    }
    buf.extend_from_slice(bytes);
}

/// The smallest form of an unsigned integer (as `rmp::encode::write_uint`).
#[inline]
fn write_uint(buf: &mut Vec<u8>, v: u64) {
    if v < 128 {
        buf.push(v as u8);
    } else {
        write_wide_uint(buf, v);
    }
}

/// [`write_uint`] of 128 and more, out of line so that small integers
/// inline as one push.
fn write_wide_uint(buf: &mut Vec<u8>, v: u64) {
    if v <= u8::MAX as u64 {
        buf.extend_from_slice(&[0xcc, v as u8]);
    } else if v <= u16::MAX as u64 {
        buf.push(0xcd);
        buf.extend_from_slice(&(v as u16).to_be_bytes());
    } else if v <= u32::MAX as u64 {
        buf.push(0xce);
        buf.extend_from_slice(&(v as u32).to_be_bytes());
    } else {
        buf.push(0xcf);
        buf.extend_from_slice(&v.to_be_bytes());
    }
}

/// The smallest form of a signed integer (as `rmp::encode::write_sint`:
/// non-negative values take the unsigned forms).
#[inline]
fn write_sint(buf: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        write_uint(buf, v as u64);
    } else if v >= -32 {
        buf.push(v as i8 as u8);
    } else if v >= i8::MIN as i64 {
        buf.extend_from_slice(&[0xd0, v as i8 as u8]);
    } else if v >= i16::MIN as i64 {
        buf.push(0xd1);
        buf.extend_from_slice(&(v as i16).to_be_bytes());
    } else if v >= i32::MIN as i64 {
        buf.push(0xd2);
        buf.extend_from_slice(&(v as i32).to_be_bytes());
    } else {
        buf.push(0xd3);
        buf.extend_from_slice(&v.to_be_bytes());
    }
}

/// An array or map being written. A sequence of unknown length writes its
/// items first and puts the smallest header in front of them at the end.
pub(crate) struct Compound<'a> {
    buf: &'a mut Vec<u8>,
    /// For an unknown length: where the items start, whether it is a map,
    /// and how many items (entries for a map) were written.
    pending: Option<(usize, bool, usize)>,
}

impl<'a> Compound<'a> {
    fn known(buf: &'a mut Vec<u8>) -> Self {
        Compound { buf, pending: None }
    }

    #[inline]
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        if let Some((_, _, count)) = &mut self.pending {
            *count += 1;
        }
        value.serialize(Writer { buf: self.buf })
    }

    fn finish(self) -> Result<(), EncodeError> {
        if let Some((start, is_map, count)) = self.pending {
            let mut head = Vec::with_capacity(5);
            if is_map {
                map_header(&mut head, count);
            } else {
                array_header(&mut head, count);
            }
            self.buf.splice(start..start, head);
        }
        Ok(())
    }
}

impl<'a> ser::Serializer for Writer<'a> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn is_human_readable(&self) -> bool {
        false
    }

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), EncodeError> {
        self.buf.push(if v { 0xc3 } else { 0xc2 });
        Ok(())
    }
    #[inline]
    fn serialize_i8(self, v: i8) -> Result<(), EncodeError> {
        self.serialize_i64(v.into())
    }
    #[inline]
    fn serialize_i16(self, v: i16) -> Result<(), EncodeError> {
        self.serialize_i64(v.into())
    }
    #[inline]
    fn serialize_i32(self, v: i32) -> Result<(), EncodeError> {
        self.serialize_i64(v.into())
    }
    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), EncodeError> {
        write_sint(self.buf, v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), EncodeError> {
        self.serialize_bytes(&v.to_be_bytes())
    }
    #[inline]
    fn serialize_u8(self, v: u8) -> Result<(), EncodeError> {
        self.serialize_u64(v.into())
    }
    #[inline]
    fn serialize_u16(self, v: u16) -> Result<(), EncodeError> {
        self.serialize_u64(v.into())
    }
    #[inline]
    fn serialize_u32(self, v: u32) -> Result<(), EncodeError> {
        self.serialize_u64(v.into())
    }
    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), EncodeError> {
        write_uint(self.buf, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), EncodeError> {
        self.serialize_bytes(&v.to_be_bytes())
    }
    #[inline]
    fn serialize_f32(self, v: f32) -> Result<(), EncodeError> {
        self.buf.push(0xca);
        self.buf.extend_from_slice(&v.to_be_bytes());
        Ok(())
    }
    #[inline]
    fn serialize_f64(self, v: f64) -> Result<(), EncodeError> {
        self.buf.push(0xcb);
        self.buf.extend_from_slice(&v.to_be_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        write_str(self.buf, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        write_str(self.buf, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), EncodeError> {
        write_bin(self.buf, v);
        Ok(())
    }
    #[inline]
    fn serialize_none(self) -> Result<(), EncodeError> {
        self.buf.push(0xc0);
        Ok(())
    }
    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), EncodeError> {
        self.buf.push(0xc0);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), EncodeError> {
        self.buf.push(0x90);
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        write_str(self.buf, variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, name: &'static str, value: &T) -> Result<(), EncodeError> {
        if name == rmp_serde::MSGPACK_EXT_STRUCT_NAME {
            return Err(EncodeError::Unsupported);
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        map_header(self.buf, 1);
        write_str(self.buf, variant);
        value.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a>, EncodeError> {
        match len {
            Some(len) => {
                array_header(self.buf, len);
                Ok(Compound::known(self.buf))
            }
            None => Ok(Compound { pending: Some((self.buf.len(), false, 0)), buf: self.buf }),
        }
    }
    #[inline]
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, EncodeError> {
        array_header(self.buf, len);
        Ok(Compound::known(self.buf))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>, EncodeError> {
        array_header(self.buf, len);
        Ok(Compound::known(self.buf))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, EncodeError> {
        map_header(self.buf, 1);
        write_str(self.buf, variant);
        array_header(self.buf, len);
        Ok(Compound::known(self.buf))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a>, EncodeError> {
        match len {
            Some(len) => {
                map_header(self.buf, len);
                Ok(Compound::known(self.buf))
            }
            None => Ok(Compound { pending: Some((self.buf.len(), true, 0)), buf: self.buf }),
        }
    }
    #[inline]
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>, EncodeError> {
        array_header(self.buf, len);
        Ok(Compound::known(self.buf))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, EncodeError> {
        map_header(self.buf, 1);
        write_str(self.buf, variant);
        array_header(self.buf, len);
        Ok(Compound::known(self.buf))
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = EncodeError;
    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.element(value)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

/// The serde traits whose items are written one after the other, with
/// no count to keep (the header was written with the length): `$method`
/// takes each item, with a field name as well for `named`.
macro_rules! items_in_order {
    ($($trait:ident :: $method:ident $(($named:tt))?),* $(,)?) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = EncodeError;
            #[inline]
            fn $method<T: Serialize + ?Sized>(
                &mut self,
                $($named: &'static str,)?
                value: &T,
            ) -> Result<(), EncodeError> {
                value.serialize(Writer { buf: self.buf })
            }
            #[inline]
            fn end(self) -> Result<(), EncodeError> {
                Ok(())
            }
        }
    )*};
}

items_in_order! {
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
    SerializeStruct::serialize_field(_key),
    SerializeStructVariant::serialize_field(_key),
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        self.element(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        value.serialize(Writer { buf: self.buf })
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}
