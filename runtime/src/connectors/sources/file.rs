//! The bounded file source. Each file is split into one byte range per
//! subtask; a subtask reads the lines that start inside its range, so
//! every line is read exactly once whatever the parallelism.
//!
//! Its checkpointed state is what it has not read yet: the rest of its
//! current range (from the start of the next line) and the ranges it has
//! not opened. A restore takes the union of every old subtask's ranges and
//! deals them out over the new subtasks, so it resumes exactly where the
//! checkpoint was taken, at any parallelism.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

use super::{SourceReader, SourceStatus, batch_full, push_line};
use crate::connectors::ConnectorError;
use crate::connectors::formats::{BadRecords, Decoder, Format, SkipLog};
use crate::graph::Connector;
use crate::network::Batch;

/// Read buffer per open file.
const READ_BUFFER: usize = 1 << 20;

/// One byte range of one file.
struct Split {
    path: PathBuf,
    start: u64,
    end: u64,
}

/// What a file source subtask has left to read, as checkpointed.
#[derive(Debug, Default, Serialize, Deserialize)]
struct FileSourceState {
    /// `(path, from, end)`: the lines starting in `[from, end)` of `path`.
    remaining: Vec<(String, u64, u64)>,
}

/// Reads the splits of one subtask, line by line.
pub(super) struct FileSource {
    splits: VecDeque<Split>,
    current: Option<(BufReader<File>, u64, u64, PathBuf)>,
    line: Vec<u8>,
    /// How lines become records when a `format` is given (else: text).
    records: Option<Records>,
}

/// A file source with a `format`: its decoder and what it does with bad lines.
struct Records {
    decoder: Decoder,
    bad: BadRecords,
    skips: SkipLog,
    /// CSV with `csv.header=true`: each file's first line names the columns.
    header: bool,
}

impl Records {
    fn from_options(connector: &Connector, index: u32) -> Result<Option<Self>, ConnectorError> {
        if connector.option("format").is_none() {
            return Ok(None);
        }
        let format = Format::from_options(connector, "", Format::Raw { bytes: false })?;
        let header = matches!(&format, Format::Csv(csv) if csv.header);
        Ok(Some(Records {
            decoder: Decoder::new(format),
            bad: BadRecords::from_options(connector)?,
            skips: SkipLog::new(format!("file source {}", index + 1)),
            header,
        }))
    }
}

/// The 1-based number of the line that starts at byte `position` of `path`
/// (counted only when a bad record has to be named).
fn line_number(path: &Path, position: u64) -> u64 {
    let Ok(file) = File::open(path) else { return 0 };
    let mut reader = BufReader::new(file).take(position);
    let mut newlines = 0;
    let mut buf = [0u8; 1 << 16];
    while let Ok(n) = reader.read(&mut buf) {
        if n == 0 {
            break;
        }
        newlines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    newlines + 1
}

impl FileSource {
    pub(super) fn validate(connector: &Connector) -> Result<(), ConnectorError> {
        input_files(connector).map(|_| ())
    }

    /// Opens subtask `index` of `parallelism`: from the start, or, given the
    /// checkpointed states of every old subtask, from where they stopped.
    pub(super) fn open(
        connector: &Connector,
        index: u32,
        parallelism: u32,
        restored: &[Vec<u8>],
    ) -> Result<Self, ConnectorError> {
        if !restored.is_empty() {
            return Self::resume(connector, restored, index, parallelism);
        }
        let mut splits = VecDeque::new();
        for path in input_files(connector)? {
            let len = std::fs::metadata(&path).map_err(|e| ConnectorError::io(path.display().to_string(), e))?.len();
            let (i, p) = (index as u64, parallelism as u64);
            let (start, end) = (len * i / p, len * (i + 1) / p);
            if start < end {
                splits.push_back(Split { path, start, end });
            }
        }
        let records = Records::from_options(connector, index)?;
        Ok(FileSource { splits, current: None, line: Vec::new(), records })
    }

    fn resume(
        connector: &Connector,
        restored: &[Vec<u8>],
        index: u32,
        parallelism: u32,
    ) -> Result<Self, ConnectorError> {
        let mut remaining = Vec::new();
        for state in restored {
            let state: FileSourceState = rmp_serde::from_slice(state).map_err(|e| {
                ConnectorError::option("file", format!("the checkpointed source position is unreadable: {e}"))
            })?;
            remaining.extend(state.remaining);
        }
        remaining.sort();
        let splits = remaining
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i as u64 % parallelism as u64 == index as u64)
            .map(|(_, (path, start, end))| Split { path: PathBuf::from(path), start, end })
            .collect();
        let records = Records::from_options(connector, index)?;
        Ok(FileSource { splits, current: None, line: Vec::new(), records })
    }

    /// Opens the next split, positioned at the first line that starts in
    /// it (a CSV header line, when the file has one, is read as the
    /// columns and never as a record).
    fn open_split(&mut self, split: Split) -> Result<(BufReader<File>, u64, u64, PathBuf), ConnectorError> {
        let name = split.path.display().to_string();
        let file = File::open(&split.path).map_err(|e| ConnectorError::io(&name, e))?;
        let mut reader = BufReader::with_capacity(READ_BUFFER, file);
        let mut position = split.start;
        if let Some(records) = self.records.as_mut().filter(|r| r.header) {
            let mut header = Vec::new();
            let read = reader.read_until(b'\n', &mut header).map_err(|e| ConnectorError::io(&name, e))? as u64;
            records.decoder.set_columns_from_header(&header).map_err(|problem| ConnectorError::BadRecord {
                position: format!("file '{name}' line 1 (the CSV header)"),
                problem,
            })?;
            if split.start < read {
                position = read;
                if position >= split.end {
                    return Ok((reader, position, split.end, split.path));
                }
            }
            reader.seek(SeekFrom::Start(position)).map_err(|e| ConnectorError::io(&name, e))?;
        }
        if split.start > 0 && position == split.start {
            // The line under the split's start belongs to the previous split:
            // skip up to and including the newline before our first line.
            reader.seek(SeekFrom::Start(split.start - 1)).map_err(|e| ConnectorError::io(&name, e))?;
            let mut skipped = Vec::new();
            position = split.start - 1
                + reader.read_until(b'\n', &mut skipped).map_err(|e| ConnectorError::io(&name, e))? as u64;
        }
        Ok((reader, position, split.end, split.path))
    }
}

