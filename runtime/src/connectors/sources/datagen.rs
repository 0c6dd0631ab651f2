//! The datagen source: the numbers `0..count` spread over the subtasks
//! (subtask `i` emits `i, i+p, i+2p, ...`), at `rate` records per second
//! in total (0 = as fast as possible; `count` 0 = unbounded). With
//! `emit-time=true` each record is the pair `(n, t)`, `t` the wall clock
//! when it was emitted in nanoseconds since the Unix epoch, so a sink can
//! tell how long it took to arrive (the `latency` sink).

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
    /// Each record carries its emit time.
    emit_time: bool,
    emitted: u64,
    started: Instant,
}

/// The options of a datagen source.
pub(super) struct Settings {
    rate: u64,
    count: u64,
    emit_time: bool,
}

impl DatagenSource {
    pub(super) fn settings(connector: &Connector) -> Result<Settings, ConnectorError> {
        let number = |key: &str| -> Result<u64, ConnectorError> {
            connector.option(key).unwrap_or("0").parse().map_err(|_| {
                ConnectorError::option("datagen", format!("option '{key}' must be a non-negative integer"))
            })
        };
        let emit_time = match connector.option("emit-time").unwrap_or("false") {
            "true" => true,
            "false" => false,
            other => {
                let why = format!("option 'emit-time' must be true or false, not '{other}'");
                return Err(ConnectorError::option("datagen", why));
            }
        };
        Ok(Settings { rate: number("rate")?, count: number("count")?, emit_time })
    }

    pub(super) fn open(connector: &Connector, index: u32, parallelism: u32) -> Result<Self, ConnectorError> {
        let Settings { rate, count, emit_time } = Self::settings(connector)?;
        Ok(DatagenSource {
            next: index as u64,
            step: parallelism as u64,
            count: if count == 0 { u64::MAX } else { count },
            rate: rate as f64 / parallelism as f64,
            emit_time,
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
            // Writing into a Vec cannot fail.
            if self.emit_time {
                let _ = rmp::encode::write_array_len(&mut batch.values, 2);
                let _ = rmp::encode::write_uint(&mut batch.values, self.next);
                let _ = rmp::encode::write_uint(&mut batch.values, now_nanos());
            } else {
                let _ = rmp::encode::write_uint(&mut batch.values, self.next);
            }
            batch.value_ends.push(batch.values.len() as u32);
            self.next += self.step;
            produced += 1;
        }
        self.emitted += produced;
        Ok(SourceStatus::More)
    }
}

/// The wall clock in nanoseconds since the Unix epoch.
pub(crate) fn now_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(options: &[(&str, &str)]) -> DatagenSource {
        let options: Vec<(&str, String)> = options.iter().map(|(k, v)| (*k, v.to_string())).collect();
        DatagenSource::open(&Connector::new("datagen", &options), 0, 1).unwrap()
    }

    #[test]
    fn stamps_each_record_with_its_emit_time_when_asked() {
        let before = now_nanos();
        let mut batch = Batch::default();
        let mut datagen = source(&[("count", "3"), ("emit-time", "true")]);
        assert_eq!(datagen.next_batch(&mut batch, &AtomicBool::new(false)).unwrap(), SourceStatus::More);
        let after = now_nanos();
        assert_eq!(batch.len(), 3);
        for i in 0..3 {
            let (n, t): (u64, u64) = rmp_serde::from_slice(batch.value(i)).unwrap();
            assert_eq!(n, i as u64);
            assert!((before..=after).contains(&t), "{t} not within {before}..={after}");
        }
    }

    #[test]
    fn emits_plain_numbers_by_default_and_refuses_a_bad_emit_time() {
        let mut batch = Batch::default();
        source(&[("count", "2")]).next_batch(&mut batch, &AtomicBool::new(false)).unwrap();
        assert_eq!(rmp_serde::from_slice::<u64>(batch.value(1)).unwrap(), 1);
        let bad = Connector::new("datagen", &[("emit-time", "yes".to_string())]);
        assert!(DatagenSource::settings(&bad).is_err());
    }
}
