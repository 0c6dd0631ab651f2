//! The Kafka sink. Each value the job writes becomes one record of
//! `topic`, its bytes made by the `format`; with `metadata=true` each value
//! is a map naming the record's `value` and, if the job chooses them, its
//! `key`, `topic`, `partition`, `timestamp` and `headers`.
//!
//! Delivery (`delivery`):
//! - `none`: records are sent as they come; nothing waits for the broker.
//! - `at-least-once` (the default): at each checkpoint barrier the sink
//!   waits until the broker acknowledged everything sent, so a restore
//!   replays at most what came after a completed checkpoint.
//! - `exactly-once`: Kafka transactions, committed when the checkpoint
//!   completes (see `transactions`); needs `transactional-id-prefix`.
//!
//! A record the broker refuses fails the task in every mode.

use std::sync::Mutex;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use rmpv::ValueRef;

use super::transactions::{ExactlyOnce, OutRecord, TxnClient};
use super::{Common, bad, client_error};
use crate::checkpoint::CheckpointId;
use crate::connectors::ConnectorError;
use crate::connectors::formats::Encoder;
use crate::connectors::sinks::{SinkRecovery, SinkWriter};
use crate::graph::Connector;
use crate::network::Batch;

/// How long a flush or a transaction step may take before the task fails.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);

/// A sink's delivery guarantee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    None,
    AtLeastOnce,
    ExactlyOnce,
}

/// A sink's options.
#[derive(Debug, Clone)]
pub(super) struct SinkOptions {
    pub common: Common,
    /// The default topic (`topic`).
    pub topic: Option<String>,
    delivery: Delivery,
    /// `transactional-id-prefix` (exactly-once).
    prefix: Option<String>,
}

impl SinkOptions {
    pub(super) fn from_options(connector: &Connector) -> Result<Self, ConnectorError> {
        let common = Common::from_options(connector)?;
        let topic = connector.option("topic").filter(|t| !t.is_empty()).map(str::to_string);
        if topic.is_none() && !common.metadata {
            return Err(bad("the option 'topic' is missing (records name their own topic only with metadata=true)"));
        }
        let delivery = match connector.option("delivery") {
            None | Some("at-least-once") => Delivery::AtLeastOnce,
            Some("none") => Delivery::None,
            Some("exactly-once") => Delivery::ExactlyOnce,
            Some(other) => {
                return Err(bad(format!("unknown delivery '{other}' (known: none, at-least-once, exactly-once)")));
            }
        };
        let prefix = connector.option("transactional-id-prefix").filter(|p| !p.is_empty()).map(str::to_string);
        if delivery == Delivery::ExactlyOnce {
            if prefix.is_none() {
                return Err(bad(
                    "delivery=exactly-once needs 'transactional-id-prefix', unique to this job on its Kafka cluster",
                ));
            }
            if topic.is_none() {
                return Err(bad("delivery=exactly-once needs 'topic' (its commit markers are kept for it)"));
            }
        }
        Ok(SinkOptions { common, topic, delivery, prefix })
    }
}

/// Remembers the first record the broker refused.
#[derive(Default)]
struct Deliveries {
    failed: Mutex<Option<String>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((error, message)) = result {
            use rdkafka::Message;
            let mut failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
            failed.get_or_insert_with(|| {
                format!("topic '{}' partition {} refused a record: {error}", message.topic(), message.partition())
            });
        }
    }
}

/// One subtask's Kafka writer.
pub(crate) struct KafkaSink {
    options: SinkOptions,
    encoder: Encoder,
    key_encoder: Encoder,
    mode: Mode,
}

enum Mode {
    /// `none` and `at-least-once`.
    Plain(BaseProducer<Deliveries>),
    /// `exactly-once`.
    Transactional(ExactlyOnce),
}