impl SourceReader for FileSource {
    fn skipped_records(&self) -> u64 {
        self.records.as_ref().map_or(0, |r| r.skips.total)
    }

    fn snapshot(&mut self, _checkpoint: crate::checkpoint::CheckpointId) -> Option<Vec<u8>> {
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let current =
            self.current.iter().filter(|(_, from, end, _)| from < end).map(|(_, from, end, p)| (path(p), *from, *end));
        let queued = self.splits.iter().map(|s| (path(&s.path), s.start, s.end));
        let state = FileSourceState { remaining: current.chain(queued).collect() };
        Some(rmp_serde::to_vec(&state).expect("a file source position serializes"))
    }

    fn next_batch(&mut self, batch: &mut Batch, _cancelled: &AtomicBool) -> Result<SourceStatus, ConnectorError> {
        loop {
            let Some((reader, position, end, path)) = &mut self.current else {
                match self.splits.pop_front() {
                    Some(split) => {
                        self.current = Some(self.open_split(split)?);
                        continue;
                    }
                    None => {
                        if let Some(records) = &mut self.records {
                            records.skips.maybe_log(true);
                        }
                        return Ok(if batch.is_empty() { SourceStatus::Ended } else { SourceStatus::More });
                    }
                }
            };
            while *position < *end {
                self.line.clear();
                let read = reader
                    .read_until(b'\n', &mut self.line)
                    .map_err(|e| ConnectorError::io(path.display().to_string(), e))?;
                if read == 0 {
                    break;
                }
                let line_start = *position;
                *position += read as u64;
                match &mut self.records {
                    None => push_line(batch, &self.line),
                    Some(records) => {
                        let line = super::trim_newline(&self.line);
                        match records.decoder.decode(line, &mut batch.values) {
                            Ok(()) => batch.value_ends.push(batch.values.len() as u32),
                            Err(problem) => {
                                let position =
                                    || format!("file '{}' line {}", path.display(), line_number(path, line_start));
                                match records.bad {
                                    BadRecords::Fail => {
                                        return Err(ConnectorError::BadRecord { position: position(), problem });
                                    }
                                    BadRecords::Skip => records.skips.skipped(|| format!("{}: {problem}", position())),
                                }
                            }
                        }
                    }
                }
                if batch_full(batch) {
                    return Ok(SourceStatus::More);
                }
            }
            self.current = None;
        }
    }
}

