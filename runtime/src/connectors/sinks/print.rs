//! The print sink: one line per record on stdout, as Flink prints them:
//! `N> text` with N the 1-based subtask, no prefix at parallelism 1.

use std::io::Write;

use super::SinkWriter;
use crate::connectors::{ConnectorError, render::render};
use crate::network::Batch;

pub(super) struct PrintSink {
    prefix: String,
    text: String,
}

impl PrintSink {
    pub(super) fn new(index: u32, parallelism: u32) -> Self {
        let prefix = if parallelism > 1 { format!("{}> ", index + 1) } else { String::new() };
        PrintSink { prefix, text: String::new() }
    }
}

impl SinkWriter for PrintSink {
    fn write(&mut self, batch: &Batch) -> Result<(), ConnectorError> {
        self.text.clear();
        for i in 0..batch.len() {
            self.text.push_str(&self.prefix);
            render(batch.value(i), &mut self.text);
            self.text.push('\n');
        }
        // One locked write per batch keeps lines of parallel subtasks whole.
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(self.text.as_bytes()).map_err(|e| ConnectorError::io("stdout", e))
    }

    fn finish(&mut self) -> Result<(), ConnectorError> {
        std::io::stdout().flush().map_err(|e| ConnectorError::io("stdout", e))
    }
}
