//! The broker a Kafka bench runs through: the one `--brokers` names, or a
//! `tansu` (the test broker `cargo xtask install` builds) started in memory
//! on a free port and killed when the bench ends; and the topics and input
//! lines it needs.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::ToBytes;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;

use crate::guest_build::repo;

/// How long a started broker may take to answer, and a request to be answered.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The broker of one bench run.
pub(super) struct Broker {
    /// The tansu this bench started, if it started one, and the directory it ran in (removed at the end).
    child: Option<(Child, PathBuf)>,
    /// `bootstrap.servers`.
    pub address: String,
    /// Every consumer's `fetch.wait.max.ms`.
    pub fetch_wait_ms: u64,
}

impl Broker {
    /// `brokers` if given, else a tansu started for this run.
    pub fn connect_or_start(brokers: Option<String>, fetch_wait_ms: u64) -> anyhow::Result<Broker> {
        let (child, address) = match brokers {
            Some(address) => (None, address),
            None => start_tansu()?,
        };
        let broker = Broker { child, address, fetch_wait_ms };
        let consumer: BaseConsumer = broker.config().create()?;
        let started = Instant::now();
        while let Err(e) = consumer.fetch_metadata(None, Duration::from_secs(1)) {
            anyhow::ensure!(started.elapsed() < TIMEOUT, "the Kafka broker at {} does not answer: {e}", broker.address);
        }
        Ok(broker)
    }

    /// Whether this run started its own broker.
    pub fn is_own(&self) -> bool {
        self.child.is_some()
    }

    /// A client configuration for this broker.
    pub fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.address);
        config.set_log_level(rdkafka::config::RDKafkaLogLevel::Error);
        config
    }

    /// A consumer's configuration: in `group`, committing nothing, fetching with the bench's longest wait.
    pub fn consumer_config(&self, group: &str) -> ClientConfig {
        let mut config = self.config();
        config.set("group.id", group).set("enable.auto.commit", "false");
        config.set("fetch.wait.max.ms", self.fetch_wait_ms.to_string());
        config
    }

    /// Creates `topic` with `partitions` partitions and waits until the metadata lists them.
    pub fn create_topic(&self, topic: &str, partitions: i32) -> anyhow::Result<()> {
        let admin: AdminClient<DefaultClientContext> = self.config().create()?;
        let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
        let options = AdminOptions::new().operation_timeout(Some(TIMEOUT));
        for result in futures::executor::block_on(admin.create_topics([&new], &options))? {
            result.map_err(|(topic, e)| anyhow::anyhow!("creating topic {topic} at {}: {e}", self.address))?;
        }
        let consumer: BaseConsumer = self.config().create()?;
        let started = Instant::now();
        loop {
            let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT)?;
            if metadata.topics().iter().any(|t| t.name() == topic && t.partitions().len() == partitions as usize) {
                return Ok(());
            }
            anyhow::ensure!(started.elapsed() < TIMEOUT, "topic {topic} did not appear at {}", self.address);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Writes `lines` round-robin over `partitions` partitions with the
    /// producer's usual batching, and returns how long that took until the
    /// last acknowledgement. Then writes one empty line per partition in a
    /// batch of its own: a broker that answers "latest" with the last
    /// batch's first offset plus one (tansu 0.6.0) then reports the true
    /// end, where a bounded source stops.
    pub fn produce(&self, topic: &str, partitions: i32, lines: &[String]) -> anyhow::Result<Duration> {
        let producer: BaseProducer = self.config().set("linger.ms", "5").create()?;
        let started = Instant::now();
        for (i, line) in lines.iter().enumerate() {
            send(&producer, BaseRecord::<(), _>::to(topic).partition(i as i32 % partitions).payload(line.as_str()))?;
        }
        producer.flush(Duration::from_secs(600)).with_context(|| format!("writing {topic} at {}", self.address))?;
        let took = started.elapsed();
        let single: BaseProducer = self.config().set("linger.ms", "0").set("batch.num.messages", "1").create()?;
        for partition in 0..partitions {
            send(&single, BaseRecord::<(), _>::to(topic).partition(partition).payload(""))?;
            single.flush(TIMEOUT).with_context(|| format!("writing {topic} at {}", self.address))?;
        }
        Ok(took)
    }
}

/// Sends one record, waiting while the producer's queue is full.
pub(super) fn send<K: ToBytes + ?Sized>(producer: &BaseProducer, record: BaseRecord<'_, K, str>) -> anyhow::Result<()> {
    let mut record = Some(record);
    while let Some(r) = record.take() {
        match producer.send(r) {
            Ok(()) => {}
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                producer.poll(Duration::from_millis(10));
                record = Some(r);
            }
            Err((e, r)) => anyhow::bail!("producing to {}: {e}", r.topic),
        }
    }
    Ok(())
}

/// The tansu binary: `$WFLINK_TANSU`, else `target/tools/bin/tansu`.
fn tansu() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("WFLINK_TANSU")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo::root().join("target").join("tools").join("bin").join("tansu"));
    anyhow::ensure!(
        path.is_file(),
        "no Kafka broker at {}: give --brokers HOST:PORT, or run `cargo xtask install` (it builds tansu there)",
        path.display()
    );
    Ok(path)
}

/// Starts tansu; its process, directory and address.
fn start_tansu() -> anyhow::Result<(Option<(Child, PathBuf)>, String)> {
    let tansu = tansu()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let address = format!("127.0.0.1:{port}");
    let dir = std::env::temp_dir().join(format!("wflink-bench-kafka-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let log = std::fs::File::create(dir.join("tansu.log"))?;
    let child = Command::new(&tansu)
        .current_dir(&dir)
        .args(["broker", "--storage-engine", "memory://tansu/", "--cluster-id", "wflink-bench"])
        .arg("--listener-url")
        .arg(format!("tcp://{address}"))
        .arg("--advertised-listener-url")
        .arg(format!("tcp://{address}"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", tansu.display()))?;
    Ok((Some((child, dir)), address))
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some((child, dir)) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
