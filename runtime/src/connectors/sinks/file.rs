//! The file sink, exactly-once: subtask `i` writes text lines into a
//! hidden in-progress file `DIR/.part-<i>-<n>.inprogress`. At a checkpoint
//! barrier the file (if it holds anything) is flushed, synced and becomes
//! *pending*; the pending files are the sink's checkpointed state. When
//! the checkpoint completes (`NotifyComplete`), its pending files are
//! renamed to their final names `DIR/part-<i>-<n>` (two-phase commit).
//! At the end of input everything is committed. A job without checkpoints
//! writes one file per subtask, `part-<i>-0` in an empty directory.
//!
//! Recovery: the restored checkpoint completed, so the pending files it
//! lists are committed (renamed if not yet); every other in-progress file
//! of the recovered subtasks is what a failed attempt wrote after that
//! checkpoint, and is deleted. Old subtask `j`'s files are recovered by new
//! subtask `j mod parallelism`, so no two subtasks touch the same files and
//! nothing is committed twice or lost, at any parallelism.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{SinkRecovery, SinkWriter};
use crate::checkpoint::CheckpointId;
use crate::connectors::formats::{Encoder, Format};
use crate::connectors::{ConnectorError, render::render};
use crate::graph::Connector;
use crate::network::Batch;

/// A file closed at a barrier, waiting for its checkpoint to complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PendingFile {
    /// The checkpoint whose completion commits it.
    checkpoint: CheckpointId,
    /// Its number `n` (names `.part-<i>-<n>.inprogress` and `part-<i>-<n>`).
    number: u64,
}

/// The checkpointed state of one file sink subtask.
#[derive(Debug, Default, Serialize, Deserialize)]
struct FileSinkState {
    /// The subtask that wrote the files (part of their names).
    subtask: u32,
    /// Its files not committed yet, oldest first.
    pending: Vec<PendingFile>,
}

/// The file being written.
struct InProgress {
    number: u64,
    out: BufWriter<File>,
    bytes: u64,
}

pub(super) struct FileSink {
    dir: PathBuf,
    index: u32,
    current: Option<InProgress>,
    pending: Vec<PendingFile>,
    next_number: u64,
    /// Whether this subtask produced any file yet (a subtask without
    /// records still leaves one empty part file at the end).
    produced: bool,
    text: String,
    /// How values are written when a `format` is given (else: as text).
    encoder: Option<Encoder>,
    bytes: Vec<u8>,
}

fn in_progress_name(subtask: u32, number: u64) -> String {
    format!(".part-{subtask}-{number}.inprogress")
}

fn final_name(subtask: u32, number: u64) -> String {
    format!("part-{subtask}-{number}")
}

/// `(subtask, number)` of a part file name, committed or in progress.
fn parse_name(name: &str) -> Option<(u32, u64, bool)> {
    let (rest, in_progress) = match name.strip_prefix(".part-").and_then(|r| r.strip_suffix(".inprogress")) {
        Some(rest) => (rest, true),
        None => (name.strip_prefix("part-")?, false),
    };
    let (subtask, number) = rest.split_once('-')?;
    Some((subtask.parse().ok()?, number.parse().ok()?, in_progress))
}

impl FileSink {
    pub(super) fn directory(connector: &Connector) -> Result<PathBuf, ConnectorError> {
        connector
            .option("path")
            .map(PathBuf::from)
            .ok_or_else(|| ConnectorError::option("file", "the option 'path' is missing"))
    }

