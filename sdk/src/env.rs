//! The entry point of a build function: sources and job-wide settings.

use std::cell::RefCell;
use std::rc::Rc;

use crate::builder::{PlanBuilder, Recorded, SharedBuilder};
use crate::connectors::{FileSource, Format, KafkaSource};
use crate::plan::{Connector, NodeKind, StreamPlan};
use crate::{Args, DataStream, JobError};

/// What a job's build function receives: create sources here, set the job
/// name and default parallelism.
///
/// A build function only *records* the dataflow; it runs again in every
/// task to find its functions, so it must not have side effects.
pub struct StreamExecutionEnvironment {
    /// The plan every stream of this run adds to.
    plan: SharedBuilder,
}

impl StreamExecutionEnvironment {
    fn new() -> Self {
        StreamExecutionEnvironment { plan: Rc::new(RefCell::new(PlanBuilder::default())) }
    }

    /// Names the job (shown by `wflink list` and the dashboard); the default is `"wflink job"`.
    pub fn set_job_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.plan.borrow_mut().set_job_name(name.into());
        self
    }

    /// Sets the parallelism of every node that sets none itself. Wins over
    /// the parallelism given at submit; 0 makes the plan invalid.
    pub fn set_parallelism(&mut self, parallelism: u32) -> &mut Self {
        self.plan.borrow_mut().set_parallelism(None, parallelism);
        self
    }

    /// Reads the text file at `path` (on the TaskManager's machine), one
    /// record per line, without the line ending.
    pub fn read_text_file(&mut self, path: impl Into<String>) -> DataStream<String> {
        self.source(Connector::new("file", &[("path", path.into())]), "Source: file")
    }

    /// Reads the file or directory at `path` with `format`: each line is
    /// one record (a CSV header line, with `header: true`, names columns).
    pub fn read_file<T>(&mut self, path: impl Into<String>, format: Format) -> DataStream<T> {
        self.from_file(FileSource::new(path, format))
    }

    /// Reads a file source with options beyond its path and format, such as
    /// [`FileSource::skip_bad_records`](crate::FileSource::skip_bad_records).
    pub fn from_file<T>(&mut self, source: FileSource) -> DataStream<T> {
        self.source(Connector { name: "file".into(), options: source.options }, "Source: file")
    }

    /// Reads Kafka topics; `T` is what the format gives (`String` for
    /// text, your serde type for JSON, [`KafkaRecord`](crate::KafkaRecord)`<V>`
    /// with metadata).
    pub fn from_kafka<T>(&mut self, source: KafkaSource) -> DataStream<T> {
        self.source(Connector { name: "kafka".into(), options: source.options }, "Source: kafka")
    }

    /// Reads lines from a TCP server at `hostname:port` (as `nc -lk PORT` serves).
    pub fn socket_text_stream(&mut self, hostname: impl Into<String>, port: u16) -> DataStream<String> {
        let options = [("hostname", hostname.into()), ("port", port.to_string())];
        self.source(Connector::new("socket", &options), "Source: socket")
    }

    /// Generates the numbers `0, 1, 2, …`: `rate` records per second,
    /// `count` records in total.
    pub fn datagen(&mut self, rate: u64, count: u64) -> DataStream<u64> {
        let options = [("rate", rate.to_string()), ("count", count.to_string())];
        self.source(Connector::new("datagen", &options), "Source: datagen")
    }

    /// Like [`datagen`](Self::datagen), each number paired with the wall
    /// clock when the source emitted it, in nanoseconds since the Unix
    /// epoch: `(n, emit_nanos)`, for measuring latency (see
    /// [`DataStream::sink_to_latency`]).
    pub fn datagen_with_emit_time(&mut self, rate: u64, count: u64) -> DataStream<(u64, u64)> {
        let options = [("rate", rate.to_string()), ("count", count.to_string()), ("emit-time", "true".into())];
        self.source(Connector::new("datagen", &options), "Source: datagen")
    }

    /// The text source the usual example arguments name: `--input PATH`
    /// (a file or directory) or `--hostname HOST --port PORT` (a socket).
    pub fn read_text_input(&mut self, args: &Args) -> Result<DataStream<String>, JobError> {
        match (args.get("input"), args.get("hostname")) {
            (Some(path), _) => Ok(self.read_text_file(path)),
            (None, Some(hostname)) => Ok(self.socket_text_stream(hostname, args.required_parsed("port")?)),
            (None, None) => {
                Err(JobError::invalid_arguments("the job needs --input PATH or --hostname HOST --port PORT"))
            }
        }
    }

    fn source<T>(&mut self, connector: Connector, name: &str) -> DataStream<T> {
        let id = self.plan.borrow_mut().add(NodeKind::Source(connector), name, None, None);
        DataStream::new(self.plan.clone(), id)
    }
}

/// Runs `build` on `args` and returns the recorded plan with its operators.
pub(crate) fn record<B>(build: B, args: &[String]) -> Result<Recorded, JobError>
where
    B: FnOnce(&mut StreamExecutionEnvironment, &Args) -> Result<(), JobError>,
{
    let mut env = StreamExecutionEnvironment::new();
    crate::state::take_declared();
    build(&mut env, &Args::parse(args.iter().cloned()))?;
    let builder = Rc::try_unwrap(env.plan)
        .map_err(|_| JobError::invalid_plan("a stream outlived the build function (was it stored in a static?)"))?;
    builder.into_inner().finish()
}

/// Runs a build function on `args` as the host's `describe` does and returns
/// its plan: handy to test a job's shape on the host.
///
/// ```
/// use wflink_sdk::prelude::*;
/// let plan = wflink_sdk::describe(
///     |env, _| { env.datagen(10, 100).filter(|n| n % 2 == 0).print(); Ok(()) },
///     &[],
/// ).unwrap();
/// assert_eq!(plan.nodes.len(), 3);
/// ```
pub fn describe<B>(build: B, args: &[String]) -> Result<StreamPlan, JobError>
where
    B: FnOnce(&mut StreamExecutionEnvironment, &Args) -> Result<(), JobError>,
{
    record(build, args).map(|recorded| recorded.plan)
}
