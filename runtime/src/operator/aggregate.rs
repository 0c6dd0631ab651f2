//! The host's built-in keyed aggregations (WIT `node-kind.aggregate`):
//! `sum`, `min`, `max`, `min_by` and `max_by` of one numeric field, as
//! Flink's `KeyedStream` has them, run natively for jobs in every language.
//!
//! Each key's running record is its value in the task's running values
//! (the state a guest `reduce` keeps), as MessagePack: for `sum`, `min`
//! and `max`, the key's first record with the field rewritten in a fixed
//! 9-byte width, so later records overwrite it where it stands; for
//! `min_by` and `max_by`, the record holding the extreme as it came. So
//! checkpoints, restores and rescaling need nothing of their own, and a
//! record whose key is known costs a table lookup, the skipping of the
//! fields before the aggregated one, and a copy into the output batch.

use std::fmt;
use std::ops::Range;

use super::record_field::{self, FIXED_WIDTH, FieldError, Number};
use crate::graph::{AggregateField, AggregateFunction, Aggregation};
use crate::network::Batch;
use crate::state::{KeyedStateBackend, MemoryStateBackend, StateKey};

/// Longest rendering of a record or key in an error message.
const SHOWN: usize = 200;

/// Why an aggregation stopped its task.
#[derive(Debug, thiserror::Error)]
pub enum AggregateError {
    /// A record lacks the field, or its field is not a number.
    #[error("node '{node}' cannot aggregate field {field} of the record {record}: {reason}")]
    Field {
        /// The aggregation's node.
        node: String,
        /// The field it reads.
        field: String,
        /// The record, rendered as text.
        record: String,
        /// What is wrong with it.
        reason: FieldError,
    },
    /// An integer sum left the range of a 64-bit signed integer.
    #[error(
        "node '{node}': the sum of field {field} for the key {key} overflows a 64-bit integer ({current} + \
         {added}); records with float values sum as floats"
    )]
    Overflow {
        /// The aggregation's node.
        node: String,
        /// The field it reads.
        field: String,
        /// The key, rendered as text.
        key: String,
        /// The running sum.
        current: i64,
        /// The value that would have been added.
        added: i64,
    },
    /// Records reached the aggregation without their keys.
    #[error("node '{0}' received records without keys; an aggregation reads the output of a key-by (a host bug)")]
    Unkeyed(String),
}

/// How a field is named in messages: `1`, `'price'`, or the record itself.
pub(super) struct FieldName<'a>(pub(super) &'a AggregateField);

impl fmt::Display for FieldName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            AggregateField::Position(position) => write!(f, "{position}"),
            AggregateField::Name(name) => write!(f, "'{name}'"),
            AggregateField::Whole => f.write_str("(the record itself)"),
        }
    }
}

/// One subtask's aggregation: what it computes, and a reused buffer.
pub struct Aggregator {
    aggregation: Aggregation,
    /// The node's name, for errors.
    node: String,
    max_parallelism: u32,
    /// The first record of a key, rewritten.
    scratch: Vec<u8>,
}

impl Aggregator {
    /// The aggregation `aggregation` of the node `node`.
    pub fn new(aggregation: Aggregation, node: String, max_parallelism: u32) -> Self {
        Aggregator { aggregation, node, max_parallelism, scratch: Vec::new() }
    }

    /// Folds every record of `input` into its key's running record in
    /// `values` and appends that to `out` (without key, with the record's
    /// timestamp).
    pub fn process(
        &mut self,
        values: &mut MemoryStateBackend,
        input: &Batch,
        out: &mut Batch,
    ) -> Result<(), AggregateError> {
        if !input.is_keyed() && !input.is_empty() {
            return Err(AggregateError::Unkeyed(self.node.clone()));
        }
        out.values.reserve(input.values.len() + input.len() * FIXED_WIDTH);
        out.value_ends.reserve(input.len());
        for i in 0..input.len() {
            let record = input.value(i);
            let key = StateKey::new(input.key(i), self.max_parallelism);
            if self.aggregation.function == AggregateFunction::Count {
                let stored = match values.value_mut(key) {
                    None => first_count(&mut self.scratch, record),
                    Some(running) => match self.count_up(running, key.bytes)? {
                        Fold::Kept => {
                            push(out, running, input.timestamps.get(i));
                            continue;
                        }
                        // A count keeps its record or rewrites it, never replaces it.
                        Fold::Rewritten | Fold::Replaced => &self.scratch[..],
                    },
                };
                values.put(key, stored);
                push(out, stored, input.timestamps.get(i));
                continue;
            }
            let (at, number) =
                record_field::locate(record, &self.aggregation.field).map_err(|e| self.field_error(record, e))?;
            let stored = match values.value_mut(key) {
                None if self.by_record() => record,
                None => rewrite(&mut self.scratch, record, at, number),
                Some(running) => match self.fold(running, number, key.bytes)? {
                    Fold::Kept => {
                        push(out, running, input.timestamps.get(i));
                        continue;
                    }
                    Fold::Replaced => record,
                    Fold::Rewritten => &self.scratch[..],
                },
            };
            values.put(key, stored);
            push(out, stored, input.timestamps.get(i));
        }
        Ok(())
    }

