//! `KeyedStream<T, K>`: a stream partitioned by key, and its keyed operations.

use std::marker::PhantomData;
use std::ops::AddAssign;

use crate::aggregate::{extreme_field, extreme_record, sum};
use crate::chain;
use crate::plan::{AggregateField, AggregateFunction, Aggregation, KeyedProcessSpec, NodeKind};
use crate::process::KeyedProcessFunction;
use crate::window::{CountWindowedStream, WindowAssigner, WindowedStream};
use crate::{Data, DataStream};

/// A stream partitioned by a key of type `K` (see [`DataStream::key_by`]).
///
/// Its operations keep one state value per key: the built-in aggregations
/// (`sum`, `min`, `max`, `min_by`, `max_by`) in the host, the functions of
/// the job (`reduce`, `sum_by`, `process`, …) in the job's instance.
pub struct KeyedStream<T, K> {
    /// The key-by node's output.
    stream: DataStream<T>,
    _key: PhantomData<fn() -> K>,
}

impl<T: Data, K> KeyedStream<T, K> {
    pub(crate) fn new(stream: DataStream<T>) -> Self {
        KeyedStream { stream, _key: PhantomData }
    }

    /// The key-by node's output, for operators that read several streams.
    pub(crate) fn into_stream(self) -> DataStream<T> {
        self.stream
    }

    /// Names the key-by node (the default is `"Key By"`).
    pub fn name(self, name: impl Into<String>) -> Self {
        Self::new(self.stream.name(name))
    }

    /// Sets the key-by node's stable id (the default is e.g. `"key-by-2"`).
    pub fn uid(self, uid: impl Into<String>) -> Self {
        Self::new(self.stream.uid(uid))
    }

    /// Sets the key-by node's parallelism.
    pub fn set_parallelism(self, parallelism: u32) -> Self {
        Self::new(self.stream.set_parallelism(parallelism))
    }

    /// Turns each record into exactly one record, in the subtask its key
    /// was sent to (no state is kept; as Flink's `keyBy(..).map(..)`).
    pub fn map<U, F>(self, f: F) -> DataStream<U>
    where
        U: Data,
        F: FnMut(T) -> U + 'static,
    {
        self.stream.map(f)
    }

    /// A running reduce per key: the first record of a key is its state;
    /// each later one becomes `f(state, record)`. Emits the new state after
    /// every record.
    pub fn reduce<F>(self, f: F) -> DataStream<T>
    where
        F: FnMut(T, T) -> T + 'static,
    {
        self.reduce_named("Reduce", f)
    }

    /// A running sum per key of the numeric field at `position` (of a
    /// tuple, or a struct's field in declaration order), as Flink's
    /// `sum(position)`: emits, after every record, the key's first record
    /// with that field replaced by the sum so far. The host runs it (no
    /// call into the job): integers add as `i64` (an overflow fails the
    /// job, naming the key), floats as `f64`.
    ///
    /// ```
    /// # use wflink_sdk::prelude::*;
    /// # fn counts(words: KeyedStream<(String, i64), String>) -> DataStream<(String, i64)> {
    /// words.sum(1)
    /// # }
    /// ```
    pub fn sum(self, position: u32) -> DataStream<T> {
        self.aggregate(AggregateFunction::Sum, position)
    }

    /// A running minimum per key of the numeric field at `position`, as
    /// Flink's `min(position)`: only that field changes; the other fields
    /// keep the values of the key's first record (use
    /// [`min_by`](Self::min_by) for the whole record holding the minimum).
    /// Run by the host, as [`sum`](Self::sum).
    ///
    /// ```
    /// # use wflink_sdk::prelude::*;
    /// # fn lowest(readings: KeyedStream<(String, f64), String>) -> DataStream<(String, f64)> {
    /// readings.min(1)
    /// # }
    /// ```
    pub fn min(self, position: u32) -> DataStream<T> {
        self.aggregate(AggregateFunction::Min, position)
    }

    /// A running maximum per key of the numeric field at `position`, as
    /// Flink's `max(position)` (see [`min`](Self::min)).
    pub fn max(self, position: u32) -> DataStream<T> {
        self.aggregate(AggregateFunction::Max, position)
    }

    /// Per key, the whole record with the least numeric field at
    /// `position` so far, as Flink's `minBy(position)`: on ties the earlier
    /// record stays. Run by the host, as [`sum`](Self::sum).
    ///
    /// ```
    /// # use wflink_sdk::prelude::*;
    /// # fn cheapest(offers: KeyedStream<(String, String, i64), String>) -> DataStream<(String, String, i64)> {
    /// offers.min_by(2)
    /// # }
    /// ```
    pub fn min_by(self, position: u32) -> DataStream<T> {
        self.aggregate(AggregateFunction::MinBy, position)
    }

    /// Per key, the whole record with the greatest numeric field at
    /// `position` so far, as Flink's `maxBy(position)` (see
    /// [`min_by`](Self::min_by)).
    pub fn max_by(self, position: u32) -> DataStream<T> {
        self.aggregate(AggregateFunction::MaxBy, position)
    }

