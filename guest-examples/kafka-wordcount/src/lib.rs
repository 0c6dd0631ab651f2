//! Kafka word count: reads lines from a topic, counts words, and writes a
//! running count `{"word": "...", "count": N}` (JSON) for each word seen,
//! keyed by the word, to another topic, or as `(word,count)` lines to files.
//!
//! ```text
//! --brokers HOST:PORT          the Kafka cluster (bootstrap.servers)
//! --input-topic TOPIC          where lines come from (default: lines)
//! --output-topic TOPIC         where counts go ...
//! --output DIR                 ... or files (exactly-once with checkpoints)
//! --delivery MODE              none | at-least-once | exactly-once (default)
//! --bounded                    stop at the end the topic has at start
//! --group GROUP                consumer group offsets are committed to (default: kafka-wordcount)
//! --fetch-wait-ms MS           longest wait of a fetch for new records (librdkafka's fetch.wait.max.ms)
//! ```

use serde::{Deserialize, Serialize};
use wflink_sdk::prelude::*;

/// One running count.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WordCount {
    word: String,
    count: i64,
}

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("kafka-wordcount");
    let brokers = args.required("brokers")?;
    let mut source = KafkaSource::new(brokers, args.get("input-topic").unwrap_or("lines"))
        .group_id(args.get("group").unwrap_or("kafka-wordcount"));
    if args.flag("bounded") {
        source = source.bounded();
    }
    if let Some(ms) = args.get("fetch-wait-ms") {
        source = source.property("fetch.wait.max.ms", ms);
    }
    let counts = env
        .from_kafka::<String>(source)
        .uid("kafka-lines")
        .flat_map(|line: String, out: &mut Collector<WordCount>| {
            for word in tokenize(&line) {
                out.collect(WordCount { word, count: 1 });
            }
        })
        .name("tokenize")
        .key_by(|wc: &WordCount| wc.word.clone())
        .sum_by(|wc| &mut wc.count)
        .name("count")
        .uid("count");
    match (args.get("output-topic"), args.get("output")) {
        (Some(topic), _) => {
            let delivery = match args.get("delivery").unwrap_or("exactly-once") {
                "none" => Delivery::None,
                "at-least-once" => Delivery::AtLeastOnce,
                "exactly-once" => Delivery::ExactlyOnce,
                other => return Err(JobError::invalid_arguments(format!("unknown --delivery {other}"))),
            };
            counts
                .map(|wc: WordCount| ProducerRecord::keyed(wc.word.clone(), wc))
                .name("to record")
                .sink_to_kafka(
                    KafkaSink::new(brokers, topic)
                        .with_metadata()
                        .format(Format::Json)
                        .delivery(delivery)
                        .transactional_id_prefix("kafka-wordcount"),
                );
        }
        (None, Some(dir)) => {
            counts.map(|wc: WordCount| (wc.word, wc.count)).name("to pair").write_as_text(dir);
        }
        (None, None) => {
            return Err(JobError::invalid_arguments("kafka-wordcount needs --output-topic TOPIC or --output DIR"));
        }
    }
    Ok(())
}

/// The ASCII rule: lowercase ASCII letters; every byte that is not an ASCII
/// letter or digit separates words; no empty words.
fn tokenize(line: &str) -> impl Iterator<Item = String> + '_ {
    line.split(|c: char| !c.is_ascii_alphanumeric()).filter(|word| !word.is_empty()).map(str::to_ascii_lowercase)
}

wflink_sdk::export_job!(build);
