//! The aggregations on hand-made batches, checked against the values a
//! plain fold gives.

use super::*;
use crate::graph::partition::key_group_range;

fn pack<T: serde::Serialize>(value: &T) -> Vec<u8> {
    rmp_serde::to_vec(value).unwrap()
}

fn aggregator(function: AggregateFunction, field: AggregateField) -> (Aggregator, MemoryStateBackend) {
    let aggregation = Aggregation { function, field };
    (Aggregator::new(aggregation, "agg".into(), 128), MemoryStateBackend::new(key_group_range(0, 1, 128)))
}

/// Runs `records` (key, value) through in batches of two; returns the outputs decoded as `T`.
fn run<T: serde::de::DeserializeOwned>(
    (mut aggregator, mut values): (Aggregator, MemoryStateBackend),
    records: &[(&str, Vec<u8>)],
) -> Result<Vec<T>, AggregateError> {
    let mut decoded = Vec::new();
    for chunk in records.chunks(2) {
        let mut input = Batch::default();
        for (i, (key, value)) in chunk.iter().enumerate() {
            input.push(Some(&pack(key)), value, Some(i as i64));
        }
        let mut out = Batch::default();
        aggregator.process(&mut values, &input, &mut out)?;
        assert!(!out.is_keyed());
        assert_eq!(out.timestamps, input.timestamps);
        decoded.extend((0..out.len()).map(|i| rmp_serde::from_slice(out.value(i)).unwrap()));
    }
    Ok(decoded)
}

#[test]
fn sum_min_and_max_change_only_the_field_of_the_first_record() {
    let records: Vec<(&str, Vec<u8>)> = [("a", "x", 5), ("b", "y", 3), ("a", "z", 2), ("a", "w", 9)]
        .iter()
        .map(|(k, s, n)| (*k, pack(&(s, n))))
        .collect();
    let sum: Vec<(String, i64)> =
        run(aggregator(AggregateFunction::Sum, AggregateField::Position(1)), &records).unwrap();
    let expected = [("x", 5), ("y", 3), ("x", 7), ("x", 16)].map(|(s, n)| (s.to_owned(), n));
    assert_eq!(sum, expected);
    let min: Vec<(String, i64)> =
        run(aggregator(AggregateFunction::Min, AggregateField::Position(1)), &records).unwrap();
    assert_eq!(min, [("x", 5), ("y", 3), ("x", 2), ("x", 2)].map(|(s, n)| (s.to_owned(), n)));
    let max: Vec<(String, i64)> =
        run(aggregator(AggregateFunction::Max, AggregateField::Position(1)), &records).unwrap();
    assert_eq!(max, [("x", 5), ("y", 3), ("x", 5), ("x", 9)].map(|(s, n)| (s.to_owned(), n)));
}

#[test]
fn min_by_and_max_by_keep_the_whole_record_and_the_earlier_on_ties() {
    let records: Vec<(&str, Vec<u8>)> = [("a", "x", 5), ("a", "y", 5), ("a", "z", 2), ("a", "w", 9)]
        .iter()
        .map(|(k, s, n)| (*k, pack(&(s, n))))
        .collect();
    let by = |f| run::<(String, i64)>(aggregator(f, AggregateField::Position(1)), &records).unwrap();
    let names = |rs: Vec<(String, i64)>| rs.into_iter().map(|r| r.0).collect::<Vec<_>>();
    assert_eq!(names(by(AggregateFunction::MinBy)), ["x", "x", "z", "z"]);
    assert_eq!(names(by(AggregateFunction::MaxBy)), ["x", "x", "x", "w"]);
}

#[test]
fn ints_and_floats_mix_into_floats_and_maps_are_read_by_key() {
    let record = |n: serde_json::Value| pack(&serde_json::json!({"k": "a", "n": n}));
    let records = [("a", record(1.into())), ("a", record(2.5.into())), ("a", record(3.into()))];
    let sum: Vec<serde_json::Value> =
        run(aggregator(AggregateFunction::Sum, AggregateField::Name("n".into())), &records).unwrap();
    assert_eq!(
        sum,
        [
            serde_json::json!({"k": "a", "n": 1}),
            serde_json::json!({"k": "a", "n": 3.5}),
            serde_json::json!({"k": "a", "n": 6.5})
        ]
    );
    let whole = [("a", pack(&u8::MAX)), ("a", pack(&-1i8)), ("a", pack(&0.5f32))];
    let max: Vec<f64> = run(aggregator(AggregateFunction::Max, AggregateField::Whole), &whole).unwrap();
    assert_eq!(max, [255.0, 255.0, 255.0]);
    let min: Vec<f64> = run(aggregator(AggregateFunction::Min, AggregateField::Whole), &whole).unwrap();
    assert_eq!(min, [255.0, -1.0, -1.0]);
}