    /// A running sum per key of the numeric field `field` points to, run
    /// in the job (any `AddAssign` type, where [`sum`](Self::sum) takes
    /// integers and floats); the other fields keep the values of the key's
    /// first record.
    ///
    /// ```
    /// # use wflink_sdk::prelude::*;
    /// # fn counts(words: KeyedStream<(String, i64), String>) -> DataStream<(String, i64)> {
    /// words.sum_by(|t| &mut t.1)
    /// # }
    /// ```
    pub fn sum_by<N, F>(self, field: F) -> DataStream<T>
    where
        N: AddAssign + Copy,
        F: Fn(&mut T) -> &mut N + 'static,
    {
        self.reduce_named("Sum", sum(field))
    }

    /// A running minimum per key of the field `field` points to, run in
    /// the job (any `PartialOrd + Copy` type, such as a `char` or a
    /// `Duration`, where [`min`](Self::min) takes numbers): only that field
    /// changes, as in [`min`](Self::min).
    ///
    /// ```
    /// # use wflink_sdk::prelude::*;
    /// # fn first_initials(people: KeyedStream<(String, char), String>) -> DataStream<(String, char)> {
    /// people.min_with(|t| &mut t.1)
    /// # }
    /// ```
    pub fn min_with<N, F>(self, field: F) -> DataStream<T>
    where
        N: PartialOrd + Copy,
        F: Fn(&mut T) -> &mut N + 'static,
    {
        self.reduce_named("Min", extreme_field(field, true))
    }

    /// A running maximum per key of the field `field` points to, run in
    /// the job (see [`min_with`](Self::min_with)).
    pub fn max_with<N, F>(self, field: F) -> DataStream<T>
    where
        N: PartialOrd + Copy,
        F: Fn(&mut T) -> &mut N + 'static,
    {
        self.reduce_named("Max", extreme_field(field, false))
    }

    /// Per key, the whole record with the least `by(record)` so far, run
    /// in the job (any `PartialOrd` key, where [`min_by`](Self::min_by)
    /// takes a numeric field): on ties the earlier record stays.
    ///
    /// ```
    /// # use wflink_sdk::prelude::*;
    /// # fn shortest(offers: KeyedStream<(String, String), String>) -> DataStream<(String, String)> {
    /// offers.min_by_key(|t| t.1.len())
    /// # }
    /// ```
    pub fn min_by_key<N, F>(self, by: F) -> DataStream<T>
    where
        N: PartialOrd,
        F: Fn(&T) -> N + 'static,
    {
        self.reduce_named("Min By", extreme_record(by, true))
    }

    /// Per key, the whole record with the greatest `by(record)` so far,
    /// run in the job (see [`min_by_key`](Self::min_by_key)).
    pub fn max_by_key<N, F>(self, by: F) -> DataStream<T>
    where
        N: PartialOrd,
        F: Fn(&T) -> N + 'static,
    {
        self.reduce_named("Max By", extreme_record(by, false))
    }

    /// Runs a [`KeyedProcessFunction`] on each record with its key's state
    /// (the state handles created for `f`, e.g. in its constructor), timers
    /// and side outputs.
    pub fn process<O, F>(self, f: F) -> DataStream<O>
    where
        O: Data,
        F: KeyedProcessFunction<T, O>,
    {
        let states = crate::state::take_declared();
        let spec = KeyedProcessSpec { states, window: None };
        self.stream.then(NodeKind::KeyedProcess(spec), "Keyed Process", Some(chain::keyed_process_operator(f)))
    }

    /// Cuts each key's records into windows by `assigner`; finish with
    /// `reduce`, `aggregate` or `process` on the [`WindowedStream`].
    pub fn window(self, assigner: WindowAssigner) -> WindowedStream<T, K>
    where
        K: Data,
    {
        WindowedStream::new(self.stream, assigner)
    }

    /// Cuts each key's records into windows of `size` records, as Flink's
    /// `countWindow(size)`: a key's window fires at its `size`-th record,
    /// in arrival order, and the next one starts empty.
    pub fn count_window(self, size: u64) -> CountWindowedStream<T, K>
    where
        K: Data,
    {
        self.count_window_sliding(size, size)
    }

    /// Sliding count windows, as Flink's `countWindow(size, slide)`: every
    /// `slide` records of a key, a window fires with the key's last `size`
    /// records (fewer until `size` have arrived).
    pub fn count_window_sliding(self, size: u64, slide: u64) -> CountWindowedStream<T, K>
    where
        K: Data,
    {
        if size == 0 || slide == 0 {
            let error = format!("a count window needs a size and a slide of at least 1 (got {size} and {slide})");
            self.stream.plan.borrow_mut().fail(crate::JobError::invalid_plan(error));
        }
        CountWindowedStream::new(self.stream, size.max(1), slide.max(1))
    }

    /// A built-in aggregation over the field at `position`, run by the
    /// host: the node has no operator in the job, and Flink's name.
    fn aggregate(self, function: AggregateFunction, position: u32) -> DataStream<T> {
        let aggregation = Aggregation { function, field: AggregateField::Position(position) };
        let name = format!("Keyed Aggregation: {}", aggregation.describe());
        self.stream.then(NodeKind::Aggregate(aggregation), &name, None)
    }

    fn reduce_named<F>(self, name: &str, f: F) -> DataStream<T>
    where
        F: FnMut(T, T) -> T + 'static,
    {
        self.stream.then(NodeKind::Reduce, name, Some(chain::reduce_operator(f)))
    }
}