    pub(super) fn open(
        connector: &Connector,
        index: u32,
        parallelism: u32,
        recovery: &SinkRecovery,
    ) -> Result<Self, ConnectorError> {
        let dir = Self::directory(connector)?;
        let io = |e| ConnectorError::io(format!("output directory '{}'", dir.display()), e);
        std::fs::create_dir_all(&dir).map_err(io)?;
        if recovery.recovering {
            recover(&dir, index, parallelism, &recovery.states)?;
        }
        // Numbers continue after any file of this subtask already there.
        let mut next_number = 0;
        for entry in std::fs::read_dir(&dir).map_err(io)? {
            let name = entry.map_err(io)?.file_name();
            if let Some((subtask, number, _)) = parse_name(&name.to_string_lossy())
                && subtask == index
            {
                next_number = next_number.max(number + 1);
            }
        }
        let mut sink = FileSink {
            dir,
            index,
            current: None,
            pending: Vec::new(),
            next_number,
            produced: false,
            text: String::new(),
            encoder: match connector.option("format") {
                Some(_) => Some(Encoder::new(Format::from_options(connector, "", Format::Raw { bytes: false })?)),
                None => None,
            },
            bytes: Vec::new(),
        };
        sink.current = Some(sink.start_file()?);
        Ok(sink)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn start_file(&mut self) -> Result<InProgress, ConnectorError> {
        let number = self.next_number;
        self.next_number += 1;
        let path = self.path(&in_progress_name(self.index, number));
        let file = File::create(&path).map_err(|e| ConnectorError::io(path.display().to_string(), e))?;
        Ok(InProgress { number, out: BufWriter::with_capacity(1 << 16, file), bytes: 0 })
    }

    /// Closes the current file (flushed and synced) as pending for `checkpoint`.
    fn close_current(&mut self, checkpoint: CheckpointId) -> Result<(), ConnectorError> {
        let Some(mut file) = self.current.take() else { return Ok(()) };
        let path = self.path(&in_progress_name(self.index, file.number));
        let io = |e| ConnectorError::io(path.display().to_string(), e);
        file.out.flush().map_err(io)?;
        file.out.get_ref().sync_data().map_err(io)?;
        self.pending.push(PendingFile { checkpoint, number: file.number });
        self.produced = true;
        Ok(())
    }

    /// Renames the pending files of checkpoints up to `checkpoint`.
    fn commit_up_to(&mut self, checkpoint: CheckpointId) -> Result<(), ConnectorError> {
        let due: Vec<PendingFile> = self.pending.extract_if(.., |p| p.checkpoint <= checkpoint).collect();
        for file in &due {
            commit(&self.dir, self.index, file.number)?;
        }
        if !due.is_empty() {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }
}

/// Renames one in-progress file to its final name; a file already
/// renamed (the commit happened before a failure) is left as it is, and a
/// missing one (a savepoint restored into another directory) is warned about.
fn commit(dir: &Path, subtask: u32, number: u64) -> Result<(), ConnectorError> {
    let from = dir.join(in_progress_name(subtask, number));
    let to = dir.join(final_name(subtask, number));
    match std::fs::rename(&from, &to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !to.exists() {
                // Restored into another directory, or the file was removed by hand.
                tracing::warn!(file = %from.display(), "a file of the restored checkpoint is missing; it cannot be committed");
            }
            Ok(())
        }
        Err(e) => Err(ConnectorError::io(format!("committing {}", from.display()), e)),
    }
}

fn sync_dir(dir: &Path) -> Result<(), ConnectorError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| ConnectorError::io(dir.display().to_string(), e))
}

/// Commits the pending files of the restored states of the old subtasks
/// this subtask recovers (`j mod parallelism == index`), and deletes
/// their other in-progress files: leftovers of the failed attempt.
fn recover(dir: &Path, index: u32, parallelism: u32, states: &[Vec<u8>]) -> Result<(), ConnectorError> {
    let mine = |subtask: u32| subtask % parallelism == index;
    let mut keep = std::collections::HashSet::new();
    for state in states {
        let state: FileSinkState = rmp_serde::from_slice(state)
            .map_err(|e| ConnectorError::option("file", format!("the checkpointed sink state is unreadable: {e}")))?;
        if !mine(state.subtask) {
            continue;
        }
        for file in &state.pending {
            commit(dir, state.subtask, file.number)?;
            keep.insert((state.subtask, file.number));
        }
    }
    let io = |e| ConnectorError::io(format!("output directory '{}'", dir.display()), e);
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        if let Some((subtask, number, true)) = parse_name(&name.to_string_lossy())
            && mine(subtask)
            && !keep.contains(&(subtask, number))
        {
            tracing::info!(file = %entry.path().display(), "deleting a part file of a failed attempt");
            std::fs::remove_file(entry.path())
                .map_err(|e| ConnectorError::io(entry.path().display().to_string(), e))?;
        }
    }
    sync_dir(dir)
}

impl SinkWriter for FileSink {
    fn write(&mut self, batch: &Batch) -> Result<(), ConnectorError> {
        if batch.is_empty() {
            return Ok(());
        }
        if self.current.is_none() {
            self.current = Some(self.start_file()?);
        }
        let current = self.current.as_mut().expect("just opened");
        self.bytes.clear();
        match &mut self.encoder {
            None => {
                self.text.clear();
                for i in 0..batch.len() {
                    render(batch.value(i), &mut self.text);
                    self.text.push('\n');
                }
                self.bytes.extend_from_slice(self.text.as_bytes());
            }
            Some(encoder) => {
                // A CSV part file with a header starts with it.
                if current.bytes == 0
                    && let Some(header) = encoder.header_for(batch.value(0))
                {
                    self.bytes.extend_from_slice(&header);
                    self.bytes.push(b'\n');
                }
                for i in 0..batch.len() {
                    encoder.encode(batch.value(i), &mut self.bytes);
                    self.bytes.push(b'\n');
                }
            }
        }
        current.bytes += self.bytes.len() as u64;
        let number = current.number;
        current.out.write_all(&self.bytes).map_err(|e| {
            ConnectorError::io(self.dir.join(in_progress_name(self.index, number)).display().to_string(), e)
        })
    }

    fn pre_commit(&mut self, checkpoint: CheckpointId) -> Result<Option<Vec<u8>>, ConnectorError> {
        if self.current.as_ref().is_some_and(|c| c.bytes > 0) {
            self.close_current(checkpoint)?;
        }
        let state = FileSinkState { subtask: self.index, pending: self.pending.clone() };
        Ok(Some(rmp_serde::to_vec(&state).expect("a file sink state serializes")))
    }

