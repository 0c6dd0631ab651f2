//! The log and stdout files of this process, for the REST API's
//! `/jobmanager/log*` and `/taskmanagers/:id/log*` (a TaskManager serves
//! them to the JobManager over its control connection).
//!
//! A process finds its files where its output goes: when stderr (the
//! log) or stdout (print sinks) is redirected to a regular file, as
//! `wflink cluster start` does with `log/wflink-taskmanager-0.log` and
//! `.out`, that file is the one served. Every file in the same directory
//! whose name starts with the log's stem (rotated copies, the `.out`) is
//! listed. Pages are bounded by [`MAX_PAGE`], so a multi-GB log is never
//! read into memory at once.
//!
//! The same request also lists the process's threads (from
//! `/proc/self/task`), for the thread dumps of `/jobmanager/thread-dump` and
//! `/taskmanagers/:id/thread-dump`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

/// The most bytes one page of a file carries; also the default length.
pub const MAX_PAGE: u64 = 1 << 20;

/// Which file of a process to read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LogFile {
    /// Its log (stderr).
    Log,
    /// Its stdout (`.out`), where print sinks write.
    Stdout,
    /// A file of its log directory by name, as [`LogFiles::list`] names it.
    Named(String),
}

/// A request for a process's files, also sent from the JobManager to a
/// TaskManager process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LogRequest {
    /// List the files.
    List,
    /// Read a page of one file.
    Read {
        /// The file.
        file: LogFile,
        /// First byte; `None` reads the last `length` bytes (the tail).
        offset: Option<u64>,
        /// Bytes wanted, at most [`MAX_PAGE`].
        length: u64,
    },
    /// List the process's threads.
    Threads,
}

/// The answer to a [`LogRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LogResponse {
    /// The files, by name.
    List(Vec<LogFileInfo>),
    /// A page of a file.
    Page(LogPage),
    /// The process's threads, by kernel id.
    Threads(Vec<ThreadEntry>),
}

/// One thread of a process, as the kernel names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadEntry {
    /// Its kernel thread id.
    pub id: u64,
    /// Its name (`comm`, at most 15 bytes).
    pub name: String,
    /// Its state letter (`R` running, `S` sleeping, `D` in uninterruptible wait, ...).
    pub state: char,
}

/// The threads of this process, by id, from `/proc/self/task`; `None` where there is no such directory.
pub fn own_threads() -> Option<Vec<ThreadEntry>> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    let mut threads: Vec<ThreadEntry> = tasks
        .flatten()
        .filter_map(|task| {
            let id: u64 = task.file_name().to_str()?.parse().ok()?;
            let name = std::fs::read_to_string(task.path().join("comm")).ok()?.trim_end().to_string();
            let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
            // The state follows the name, which is in parentheses and may itself hold some.
            let state = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
            Some(ThreadEntry { id, name, state })
        })
        .collect();
    threads.sort_by_key(|t| t.id);
    Some(threads)
}

/// One file of a process's log directory (Flink's `{"name","size","mtime"}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogFileInfo {
    /// File name, without directory.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modification, ms since the epoch.
    pub mtime: u64,
}

/// Bytes `offset..offset + bytes.len()` of a file of `size` bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogPage {
    /// The file's name.
    pub name: String,
    /// Where the page starts.
    pub offset: u64,
    /// The file's size when it was read.
    pub size: u64,
    /// The bytes.
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

/// Why a file cannot be served.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum LogError {
    /// The process's output does not go to a file.
    #[error("the {0} of this process is not written to a file (its output is not redirected to one)")]
    NotAvailable(String),
    /// The name is not a plain file name.
    #[error("invalid log file name '{0}': expected a file name without directories")]
    InvalidName(String),
    /// No such file in the log directory.
    #[error("log file '{0}' not found")]
    NotFound(String),
    /// Reading failed.
    #[error("cannot read log file '{0}': {1}")]
    Io(String, String),
    /// The process cannot list its threads.
    #[error("this process cannot list its threads: its platform has no /proc/self/task")]
    NoThreads,
    /// The process that has the file did not answer.
    #[error("{0}")]
    Unreachable(String),
}

/// The files of this process.
#[derive(Debug, Clone, Default)]
pub struct LogFiles {
    /// Where stderr goes, if a regular file.
    pub log: Option<PathBuf>,
    /// Where stdout goes, if a regular file.
    pub stdout: Option<PathBuf>,
}

impl LogFiles {
    /// The files this process's stdout and stderr are redirected to.
    pub fn of_this_process() -> Self {
        LogFiles { log: redirected_to(2), stdout: redirected_to(1) }
    }

    /// Answers `request`; reads at most [`MAX_PAGE`] bytes.
    pub fn answer(&self, request: &LogRequest) -> Result<LogResponse, LogError> {
        match request {
            LogRequest::List => self.list().map(LogResponse::List),
            LogRequest::Read { file, offset, length } => self.read(file, *offset, *length).map(LogResponse::Page),
            LogRequest::Threads => own_threads().map(LogResponse::Threads).ok_or(LogError::NoThreads),
        }
    }

