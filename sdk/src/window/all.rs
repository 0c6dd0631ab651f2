//! Windows over a whole, non-keyed stream, as Flink's `windowAll`: every
//! record goes to one window operator at parallelism 1 (a key-by on a
//! constant key, as Flink's `NullByteKeySelector`), so its windows see the
//! stream entire. Use it where the stream is small or pre-aggregated; a
//! keyed window scales, this does not.

use std::time::Duration;

use super::{AggregateFunction, TimeWindow, WindowAssigner, WindowedStream};
use crate::{Collector, Data, DataStream, OutputTag};

/// The name of the window node of `window_all`, as Flink's plan shows it.
const NAME: &str = "All Window";

impl<T: Data> DataStream<T> {
    /// Cuts the whole stream into windows by `assigner`, at parallelism 1;
    /// finish with `reduce`, `aggregate` or `process` on the
    /// [`AllWindowedStream`].
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use wflink_sdk::prelude::*;
    /// # fn total(amounts: DataStream<i64>) -> DataStream<i64> {
    /// amounts.window_all(TumblingEventTimeWindows::of(Duration::from_secs(60))).reduce(|a, b| a + b)
    /// # }
    /// ```
    pub fn window_all(self, assigner: WindowAssigner) -> AllWindowedStream<T> {
        AllWindowedStream { windows: self.key_by(|_: &T| ()).window(assigner) }
    }
}

/// A whole stream cut into windows (see [`DataStream::window_all`]).
pub struct AllWindowedStream<T> {
    /// The windows of the one constant key.
    windows: WindowedStream<T, ()>,
}

impl<T: Data> AllWindowedStream<T> {
    /// Keeps windows for `lateness` after they fire (event time), as
    /// [`WindowedStream::allowed_lateness`].
    pub fn allowed_lateness(self, lateness: Duration) -> Self {
        AllWindowedStream { windows: self.windows.allowed_lateness(lateness) }
    }

    /// Sends records too late for every window to the side output `tag`.
    pub fn side_output_late_data(self, tag: &OutputTag<T>) -> Self {
        AllWindowedStream { windows: self.windows.side_output_late_data(tag) }
    }

    /// Folds each window's records with `f`; emits one record per window.
    pub fn reduce<F>(self, f: F) -> DataStream<T>
    where
        F: FnMut(T, T) -> T + 'static,
    {
        single(self.windows.reduce(f))
    }

    /// Aggregates each window's records incrementally with `a`; emits its result.
    pub fn aggregate<A>(self, a: A) -> DataStream<A::Out>
    where
        A: AggregateFunction<In = T>,
        A::Out: Data,
    {
        single(self.windows.aggregate(a))
    }

    /// Hands all records of each window, with the window, to `g` (Flink's
    /// `ProcessAllWindowFunction`).
    pub fn process<R, G>(self, mut g: G) -> DataStream<R>
    where
        R: Data,
        G: FnMut(&TimeWindow, Vec<T>, &mut Collector<'_, R>) + 'static,
    {
        single(self.windows.process(move |_: &(), window: &TimeWindow, records: Vec<T>, out: &mut Collector<'_, R>| {
            g(window, records, out)
        }))
    }
}

/// The window node at parallelism 1, named as Flink names it.
fn single<R>(stream: DataStream<R>) -> DataStream<R> {
    stream.name(NAME).set_parallelism(1)
}
