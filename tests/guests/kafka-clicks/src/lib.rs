//! Clicks per user from JSON or CSV records, for the format tests: reads
//! `{"user": "u1", "clicks": 3}` (JSON) or `u1,3` (CSV, columns user and
//! clicks) from a Kafka topic or a file, sums the clicks per user, and
//! writes running totals `{"user": "u1", "clicks": N}` as JSON to a topic,
//! or as CSV with a header to files.
//!
//! ```text
//! --brokers B --topic T | --input PATH    where records come from
//! --format json|csv                       how they are read
//! --skip-bad-records                      skip (and count) bad records instead of failing
//! --output-topic T | --output DIR         where totals go (JSON to Kafka, CSV to files)
//! --start MODE                            the Kafka source's starting-offsets (default earliest)
//! --group G                               the Kafka source's group.id
//! --fallback MODE                         committed.fallback (where the group has no offset)
//! --topic-pattern P                       read every topic matching P (instead of --topic)
//! --unbounded                             keep reading (default: bounded)
//! --discovery-ms MS                       partition-discovery.interval.ms
//! --metadata                              read text records with their metadata and write each
//!                                         `{topic, partition, offset, timestamp, key, value, headers}`
//!                                         as JSON to --output-topic (no sums)
//! --client-timeout-ms MS                  the Kafka client's timeout
//! ```

use serde::{Deserialize, Serialize};
use wflink_sdk::prelude::*;

/// A JSON click record.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JsonClicks {
    user: String,
    clicks: i64,
}

/// A CSV click record: CSV fields are strings.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CsvClicks {
    user: String,
    clicks: String,
}

/// A running total, written with its field names.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Total {
    user: String,
    clicks: i64,
}

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    let csv = match args.get("format").unwrap_or("json") {
        "json" => false,
        "csv" => true,
        other => return Err(JobError::invalid_arguments(format!("unknown --format {other}"))),
    };
    let format = if csv {
        Format::Csv { delimiter: ',', header: args.contains("input"), columns: vec!["user".into(), "clicks".into()] }
    } else {
        Format::Json
    };
    let totals: DataStream<Total> = match (args.get("brokers"), args.get("input")) {
        (Some(brokers), _) => {
            let source = kafka_source(brokers, args)?;
            if args.flag("metadata") {
                let records = env.from_kafka::<KafkaRecord<String>>(source.format(Format::Text).with_metadata());
                records.sink_to_kafka(KafkaSink::new(brokers, args.required("output-topic")?).format(Format::Json));
                return Ok(());
            }
            read(env, source.format(format), csv)
        }
        (None, Some(path)) => {
            let format = if csv { Format::Csv { delimiter: ',', header: true, columns: Vec::new() } } else { format };
            let mut source = FileSource::new(path, format);
            if args.flag("skip-bad-records") {
                source = source.skip_bad_records();
            }
            if csv {
                env.from_file::<CsvClicks>(source).map(to_total)
            } else {
                env.from_file::<JsonClicks>(source).map(|c: JsonClicks| Total { user: c.user, clicks: c.clicks })
            }
        }
        (None, None) => return Err(JobError::invalid_arguments("kafka-clicks needs --brokers B --topic T or --input PATH")),
    };
    let totals = totals.key_by(|t: &Total| t.user.clone()).sum_by(|t| &mut t.clicks).name("sum");
    match (args.get("output-topic"), args.get("output")) {
        (Some(topic), _) => {
            totals.sink_to_kafka(KafkaSink::new(args.required("brokers")?, topic).format(Format::Json));
        }
        (None, Some(dir)) => {
            totals.write_as(dir, Format::Csv { delimiter: ',', header: true, columns: Vec::new() });
        }
        (None, None) => return Err(JobError::invalid_arguments("kafka-clicks needs --output-topic T or --output DIR")),
    }
    Ok(())
}

/// The Kafka source the arguments describe, without its format.
fn kafka_source(brokers: &str, args: &Args) -> Result<KafkaSource, JobError> {
    let mut source = match args.get("topic-pattern") {
        Some(pattern) => KafkaSource::topic_pattern(brokers, pattern),
        None => KafkaSource::new(brokers, args.required("topic")?),
    };
    if !args.flag("unbounded") {
        source = source.bounded();
    }
    source = source.starting_offsets_option(args.get("start").unwrap_or("earliest"));
    let options = [
        ("client-timeout-ms", "client.timeout.ms"),
        ("group", "group.id"),
        ("fallback", "committed.fallback"),
        ("discovery-ms", "partition-discovery.interval.ms"),
    ];
    for (argument, option) in options {
        if let Some(value) = args.get(argument) {
            source = source.option(option, value);
        }
    }
    if args.flag("skip-bad-records") {
        source = source.skip_bad_records();
    }
    Ok(source)
}

fn read(env: &mut StreamExecutionEnvironment, source: KafkaSource, csv: bool) -> DataStream<Total> {
    if csv {
        env.from_kafka::<CsvClicks>(source).map(to_total)
    } else {
        env.from_kafka::<JsonClicks>(source).map(|c: JsonClicks| Total { user: c.user, clicks: c.clicks })
    }
}

fn to_total(c: CsvClicks) -> Total {
    Total { clicks: c.clicks.trim().parse().unwrap_or(0), user: c.user }
}

/// Sets `starting-offsets` to exactly what the test says, valid or not.
trait StartOption {
    fn starting_offsets_option(self, value: &str) -> Self;
}

impl StartOption for KafkaSource {
    fn starting_offsets_option(self, value: &str) -> Self {
        self.option("starting-offsets", value)
    }
}

wflink_sdk::export_job!(build);
