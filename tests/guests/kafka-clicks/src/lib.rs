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
            let mut source = KafkaSource::new(brokers, args.required("topic")?)
                .bounded()
                .format(format)
                .starting_offsets_option(args.get("start").unwrap_or("earliest"));
            if let Some(ms) = args.get("client-timeout-ms") {
                source = source.option("client.timeout.ms", ms);
            }
            if args.flag("skip-bad-records") {
                source = source.skip_bad_records();
            }
            read(env, source, csv)
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
