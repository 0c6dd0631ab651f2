//! The latency sink: drops every record, recording how long it took from
//! its emit stamp to here, for `wflink bench-latency`. The stamp is the
//! wall clock in nanoseconds since the Unix epoch, as the `datagen`
//! source's `emit-time=true` writes it: the record itself if it is an
//! integer, else the last field of a tuple (array). Records emitted in the
//! first `warmup-ms` after the first one seen are not recorded, so the
//! job's start does not count. At the end of input each subtask writes its
//! histogram to `<path>/latency-<subtask>.txt` as lines `NANOS COUNT`
//! ([`read_histograms`] merges them).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;

use super::SinkWriter;
use crate::connectors::ConnectorError;
use crate::connectors::sources::now_nanos;
use crate::network::Batch;

/// The longest latency told apart (longer ones count as this): ten minutes.
const HIGHEST_NANOS: u64 = 600_000_000_000;
/// Significant decimal digits the histogram keeps (0.1% resolution).
const DIGITS: u8 = 3;

pub(super) struct LatencySink {
    file: PathBuf,
    warmup_nanos: u64,
    /// The emit time of the first record seen.
    first: Option<u64>,
    seen: u64,
    /// Records without a stamp.
    unstamped: u64,
    histogram: Histogram<u64>,
}

impl LatencySink {
    pub(super) fn directory(connector: &crate::graph::Connector) -> Result<PathBuf, ConnectorError> {
        connector
            .option("path")
            .map(PathBuf::from)
            .ok_or_else(|| ConnectorError::option("latency", "the option 'path' is missing"))
    }

    pub(super) fn open(connector: &crate::graph::Connector, index: u32) -> Result<Self, ConnectorError> {
        let dir = Self::directory(connector)?;
        let warmup_ms: u64 = connector
            .option("warmup-ms")
            .unwrap_or("0")
            .parse()
            .map_err(|_| ConnectorError::option("latency", "option 'warmup-ms' must be a non-negative integer"))?;
        std::fs::create_dir_all(&dir)
            .map_err(|e| ConnectorError::io(format!("output directory '{}'", dir.display()), e))?;
        Ok(LatencySink {
            file: dir.join(format!("latency-{index}.txt")),
            warmup_nanos: warmup_ms.saturating_mul(1_000_000),
            first: None,
            seen: 0,
            unstamped: 0,
            histogram: new_histogram(),
        })
    }
}

impl SinkWriter for LatencySink {
    fn write(&mut self, batch: &Batch) -> Result<(), ConnectorError> {
        // The records of a batch reach the sink together.
        let now = now_nanos();
        for i in 0..batch.len() {
            let Some(emitted) = stamp(batch.value(i)) else {
                self.unstamped += 1;
                continue;
            };
            self.seen += 1;
            let first = *self.first.get_or_insert(emitted);
            if emitted >= first.saturating_add(self.warmup_nanos) {
                self.histogram.saturating_record(now.saturating_sub(emitted));
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ConnectorError> {
        let io = |e| ConnectorError::io(format!("latency file '{}'", self.file.display()), e);
        let mut text = format!(
            "# emit-to-sink latency: NANOS COUNT; {} records seen, {} recorded after the warm-up, {} without a stamp\n",
            self.seen,
            self.histogram.len(),
            self.unstamped
        );
        for value in self.histogram.iter_recorded() {
            text.push_str(&format!("{} {}\n", value.value_iterated_to(), value.count_at_value()));
        }
        let mut file = std::fs::File::create(&self.file).map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)
    }
}

/// A histogram of nanoseconds from 1 ns to [`HIGHEST_NANOS`].
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_NANOS, DIGITS).expect("the bounds are valid")
}

/// The emit stamp of a record: the record if it is an unsigned integer,
/// else the last item of an array.
fn stamp(value: &[u8]) -> Option<u64> {
    match rmpv::decode::read_value_ref(&mut &value[..]).ok()? {
        rmpv::ValueRef::Array(items) => items.last()?.as_u64(),
        other => other.as_u64(),
    }
}

/// The histograms every subtask of a latency sink wrote under `dir`, merged.
pub fn read_histograms(dir: &Path) -> std::io::Result<Histogram<u64>> {
    let mut merged = new_histogram();
    let mut files = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if !(name.starts_with("latency-") && name.ends_with(".txt")) {
            continue;
        }
        files += 1;
        for line in std::io::BufReader::new(std::fs::File::open(&path)?).lines() {
            let line = line?;
            let mut fields = line.split_whitespace().map(str::parse::<u64>);
            if let (Some(Ok(nanos)), Some(Ok(count))) = (fields.next(), fields.next()) {
                merged.saturating_record_n(nanos, count);
            }
        }
    }
    if files == 0 {
        let why = format!("no latency-*.txt under {}", dir.display());
        return Err(std::io::Error::new(std::io::ErrorKind::NotFound, why));
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Connector;

    fn record(batch: &mut Batch, value: &impl serde::Serialize) {
        batch.push(None, &rmp_serde::to_vec(value).unwrap(), None);
    }

    #[test]
    fn records_the_time_since_each_stamp_after_the_warm_up_and_merges_the_subtasks() {
        let dir = std::env::temp_dir().join(format!("wflink-latency-sink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let connector = |warmup: &str| {
            Connector::new("latency", &[("path", dir.display().to_string()), ("warmup-ms", warmup.into())])
        };
        let now = now_nanos();
        let mut first = LatencySink::open(&connector("1000"), 0).unwrap();
        let mut batch = Batch::default();
        // The first record sets the start; the second is inside the warm-up second, the third after it.
        record(&mut batch, &(1u64, now - 3_000_000_000));
        record(&mut batch, &(2u64, now - 2_500_000_000));
        record(&mut batch, &(3u64, now - 1_000_000_000));
        record(&mut batch, &"no stamp");
        first.write(&batch).unwrap();
        first.finish().unwrap();
        let mut second = LatencySink::open(&connector("0"), 1).unwrap();
        let mut batch = Batch::default();
        record(&mut batch, &(now - 2_000_000_000));
        second.write(&batch).unwrap();
        second.finish().unwrap();

        let merged = read_histograms(&dir).unwrap();
        assert_eq!(merged.len(), 2);
        let (low, high) = (merged.min() as f64 / 1e9, merged.max() as f64 / 1e9);
        assert!((0.99..1.1).contains(&low) && (1.99..2.1).contains(&high), "{low} s .. {high} s");
        let text = std::fs::read_to_string(dir.join("latency-0.txt")).unwrap();
        assert!(text.starts_with("# emit-to-sink latency: NANOS COUNT; 3 records seen, 1 recorded"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
