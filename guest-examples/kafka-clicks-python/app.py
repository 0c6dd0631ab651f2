"""Clicks per page and minute from Kafka: reads JSON click events
``{"user": "u1", "page": "/home", "ts": 1700000000000}`` from a topic,
counts them per page in tumbling one-minute event-time windows, and writes
``{"page": "/home", "minute": 1700000000000, "clicks": N}`` as JSON to
another topic, keyed by the page — the Python twin of kafka-wordcount.

    --brokers HOST:PORT      the Kafka cluster
    --input-topic TOPIC      click events (default: clicks)
    --output-topic TOPIC     per-minute counts (default: clicks-per-minute)
    --output-dir DIR         write the counts as JSON lines to part files
                             under DIR instead (exactly-once with checkpoints)
    --delivery MODE          none | at-least-once (default) | exactly-once
    --bounded                stop at the end the topic has at start
"""

from wflink import TumblingEventTimeWindows, WatermarkStrategy, export_job

MINUTE = 60_000


def build(env, args):
    env.set_job_name("kafka-clicks-python")
    brokers = args.required("brokers")
    clicks = env.from_kafka(
        brokers,
        args.get("input-topic") or "clicks",
        format="json",
        group_id="kafka-clicks-python",
        bounded=args.flag("bounded"),
    )
    counts = (
        clicks.assign_timestamps_and_watermarks(WatermarkStrategy.for_bounded_out_of_orderness(5_000), lambda c: c["ts"])
        .map(lambda c: (c["page"], 1))
        .key_by(lambda pair: pair[0])
        .window(TumblingEventTimeWindows.of(MINUTE))
        .reduce(
            lambda a, b: (a[0], a[1] + b[1]),
            lambda page, window, total: [{"key": page, "value": {"page": page, "minute": window.start, "clicks": total[1]}}],
        )
        .name("clicks per minute")
    )
    output_dir = args.get("output-dir")
    if output_dir:
        counts.map(lambda record: record["value"]).write_as(output_dir, "json")
        return
    counts.sink_to_kafka(
        brokers,
        args.get("output-topic") or "clicks-per-minute",
        format="json",
        metadata=True,
        delivery=args.get("delivery") or "at-least-once",
        transactional_id_prefix="kafka-clicks-python",
    )


Job, Operator = export_job(build)