    fn commit(&mut self, checkpoint: CheckpointId) -> Result<(), ConnectorError> {
        self.commit_up_to(checkpoint)
    }

    fn finish(&mut self) -> Result<(), ConnectorError> {
        match &self.current {
            Some(current) if current.bytes > 0 || !self.produced => self.close_current(CheckpointId::MAX)?,
            Some(_) => {
                let empty = self.current.take().expect("just seen");
                let path = self.path(&in_progress_name(self.index, empty.number));
                drop(empty);
                std::fs::remove_file(&path).map_err(|e| ConnectorError::io(path.display().to_string(), e))?;
            }
            None => {}
        }
        self.commit_up_to(CheckpointId::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[&str]) -> Batch {
        let mut batch = Batch::default();
        for line in text {
            let mut value = Vec::new();
            rmp::encode::write_str(&mut value, line).unwrap();
            batch.push(None, &value, None);
        }
        batch
    }

    /// The visible (committed) files and their contents, sorted.
    fn committed(dir: &Path) -> Vec<(String, String)> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| !name.starts_with('.'))
            .map(|name| (name.clone(), std::fs::read_to_string(dir.join(&name)).unwrap()))
            .collect();
        files.sort();
        files
    }

    fn hidden(dir: &Path) -> usize {
        std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.'))
            .count()
    }

    fn scratch(name: &str) -> (PathBuf, Connector) {
        let dir = std::env::temp_dir().join(format!("wflink-file-sink-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let connector = Connector { name: "file".into(), options: vec![("path".into(), dir.display().to_string())] };
        (dir, connector)
    }

    #[test]
    fn files_become_visible_only_when_their_checkpoint_completes() {
        let (dir, connector) = scratch("commit");
        let mut sink = FileSink::open(&connector, 0, 1, &SinkRecovery::default()).unwrap();
        sink.write(&lines(&["a", "b"])).unwrap();
        sink.pre_commit(1).unwrap();
        sink.write(&lines(&["c"])).unwrap();
        assert_eq!(committed(&dir), []);
        sink.commit(1).unwrap();
        assert_eq!(committed(&dir), [("part-0-0".to_string(), "a\nb\n".to_string())]);
        // An aborted checkpoint's files stay pending; the next completed one commits them.
        sink.pre_commit(2).unwrap();
        sink.write(&lines(&["d"])).unwrap();
        sink.pre_commit(3).unwrap();
        sink.commit(3).unwrap();
        assert_eq!(committed(&dir).len(), 3);
        sink.write(&lines(&["e"])).unwrap();
        sink.finish().unwrap();
        let all: String = committed(&dir).into_iter().map(|(_, text)| text).collect();
        assert_eq!(all, "a\nb\nc\nd\ne\n");
        assert_eq!(hidden(&dir), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn recovery_commits_the_checkpoint_s_files_and_deletes_the_failed_attempt_s() {
        let (dir, connector) = scratch("recover");
        // Two subtasks checkpoint (1), write more, then die before checkpoint 1 is committed.
        let mut states = Vec::new();
        for index in 0..2 {
            let mut sink = FileSink::open(&connector, index, 2, &SinkRecovery::default()).unwrap();
            sink.write(&lines(&[&format!("before-{index}")])).unwrap();
            states.push(sink.pre_commit(1).unwrap().unwrap());
            sink.write(&lines(&[&format!("after-{index}")])).unwrap();
            sink.pre_commit(2).unwrap(); // checkpoint 2 never completes
            sink.write(&lines(&["lost"])).unwrap();
        }
        assert_eq!(committed(&dir), []);
        // Restored at parallelism 3 from checkpoint 1: each old subtask is recovered once.
        let recovery = SinkRecovery { states, recovering: true };
        let mut sinks: Vec<_> = (0..3).map(|i| FileSink::open(&connector, i, 3, &recovery).unwrap()).collect();
        let texts: Vec<String> = committed(&dir).into_iter().map(|(_, text)| text).collect();
        assert_eq!(texts, ["before-0\n", "before-1\n"]);
        for sink in &mut sinks {
            sink.finish().unwrap();
        }
        assert_eq!(hidden(&dir), 0, "leftovers of the failed attempt are gone");
        // Recovering twice (a failure during recovery) changes nothing.
        FileSink::open(&connector, 0, 3, &recovery).unwrap().finish().unwrap();
        let texts: String = committed(&dir).into_iter().map(|(_, text)| text).collect();
        assert_eq!(texts, "before-0\nbefore-1\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn without_checkpoints_each_subtask_writes_one_part_file() {
        let (dir, connector) = scratch("plain");
        for index in 0..2 {
            let mut sink = FileSink::open(&connector, index, 2, &SinkRecovery::default()).unwrap();
            if index == 0 {
                sink.write(&lines(&["x"])).unwrap();
            }
            sink.finish().unwrap();
        }
        let names: Vec<String> = committed(&dir).into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["part-0-0", "part-1-0"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
