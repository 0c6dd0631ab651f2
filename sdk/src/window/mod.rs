//! Windows on keyed streams: `keyed.window(TumblingEventTimeWindows::of(..))`
//! then `reduce`, `aggregate` or `process`, with allowed lateness and a
//! side output for late records, as in Flink.
//!
//! Windows run in the guest on keyed state and timers (see `operator`);
//! the plan declares them (`window-spec`) so the host can show them.
//!
//! Layout: `assigner` (which windows a timestamp falls in), `operator`
//! (the window operator), `count` (count windows), `all` (`window_all`), this file (the API and
//! the window functions).

mod all;
mod assigner;
mod count;
mod operator;
#[cfg(test)]
pub(crate) mod tests;

pub use all::AllWindowedStream;
pub use assigner::{
    EventTimeSessionWindows, ProcessingTimeSessionWindows, SlidingEventTimeWindows, SlidingProcessingTimeWindows,
    TimeWindow, TumblingEventTimeWindows, TumblingProcessingTimeWindows, WindowAssigner,
};
pub use count::CountWindowedStream;

use std::marker::PhantomData;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::chain::{Collector, Emitter};
use crate::codec::decode;
use crate::plan::{KeyedProcessSpec, NodeKind, StateDescriptor, StateKind, TimeDomain, WindowSpec};
use crate::{Data, DataStream, JobError, OutputTag};
use operator::{WindowOperator, WindowSettings, acc_state_id, sessions_state_id};

/// Folds records into an accumulator incrementally (Flink's
/// `AggregateFunction`); used by [`WindowedStream::aggregate`] and
/// [`AggregatingState`](crate::AggregatingState).
pub trait AggregateFunction: 'static {
    /// The records it reads.
    type In;
    /// The accumulator it keeps (stored as keyed state).
    type Acc: Data;
    /// The result it gives.
    type Out;
    /// A fresh accumulator.
    fn create_accumulator(&mut self) -> Self::Acc;
    /// Adds one record.
    fn add(&mut self, value: Self::In, acc: Self::Acc) -> Self::Acc;
    /// The result of an accumulator.
    fn get_result(&mut self, acc: Self::Acc) -> Self::Out;
    /// Combines two accumulators (when session windows merge).
    fn merge(&mut self, a: Self::Acc, b: Self::Acc) -> Self::Acc;
}

/// What a window node does with its records: fold them, and turn the
/// fold into output when the window fires.
pub(crate) trait WindowLogic<T>: 'static {
    type Acc: Data;
    type Out: Data;
    fn add(&mut self, acc: Option<Self::Acc>, value: T) -> Self::Acc;
    fn merge(&mut self, a: Self::Acc, b: Self::Acc) -> Self::Acc;
    fn emit(
        &mut self,
        key: &[u8],
        window: &TimeWindow,
        acc: Self::Acc,
        down: &mut dyn Emitter<Self::Out>,
    ) -> Result<(), JobError>;
}

fn decode_key<K: DeserializeOwned>(key: &[u8]) -> Result<K, JobError> {
    decode(key).map_err(|e| JobError::Other(format!("cannot decode the window's key: {e}")))
}

struct ReduceLogic<K, T, F, G, R> {
    f: F,
    g: G,
    _types: PhantomData<fn(K, T) -> R>,
}

