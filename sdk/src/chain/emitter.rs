//! Emitters: how one node hands its output to the next inside a chain.
//!
//! A chain is composed once, at `open`, into nested boxed emitters (each
//! user node wraps the emitter of the node after it; the last one writes
//! to the output buffer), so a record crosses it by direct calls with no
//! per-record allocation or type check.

/// Receives the records of one node, of type `T`.
pub(crate) trait Emitter<T> {
    /// Takes an owned record (the usual path).
    fn emit(&mut self, value: T);
    /// Takes a borrowed record: a keyed reduce both keeps and emits its
    /// value, and the output encoder needs no copy of it.
    fn emit_ref(&mut self, value: &T);
}

/// Where a [`flat_map`](crate::DataStream::flat_map) function puts its
/// outputs; each collected record goes down the chain at once.
pub struct Collector<'a, T> {
    /// The next node of the chain.
    down: &'a mut dyn Emitter<T>,
}

impl<'a, T> Collector<'a, T> {
    pub(crate) fn new(down: &'a mut dyn Emitter<T>) -> Self {
        Collector { down }
    }

    /// Emits `value` as an output of the current input record.
    #[inline]
    pub fn collect(&mut self, value: T) {
        self.down.emit(value);
    }

    /// Emits a copy of `*value`, leaving `value` with the caller: a
    /// function that emits many records can fill one reused record
    /// instead of allocating each (no copy is made at all when the record
    /// only goes on to be encoded, as before a key-by or the chain's end).
    ///
    /// ```
    /// # use wflink_sdk::prelude::*;
    /// # fn words(lines: DataStream<String>) -> DataStream<(String, i64)> {
    /// let mut pair = (String::new(), 1);
    /// lines.flat_map(move |line: String, out: &mut Collector<(String, i64)>| {
    ///     for word in line.split_whitespace() {
    ///         pair.0.clear();
    ///         pair.0.push_str(word);
    ///         out.collect_ref(&pair);
    ///     }
    /// })
    /// # }
    /// ```
    #[inline]
    pub fn collect_ref(&mut self, value: &T) {
        self.down.emit_ref(value);
    }
}

/// Runs a map function.
pub(crate) struct MapEmitter<F, U> {
    pub f: F,
    pub down: Box<dyn Emitter<U>>,
}

impl<T: Clone, U, F: FnMut(T) -> U> Emitter<T> for MapEmitter<F, U> {
    #[inline]
    fn emit(&mut self, value: T) {
        self.down.emit((self.f)(value));
    }
    fn emit_ref(&mut self, value: &T) {
        self.emit(value.clone());
    }
}

/// Runs a flat-map function.
pub(crate) struct FlatMapEmitter<F, U> {
    pub f: F,
    pub down: Box<dyn Emitter<U>>,
}

impl<T: Clone, U, F: FnMut(T, &mut Collector<'_, U>)> Emitter<T> for FlatMapEmitter<F, U> {
    #[inline]
    fn emit(&mut self, value: T) {
        (self.f)(value, &mut Collector::new(&mut *self.down));
    }
    fn emit_ref(&mut self, value: &T) {
        self.emit(value.clone());
    }
}

/// Runs a filter predicate.
pub(crate) struct FilterEmitter<F, T> {
    pub f: F,
    pub down: Box<dyn Emitter<T>>,
}

impl<T, F: FnMut(&T) -> bool> Emitter<T> for FilterEmitter<F, T> {
    #[inline]
    fn emit(&mut self, value: T) {
        if (self.f)(&value) {
            self.down.emit(value);
        }
    }
    fn emit_ref(&mut self, value: &T) {
        if (self.f)(value) {
            self.down.emit_ref(value);
        }
    }
}
