//! `DataStream<T>`: a typed stream and the operations that extend the plan.

use std::marker::PhantomData;

use crate::builder::SharedBuilder;
use crate::chain::{self, Collector};
use crate::connectors::{Format, KafkaSink, file_options};
use crate::plan::{Connector, NodeKind, Partitioning};
use crate::process::{OutputTag, ProcessFunction};
use crate::{Data, Key, KeyedStream, WatermarkStrategy};

/// A stream of `T` records in the plan being built.
///
/// Each operation consumes the stream and returns the next one, so a stream
/// feeds exactly one operation (fan-out is not supported yet). Functions run
/// in the task, not while building: they must be `'static` and may keep
/// state across records of their subtask (they are `FnMut`).
pub struct DataStream<T> {
    /// The plan this stream belongs to.
    pub(crate) plan: SharedBuilder,
    /// The node producing this stream.
    pub(crate) node: u32,
    /// How records travel to the next node, when the job asked
    /// (`rebalance()` and the like); else by the default rule.
    pub(crate) partitioning: Option<Partitioning>,
    _records: PhantomData<fn() -> T>,
}

impl<T> DataStream<T> {
    pub(crate) fn new(plan: SharedBuilder, node: u32) -> Self {
        DataStream { plan, node, partitioning: None, _records: PhantomData }
    }

    /// This stream as the input of the next node: its node and partitioning.
    pub(crate) fn input(&self) -> (u32, Option<Partitioning>) {
        (self.node, self.partitioning)
    }

    /// Names the node that produces this stream (the default is e.g. `"Map"`).
    pub fn name(self, name: impl Into<String>) -> Self {
        self.plan.borrow_mut().set_name(self.node, name.into());
        self
    }

    /// Sets the stable id of the node that produces this stream, which keeps
    /// its state across job upgrades (the default is e.g. `"map-2"`).
    pub fn uid(self, uid: impl Into<String>) -> Self {
        self.plan.borrow_mut().set_uid(self.node, uid.into());
        self
    }

    /// Sets the parallelism of the node that produces this stream; wins over
    /// the job's. 0 makes the plan invalid.
    pub fn set_parallelism(self, parallelism: u32) -> Self {
        self.plan.borrow_mut().set_parallelism(Some(self.node), parallelism);
        self
    }

    pub(crate) fn then<U>(
        self,
        kind: NodeKind,
        name: &str,
        operator: Option<Box<dyn chain::Operator>>,
    ) -> DataStream<U> {
        let id = self.plan.borrow_mut().add_reading(kind, name, &[self.input()], operator);
        DataStream::new(self.plan, id)
    }

    fn sink(self, name: &str, options: &[(&str, String)], label: &str) -> DataStreamSink {
        self.sink_to(Connector::new(name, options), label)
    }

    fn sink_to(self, connector: Connector, label: &str) -> DataStreamSink {
        let id = self.plan.borrow_mut().add_reading(NodeKind::Sink(connector), label, &[self.input()], None);
        DataStreamSink { stream: DataStream::<()>::new(self.plan, id) }
    }

    /// Prints every record to the TaskManager's standard output (tuples as `(a,b)`).
    pub fn print(self) -> DataStreamSink {
        self.sink("print", &[], "Sink: Print")
    }

    /// Writes every record as a line of text to files under the directory `path`.
    pub fn write_as_text(self, path: impl Into<String>) -> DataStreamSink {
        self.sink("file", &[("path", path.into())], "Sink: File")
    }

    /// Writes to files under `dir` when it is given, else prints: the usual
    /// `--output DIR` switch of the examples.
    pub fn print_or_write(self, dir: Option<String>) -> DataStreamSink {
        match dir {
            Some(dir) => self.write_as_text(dir),
            None => self.print(),
        }
    }

    /// Drops every record (for benchmarks).
    pub fn discard(self) -> DataStreamSink {
        self.sink("discard", &[], "Sink: Discard")
    }

    /// Drops every record, recording how long it took to arrive from its
    /// emit time (the record, or a tuple's last field: nanoseconds since the
    /// Unix epoch, as [`datagen_with_emit_time`] stamps it). At the end of
    /// input each subtask writes its histogram to `dir/latency-<subtask>.txt`
    /// (lines `NANOS COUNT`); records emitted within `warmup` of the first
    /// one it saw are left out. `wflink bench-latency` reads them.
    ///
    /// [`datagen_with_emit_time`]: crate::StreamExecutionEnvironment::datagen_with_emit_time
    pub fn sink_to_latency(self, dir: impl Into<String>, warmup: std::time::Duration) -> DataStreamSink {
        let options = [("path", dir.into()), ("warmup-ms", warmup.as_millis().to_string())];
        self.sink("latency", &options, "Sink: Latency")
    }
}

impl<T: Data> DataStream<T> {
    /// Turns each record into exactly one record.
    pub fn map<U, F>(self, f: F) -> DataStream<U>
    where
        U: Data,
        F: FnMut(T) -> U + 'static,
    {
        self.then(NodeKind::Map, "Map", Some(chain::map_operator(f)))
    }

