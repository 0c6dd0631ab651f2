//! Where a guest's stdout and stderr go: line by line into the process's
//! log (the TaskManager's for a task, the JobManager's for describe), with
//! the end of stderr kept for the error message of a trap.
//!
//! A guest may print as much as it likes without failing or flooding the
//! log: past [`LOG_BUDGET`] bytes per stream the rest is counted, not
//! logged, and writes never block or fail.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Bytes of one stream written to the log; the rest is dropped (counted).
const LOG_BUDGET: usize = 1 << 20;
/// Longest line logged; a longer one is cut.
const MAX_LINE: usize = 4096;
/// Bytes of the stream's end kept for error messages.
const TAIL: usize = 4096;

/// One of a guest's standard output streams.
#[derive(Clone)]
pub(crate) struct GuestOutput {
    inner: Arc<Mutex<OutputState>>,
}

struct OutputState {
    /// `stdout` or `stderr`, for the log.
    stream: &'static str,
    /// The task (or `describe`) the guest runs for.
    task: Arc<str>,
    /// The line being written.
    line: Vec<u8>,
    /// The last [`TAIL`] bytes written.
    tail: Vec<u8>,
    /// Bytes logged so far.
    logged: usize,
    /// Bytes dropped past the budget.
    dropped: usize,
}

impl GuestOutput {
    pub(crate) fn new(stream: &'static str, task: Arc<str>) -> Self {
        let state = OutputState { stream, task, line: Vec::new(), tail: Vec::new(), logged: 0, dropped: 0 };
        GuestOutput { inner: Arc::new(Mutex::new(state)) }
    }

    /// The last bytes written (at most 4 KiB), for an error message.
    pub(crate) fn tail(&self) -> Vec<u8> {
        self.lock().tail.clone()
    }

    /// Logs an unfinished last line and how much was dropped, if anything:
    /// called when a call ends, so nothing written waits for the next one.
    pub(crate) fn flush_line(&self) {
        let mut state = self.lock();
        if !state.line.is_empty() {
            state.log_line();
        }
        if state.dropped > 0 {
            let (stream, task, dropped) = (state.stream, state.task.clone(), state.dropped);
            tracing::warn!(target: "wflink::guest", task = &*task, stream, dropped, "guest output over 1 MiB was not logged");
            state.dropped = 0;
        }
    }

    fn write(&self, bytes: &[u8]) {
        let mut state = self.lock();
        state.keep_tail(bytes);
        for &byte in bytes {
            if byte == b'\n' {
                state.log_line();
            } else if state.line.len() < MAX_LINE {
                state.line.push(byte);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OutputState> {
        // A panic while logging cannot leave the buffers inconsistent.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl OutputState {
    fn keep_tail(&mut self, bytes: &[u8]) {
        let bytes = &bytes[bytes.len().saturating_sub(TAIL)..];
        let keep = self.tail.len().min(TAIL - bytes.len());
        self.tail.drain(..self.tail.len() - keep);
        self.tail.extend_from_slice(bytes);
    }

    fn log_line(&mut self) {
        let line = std::mem::take(&mut self.line);
        if self.logged + line.len() > LOG_BUDGET {
            self.dropped += line.len() + 1;
            return;
        }
        self.logged += line.len() + 1;
        let text = String::from_utf8_lossy(&line);
        tracing::info!(target: "wflink::guest", task = &*self.task, stream = self.stream, "{}", text.trim_end());
        self.line = line;
        self.line.clear();
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for GuestOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        GuestOutput::write(self, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 << 10)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for GuestOutput {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        GuestOutput::write(&self, buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_bytes_across_writes() {
        let output = GuestOutput::new("stderr", "t".into());
        output.write(&vec![b'a'; TAIL - 2]);
        output.write(b"xyz\n");
        let tail = output.tail();
        assert_eq!(tail.len(), TAIL);
        assert!(tail.ends_with(b"axyz\n"));
    }

    #[test]
    fn output_past_the_budget_is_counted_not_kept() {
        let output = GuestOutput::new("stdout", "t".into());
        let line = [b'x'; 1023];
        for _ in 0..(LOG_BUDGET / 1024 + 10) {
            output.write(&line);
            output.write(b"\n");
        }
        let state = output.lock();
        assert!(state.logged <= LOG_BUDGET);
        assert!(state.dropped >= 9 * 1024, "dropped {}", state.dropped);
    }
}