impl KafkaSink {
    /// Opens subtask `index` of `parallelism`.
    pub(crate) fn open(
        connector: &Connector,
        index: u32,
        parallelism: u32,
        recovery: &SinkRecovery,
    ) -> Result<Self, ConnectorError> {
        let options = SinkOptions::from_options(connector)?;
        let common = &options.common;
        let mode = match options.delivery {
            Delivery::None | Delivery::AtLeastOnce => Mode::Plain(
                common
                    .client_config(&producer_settings(index))
                    .create_with_context(Deliveries::default())
                    .map_err(|e| bad(format!("cannot create a Kafka producer: {e}")))?,
            ),
            Delivery::ExactlyOnce => {
                let prefix = options.prefix.clone().expect("checked with the options");
                let (settings, marker_topic) = (options.common.clone(), options.topic.clone().expect("checked"));
                let open = Box::new(move |id: &str| -> Result<Box<dyn TxnClient>, String> {
                    Ok(Box::new(RdTxn::open(&settings, id, &marker_topic)?))
                });
                let eo = ExactlyOnce::open(&prefix, index, parallelism, &recovery.states, open)
                    .map_err(|e| client_error("transaction", &common.servers, e))?;
                Mode::Transactional(eo)
            }
        };
        Ok(KafkaSink {
            encoder: Encoder::new(common.value_format.clone()),
            key_encoder: Encoder::new(common.key_format.clone()),
            options,
            mode,
        })
    }

    /// The record for the MessagePack value `value`.
    fn record(&mut self, value: &[u8]) -> Result<OutRecord, ConnectorError> {
        if !self.options.common.metadata {
            let mut bytes = Vec::new();
            self.encoder.encode(value, &mut bytes);
            return Ok(OutRecord { value: Some(bytes), ..Default::default() });
        }
        let parsed = rmpv::decode::read_value_ref(&mut &value[..])
            .map_err(|e| bad(format!("a record for metadata=true is not a MessagePack map: {e}")))?;
        let ValueRef::Map(fields) = parsed else {
            return Err(bad("with metadata=true each record must be a map with at least 'value'"));
        };
        let mut record = OutRecord::default();
        for (name, field) in &fields {
            let ValueRef::String(name) = name else { continue };
            match (name.as_str().unwrap_or_default(), field) {
                (_, ValueRef::Nil) => {}
                ("value", v) => {
                    let mut bytes = Vec::new();
                    self.encoder.encode_value(v, &mut bytes);
                    record.value = Some(bytes);
                }
                ("key", k) => {
                    let mut bytes = Vec::new();
                    self.key_encoder.encode_value(k, &mut bytes);
                    record.key = Some(bytes);
                }
                ("topic", ValueRef::String(t)) => record.topic = t.as_str().map(str::to_string),
                ("partition", ValueRef::Integer(p)) => record.partition = p.as_i64().map(|p| p as i32),
                ("timestamp", ValueRef::Integer(t)) => record.timestamp = t.as_i64(),
                ("headers", ValueRef::Array(headers)) => {
                    for header in headers {
                        if let ValueRef::Array(pair) = header
                            && let [ValueRef::String(k), v] = pair.as_slice()
                        {
                            let value = match v {
                                ValueRef::String(s) => Some(s.as_bytes().to_vec()),
                                ValueRef::Binary(b) => Some(b.to_vec()),
                                _ => None,
                            };
                            let key = k.as_str().unwrap_or_default().to_string();
                            record.headers.push((key, value.map(serde_bytes::ByteBuf::from)));
                        }
                    }
                }
                (other, _) if ["offset"].contains(&other) => {}
                (other, _) => return Err(bad(format!("a record field '{other}' has a value of the wrong type"))),
            }
        }
        if record.topic.is_none() && self.options.topic.is_none() {
            return Err(bad("a record names no topic and the sink has no 'topic'"));
        }
        Ok(record)
    }

