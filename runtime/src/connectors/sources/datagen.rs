//! The datagen source: the numbers `0..count` spread over the subtasks
//! (subtask `i` emits `i, i+p, i+2p, ...`), at `rate` records per second
//! in total (0 = as fast as possible; `count` 0 = unbounded).

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::{SourceReader, SourceStatus, batch_full};
use crate::connectors::ConnectorError;
use crate::graph::Connector;
use crate::network::Batch;

pub(super) struct DatagenSource {
    next: u64,
    step: u64,
    count: u64,
    /// Records per second for this subtask; 0 means unthrottled.
    rate: f64,
    emitted: u64,
    started: Instant,
}

impl DatagenSource {
    pub(super) fn settings(connector: &Connector) -> Result<(u64, u64), ConnectorError> {
        let number = |key: &str| -> Result<u64, ConnectorError> {
            connector.option(key).unwrap_or("0").parse().map_err(|_| {
                ConnectorError::option("datagen", format!("option '{key}' must be a non-negative integer"))
            })
        };
        Ok((number("rate")?, number("count")?))
    }

    pub(super) fn open(connector: &Connector, index: u32, parallelism: u32) -> Result<Self, ConnectorError> {
        let (rate, count) = Self::settings(connector)?;
        Ok(DatagenSource {
            next: index as u64,
            step: parallelism as u64,
            count: if count == 0 { u64::MAX } else { count },
            rate: rate as f64 / parallelism as f64,
            emitted: 0,
            started: Instant::now(),
        })
    }
}

impl SourceReader for DatagenSource {
    fn next_batch(&mut self, batch: &mut Batch, _cancelled: &AtomicBool) -> Result<SourceStatus, ConnectorError> {
        if self.next >= self.count {
            return Ok(SourceStatus::Ended);
        }
        let allowed = if self.rate > 0.0 {
            let due = (self.started.elapsed().as_secs_f64() * self.rate) as u64;
            if due <= self.emitted {
                // Sleep until the next record is due, at most a little, so the task stays responsive.
                let wait = ((self.emitted + 1) as f64 / self.rate) - self.started.elapsed().as_secs_f64();
                std::thread::sleep(Duration::from_secs_f64(wait.clamp(0.0, 0.01)));
                return Ok(SourceStatus::Idle);
            }
            due - self.emitted
        } else {
            u64::MAX
        };
        let mut produced = 0;
        while self.next < self.count && produced < allowed && !batch_full(batch) {
            let _ = rmp::encode::write_uint(&mut batch.values, self.next);
            batch.value_ends.push(batch.values.len() as u32);
            self.next += self.step;
            produced += 1;
        }
        self.emitted += produced;
        Ok(SourceStatus::More)
    }
}
