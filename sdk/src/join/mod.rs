//! Joins of two streams, as in Flink: the window join
//! (`a.join(b).where_(..).equal_to(..).window(..).apply(..)`) pairs
//! records with equal keys in one window; the interval join
//! (`a.key_by(..).interval_join(b.key_by(..)).between(..).process(..)`)
//! pairs records with equal keys whose timestamps lie within an interval
//! of each other. Both are built from the SDK's own operators (union and
//! windows; keyed co-process with state and timers), so they need nothing
//! of the host beyond them.
//!
//! Layout: `window_join` (the window join), `interval_join` (the interval join).

mod interval_join;
mod window_join;

#[cfg(test)]
mod tests;

pub use interval_join::{IntervalJoin, IntervalJoined, ProcessJoinFunction};
pub use window_join::{JoinEqual, JoinInput, JoinWhere, JoinedStreams, WindowJoin};