    /// Folds `number` into the key's `running` record, in place when it
    /// can.
    fn fold(&mut self, running: &mut [u8], number: Number, key: &[u8]) -> Result<Fold, AggregateError> {
        let field = &self.aggregation.field;
        let (at, current) = record_field::locate(running, field).map_err(|e| self.field_error(running, e))?;
        let function = self.aggregation.function;
        let next = match function {
            AggregateFunction::Sum => self.add(current, number, key)?,
            AggregateFunction::Min | AggregateFunction::MinBy if less(number, current) => number,
            AggregateFunction::Max | AggregateFunction::MaxBy if less(current, number) => number,
            _ => return Ok(Fold::Kept),
        };
        if self.by_record() {
            return Ok(Fold::Replaced);
        }
        Ok(self.write_back(running, at, next))
    }

    /// Writes `next` over the field at `at` of the key's `running` record:
    /// in place in the fixed width, or into the scratch buffer for a
    /// running record this code did not write (restored from a reduce's
    /// state, say), whose field changes width.
    fn write_back(&mut self, running: &mut [u8], at: Range<usize>, next: Number) -> Fold {
        if at.len() == FIXED_WIDTH {
            running[at].copy_from_slice(&next.encoded());
            return Fold::Kept;
        }
        rewrite(&mut self.scratch, running, at, next);
        Fold::Rewritten
    }

    /// Adds one to the count of the key's running `(record, count)`.
    fn count_up(&mut self, running: &mut [u8], key: &[u8]) -> Result<Fold, AggregateError> {
        let (at, current) =
            record_field::locate(running, &AggregateField::Position(1)).map_err(|e| self.field_error(running, e))?;
        let next = self.add(current, Number::Int(1), key)?;
        Ok(self.write_back(running, at, next))
    }

    /// Whether the running record is a whole input record (`min_by`,
    /// `max_by`) rather than the key's first one with the field rewritten.
    fn by_record(&self) -> bool {
        matches!(self.aggregation.function, AggregateFunction::MinBy | AggregateFunction::MaxBy)
    }

    /// `current + added`: integers as `i64` (failing on overflow), else floats.
    fn add(&self, current: Number, added: Number, key: &[u8]) -> Result<Number, AggregateError> {
        match (current, added) {
            (Number::Int(a), Number::Int(b)) => {
                a.checked_add(b).map(Number::Int).ok_or_else(|| AggregateError::Overflow {
                    node: self.node.clone(),
                    field: FieldName(&self.aggregation.field).to_string(),
                    key: shown(key),
                    current: a,
                    added: b,
                })
            }
            (a, b) => Ok(Number::Float(a.as_f64() + b.as_f64())),
        }
    }

    fn field_error(&self, record: &[u8], reason: FieldError) -> AggregateError {
        AggregateError::Field {
            node: self.node.clone(),
            field: FieldName(&self.aggregation.field).to_string(),
            record: shown(record),
            reason,
        }
    }
}

/// Appends a record (no key) with its timestamp, if it has one.
#[inline]
fn push(out: &mut Batch, value: &[u8], timestamp: Option<&i64>) {
    out.values.extend_from_slice(value);
    out.value_ends.push(out.values.len() as u32);
    if let Some(&timestamp) = timestamp {
        out.timestamps.push(timestamp);
    }
}

/// What [`Aggregator::fold`] did with a key's running record.
enum Fold {
    /// It kept it, or changed it where it stands.
    Kept,
    /// The record folded in replaces it (`min_by`, `max_by`).
    Replaced,
    /// The aggregator's scratch buffer holds its new bytes.
    Rewritten,
}

/// Writes into `scratch` a key's first count, and returns it: the 2-array
/// of its first record and 1 (in the fixed width, so later counts
/// overwrite it).
fn first_count<'a>(scratch: &'a mut Vec<u8>, record: &[u8]) -> &'a [u8] {
    scratch.clear();
    scratch.push(0x92);
    scratch.extend_from_slice(record);
    scratch.extend_from_slice(&Number::Int(1).encoded());
    scratch
}

/// Writes into `scratch` `record` with the field at `at` rewritten as
/// `number` in the fixed width, and returns it.
fn rewrite<'a>(scratch: &'a mut Vec<u8>, record: &[u8], at: Range<usize>, number: Number) -> &'a [u8] {
    scratch.clear();
    scratch.extend_from_slice(&record[..at.start]);
    scratch.extend_from_slice(&number.encoded());
    scratch.extend_from_slice(&record[at.end..]);
    scratch
}

/// Whether `a < b`: integers exactly, else as floats (a NaN is never less).
fn less(a: Number, b: Number) -> bool {
    match (a, b) {
        (Number::Int(a), Number::Int(b)) => a < b,
        (a, b) => a.as_f64() < b.as_f64(),
    }
}

/// A record or key as text on one line (control characters escaped), cut short.
pub(super) fn shown(bytes: &[u8]) -> String {
    let mut rendered = String::new();
    crate::connectors::render::render(bytes, &mut rendered);
    let mut text = String::with_capacity(rendered.len());
    for c in rendered.chars() {
        if c.is_control() {
            text.extend(c.escape_default());
        } else {
            text.push(c);
        }
    }
    if text.len() > SHOWN {
        let cut = (0..=SHOWN).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
#[path = "aggregate_tests.rs"]
mod tests;
