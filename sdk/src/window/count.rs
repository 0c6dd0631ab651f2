//! Count windows on keyed streams, as Flink's `countWindow(size)` and
//! `countWindow(size, slide)`: per key, a window fires every `slide`
//! records (`size` for tumbling ones) with the key's last `size` records.
//!
//! They run on the keyed-reduce path ([`KeyedStep`]): one state value per
//! key, kept in the instance. A tumbling window folds incrementally (a
//! reduce or aggregate keeps one accumulator per key); a sliding one keeps
//! the key's last `size` records and folds them when it fires, as Flink's
//! count evictor does. Output records carry the timestamp of the record
//! that fired the window.

use std::collections::VecDeque;
use std::marker::PhantomData;

use super::{AggregateLogic, ProcessLogic, ReduceLogic, WindowLogic};
use crate::chain::{Collector, Emitter, KeyedStep, keyed_step_operator};
use crate::plan::NodeKind;
use crate::{AggregateFunction, Data, DataStream, JobError, TimeWindow};

/// The one window every count window of a key is reported in to the
/// shared window functions (Flink's `GlobalWindow`): it holds all time.
const GLOBAL: TimeWindow = TimeWindow { start: i64::MIN, end: i64::MAX };

/// A keyed stream cut into count windows (see
/// [`KeyedStream::count_window`](crate::KeyedStream::count_window)).
pub struct CountWindowedStream<T, K> {
    /// The key-by node's output.
    stream: DataStream<T>,
    /// Records per window.
    size: u64,
    /// Records between firings.
    slide: u64,
    _key: PhantomData<fn() -> K>,
}

impl<T: Data, K: Data> CountWindowedStream<T, K> {
    pub(crate) fn new(stream: DataStream<T>, size: u64, slide: u64) -> Self {
        CountWindowedStream { stream, size, slide, _key: PhantomData }
    }

    /// Folds each window's records with `f`; emits one record per window.
    pub fn reduce<F>(self, f: F) -> DataStream<T>
    where
        F: FnMut(T, T) -> T + 'static,
    {
        let g = |_: &K, _: &TimeWindow, value: T, out: &mut Collector<'_, T>| out.collect(value);
        self.build(ReduceLogic { f, g, _types: PhantomData })
    }

    /// Aggregates each window's records with `a`; emits its result.
    pub fn aggregate<A>(self, a: A) -> DataStream<A::Out>
    where
        A: AggregateFunction<In = T>,
        A::Out: Data,
    {
        let g = |_: &K, _: &TimeWindow, result: A::Out, out: &mut Collector<'_, A::Out>| out.collect(result);
        self.build(AggregateLogic { a, g, _types: PhantomData })
    }

    /// Hands all records of each window, oldest first, with its key to `g`.
    pub fn process<R, G>(self, mut g: G) -> DataStream<R>
    where
        R: Data,
        G: FnMut(&K, Vec<T>, &mut Collector<'_, R>) + 'static,
    {
        let g = move |key: &K, _: &TimeWindow, records: Vec<T>, out: &mut Collector<'_, R>| g(key, records, out);
        self.build(ProcessLogic { g, _types: PhantomData })
    }

    fn build<L: WindowLogic<T>>(self, logic: L) -> DataStream<L::Out> {
        let (size, slide) = (self.size, self.slide);
        let name = match size == slide {
            true => format!("Count Window ({size})"),
            false => format!("Count Window ({size}, slide {slide})"),
        };
        let step = CountStep { logic, size, slide, _records: PhantomData };
        self.stream.then(NodeKind::Reduce, &name, Some(keyed_step_operator(step)))
    }
}

/// A key's count window state: records since the window last fired, the
/// running accumulator of a tumbling window, and the last `size` records
/// of a sliding one.
type CountState<T, A> = (u64, Option<A>, VecDeque<T>);

/// Counts a key's records and fires its window every `slide` of them.
struct CountStep<T, L> {
    logic: L,
    size: u64,
    slide: u64,
    _records: PhantomData<fn(T)>,
}

impl<T: Data, L: WindowLogic<T>> KeyedStep for CountStep<T, L> {
    type In = T;
    type State = CountState<T, L::Acc>;
    type Out = L::Out;

    fn step(
        &mut self,
        key: &[u8],
        state: &mut Option<Self::State>,
        record: T,
        down: &mut dyn Emitter<L::Out>,
    ) -> Result<(), JobError> {
        let (seen, acc, last) = state.get_or_insert_with(|| (0, None, VecDeque::new()));
        *seen += 1;
        if self.size == self.slide {
            *acc = Some(self.logic.add(acc.take(), record));
        } else {
            if last.len() as u64 == self.size {
                last.pop_front();
            }
            last.push_back(record);
        }
        if *seen < self.slide {
            return Ok(());
        }
        *seen = 0;
        let folded = match self.size == self.slide {
            true => acc.take(),
            false => last.iter().cloned().fold(None, |acc, r| Some(self.logic.add(acc, r))),
        };
        match folded {
            Some(folded) => self.logic.emit(key, &GLOBAL, folded, down),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Lines(Vec<String>);

    impl Emitter<String> for Lines {
        fn emit(&mut self, value: String) {
            self.0.push(value);
        }
        fn emit_ref(&mut self, value: &String) {
            self.0.push(value.clone());
        }
    }

    fn run(size: u64, slide: u64, records: &[i64]) -> Vec<String> {
        let g =
            |_: &String, _: &TimeWindow, rs: Vec<i64>, out: &mut Collector<'_, String>| out.collect(format!("{rs:?}"));
        let logic = ProcessLogic::<String, i64, _, String> { g, _types: PhantomData };
        let mut step = CountStep { logic, size, slide, _records: PhantomData };
        let mut key = Vec::new();
        crate::codec::encode_into(&mut key, &"k".to_string()).unwrap();
        let (mut state, mut out) = (None, Lines(Vec::new()));
        for &r in records {
            step.step(&key, &mut state, r, &mut out).unwrap();
        }
        out.0
    }

    #[test]
    fn a_tumbling_count_window_fires_every_size_records() {
        assert_eq!(run(3, 3, &[1, 2, 3, 4, 5, 6, 7]), ["[1, 2, 3]", "[4, 5, 6]"]);
    }

    #[test]
    fn a_sliding_count_window_fires_every_slide_records_with_the_last_size() {
        assert_eq!(run(3, 2, &[1, 2, 3, 4, 5, 6]), ["[1, 2]", "[2, 3, 4]", "[4, 5, 6]"]);
        assert_eq!(run(2, 3, &[1, 2, 3, 4, 5, 6]), ["[2, 3]", "[5, 6]"]);
    }
}

#[cfg(test)]
mod plan_tests {
    use crate::prelude::*;

    fn build(env: &mut StreamExecutionEnvironment, _: &Args) -> Result<(), JobError> {
        let keyed = env.read_text_file("in").key_by(|l: &String| l.len() as u64);
        keyed.count_window_sliding(5, 0).reduce(|a, _| a).print();
        Ok(())
    }

    #[test]
    fn a_count_window_that_never_fires_is_an_invalid_plan() {
        let error = crate::describe(build, &[]).unwrap_err();
        assert!(error.to_string().contains("a count window needs a size and a slide of at least 1"), "{error}");
    }
}