    /// Waits until the broker acknowledged everything sent.
    fn flush(producer: &BaseProducer<Deliveries>, servers: &str) -> Result<(), ConnectorError> {
        producer.flush(FLUSH_TIMEOUT).map_err(|e| client_error("flush", servers, e))?;
        failed(producer, servers)
    }
}

fn failed(producer: &BaseProducer<Deliveries>, servers: &str) -> Result<(), ConnectorError> {
    let failed = producer.context().failed.lock().unwrap_or_else(|e| e.into_inner()).take();
    match failed {
        Some(error) => Err(client_error("delivery", servers, error)),
        None => Ok(()),
    }
}

fn producer_settings(index: u32) -> Vec<(&'static str, String)> {
    vec![
        ("client.id", format!("wflink-sink-{index}")),
        // As the Java client partitions keyed records.
        ("partitioner", "murmur2_random".into()),
        // Not idempotent outside transactions (as Flink's at-least-once
        // sink): at-least-once may write twice anyway, and tansu 0.6.0 drops
        // records of a second idempotent producer writing the same partition.
        ("enable.idempotence", "false".into()),
        // A bounded send queue: a slow broker slows the job (backpressure).
        ("queue.buffering.max.kbytes", (16 * 1024).to_string()),
        ("linger.ms", "5".into()),
    ]
}

/// Sends `record` (topic `default_topic` unless it names one), waiting
/// while librdkafka's queue is full.
fn send<C: ProducerContext>(
    producer: &BaseProducer<C>,
    record: &OutRecord,
    default_topic: &str,
) -> Result<(), KafkaError>
where
    C::DeliveryOpaque: Default,
{
    let topic = record.topic.as_deref().unwrap_or(default_topic);
    let headers = (!record.headers.is_empty()).then(|| {
        record.headers.iter().fold(OwnedHeaders::new_with_capacity(record.headers.len()), |h, (key, value)| {
            h.insert(Header { key, value: value.as_deref().map(|v| &v[..]) })
        })
    });
    loop {
        let mut out: BaseRecord<'_, [u8], [u8], C::DeliveryOpaque> =
            BaseRecord::with_opaque_to(topic, Default::default());
        if let Some(value) = &record.value {
            out = out.payload(&value[..]);
        }
        if let Some(key) = &record.key {
            out = out.key(&key[..]);
        }
        if let Some(partition) = record.partition {
            out = out.partition(partition);
        }
        if let Some(timestamp) = record.timestamp {
            out = out.timestamp(timestamp);
        }
        if let Some(headers) = &headers {
            out = out.headers(headers.clone());
        }
        match producer.send(out) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                producer.poll(Duration::from_millis(100));
            }
            Err((error, _)) => return Err(error),
        }
    }
}

impl SinkWriter for KafkaSink {
    fn write(&mut self, batch: &Batch) -> Result<(), ConnectorError> {
        for i in 0..batch.len() {
            let record = self.record(batch.value(i))?;
            match &mut self.mode {
                Mode::Plain(producer) => {
                    let topic = self.options.topic.as_deref().unwrap_or_default();
                    send(producer, &record, topic)
                        .map_err(|e| client_error("send", &self.options.common.servers, e))?;
                }
                Mode::Transactional(eo) => eo.write(record),
            }
        }
        if let Mode::Plain(producer) = &self.mode {
            producer.poll(Duration::ZERO);
            failed(producer, &self.options.common.servers)?;
        }
        Ok(())
    }

    fn pre_commit(&mut self, checkpoint: CheckpointId) -> Result<Option<Vec<u8>>, ConnectorError> {
        match (&mut self.mode, self.options.delivery) {
            (Mode::Plain(producer), Delivery::AtLeastOnce) => {
                Self::flush(producer, &self.options.common.servers)?;
                Ok(None)
            }
            (Mode::Plain(_), _) => Ok(None),
            (Mode::Transactional(eo), _) => Ok(Some(eo.pre_commit(checkpoint))),
        }
    }

