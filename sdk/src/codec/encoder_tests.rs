//! The writer must produce exactly `rmp_serde`'s bytes for every shape.

use std::collections::BTreeMap;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::encode_into;

/// Encodes `value` both ways and insists on the same bytes.
fn same<T: Serialize + std::fmt::Debug>(value: &T) {
    let mut ours = vec![0xee];
    encode_into(&mut ours, value).unwrap();
    let mut theirs = vec![0xee];
    rmp_serde::encode::write(&mut theirs, value).unwrap();
    assert_eq!(ours, theirs, "{value:?}");
}

#[derive(Debug, Serialize)]
struct Reading {
    line: String,
    range: (u32, u32),
    at: i64,
    temperature: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

#[derive(Debug, Serialize)]
enum Shape {
    Unit,
    Newtype(i32),
    Tuple(u8, String),
    Struct { side: f32, tags: Vec<char> },
}

#[derive(Debug, Serialize)]
struct Marker;

#[derive(Debug, Serialize)]
struct Meters(f64);

#[derive(Debug, Serialize)]
struct Pair(i16, bool);

/// Bytes as MessagePack bin (what `serde_bytes` does).
#[derive(Debug)]
struct Bin(Vec<u8>);

impl Serialize for Bin {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

/// A sequence and a map that do not say their length up front.
#[derive(Debug)]
struct Unsized(Vec<i64>, bool);

impl Serialize for Unsized {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.1 {
            let mut map = s.serialize_map(None)?;
            for (i, v) in self.0.iter().enumerate() {
                map.serialize_entry(&i, &Unsized(vec![*v; i % 3], false))?;
            }
            map.end()
        } else {
            let mut seq = s.serialize_seq(None)?;
            for v in &self.0 {
                seq.serialize_element(v)?;
            }
            seq.end()
        }
    }
}

#[test]
fn integers_take_rmp_serdes_smallest_forms_at_every_boundary() {
    let edges: Vec<i64> = vec![
        0,
        1,
        127,
        128,
        255,
        256,
        65_535,
        65_536,
        u32::MAX as i64,
        u32::MAX as i64 + 1,
        i64::MAX,
        -1,
        -32,
        -33,
        -128,
        -129,
        -32_768,
        -32_769,
        i32::MIN as i64,
        i32::MIN as i64 - 1,
        i64::MIN,
    ];
    for v in edges {
        same(&v);
        same(&(v as i32));
        same(&(v as i8));
        same(&(v as u64));
        same(&(v as u16));
    }
    same(&u64::MAX);
    same(&i128::MIN);
    same(&u128::MAX);
}

#[test]
fn strings_bytes_and_floats_match() {
    for len in [0, 1, 31, 32, 255, 256, 65_535, 65_536] {
        same(&"é".repeat(len / 2));
        same(&"x".repeat(len));
        same(&Bin(vec![7; len]));
    }
    for f in [0.0, -0.0, 1.5, f64::MAX, f64::NAN, f64::NEG_INFINITY] {
        same(&f);
        same(&(f as f32));
    }
    same(&'λ');
    same(&true);
    same(&false);
}

#[test]
fn structs_tuples_enums_and_options_match() {
    same(&Reading { line: "s1,1000,20.5".into(), range: (0, 2), at: 1_700_000_000_000, temperature: 20.5, note: None });
    same(&Reading { line: String::new(), range: (3, 9), at: -5, temperature: -0.5, note: Some("late".into()) });
    same(&("word".to_owned(), 1i64));
    for shape in [
        Shape::Unit,
        Shape::Newtype(-70_000),
        Shape::Tuple(200, "t".into()),
        Shape::Struct { side: 2.5, tags: vec!['a', 'é'] },
    ] {
        same(&shape);
    }
    same(&Marker);
    same(&Meters(3.25));
    same(&Pair(-300, true));
    same(&());
    same(&Some(Some(4u8)));
    same(&None::<String>);
    same(&vec![Some(1), None]);
}

#[test]
fn collections_of_any_length_match() {
    for len in [0, 15, 16, 65_535, 65_536] {
        same(&vec![1u8; len]);
    }
    let map: BTreeMap<String, Vec<u32>> = (0..20).map(|i| (format!("k{i}"), vec![i; i as usize])).collect();
    same(&map);
    let small: BTreeMap<u8, bool> = (0..3).map(|i| (i, i % 2 == 0)).collect();
    same(&small);
    for len in [0, 3, 15, 16, 70_000] {
        same(&Unsized((0..len).collect(), false));
    }
    for len in [0, 5, 15, 16, 20] {
        same(&Unsized((0..len).collect(), true));
    }
    same(&vec![Unsized(vec![1, 2], false), Unsized(vec![3], true)]);
}

#[test]
fn an_extension_type_is_left_to_rmp_serde() {
    #[derive(Debug, Serialize)]
    #[serde(rename = "_ExtStruct")]
    struct Ext((i8, Bin));
    same(&Ext((5, Bin(vec![1, 2, 3]))));
    same(&(1u8, Ext((-2, Bin(vec![9; 300])))));
}

#[test]
fn a_failing_serialize_names_the_type_and_leaves_the_buffer_as_it_was() {
    #[derive(Debug)]
    struct Refuses;
    impl Serialize for Refuses {
        fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no thanks"))
        }
    }
    let mut buf = vec![1, 2];
    let error = encode_into(&mut buf, &(5u8, "abc", Refuses)).unwrap_err();
    assert!(error.contains("Refuses") && error.contains("no thanks"), "{error}");
    assert_eq!(buf, [1, 2]);
}