/// The files a `file` source reads: the file itself, or the visible
/// regular files of a directory in name order.
fn input_files(connector: &Connector) -> Result<Vec<PathBuf>, ConnectorError> {
    let path =
        connector.option("path").ok_or_else(|| ConnectorError::option("file", "the option 'path' is missing"))?;
    let path = Path::new(path);
    let metadata =
        std::fs::metadata(path).map_err(|e| ConnectorError::io(format!("input path '{}'", path.display()), e))?;
    if !metadata.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let entries =
        std::fs::read_dir(path).map_err(|e| ConnectorError::io(format!("input directory '{}'", path.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ConnectorError::io(path.display().to_string(), e))?;
        let name = entry.file_name();
        let hidden = name.to_string_lossy().starts_with(['.', '_']);
        if !hidden && entry.file_type().is_ok_and(|t| t.is_file()) {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(path: &Path, parallelism: u32) -> Vec<String> {
        let connector = Connector { name: "file".into(), options: vec![("path".into(), path.display().to_string())] };
        let mut lines = Vec::new();
        for index in 0..parallelism {
            let mut source = FileSource::open(&connector, index, parallelism, &[]).unwrap();
            let mut batch = Batch::default();
            while source.next_batch(&mut batch, &AtomicBool::new(false)).unwrap() != SourceStatus::Ended {
                for i in 0..batch.len() {
                    let value = batch.value(i);
                    let text: String = rmp::decode::read_str_from_slice(value).map(|(s, _)| s.to_string()).unwrap();
                    lines.push(text);
                }
                batch.clear();
            }
        }
        lines
    }

    #[test]
    fn every_line_is_read_once_at_any_parallelism() {
        let dir = std::env::temp_dir().join(format!("wflink-file-source-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("input.txt");
        let expected: Vec<String> = (0..1000).map(|i| format!("line {i} {}", "x".repeat(i % 17))).collect();
        std::fs::write(&path, expected.join("\n") + "\n").unwrap();
        for parallelism in [1, 2, 3, 7, 64] {
            let mut lines = read_all(&path, parallelism);
            lines.sort();
            let mut want = expected.clone();
            want.sort();
            assert_eq!(lines, want, "parallelism {parallelism}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Reads up to `batches` batches from `source` into `lines`.
    fn read_some(source: &mut FileSource, batches: usize, lines: &mut Vec<String>) -> bool {
        let mut batch = Batch::default();
        for _ in 0..batches {
            let ended = source.next_batch(&mut batch, &AtomicBool::new(false)).unwrap() == SourceStatus::Ended;
            for i in 0..batch.len() {
                let value = batch.value(i);
                lines.push(rmp::decode::read_str_from_slice(value).map(|(s, _)| s.to_string()).unwrap());
            }
            batch.clear();
            if ended {
                return true;
            }
        }
        false
    }

    #[test]
    fn a_restored_source_resumes_exactly_where_its_snapshot_was_taken_at_any_parallelism() {
        let dir = std::env::temp_dir().join(format!("wflink-file-resume-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..3 {
            let lines: Vec<String> = (0..3000).map(|i| format!("file {f} line {i}")).collect();
            std::fs::write(dir.join(format!("in-{f}.txt")), lines.join("\n") + "\n").unwrap();
        }
        let connector = Connector { name: "file".into(), options: vec![("path".into(), dir.display().to_string())] };
        let mut expected = Vec::new();
        for f in 0..3 {
            expected.extend((0..3000).map(|i| format!("file {f} line {i}")));
        }
        expected.sort();
        for (before, after) in [(2, 1), (2, 3), (3, 2)] {
            let mut lines = Vec::new();
            let mut states = Vec::new();
            for index in 0..before {
                let mut source = FileSource::open(&connector, index, before, &[]).unwrap();
                read_some(&mut source, 1 + index as usize, &mut lines);
                states.push(source.snapshot(1).unwrap());
            }
            for index in 0..after {
                let mut source = FileSource::open(&connector, index, after, &states).unwrap();
                while !read_some(&mut source, 100, &mut lines) {}
                assert_eq!(
                    rmp_serde::from_slice::<FileSourceState>(&source.snapshot(1).unwrap()).unwrap().remaining,
                    [],
                    "an ended source has nothing left"
                );
            }
            lines.sort();
            assert_eq!(lines, expected, "{before} -> {after} subtasks: no line lost or read twice");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let connector = Connector { name: "file".into(), options: vec![("path".into(), "/no/such/file".into())] };
        let err = FileSource::validate(&connector).unwrap_err().to_string();
        assert!(err.contains("/no/such/file"), "{err}");
    }
}