    fn commit(&mut self, checkpoint: CheckpointId) -> Result<(), ConnectorError> {
        match &mut self.mode {
            Mode::Plain(_) => Ok(()),
            Mode::Transactional(eo) => {
                eo.commit(checkpoint).map_err(|e| client_error("transaction", &self.options.common.servers, e))
            }
        }
    }

    fn finish(&mut self) -> Result<(), ConnectorError> {
        match &mut self.mode {
            Mode::Plain(producer) => Self::flush(producer, &self.options.common.servers),
            Mode::Transactional(eo) => {
                eo.finish().map_err(|e| client_error("transaction", &self.options.common.servers, e))
            }
        }
    }
}

/// A transactional librdkafka producer of one transactional id, with a
/// consumer of the same name to commit and read the commit markers.
struct RdTxn {
    producer: BaseProducer<Deliveries>,
    markers: BaseConsumer,
    marker_topic: String,
    servers: String,
    timeout: Duration,
}

impl RdTxn {
    /// Opens `id`: `init_transactions` fences earlier producers of it and
    /// aborts what they left open.
    fn open(common: &Common, id: &str, marker_topic: &str) -> Result<Self, String> {
        let mut settings = producer_settings(0);
        settings.retain(|(k, _)| *k != "enable.idempotence");
        settings.push(("transactional.id", id.to_string()));
        settings.push(("client.id", format!("wflink-{id}")));
        let producer: BaseProducer<Deliveries> = common
            .client_config(&settings)
            .create_with_context(Deliveries::default())
            .map_err(|e| format!("cannot create a transactional producer '{id}': {e}"))?;
        producer.init_transactions(FLUSH_TIMEOUT).map_err(|e| format!("init_transactions of '{id}': {e}"))?;
        let markers = common.lookup_consumer(Some(id)).map_err(|e| e.to_string())?;
        Ok(RdTxn {
            producer,
            markers,
            marker_topic: marker_topic.to_string(),
            servers: common.servers.clone(),
            timeout: common.timeout,
        })
    }

    fn marker_list(&self, offset: Offset) -> TopicPartitionList {
        let mut list = TopicPartitionList::new();
        // Adding a partition to a fresh list cannot fail.
        let _ = list.add_partition_offset(&self.marker_topic, 0, offset);
        list
    }
}

impl TxnClient for RdTxn {
    fn begin(&mut self) -> Result<(), String> {
        self.producer.begin_transaction().map_err(|e| e.to_string())
    }

    fn send(&mut self, record: &OutRecord) -> Result<(), String> {
        send(&self.producer, record, &self.marker_topic).map_err(|e| e.to_string())?;
        self.producer.poll(Duration::ZERO);
        failed(&self.producer, &self.servers).map_err(|e| e.to_string())
    }

    fn commit(&mut self, marker: i64) -> Result<(), String> {
        let group = self.markers.group_metadata().ok_or("the marker consumer has no group metadata")?;
        self.producer
            .send_offsets_to_transaction(&self.marker_list(Offset::Offset(marker)), &group, FLUSH_TIMEOUT)
            .map_err(|e| e.to_string())?;
        self.producer.commit_transaction(FLUSH_TIMEOUT).map_err(|e| e.to_string())?;
        failed(&self.producer, &self.servers).map_err(|e| e.to_string())
    }

    fn abort(&mut self) -> Result<(), String> {
        self.producer.abort_transaction(FLUSH_TIMEOUT).map_err(|e| e.to_string())
    }

    fn committed_marker(&mut self) -> Result<Option<i64>, String> {
        let found = self
            .markers
            .committed_offsets(self.marker_list(Offset::Invalid), self.timeout)
            .map_err(|e| e.to_string())?;
        Ok(match found.find_partition(&self.marker_topic, 0).map(|p| p.offset()) {
            Some(Offset::Offset(marker)) => Some(marker),
            _ => None,
        })
    }
}