    /// The files next to the log (or stdout) sharing its stem, by name.
    pub fn list(&self) -> Result<Vec<LogFileInfo>, LogError> {
        let Some(anchor) = self.log.as_ref().or(self.stdout.as_ref()) else {
            return Err(LogError::NotAvailable("log".into()));
        };
        let stem = anchor.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let dir = anchor.parent().unwrap_or(Path::new("."));
        let entries = std::fs::read_dir(dir).map_err(|e| LogError::Io(dir.display().to_string(), e.to_string()))?;
        let mut files: Vec<LogFileInfo> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let ours = name.strip_prefix(stem.as_str()).is_some_and(|rest| rest.starts_with('.'));
                let meta = entry.metadata().ok().filter(|m| m.is_file() && ours)?;
                let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?.as_millis() as u64;
                Some(LogFileInfo { name, size: meta.len(), mtime })
            })
            .collect();
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(files)
    }

    /// Reads a page of `file`: `length` bytes (at most [`MAX_PAGE`]) from
    /// `offset`, or the last `length` bytes when `offset` is `None`.
    pub fn read(&self, file: &LogFile, offset: Option<u64>, length: u64) -> Result<LogPage, LogError> {
        let path = match file {
            LogFile::Log => self.log.clone().ok_or_else(|| LogError::NotAvailable("log".into()))?,
            LogFile::Stdout => self.stdout.clone().ok_or_else(|| LogError::NotAvailable("stdout".into()))?,
            LogFile::Named(name) => {
                check_name(name)?;
                if !self.list()?.iter().any(|f| f.name == *name) {
                    return Err(LogError::NotFound(name.clone()));
                }
                let anchor = self.log.as_ref().or(self.stdout.as_ref()).expect("list found an anchor");
                anchor.with_file_name(name)
            }
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let io = |e: std::io::Error| LogError::Io(name.clone(), e.to_string());
        let mut handle = File::open(&path).map_err(io)?;
        let size = handle.metadata().map_err(io)?.len();
        let length = length.min(MAX_PAGE);
        let start = offset.unwrap_or_else(|| size.saturating_sub(length)).min(size);
        let end = start.saturating_add(length).min(size);
        handle.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut bytes = Vec::with_capacity((end - start) as usize);
        handle.take(end - start).read_to_end(&mut bytes).map_err(io)?;
        Ok(LogPage { name, offset: start, size, bytes })
    }
}

/// Refuses names that could leave the log directory.
fn check_name(name: &str) -> Result<(), LogError> {
    let plain = !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\', '\0']);
    if plain { Ok(()) } else { Err(LogError::InvalidName(name.to_string())) }
}

/// The regular file file descriptor `fd` of this process writes to, if any.
fn redirected_to(fd: u32) -> Option<PathBuf> {
    let path = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
    std::fs::metadata(&path).ok().filter(|m| m.is_file()).map(|_| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> LogFiles {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("tm-1.log"), "0123456789").unwrap();
        std::fs::write(dir.join("tm-1.out"), "hello\n").unwrap();
        std::fs::write(dir.join("tm-10.log"), "another process").unwrap();
        std::fs::write(dir.join("secret.txt"), "not a log").unwrap();
        LogFiles { log: Some(dir.join("tm-1.log")), stdout: Some(dir.join("tm-1.out")) }
    }

    #[test]
    fn lists_only_the_process_files_and_pages_them() {
        let dir = std::env::temp_dir().join(format!("wflink-logs-unit-{}", std::process::id()));
        let logs = files(&dir);
        let names: Vec<String> = logs.list().unwrap().into_iter().map(|f| f.name).collect();
        assert_eq!(names, ["tm-1.log", "tm-1.out"]);
        let tail = logs.read(&LogFile::Log, None, 4).unwrap();
        assert_eq!((tail.offset, tail.size, tail.bytes.as_slice()), (6, 10, &b"6789"[..]));
        let page = logs.read(&LogFile::Log, Some(2), 3).unwrap();
        assert_eq!(page.bytes, b"234");
        assert!(logs.read(&LogFile::Log, Some(50), 3).unwrap().bytes.is_empty(), "past the end is empty");
        assert_eq!(logs.read(&LogFile::Named("tm-1.out".into()), Some(0), MAX_PAGE).unwrap().bytes, b"hello\n");
        for bad in ["../tm-1.log", "..", "a/b", ""] {
            assert_eq!(logs.read(&LogFile::Named(bad.into()), None, 1), Err(LogError::InvalidName(bad.into())));
        }
        assert_eq!(
            logs.read(&LogFile::Named("secret.txt".into()), None, 1),
            Err(LogError::NotFound("secret.txt".into()))
        );
        assert!(matches!(LogFiles::default().read(&LogFile::Stdout, None, 1), Err(LogError::NotAvailable(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
