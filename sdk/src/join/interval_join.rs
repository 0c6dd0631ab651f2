//! The interval join (Flink's `KeyedStream.intervalJoin`): a record `l` of
//! the left stream meets every record `r` of the right stream with the
//! same key and `l.ts + lower <= r.ts <= l.ts + upper`.
//!
//! Built on a [`KeyedCoProcessFunction`]: both sides are buffered in keyed
//! map state by timestamp, and an event-time timer per buffered timestamp
//! drops the records no later record can meet any more (once the watermark
//! passes `ts + upper` for the left side, `ts - lower` for the right), so
//! the state holds only the records of the last interval per key.

use std::marker::PhantomData;

use crate::co_process::KeyedCoProcessFunction;
use crate::connected::KeyedConnectedStreams;
use crate::process::Context;
use crate::{Data, DataStream, JobError, Key, KeyedStream, MapState, OutputTag};

/// The function of an interval join (Flink's `ProcessJoinFunction`):
/// called once per matching pair, with both records and a [`Context`]
/// to emit results and side outputs. Its output records carry the
/// timestamp of whichever record of the pair came last.
/// Closures `FnMut(L, R, &mut Context<O>) -> Result<(), JobError>` implement it.
pub trait ProcessJoinFunction<L, R, O>: 'static {
    /// Handles one pair of records with equal keys within the interval.
    fn process_element(&mut self, left: L, right: R, ctx: &mut Context<'_, O>) -> Result<(), JobError>;
}