impl<K, T, R, F, G> WindowLogic<T> for ReduceLogic<K, T, F, G, R>
where
    K: Data,
    T: Data,
    R: Data,
    F: FnMut(T, T) -> T + 'static,
    G: FnMut(&K, &TimeWindow, T, &mut Collector<'_, R>) + 'static,
{
    type Acc = T;
    type Out = R;
    fn add(&mut self, acc: Option<T>, value: T) -> T {
        match acc {
            Some(acc) => (self.f)(acc, value),
            None => value,
        }
    }
    fn merge(&mut self, a: T, b: T) -> T {
        (self.f)(a, b)
    }
    fn emit(&mut self, key: &[u8], window: &TimeWindow, acc: T, down: &mut dyn Emitter<R>) -> Result<(), JobError> {
        (self.g)(&decode_key(key)?, window, acc, &mut Collector::new(down));
        Ok(())
    }
}

struct AggregateLogic<K, A, G, R> {
    a: A,
    g: G,
    _types: PhantomData<fn(K) -> R>,
}

impl<K, A, G, R> WindowLogic<A::In> for AggregateLogic<K, A, G, R>
where
    K: Data,
    A: AggregateFunction,
    R: Data,
    G: FnMut(&K, &TimeWindow, A::Out, &mut Collector<'_, R>) + 'static,
{
    type Acc = A::Acc;
    type Out = R;
    fn add(&mut self, acc: Option<A::Acc>, value: A::In) -> A::Acc {
        let acc = acc.unwrap_or_else(|| self.a.create_accumulator());
        self.a.add(value, acc)
    }
    fn merge(&mut self, a: A::Acc, b: A::Acc) -> A::Acc {
        self.a.merge(a, b)
    }
    fn emit(
        &mut self,
        key: &[u8],
        window: &TimeWindow,
        acc: A::Acc,
        down: &mut dyn Emitter<R>,
    ) -> Result<(), JobError> {
        let result = self.a.get_result(acc);
        (self.g)(&decode_key(key)?, window, result, &mut Collector::new(down));
        Ok(())
    }
}

struct ProcessLogic<K, T, G, R> {
    g: G,
    _types: PhantomData<fn(K, T) -> R>,
}

impl<K, T, R, G> WindowLogic<T> for ProcessLogic<K, T, G, R>
where
    K: Data,
    T: Data,
    R: Data,
    G: FnMut(&K, &TimeWindow, Vec<T>, &mut Collector<'_, R>) + 'static,
{
    type Acc = Vec<T>;
    type Out = R;
    fn add(&mut self, acc: Option<Vec<T>>, value: T) -> Vec<T> {
        let mut acc = acc.unwrap_or_default();
        acc.push(value);
        acc
    }
    fn merge(&mut self, mut a: Vec<T>, b: Vec<T>) -> Vec<T> {
        a.extend(b);
        a
    }
    fn emit(
        &mut self,
        key: &[u8],
        window: &TimeWindow,
        acc: Vec<T>,
        down: &mut dyn Emitter<R>,
    ) -> Result<(), JobError> {
        (self.g)(&decode_key(key)?, window, acc, &mut Collector::new(down));
        Ok(())
    }
}

/// A keyed stream cut into windows (see [`KeyedStream::window`](crate::KeyedStream::window)).
pub struct WindowedStream<T, K> {
    /// The key-by node's output.
    stream: DataStream<T>,
    assigner: WindowAssigner,
    allowed_lateness: Duration,
    late_tag: Option<u32>,
    _key: PhantomData<fn() -> K>,
}

impl<T: Data, K: Data> WindowedStream<T, K> {
    pub(crate) fn new(stream: DataStream<T>, assigner: WindowAssigner) -> Self {
        WindowedStream { stream, assigner, allowed_lateness: Duration::ZERO, late_tag: None, _key: PhantomData }
    }

    /// Keeps windows for `lateness` after they fire (event time): a late
    /// record within it updates the window, which fires again.
    pub fn allowed_lateness(mut self, lateness: Duration) -> Self {
        self.allowed_lateness = lateness;
        self
    }

    /// Sends records too late for every window they belong to to the side
    /// output `tag` instead of dropping them (dropped ones are counted in
    /// the `late-records-dropped` metric).
    pub fn side_output_late_data(mut self, tag: &OutputTag<T>) -> Self {
        self.late_tag = Some(tag.id);
        self
    }

    /// Folds each window's records with `f`; emits one record per window.
    pub fn reduce<F>(self, f: F) -> DataStream<T>
    where
        F: FnMut(T, T) -> T + 'static,
    {
        self.reduce_with(f, |_: &K, _: &TimeWindow, value: T, out: &mut Collector<'_, T>| out.collect(value))
    }

    /// Folds each window's records with `f`, then hands the result with
    /// its key and window to `g` (Flink's `reduce(reduceFn, windowFn)`).
    pub fn reduce_with<R, F, G>(self, f: F, g: G) -> DataStream<R>
    where
        R: Data,
        F: FnMut(T, T) -> T + 'static,
        G: FnMut(&K, &TimeWindow, T, &mut Collector<'_, R>) + 'static,
    {
        self.build("reduce", ReduceLogic { f, g, _types: PhantomData })
    }

    /// Aggregates each window's records incrementally with `a`; emits its result.
    pub fn aggregate<A>(self, a: A) -> DataStream<A::Out>
    where
        A: AggregateFunction<In = T>,
        A::Out: Data,
    {
        self.aggregate_with(a, |_: &K, _: &TimeWindow, result: A::Out, out: &mut Collector<'_, A::Out>| {
            out.collect(result)
        })
    }

    /// Aggregates each window incrementally with `a`, then hands the result
    /// with its key and window to `g` (Flink's `aggregate(aggFn, windowFn)`).
    pub fn aggregate_with<A, R, G>(self, a: A, g: G) -> DataStream<R>
    where
        A: AggregateFunction<In = T>,
        R: Data,
        G: FnMut(&K, &TimeWindow, A::Out, &mut Collector<'_, R>) + 'static,
    {
        self.build("aggregate", AggregateLogic { a, g, _types: PhantomData })
    }

    /// Hands all records of each window, with its key and window, to `g`
    /// (Flink's `ProcessWindowFunction`); keeps every record until the
    /// window fires, so prefer `reduce` or `aggregate` when they suffice.
    pub fn process<R, G>(self, g: G) -> DataStream<R>
    where
        R: Data,
        G: FnMut(&K, &TimeWindow, Vec<T>, &mut Collector<'_, R>) + 'static,
    {
        self.build("process", ProcessLogic { g, _types: PhantomData })
    }

    fn build<L: WindowLogic<T>>(self, function: &str, logic: L) -> DataStream<L::Out> {
        let lateness = self.allowed_lateness.as_millis().min(i64::MAX as u128 / 4) as i64;
        let settings = WindowSettings { assigner: self.assigner, allowed_lateness: lateness, late_tag: self.late_tag };
        let mut states = vec![StateDescriptor {
            id: acc_state_id(),
            name: "window-contents".into(),
            kind: StateKind::Aggregating,
            lazy: false,
            ttl_ms: None,
        }];
        if self.assigner.is_session() {
            states.push(StateDescriptor {
                id: sessions_state_id(),
                name: "window-sessions".into(),
                kind: StateKind::Value,
                lazy: false,
                ttl_ms: None,
            });
        }
        let spec = KeyedProcessSpec {
            states,
            window: Some(WindowSpec {
                assigner: self.assigner.spec,
                domain: if self.assigner.event_time { TimeDomain::EventTime } else { TimeDomain::ProcessingTime },
                allowed_lateness_ms: lateness as u64,
                late_output_tag: self.late_tag,
                function: function.into(),
            }),
        };
        let operator = WindowOperator::<T, L> { settings, logic, _records: PhantomData };
        self.stream.then(NodeKind::KeyedProcess(spec), "Window", Some(Box::new(operator)))
    }
}
