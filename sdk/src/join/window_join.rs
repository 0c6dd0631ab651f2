//! The window join (Flink's `DataStream.join`): records of two streams
//! with equal keys that fall in the same window are paired, and each pair
//! goes through a join function when the window fires.
//!
//! Built as Flink builds it: both streams are tagged ([`JoinInput`]),
//! merged with `union`, keyed by the key of their side, and cut into
//! windows by the assigner; the window function pairs every left record
//! of a window with every right one. So tumbling, sliding and session
//! windows, allowed lateness and the window's state all come from the
//! window operator. A join is only complete with its window: `where_`,
//! `equal_to` and `window` each return a type whose only way on is the
//! next step, so a join without a window does not compile.

use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::window::{TimeWindow, WindowAssigner};
use crate::{Collector, Data, DataStream, Key};

/// A record of either side of a window join, on its way through the
/// shared union and window.
#[derive(Serialize, Deserialize, Clone)]
pub enum JoinInput<A, B> {
    /// A record of the first (left) stream.
    Left(A),
    /// A record of the second (right) stream.
    Right(B),
}

impl<A: Data> DataStream<A> {
    /// Joins this stream with `other` on a key and a window (Flink's
    /// `join`): `a.join(b).where_(key_a).equal_to(key_b).window(assigner).apply(f)`.
    /// Both streams need event timestamps for event-time windows.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use wflink_sdk::prelude::*;
    /// # fn pairs(clicks: DataStream<(String, i64)>, views: DataStream<(String, i64)>) -> DataStream<String> {
    /// clicks
    ///     .join(views)
    ///     .where_(|c: &(String, i64)| c.0.clone())
    ///     .equal_to(|v: &(String, i64)| v.0.clone())
    ///     .window(TumblingEventTimeWindows::of(Duration::from_secs(60)))
    ///     .apply(|c: (String, i64), v: (String, i64)| format!("{} {} {}", c.0, c.1, v.1))
    /// # }
    /// ```
    pub fn join<B: Data>(self, other: DataStream<B>) -> JoinedStreams<A, B> {
        JoinedStreams { first: self, second: other }
    }
}

/// Two streams to join; name the first one's key with [`where_`](Self::where_).
pub struct JoinedStreams<A, B> {
    first: DataStream<A>,
    second: DataStream<B>,
}

impl<A: Data, B: Data> JoinedStreams<A, B> {
    /// The key of the first stream's records (Flink's `where`, a keyword in Rust).
    pub fn where_<K, KA>(self, key: KA) -> JoinWhere<A, B, K, KA>
    where
        K: Key + Data,
        KA: FnMut(&A) -> K + 'static,
    {
        JoinWhere { streams: self, key_a: key, _key: PhantomData }
    }
}

/// A join with the first stream's key; give the second's with [`equal_to`](Self::equal_to).
pub struct JoinWhere<A, B, K, KA> {
    streams: JoinedStreams<A, B>,
    key_a: KA,
    _key: PhantomData<fn() -> K>,
}

impl<A: Data, B: Data, K: Key + Data, KA: FnMut(&A) -> K + 'static> JoinWhere<A, B, K, KA> {
    /// The key of the second stream's records, of the same type as the first's.
    pub fn equal_to<KB>(self, key: KB) -> JoinEqual<A, B, K, KA, KB>
    where
        KB: FnMut(&B) -> K + 'static,
    {
        JoinEqual { on: self, key_b: key }
    }
}

/// A join with both keys; give its window with [`window`](Self::window).
/// It has no `apply`: a join without a window does not compile.
///
/// ```compile_fail
/// # use wflink_sdk::prelude::*;
/// # fn sums(a: DataStream<u64>, b: DataStream<u64>) -> DataStream<u64> {
/// a.join(b).where_(|x: &u64| *x).equal_to(|y: &u64| *y).apply(|x: u64, y: u64| x + y)
/// # }
/// ```
pub struct JoinEqual<A, B, K, KA, KB> {
    on: JoinWhere<A, B, K, KA>,
    key_b: KB,
}

impl<A, B, K, KA, KB> JoinEqual<A, B, K, KA, KB>
where
    A: Data,
    B: Data,
    K: Key + Data,
    KA: FnMut(&A) -> K + 'static,
    KB: FnMut(&B) -> K + 'static,
{
    /// The windows records meet in: tumbling, sliding or session windows,
    /// in event or processing time.
    pub fn window(self, assigner: WindowAssigner) -> WindowJoin<A, B, K, KA, KB> {
        WindowJoin { equal: self, assigner }
    }
}

/// A join with keys and window; finish with [`apply`](Self::apply).
pub struct WindowJoin<A, B, K, KA, KB> {
    equal: JoinEqual<A, B, K, KA, KB>,
    assigner: WindowAssigner,
}

impl<A, B, K, KA, KB> WindowJoin<A, B, K, KA, KB>
where
    A: Data,
    B: Data,
    K: Key + Data,
    KA: FnMut(&A) -> K + 'static,
    KB: FnMut(&B) -> K + 'static,
{
    /// Emits `f(a, b)` for every pair of a first-stream record `a` and a
    /// second-stream record `b` with equal keys in one window, when the
    /// window fires (Flink's `JoinFunction`). Each result carries the
    /// window's last timestamp.
    pub fn apply<O, F>(self, mut f: F) -> DataStream<O>
    where
        O: Data,
        F: FnMut(A, B) -> O + 'static,
    {
        self.apply_flat(move |a: A, b: B, out: &mut Collector<'_, O>| out.collect(f(a, b)))
    }

    /// Like [`apply`](Self::apply), with a function that emits any number
    /// of records per pair (Flink's `FlatJoinFunction`).
    pub fn apply_flat<O, F>(self, mut f: F) -> DataStream<O>
    where
        O: Data,
        F: FnMut(A, B, &mut Collector<'_, O>) + 'static,
    {
        let pair = move |_: &K, _: &TimeWindow, items: Vec<JoinInput<A, B>>, out: &mut Collector<'_, O>| {
            let (mut lefts, mut rights) = (Vec::new(), Vec::new());
            for item in items {
                match item {
                    JoinInput::Left(a) => lefts.push(a),
                    JoinInput::Right(b) => rights.push(b),
                }
            }
            for a in &lefts {
                for b in &rights {
                    f(a.clone(), b.clone(), out);
                }
            }
        };
        let JoinEqual { on, mut key_b } = self.equal;
        let JoinWhere { streams, mut key_a, .. } = on;
        let left = streams.first.map(JoinInput::<A, B>::Left).name("Join: Left");
        let right = streams.second.map(JoinInput::<A, B>::Right).name("Join: Right");
        left.union([right])
            .key_by(move |item: &JoinInput<A, B>| match item {
                JoinInput::Left(a) => key_a(a),
                JoinInput::Right(b) => key_b(b),
            })
            .window(self.assigner)
            .process(pair)
            .name("Window Join")
    }
}
