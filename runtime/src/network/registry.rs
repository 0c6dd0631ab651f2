//! The channels into the tasks of one process, by [`ChannelKey`]. The
//! sending side (an upstream task in this process, or a TCP reader for a
//! remote one) and the receiving task may ask in any order: whoever comes
//! first creates the channel.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::channel::{TaggedReceiver, TaggedSender, tagged_channel};
use super::{CHANNEL_CAPACITY, OutputChannel};
use crate::ids::{JobId, VertexIndex};

/// Names the input channel of one subtask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChannelKey {
    /// The job.
    pub job_id: JobId,
    /// The receiving vertex.
    pub vertex: VertexIndex,
    /// The receiving subtask.
    pub index: u32,
    /// The job's restart count: a restarted job gets fresh channels, so a
    /// task of the failed attempt that is still stopping never sends into
    /// the new one.
    pub attempt: u32,
}

struct Entry {
    tx: TaggedSender,
    /// Taken by the receiving task.
    rx: Option<TaggedReceiver>,
}

/// Every input channel of the tasks of this process.
#[derive(Default)]
pub struct ChannelRegistry {
    channels: Mutex<HashMap<ChannelKey, Entry>>,
}

impl ChannelRegistry {
    fn with_entry<R>(&self, key: ChannelKey, f: impl FnOnce(&mut Entry) -> R) -> R {
        let mut channels = self.channels.lock().expect("channel registry poisoned");
        let entry = channels.entry(key).or_insert_with(|| {
            let (tx, rx) = tagged_channel(CHANNEL_CAPACITY);
            Entry { tx, rx: Some(rx) }
        });
        f(entry)
    }

    /// The sending side of the channel into `key`, for upstream subtask `upstream`.
    pub fn sender(&self, key: ChannelKey, upstream: u32) -> OutputChannel {
        OutputChannel::from_sender(self.tagged_sender(key), upstream)
    }

    /// The sending side of the channel into `key`, for messages already
    /// tagged with their sender (they arrive over TCP).
    pub(super) fn tagged_sender(&self, key: ChannelKey) -> TaggedSender {
        self.with_entry(key, |e| e.tx.clone())
    }

    /// The receiving side of the channel into `key`; `None` if it was
    /// already taken (a task deployed twice).
    pub fn receiver(&self, key: ChannelKey) -> Option<TaggedReceiver> {
        self.with_entry(key, |e| e.rx.take())
    }

    /// Forgets every channel of `job` (it ended); tasks still holding a side keep it.
    pub fn release_job(&self, job_id: JobId) {
        self.channels.lock().expect("channel registry poisoned").retain(|key, _| key.job_id != job_id);
    }

    /// Forgets the channels of `job` up to its attempt `attempt`, and
    /// keeps those of later attempts: slots sharing this registry release
    /// an attempt each on its own thread, maybe after another slot already
    /// wired its share of the next attempt.
    pub fn release_attempts(&self, job_id: JobId, attempt: u32) {
        let mut channels = self.channels.lock().expect("channel registry poisoned");
        channels.retain(|key, _| key.job_id != job_id || key.attempt > attempt);
    }
}