    /// Turns each record into zero or more records, given to the [`Collector`].
    ///
    /// ```
    /// # use wflink_sdk::prelude::*;
    /// # fn words(lines: DataStream<String>) -> DataStream<String> {
    /// lines.flat_map(|line: String, out: &mut Collector<String>| {
    ///     line.split(' ').for_each(|w| out.collect(w.to_owned()))
    /// })
    /// # }
    /// ```
    pub fn flat_map<U, F>(self, f: F) -> DataStream<U>
    where
        U: Data,
        F: FnMut(T, &mut Collector<'_, U>) + 'static,
    {
        self.then(NodeKind::FlatMap, "Flat Map", Some(chain::flat_map_operator(f)))
    }

    /// Keeps the records for which `predicate` returns `true`.
    pub fn filter<F>(self, predicate: F) -> DataStream<T>
    where
        F: FnMut(&T) -> bool + 'static,
    {
        self.then(NodeKind::Filter, "Filter", Some(chain::filter_operator(predicate)))
    }

    /// Sets each record's event timestamp (ms) to what `timestamp` returns,
    /// and lets the host make watermarks by `strategy` after this node.
    ///
    /// ```
    /// # use wflink_sdk::prelude::*;
    /// # use std::time::Duration;
    /// # fn timed(readings: DataStream<(String, i64, f64)>) -> DataStream<(String, i64, f64)> {
    /// readings.assign_timestamps_and_watermarks(
    ///     WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_secs(2)),
    ///     |r: &(String, i64, f64)| r.1,
    /// )
    /// # }
    /// ```
    pub fn assign_timestamps_and_watermarks<F>(self, strategy: WatermarkStrategy, timestamp: F) -> DataStream<T>
    where
        F: FnMut(&T) -> i64 + 'static,
    {
        self.then(
            NodeKind::AssignTimestamps(strategy.spec()),
            "Timestamps/Watermarks",
            Some(chain::assigner_operator(timestamp)),
        )
    }

    /// Runs a [`ProcessFunction`] on each record: it may emit any number of
    /// records, send records to side outputs and read the record's
    /// timestamp and the watermark.
    pub fn process<O, F>(self, f: F) -> DataStream<O>
    where
        O: Data,
        F: ProcessFunction<T, O>,
    {
        self.then(NodeKind::Process, "Process", Some(chain::process_operator(f)))
    }

    /// The records the node producing this stream sent to the side output
    /// `tag`. A side output may go through `map`, `flat_map` and `filter`
    /// and must end in a sink.
    pub fn get_side_output<U: Data>(&self, tag: &OutputTag<U>) -> DataStream<U> {
        let kind = NodeKind::SideOutput { tag: tag.id, name: tag.name.clone() };
        let name = format!("Side Output: {}", tag.name);
        let id = self.plan.borrow_mut().add(kind, &name, Some(self.node), Some(chain::side_output_operator::<U>()));
        DataStream::new(self.plan.clone(), id)
    }

    /// Writes every record to Kafka (see [`KafkaSink`]). Records reach the
    /// sink with their field names, so a struct becomes a JSON object.
    pub fn sink_to_kafka(self, sink: KafkaSink) -> DataStreamSink {
        let connector = Connector { name: "kafka".into(), options: sink.options };
        self.named_fields().sink_to(connector, "Sink: kafka")
    }

    /// Writes every record to files under the directory `path` in `format`
    /// (part files as [`write_as_text`](Self::write_as_text) writes them).
    pub fn write_as(self, path: impl Into<String>, format: Format) -> DataStreamSink {
        let connector = Connector { name: "file".into(), options: file_options(path.into(), &format) };
        self.named_fields().sink_to(connector, "Sink: File")
    }

    /// A node that hands records on encoded with their field names.
    fn named_fields(self) -> DataStream<T> {
        self.then(NodeKind::Map, "Named Fields", Some(chain::named_fields_operator::<T>()))
    }

    /// Partitions the stream by the key `key` computes, so that all records
    /// with equal keys (equal MessagePack encodings) meet in one subtask.
    pub fn key_by<K, F>(self, key: F) -> KeyedStream<T, K>
    where
        K: Key,
        F: FnMut(&T) -> K + 'static,
    {
        KeyedStream::new(self.then(NodeKind::KeyBy, "Key By", Some(chain::key_by_operator(key))))
    }

    /// Like [`key_by`](Self::key_by), for a key the record holds (a field,
    /// or a slice of one): `key` returns a reference to it, so no key is
    /// built per record (no `String` cloned), only encoded. A borrowed key
    /// of an unsized type keys the stream by its owned form (`&str` keys a
    /// `KeyedStream<T, String>`), which encodes the same.
    ///
    /// ```
    /// # use wflink_sdk::prelude::*;
    /// # fn keyed(words: DataStream<(String, i64)>) -> KeyedStream<(String, i64), String> {
    /// words.key_by_ref(|(word, _): &(String, i64)| word)
    /// # }
    /// # fn by_prefix(lines: DataStream<String>) -> KeyedStream<String, String> {
    /// lines.key_by_ref(|line: &String| line.split(',').next().unwrap_or(""))
    /// # }
    /// ```
    pub fn key_by_ref<Q, F>(self, key: F) -> KeyedStream<T, Q::Owned>
    where
        Q: Key + ToOwned + ?Sized,
        F: for<'a> FnMut(&'a T) -> &'a Q + 'static,
    {
        KeyedStream::new(self.then(NodeKind::KeyBy, "Key By", Some(chain::key_by_ref_operator(key))))
    }
}

/// The end of a stream: a sink node, which can still be named and configured.
pub struct DataStreamSink {
    /// The sink node, as a stream of nothing to reuse its settings.
    stream: DataStream<()>,
}

impl DataStreamSink {
    /// Names the sink node (the default is e.g. `"Sink: Print"`).
    pub fn name(self, name: impl Into<String>) -> Self {
        DataStreamSink { stream: self.stream.name(name) }
    }

    /// Sets the sink's stable id (the default is e.g. `"sink-print-3"`).
    pub fn uid(self, uid: impl Into<String>) -> Self {
        DataStreamSink { stream: self.stream.uid(uid) }
    }

    /// Sets the sink's parallelism.
    pub fn set_parallelism(self, parallelism: u32) -> Self {
        DataStreamSink { stream: self.stream.set_parallelism(parallelism) }
    }
}
