//! Window assigners, named as in Flink: which windows a timestamp falls in.

use std::time::Duration;

use crate::plan;

/// A window `[start, end)` of time in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeWindow {
    /// First ms of the window.
    pub start: i64,
    /// First ms after the window.
    pub end: i64,
}

impl TimeWindow {
    /// The last timestamp inside the window (`end - 1`): results of the
    /// window carry it, and it fires once the watermark reaches it.
    pub fn max_timestamp(&self) -> i64 {
        self.end - 1
    }

    /// The window as a state namespace: start and end, big-endian.
    pub(crate) fn namespace(&self) -> [u8; 16] {
        let mut ns = [0u8; 16];
        ns[..8].copy_from_slice(&self.start.to_be_bytes());
        ns[8..].copy_from_slice(&self.end.to_be_bytes());
        ns
    }

    /// The window a namespace encodes.
    pub(crate) fn from_namespace(ns: &[u8]) -> Option<TimeWindow> {
        let start = i64::from_be_bytes(ns.get(..8)?.try_into().ok()?);
        let end = i64::from_be_bytes(ns.get(8..16)?.try_into().ok()?);
        Some(TimeWindow { start, end })
    }

    /// Whether two windows overlap or touch (sessions that do merge).
    pub(crate) fn intersects(&self, other: &TimeWindow) -> bool {
        self.start <= other.end && self.end >= other.start
    }
}

/// How a keyed stream is cut into windows: build one with
/// [`TumblingEventTimeWindows::of`], [`SlidingEventTimeWindows::of`],
/// [`EventTimeSessionWindows::with_gap`] or their processing-time twins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowAssigner {
    pub(crate) spec: plan::WindowAssigner,
    pub(crate) event_time: bool,
}

fn ms(d: Duration) -> u64 {
    d.as_millis().clamp(1, i64::MAX as u128 / 4) as u64
}

impl WindowAssigner {
    /// Shifts the window boundaries by `offset` (e.g. time zones for daily windows).
    pub fn with_offset(mut self, offset: Duration) -> Self {
        let off = offset.as_millis() as u64;
        match &mut self.spec {
            plan::WindowAssigner::Tumbling { offset_ms, .. } | plan::WindowAssigner::Sliding { offset_ms, .. } => {
                *offset_ms = off
            }
            plan::WindowAssigner::Session { .. } => {}
        }
        self
    }

    /// Whether windows merge (sessions).
    pub(crate) fn is_session(&self) -> bool {
        matches!(self.spec, plan::WindowAssigner::Session { .. })
    }

    /// Appends the windows `timestamp` belongs to.
    pub(crate) fn assign(&self, timestamp: i64, out: &mut Vec<TimeWindow>) {
        out.clear();
        match self.spec {
            plan::WindowAssigner::Tumbling { size_ms, offset_ms } => {
                let (size, offset) = (size_ms as i64, offset_ms as i64);
                let start = timestamp - (timestamp - offset).rem_euclid(size);
                out.push(TimeWindow { start, end: start + size });
            }
            plan::WindowAssigner::Sliding { size_ms, slide_ms, offset_ms } => {
                let (size, slide, offset) = (size_ms as i64, slide_ms as i64, offset_ms as i64);
                let mut start = timestamp - (timestamp - offset).rem_euclid(slide);
                while start > timestamp - size {
                    out.push(TimeWindow { start, end: start + size });
                    start -= slide;
                }
            }
            plan::WindowAssigner::Session { gap_ms } => {
                out.push(TimeWindow { start: timestamp, end: timestamp + gap_ms as i64 });
            }
        }
    }
}

/// Fixed-size, non-overlapping event-time windows.
pub struct TumblingEventTimeWindows;
impl TumblingEventTimeWindows {
    /// Windows of length `size`.
    pub fn of(size: Duration) -> WindowAssigner {
        WindowAssigner { spec: plan::WindowAssigner::Tumbling { size_ms: ms(size), offset_ms: 0 }, event_time: true }
    }
}

/// Fixed-size, non-overlapping processing-time windows.
pub struct TumblingProcessingTimeWindows;
impl TumblingProcessingTimeWindows {
    /// Windows of length `size`.
    pub fn of(size: Duration) -> WindowAssigner {
        WindowAssigner { spec: plan::WindowAssigner::Tumbling { size_ms: ms(size), offset_ms: 0 }, event_time: false }
    }
}

/// Fixed-size event-time windows starting every `slide`.
pub struct SlidingEventTimeWindows;
impl SlidingEventTimeWindows {
    /// Windows of length `size`, one starting every `slide`.
    pub fn of(size: Duration, slide: Duration) -> WindowAssigner {
        let spec = plan::WindowAssigner::Sliding { size_ms: ms(size), slide_ms: ms(slide), offset_ms: 0 };
        WindowAssigner { spec, event_time: true }
    }
}

/// Fixed-size processing-time windows starting every `slide`.
pub struct SlidingProcessingTimeWindows;
impl SlidingProcessingTimeWindows {
    /// Windows of length `size`, one starting every `slide`.
    pub fn of(size: Duration, slide: Duration) -> WindowAssigner {
        let spec = plan::WindowAssigner::Sliding { size_ms: ms(size), slide_ms: ms(slide), offset_ms: 0 };
        WindowAssigner { spec, event_time: false }
    }
}

/// Event-time sessions per key, closed after `gap` without records.
pub struct EventTimeSessionWindows;
impl EventTimeSessionWindows {
    /// Sessions separated by at least `gap`.
    pub fn with_gap(gap: Duration) -> WindowAssigner {
        WindowAssigner { spec: plan::WindowAssigner::Session { gap_ms: ms(gap) }, event_time: true }
    }
}

/// Processing-time sessions per key, closed after `gap` without records.
pub struct ProcessingTimeSessionWindows;
impl ProcessingTimeSessionWindows {
    /// Sessions separated by at least `gap`.
    pub fn with_gap(gap: Duration) -> WindowAssigner {
        WindowAssigner { spec: plan::WindowAssigner::Session { gap_ms: ms(gap) }, event_time: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tumbling_and_sliding_windows_contain_the_timestamp() {
        let mut out = Vec::new();
        TumblingEventTimeWindows::of(Duration::from_secs(10)).assign(12_345, &mut out);
        assert_eq!(out, [TimeWindow { start: 10_000, end: 20_000 }]);
        TumblingEventTimeWindows::of(Duration::from_secs(10)).assign(-1, &mut out);
        assert_eq!(out, [TimeWindow { start: -10_000, end: 0 }]);
        SlidingEventTimeWindows::of(Duration::from_secs(60), Duration::from_secs(10)).assign(65_000, &mut out);
        assert_eq!(out.len(), 6);
        assert!(out.iter().all(|w| w.start <= 65_000 && 65_000 < w.end));
        assert_eq!(TimeWindow::from_namespace(&out[0].namespace()), Some(out[0]));
    }
}
