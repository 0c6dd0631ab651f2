//! The host's key-by by field (WIT `node-kind.key-by-field`, Flink's
//! positional `keyBy(0)`): each record's key is the MessagePack bytes of
//! one of its fields, sliced out of the value as it leaves its task. A
//! Python or JavaScript job then runs no key selector per record and
//! encodes no key, and the key is the same bytes its guest key-by would
//! have encoded for that field, so keyed state is alike either way.

use super::aggregate::{FieldName, shown};
use super::record_field::{self, FieldError};
use crate::graph::AggregateField;
use crate::network::Batch;

/// A record that has no field to key it by.
#[derive(Debug, thiserror::Error)]
#[error("node '{node}' cannot key the record {record} by field {field}: {reason}")]
pub struct FieldKeyError {
    /// The key-by's node.
    node: String,
    /// The field it keys by.
    field: String,
    /// The record, rendered as text.
    record: String,
    /// What is wrong with it.
    reason: FieldError,
}

/// The key-by by field ending one chain.
#[derive(Debug, Clone)]
pub struct FieldKeys {
    /// The node's name, for errors.
    node: String,
    field: AggregateField,
}

impl FieldKeys {
    /// The key-by of node `node` by `field`.
    pub fn new(node: String, field: AggregateField) -> Self {
        FieldKeys { node, field }
    }

    /// Keys each record of `batch` by its field, replacing any keys it had.
    pub fn apply(&self, batch: &mut Batch) -> Result<(), FieldKeyError> {
        let Batch { values, value_ends, keys, key_ends, .. } = batch;
        keys.clear();
        key_ends.clear();
        keys.reserve(values.len() / 2);
        key_ends.reserve(value_ends.len());
        let mut start = 0;
        for &end in value_ends.iter() {
            let record = &values[start..end as usize];
            let range = record_field::field_range(record, &self.field).map_err(|reason| FieldKeyError {
                node: self.node.clone(),
                field: FieldName(&self.field).to_string(),
                record: shown(record),
                reason,
            })?;
            keys.extend_from_slice(&record[range]);
            key_ends.push(keys.len() as u32);
            start = end as usize;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack<T: serde::Serialize>(value: &T) -> Vec<u8> {
        rmp_serde::to_vec(value).unwrap()
    }

    fn batch(records: &[Vec<u8>]) -> Batch {
        let mut batch = Batch::default();
        for r in records {
            batch.push(None, r, None);
        }
        batch
    }

    #[test]
    fn keys_are_the_fields_bytes() {
        let mut b = batch(&[pack(&("apple", 1)), pack(&("é", 2)), pack(&(7, 3))]);
        b.push(Some(b"old"), &pack(&("kiwi", 4)), None);
        FieldKeys::new("k".into(), AggregateField::Position(0)).apply(&mut b).unwrap();
        assert_eq!(b.len(), 4);
        let keys: Vec<&[u8]> = (0..4).map(|i| b.key(i)).collect();
        assert_eq!(keys, [pack(&"apple"), pack(&"é"), pack(&7), pack(&"kiwi")]);
        assert_eq!(b.value(1), pack(&("é", 2)));
    }

    #[test]
    fn a_record_without_the_field_names_node_field_and_record() {
        let mut b = batch(&[pack(&("apple", 1)), pack(&"just a word")]);
        let error = FieldKeys::new("Key By".into(), AggregateField::Position(1)).apply(&mut b).unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("node 'Key By' cannot key the record"), "{message}");
        assert!(message.contains("just a word") && message.contains("field 1"), "{message}");
        let mut b = batch(&[pack(&std::collections::BTreeMap::from([("a", 1)]))]);
        let error = FieldKeys::new("k".into(), AggregateField::Name("word".into())).apply(&mut b).unwrap_err();
        assert!(error.to_string().contains("field 'word'"), "{error}");
    }
}
