//! The file sink: subtask `i` writes its records as text lines to
//! `DIR/part-<i>-0` (the directory is created if missing).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use super::SinkWriter;
use crate::connectors::{ConnectorError, render::render};
use crate::graph::Connector;
use crate::network::RecordBatch;

pub(super) struct FileSink {
    path: PathBuf,
    out: BufWriter<File>,
    text: String,
}

impl FileSink {
    pub(super) fn directory(connector: &Connector) -> Result<PathBuf, ConnectorError> {
        connector
            .option("path")
            .map(PathBuf::from)
            .ok_or_else(|| ConnectorError::option("file", "the option 'path' is missing"))
    }

    pub(super) fn open(connector: &Connector, index: u32) -> Result<Self, ConnectorError> {
        let dir = Self::directory(connector)?;
        std::fs::create_dir_all(&dir).map_err(|e| ConnectorError::io(format!("output directory '{}'", dir.display()), e))?;
        let path = dir.join(format!("part-{index}-0"));
        let file = File::create(&path).map_err(|e| ConnectorError::io(path.display().to_string(), e))?;
        Ok(FileSink { out: BufWriter::with_capacity(1 << 16, file), path, text: String::new() })
    }
}

impl SinkWriter for FileSink {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), ConnectorError> {
        self.text.clear();
        for i in 0..batch.len() {
            render(batch.value(i), &mut self.text);
            self.text.push('\n');
        }
        self.out.write_all(self.text.as_bytes()).map_err(|e| ConnectorError::io(self.path.display().to_string(), e))
    }

    fn finish(&mut self) -> Result<(), ConnectorError> {
        self.out.flush().map_err(|e| ConnectorError::io(self.path.display().to_string(), e))
    }
}