impl<L, R, O, F> ProcessJoinFunction<L, R, O> for F
where
    F: FnMut(L, R, &mut Context<'_, O>) -> Result<(), JobError> + 'static,
{
    fn process_element(&mut self, left: L, right: R, ctx: &mut Context<'_, O>) -> Result<(), JobError> {
        self(left, right, ctx)
    }
}

impl<L: Data, K: Key> KeyedStream<L, K> {
    /// Joins this keyed stream with `other`, keyed by the same key type,
    /// on an interval of event time: finish with
    /// [`between`](IntervalJoin::between) and then `process`. Both streams
    /// need event timestamps (`assign_timestamps_and_watermarks`).
    ///
    /// ```
    /// # use wflink_sdk::prelude::*;
    /// # fn pairs(orders: KeyedStream<(u64, i64), u64>, payments: KeyedStream<(u64, i64), u64>)
    /// # -> Result<DataStream<String>, JobError> {
    /// // A payment within 15 minutes after its order.
    /// let paid = orders
    ///     .interval_join(payments)
    ///     .between(0, 15 * 60_000)?
    ///     .process(|order: (u64, i64), payment: (u64, i64), ctx: &mut Context<String>| {
    ///         ctx.collect(format!("order {} paid {}", order.0, payment.1));
    ///         Ok(())
    ///     });
    /// # Ok(paid)
    /// # }
    /// ```
    pub fn interval_join<R: Data>(self, other: KeyedStream<R, K>) -> IntervalJoin<L, R, K> {
        IntervalJoin { streams: self.connect(other) }
    }
}

/// Two keyed streams to join on an interval; set it with [`between`](Self::between).
pub struct IntervalJoin<L, R, K> {
    streams: KeyedConnectedStreams<L, R, K>,
}

impl<L: Data, R: Data, K: Key> IntervalJoin<L, R, K> {
    /// Joins `l` with every `r` of the same key where
    /// `l.ts + lower_ms <= r.ts <= l.ts + upper_ms` (bounds in milliseconds,
    /// either may be negative). Fails when `lower_ms > upper_ms`.
    pub fn between(self, lower_ms: i64, upper_ms: i64) -> Result<IntervalJoined<L, R, K>, JobError> {
        if lower_ms > upper_ms {
            return Err(JobError::invalid_plan(format!(
                "interval join: the lower bound {lower_ms} ms is above the upper bound {upper_ms} ms"
            )));
        }
        Ok(IntervalJoined {
            streams: self.streams,
            lower: lower_ms,
            upper: upper_ms,
            tags: SideTags { left_unmatched: None, right_unmatched: None, left_late: None, right_late: None },
        })
    }
}

/// Where records that are not joined go, if anywhere.
struct SideTags<L, R> {
    left_unmatched: Option<OutputTag<L>>,
    right_unmatched: Option<OutputTag<R>>,
    left_late: Option<OutputTag<L>>,
    right_late: Option<OutputTag<R>>,
}

/// An interval join with its bounds; finish with [`process`](Self::process).
pub struct IntervalJoined<L, R, K> {
    streams: KeyedConnectedStreams<L, R, K>,
    lower: i64,
    upper: i64,
    tags: SideTags<L, R>,
}

impl<L: Data, R: Data, K: Key> IntervalJoined<L, R, K> {
    /// Excludes the lower bound: `l.ts + lower < r.ts`.
    pub fn lower_bound_exclusive(mut self) -> Self {
        self.lower = self.lower.saturating_add(1);
        self
    }

    /// Excludes the upper bound: `r.ts < l.ts + upper`.
    pub fn upper_bound_exclusive(mut self) -> Self {
        self.upper = self.upper.saturating_sub(1);
        self
    }

    /// Sends each left record that met no right record to the side output
    /// `tag` when its interval has passed (the watermark reached
    /// `ts + upper`), as an outer join would; read it with
    /// `get_side_output(&tag)` on the joined stream.
    pub fn side_output_left_unmatched(mut self, tag: &OutputTag<L>) -> Self {
        self.tags.left_unmatched = Some(tag.clone());
        self
    }

    /// Sends each right record that met no left record to the side output
    /// `tag` when its interval has passed (the watermark reached `ts - lower`).
    pub fn side_output_right_unmatched(mut self, tag: &OutputTag<R>) -> Self {
        self.tags.right_unmatched = Some(tag.clone());
        self
    }

    /// Sends left records that come after the watermark passed their
    /// timestamp to `tag` instead of dropping them (Flink's `sideOutputLeftLateData`).
    pub fn side_output_left_late_data(mut self, tag: &OutputTag<L>) -> Self {
        self.tags.left_late = Some(tag.clone());
        self
    }

    /// Sends late right records to `tag` instead of dropping them.
    pub fn side_output_right_late_data(mut self, tag: &OutputTag<R>) -> Self {
        self.tags.right_late = Some(tag.clone());
        self
    }

    /// Calls `f` for every pair of records within the interval. The join
    /// node is named "Interval Join"; its state is the two buffers.
    pub fn process<O, F>(self, f: F) -> DataStream<O>
    where
        O: Data,
        F: ProcessJoinFunction<L, R, O>,
    {
        let operator = IntervalJoinOperator {
            lower: self.lower,
            upper: self.upper,
            left: MapState::new("interval-join-left"),
            right: MapState::new("interval-join-right"),
            tags: self.tags,
            f,
            _types: PhantomData,
        };
        self.streams.process(operator).name("Interval Join")
    }
}

/// Buffered records of one side with one timestamp, each with whether it
/// has met a record of the other side yet.
type Bucket<T> = Vec<(T, bool)>;

/// The keyed co-process function that runs an interval join.
struct IntervalJoinOperator<L, R, O, F> {
    lower: i64,
    upper: i64,
    left: MapState<i64, Bucket<L>>,
    right: MapState<i64, Bucket<R>>,
    tags: SideTags<L, R>,
    f: F,
    _types: PhantomData<fn() -> O>,
}

/// The event time of the record being processed: an interval join needs one.
fn event_time<O>(ctx: &Context<'_, O>) -> Result<i64, JobError> {
    ctx.timestamp().ok_or_else(|| {
        JobError::invalid_plan("interval join: a record has no timestamp; call assign_timestamps_and_watermarks")
    })
}

/// When a left record of time `ts` can meet no more right records, and the other way round.
fn left_cleanup(ts: i64, upper: i64) -> i64 {
    ts.saturating_add(upper.max(0))
}

fn right_cleanup(ts: i64, lower: i64) -> i64 {
    ts.saturating_sub(lower.min(0))
}

/// Buffered buckets oldest first, so unmatched records leave in time order.
fn by_time<T>(mut buckets: Vec<(i64, Bucket<T>)>) -> Vec<(i64, Bucket<T>)> {
    buckets.sort_unstable_by_key(|(ts, _)| *ts);
    buckets
}

impl<L: Data, R: Data, O: Data, F: ProcessJoinFunction<L, R, O>> KeyedCoProcessFunction<L, R, O>
    for IntervalJoinOperator<L, R, O, F>
{
    fn process_element1(&mut self, value: L, ctx: &mut Context<'_, O>) -> Result<(), JobError> {
        let ts = event_time(ctx)?;
        if ts <= ctx.current_watermark() {
            if let Some(tag) = &self.tags.left_late {
                ctx.output(tag, value);
            }
            return Ok(());
        }
        let (from, to) = (ts.saturating_add(self.lower), ts.saturating_add(self.upper));
        let mut matched = false;
        for (rts, mut bucket) in self.right.entries()? {
            if rts < from || rts > to {
                continue;
            }
            for (right, seen) in bucket.iter_mut() {
                self.f.process_element(value.clone(), right.clone(), ctx)?;
                *seen = true;
            }
            matched = true;
            self.right.put(&rts, &bucket)?;
        }
        let mut bucket = self.left.get(&ts)?.unwrap_or_default();
        bucket.push((value, matched));
        self.left.put(&ts, &bucket)?;
        ctx.register_event_time_timer(left_cleanup(ts, self.upper))?;
        Ok(())
    }

    fn process_element2(&mut self, value: R, ctx: &mut Context<'_, O>) -> Result<(), JobError> {
        let ts = event_time(ctx)?;
        if ts <= ctx.current_watermark() {
            if let Some(tag) = &self.tags.right_late {
                ctx.output(tag, value);
            }
            return Ok(());
        }
        let (from, to) = (ts.saturating_sub(self.upper), ts.saturating_sub(self.lower));
        let mut matched = false;
        for (lts, mut bucket) in self.left.entries()? {
            if lts < from || lts > to {
                continue;
            }
            for (left, seen) in bucket.iter_mut() {
                self.f.process_element(left.clone(), value.clone(), ctx)?;
                *seen = true;
            }
            matched = true;
            self.left.put(&lts, &bucket)?;
        }
        let mut bucket = self.right.get(&ts)?.unwrap_or_default();
        bucket.push((value, matched));
        self.right.put(&ts, &bucket)?;
        ctx.register_event_time_timer(right_cleanup(ts, self.lower))?;
        Ok(())
    }

    /// Drops the records of both sides whose interval the watermark has
    /// passed, emitting the unmatched ones where asked.
    fn on_timer(&mut self, timestamp: i64, ctx: &mut Context<'_, O>) -> Result<(), JobError> {
        for (ts, bucket) in by_time(self.left.entries()?) {
            if left_cleanup(ts, self.upper) <= timestamp {
                self.left.remove(&ts)?;
                if let Some(tag) = &self.tags.left_unmatched {
                    bucket.into_iter().filter(|(_, seen)| !seen).for_each(|(l, _)| ctx.output(tag, l));
                }
            }
        }
        for (ts, bucket) in by_time(self.right.entries()?) {
            if right_cleanup(ts, self.lower) <= timestamp {
                self.right.remove(&ts)?;
                if let Some(tag) = &self.tags.right_unmatched {
                    bucket.into_iter().filter(|(_, seen)| !seen).for_each(|(r, _)| ctx.output(tag, r));
                }
            }
        }
        Ok(())
    }
}