#[test]
fn an_integer_overflow_and_a_bad_field_are_errors_naming_what_is_wrong() {
    let records = [("big", pack(&("x", i64::MAX))), ("big", pack(&("x", 1)))];
    let error = run::<(String, i64)>(aggregator(AggregateFunction::Sum, AggregateField::Position(1)), &records);
    let message = error.unwrap_err().to_string();
    assert!(message.contains("node 'agg'") && message.contains("for the key big overflows"), "{message}");
    let records = [("a", pack(&("x", "seven")))];
    let error = run::<(String, i64)>(aggregator(AggregateFunction::Max, AggregateField::Position(1)), &records);
    let message = error.unwrap_err().to_string();
    assert_eq!(message, "node 'agg' cannot aggregate field 1 of the record (x,seven): the field is not a number");
    let error = run::<(String, i64)>(aggregator(AggregateFunction::Max, AggregateField::Name("n".into())), &records);
    assert!(error.unwrap_err().to_string().contains("field 'n' of the record (x,seven): the record is not a map"));
}

#[test]
fn a_running_record_of_another_width_is_rewritten_and_unkeyed_input_refused() {
    let (mut aggregator, mut values) = aggregator(AggregateFunction::Sum, AggregateField::Position(1));
    // As a guest reduce's state would hold it: the smallest encoding.
    values.put(StateKey::new(&pack(&"a"), 128), &pack(&("x", 1)));
    let mut input = Batch::default();
    input.push(Some(&pack(&"a")), &pack(&("y", 300)), None);
    input.push(Some(&pack(&"a")), &pack(&("y", 1)), None);
    let mut out = Batch::default();
    aggregator.process(&mut values, &input, &mut out).unwrap();
    let sums: Vec<(String, i64)> = (0..2).map(|i| rmp_serde::from_slice(out.value(i)).unwrap()).collect();
    assert_eq!(sums, [("x".to_owned(), 301), ("x".to_owned(), 302)]);
    let mut unkeyed = Batch::default();
    unkeyed.push(None, &pack(&("y", 1)), None);
    assert!(matches!(aggregator.process(&mut values, &unkeyed, &mut out), Err(AggregateError::Unkeyed(_))));
}

#[test]
fn count_pairs_the_keys_first_record_with_its_count() {
    let records: Vec<(&str, Vec<u8>)> = ["x", "y", "x", "x"].iter().map(|w| (*w, pack(w))).collect();
    let counts: Vec<(String, i64)> =
        run(aggregator(AggregateFunction::Count, AggregateField::Whole), &records).unwrap();
    assert_eq!(counts, [("x", 1), ("y", 1), ("x", 2), ("x", 3)].map(|(w, n)| (w.to_owned(), n)));
    let tuples = [("k", pack(&(1, "z"))), ("k", pack(&(2, "ignored")))];
    let counts: Vec<((i64, String), i64)> =
        run(aggregator(AggregateFunction::Count, AggregateField::Whole), &tuples).unwrap();
    assert_eq!(counts, [((1, "z".to_owned()), 1), ((1, "z".to_owned()), 2)], "the key's first record, counted");
    // A running record of another width (restored from a reduce, say) is rebuilt in the fixed one.
    let (mut aggregator, mut values) = aggregator(AggregateFunction::Count, AggregateField::Whole);
    let key = pack(&"w");
    values.put(StateKey::new(&key, 128), &pack(&("w", 41)));
    let mut input = Batch::default();
    input.push(Some(&key), &pack(&"w"), None);
    input.push(Some(&key), &pack(&"w"), None);
    let mut out = Batch::default();
    aggregator.process(&mut values, &input, &mut out).unwrap();
    let decoded: Vec<(String, i64)> = (0..2).map(|i| rmp_serde::from_slice(out.value(i)).unwrap()).collect();
    assert_eq!(decoded, [("w".to_owned(), 42), ("w".to_owned(), 43)]);
    assert_eq!(out.value(1).len(), 1 + 2 + 9, "the count in the fixed width");
}
