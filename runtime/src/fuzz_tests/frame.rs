//! The frame codec (`network/frame.rs`) and what travels in it: records and
//! control messages on a TaskManager's data port, the control protocol on
//! the JobManager's RPC port. A peer chooses every byte, so every byte
//! sequence must decode or be refused, and a frame's claimed length must
//! cost nothing until the bytes arrive.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::cases;
use crate::checkpoint::{CheckpointBarrier, SnapshotKind};
use crate::graph::SubtaskId;
use crate::ids::JobId;
use crate::logs::{LogFile, LogRequest};
use crate::metrics::MetricsSnapshot;
use crate::network::handshake_messages::{Answer, Challenge, Hello, Verdict};
use crate::network::{
    Batch, ChannelKey, FrameBound, FrameError, FrameReader, StreamMessage, Tagged, limits, write_frame_within,
};
use crate::protocol::TaskManagerUsage;
use crate::rpc::protocol::{TaskManagerRegistration, ToJobManager, ToTaskManager};

/// The bound of the fuzz readers: small, so a length just past it is cheap to send.
const BOUND: FrameBound = FrameBound { max: 1 << 20, key: "fuzz.max-frame-size" };

/// What a TaskManager's data port reads after the handshake: the channel
/// key, then tagged stream messages until the peer closes; every record
/// of every batch is read, as the receiving task reads them.
pub(super) fn data_connection(bytes: &[u8]) -> Result<(), String> {
    let mut input = FrameReader::new(bytes, limits().data(), "a fuzz peer");
    let far = Instant::now() + Duration::from_secs(3600);
    let Some(_key): Option<ChannelKey> = input.read_by(far, "network.handshake-timeout").map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    while let Some((_upstream, message)) = input.read::<Tagged>().map_err(|e| e.to_string())? {
        if let StreamMessage::Batch(batch) = message {
            read_every_record(&batch);
        }
    }
    Ok(())
}

/// Reads every key, value and timestamp of `batch`, as a task does.
pub(super) fn read_every_record(batch: &Batch) -> usize {
    let mut bytes = 0;
    for i in 0..batch.len() {
        bytes += batch.key(i).len() + batch.value(i).len();
        let mut copy = Batch::default();
        copy.push_from(batch, i);
        bytes += copy.byte_len();
    }
    bytes
}

/// What the JobManager's RPC port reads from a TaskManager.
pub(super) fn rpc_to_jobmanager(bytes: &[u8]) -> Result<(), String> {
    frames::<ToJobManager>(bytes)
}

/// What a TaskManager reads from the JobManager.
pub(super) fn rpc_to_taskmanager(bytes: &[u8]) -> Result<(), String> {
    frames::<ToTaskManager>(bytes)
}

/// Reads frames of `T` until the end, within the RPC bound.
fn frames<T: DeserializeOwned>(bytes: &[u8]) -> Result<(), String> {
    let mut input = FrameReader::new(bytes, limits().rpc(), "a fuzz peer");
    while input.read::<T>().map_err(|e| e.to_string())?.is_some() {}
    Ok(())
}

/// `messages` as frames, back to back.
fn wire<T: Serialize>(messages: &[T]) -> Vec<u8> {
    let mut out = Vec::new();
    for message in messages {
        write_frame_within(&mut out, message, &mut Vec::new(), &FrameBound { max: usize::MAX, key: "-" }, "-").unwrap();
    }
    out
}

fn job() -> JobId {
    "a1b2c3d4e5f60718293a4b5c6d7e8f90".parse().unwrap()
}

/// A keyed batch with timestamps, as a keyed exchange sends it.
fn sample_batch() -> Batch {
    let mut batch = Batch::default();
    for (i, word) in ["flink", "wasm", "", "state"].iter().enumerate() {
        let value = rmp_serde::to_vec(&(word, i as u64 + 1)).unwrap();
        batch.push(Some(&rmp_serde::to_vec(word).unwrap()), &value, Some(1_700_000_000_000 + i as i64));
    }
    batch
}

/// Data connection samples: a whole channel's life, an unkeyed batch,
/// and refusals (a length past the bound, a batch whose offsets lie).
pub(super) fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let key = ChannelKey { job_id: job(), vertex: 1, index: 0, attempt: 0 };
    let barrier = CheckpointBarrier { id: 3, timestamp: 1_700_000_000_500, kind: SnapshotKind::Checkpoint, stop: None };
    let messages: Vec<Tagged> = vec![
        (0, StreamMessage::Batch(sample_batch())),
        (0, StreamMessage::Watermark { upstream: 0, timestamp: 1_700_000_000_002 }),
        (0, StreamMessage::WatermarkStatus { upstream: 0, idle: true }),
        (0, StreamMessage::Barrier(barrier)),
        (0, StreamMessage::Watermark { upstream: 0, timestamp: i64::MAX }),
        (0, StreamMessage::EndOfInput),
    ];
    let mut channel = wire(&[key]);
    channel.extend(wire(&messages));
    let mut unkeyed = Batch::default();
    unkeyed.push(None, b"\xa5hello", None);
    unkeyed.push(None, b"\xa0", None);
    let mut unkeyed_channel = wire(&[key]);
    unkeyed_channel.extend(wire(&[(1u32, StreamMessage::Batch(unkeyed))]));

    let mut huge = wire(&[key]);
    huge.extend_from_slice(&u32::MAX.to_be_bytes());
    let mut lying = wire(&[key]);
    let liar = Batch { values: b"abc".to_vec(), value_ends: vec![2, 9], ..Default::default() };
    lying.extend(wire(&[(0u32, StreamMessage::Batch(liar))]));
    let mut unordered = wire(&[key]);
    let liar = Batch { values: b"abc".to_vec(), value_ends: vec![3, 1], ..Default::default() };
    unordered.extend(wire(&[(0u32, StreamMessage::Batch(liar))]));
    let mut short_keys = wire(&[key]);
    let liar = Batch {
        values: b"ab".to_vec(),
        value_ends: vec![1, 2],
        keys: b"k".to_vec(),
        key_ends: vec![1],
        ..Default::default()
    };
    short_keys.extend(wire(&[(0u32, StreamMessage::Batch(liar))]));
    let mut cut = channel.clone();
    cut.truncate(channel.len() - 3);
    vec![
        ("channel-keyed-batch-watermarks-barrier-end.bin", channel),
        ("channel-unkeyed-batch.bin", unkeyed_channel),
        ("empty.bin", Vec::new()),
        ("bad-length-4-gib.bin", huge),
        ("bad-batch-offset-beyond-values.bin", lying),
        ("bad-batch-offsets-out-of-order.bin", unordered),
        ("bad-batch-fewer-keys-than-values.bin", short_keys),
        ("bad-cut-mid-frame.bin", cut),
    ]
}

/// RPC samples from a TaskManager: registration, heartbeat, a task's
/// state, a component fetch; and a frame cut short.
pub(super) fn rpc_to_jobmanager_corpus() -> Vec<(&'static str, Vec<u8>)> {
    let registration = TaskManagerRegistration {
        id: "localhost:41231-7f3a2c".into(),
        slots: 2,
        data_address: "127.0.0.1:40111".into(),
        memory_bytes: 1280 << 20,
        cpu_cores: 2,
        physical_memory: 24 << 30,
    };
    let subtask = SubtaskId { vertex: 1, index: 0 };
    let messages = vec![
        ToJobManager::Register(registration),
        ToJobManager::Heartbeat {
            metrics: vec![(
                job(),
                subtask,
                MetricsSnapshot {
                    read_records: 42,
                    input_watermark: 1000,
                    counters: vec![("malformed-lines".into(), 2)],
                    ..MetricsSnapshot::default()
                },
            )],
            usage: TaskManagerUsage::default(),
        },
        ToJobManager::FetchComponent { hash: "0123456789abcdef0123456789abcdef".into() },
    ];
    let session = wire(&messages);
    let mut cut = session.clone();
    cut.truncate(session.len() / 2);
    vec![
        ("register-heartbeat-fetch.bin", session),
        ("bad-cut-mid-frame.bin", cut),
        ("bad-not-messagepack.bin", [&[0, 0, 0, 3][..], b"\xc1\xc1\xc1"].concat()),
    ]
}

/// RPC samples from the JobManager: accepted, heartbeat, cancel, a log
/// request, a component; and an unknown message.
pub(super) fn rpc_to_taskmanager_corpus() -> Vec<(&'static str, Vec<u8>)> {
    let messages = vec![
        ToTaskManager::Registered,
        ToTaskManager::Heartbeat,
        ToTaskManager::Logs {
            request_id: 7,
            request: LogRequest::Read { file: LogFile::Stdout, offset: None, length: 4096 },
        },
        ToTaskManager::Component {
            hash: "0123456789abcdef0123456789abcdef".into(),
            bytes: Some(b"\0asm".to_vec().into()),
        },
        ToTaskManager::CancelJob { job_id: job() },
        ToTaskManager::ReleaseJob { job_id: job() },
    ];
    vec![("session.bin", wire(&messages)), ("bad-unknown-message.bin", wire(&["Reboot"]))]
}

/// An arbitrary record batch as [`Batch::push`] builds it: always well formed.
pub(super) fn well_formed_batch() -> impl Strategy<Value = Batch> {
    let record =
        (prop::option::of(prop::collection::vec(any::<u8>(), 0..12)), prop::collection::vec(any::<u8>(), 0..24));
    (prop::collection::vec(record, 0..24), any::<bool>(), any::<bool>()).prop_map(|(records, keyed, timed)| {
        let mut batch = Batch::default();
        for (i, (key, value)) in records.iter().enumerate() {
            let key = keyed.then(|| key.as_deref().unwrap_or_default());
            batch.push(key, value, timed.then_some(i as i64 - 3));
        }
        batch
    })
}

/// An arbitrary stream message.
fn stream_message() -> impl Strategy<Value = StreamMessage> {
    prop_oneof![
        well_formed_batch().prop_map(StreamMessage::Batch),
        Just(StreamMessage::EndOfInput),
        (any::<u32>(), any::<i64>()).prop_map(|(upstream, timestamp)| StreamMessage::Watermark { upstream, timestamp }),
        (any::<u32>(), any::<bool>()).prop_map(|(upstream, idle)| StreamMessage::WatermarkStatus { upstream, idle }),
        (any::<u64>(), any::<u64>(), any::<bool>()).prop_map(|(id, timestamp, savepoint)| {
            let kind = if savepoint { SnapshotKind::Savepoint } else { SnapshotKind::Checkpoint };
            StreamMessage::Barrier(CheckpointBarrier { id, timestamp, kind, stop: None })
        }),
    ]
}

/// Arbitrary MessagePack, so bodies get past the first byte into the
/// decoders of each message's fields.
fn messagepack() -> impl Strategy<Value = rmpv::Value> {
    let leaf = prop_oneof![
        Just(rmpv::Value::Nil),
        any::<bool>().prop_map(rmpv::Value::from),
        any::<i64>().prop_map(rmpv::Value::from),
        any::<u64>().prop_map(rmpv::Value::from),
        any::<f64>().prop_map(rmpv::Value::from),
        "[a-zA-Z_]{0,12}".prop_map(rmpv::Value::from),
        prop::collection::vec(any::<u8>(), 0..16).prop_map(rmpv::Value::from),
        prop::sample::select(vec![
            "Batch",
            "EndOfInput",
            "Watermark",
            "Barrier",
            "Register",
            "Heartbeat",
            "Deploy",
            "Component",
            "Logs",
        ])
        .prop_map(rmpv::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(rmpv::Value::Array),
            prop::collection::vec((inner.clone(), inner), 0..6).prop_map(rmpv::Value::Map),
        ]
    })
}

/// Encodes `value` as one frame's body.
fn frame_of(body: &[u8]) -> Vec<u8> {
    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(body);
    frame
}

/// Decodes `body` as each message type a peer may send; none may panic.
fn decode_as_every_message(body: &[u8]) -> Result<(), TestCaseError> {
    fn one<T: DeserializeOwned>(body: &[u8]) -> Result<(), TestCaseError> {
        let frame = frame_of(body);
        let decoded = FrameReader::new(&frame[..], BOUND, "fuzz").read::<T>();
        if let Err(e) = decoded {
            prop_assert!(matches!(e, FrameError::Decode(_)), "a whole frame fails only to decode: {e}");
        }
        Ok(())
    }
    let frame = frame_of(body);
    if let Ok(Some((_, StreamMessage::Batch(batch)))) = FrameReader::new(&frame[..], BOUND, "fuzz").read::<Tagged>() {
        read_every_record(&batch);
    }
    one::<ChannelKey>(body)?;
    one::<ToJobManager>(body)?;
    one::<ToTaskManager>(body)?;
    one::<Hello>(body)?;
    one::<Challenge>(body)?;
    one::<Answer>(body)?;
    one::<Verdict>(body)
}

proptest! {
    #![proptest_config(cases(1000))]

    /// Any stream message written as a frame reads back the same.
    #[test]
    fn stream_messages_round_trip(messages in prop::collection::vec((any::<u32>(), stream_message()), 1..6)) {
        let wire = wire(&messages);
        let mut input = FrameReader::new(&wire[..], limits().data(), "fuzz");
        for sent in &messages {
            let got: Tagged = input.read().unwrap().expect("a frame per message");
            prop_assert_eq!(rmp_serde::to_vec(&got).unwrap(), rmp_serde::to_vec(sent).unwrap());
            if let (_, StreamMessage::Batch(batch)) = &got {
                prop_assert!(batch.check().is_ok());
                read_every_record(batch);
            }
        }
        prop_assert!(input.read::<Tagged>().unwrap().is_none(), "nothing after the last frame");
    }

    /// A batch whose offsets are arbitrary decodes only when they are
    /// consistent, and then every record reads without a panic.
    #[test]
    fn a_lying_batch_is_refused_at_decode(
        values in prop::collection::vec(any::<u8>(), 0..16),
        value_ends in prop::collection::vec(0..20u32, 0..6),
        keys in prop::collection::vec(any::<u8>(), 0..8),
        key_ends in prop::collection::vec(0..10u32, 0..6),
        timestamps in prop::collection::vec(any::<i64>(), 0..6),
    ) {
        let batch = Batch { values, value_ends, keys, key_ends, timestamps };
        let consistent = batch.check();
        let frame = wire(&[(0u32, StreamMessage::Batch(batch))]);
        match FrameReader::new(&frame[..], BOUND, "fuzz").read::<Tagged>() {
            Ok(Some((_, StreamMessage::Batch(decoded)))) => {
                prop_assert!(consistent.is_ok(), "a batch with bad offsets was accepted");
                read_every_record(&decoded);
            }
            Ok(other) => prop_assert!(false, "decoded as something else: {other:?}"),
            Err(e) => {
                prop_assert!(consistent.is_err(), "a good batch was refused: {e}");
                prop_assert!(e.to_string().contains("offsets") || e.to_string().contains("for"), "{e}");
            }
        }
    }

    /// Well-formed MessagePack of any shape, as the body of a frame, is
    /// decoded as each message or refused: never a panic.
    #[test]
    fn any_messagepack_body_decodes_or_is_refused(value in messagepack()) {
        let mut body = Vec::new();
        rmpv::encode::write_value(&mut body, &value).unwrap();
        decode_as_every_message(&body)?;
    }

    /// Arbitrary bytes as the body of a whole frame: the same.
    #[test]
    fn any_body_decodes_or_is_refused(body in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_as_every_message(&body)?;
    }

    /// A header claiming more than the bound is refused before anything is
    /// read, naming the size, the bound and its key.
    #[test]
    fn a_length_past_the_bound_is_refused_at_once(claim in (BOUND.max as u32 + 1)..=u32::MAX) {
        let header = claim.to_be_bytes();
        let mut input = FrameReader::new(&header[..], BOUND, "10.0.0.9:4242");
        let err = input.read::<Tagged>().unwrap_err();
        let text = err.to_string();
        prop_assert!(matches!(err, FrameError::TooLarge { .. }), "{text}");
        prop_assert!(text.contains(&claim.to_string()) && text.contains(BOUND.key) && text.contains("10.0.0.9:4242"), "{text}");
        prop_assert_eq!(input.buffer_capacity(), 0, "nothing allocated for a refused frame");
    }

    /// A header within the bound followed by fewer bytes than it claims:
    /// the memory taken follows the bytes that came, not the claim.
    #[test]
    fn memory_follows_the_bytes_not_the_claim(claim in 1u32..=(64 << 20), sent in 0usize..(16 << 10)) {
        let sent = sent.min(claim as usize - 1);
        let mut frame = claim.to_be_bytes().to_vec();
        frame.resize(4 + sent, 0x90);
        let bound = FrameBound { max: 64 << 20, key: "fuzz.max" };
        let mut input = FrameReader::new(&frame[..], bound, "fuzz");
        let err = input.read::<Tagged>().unwrap_err();
        prop_assert!(err.to_string().contains(&format!("after {sent} of a frame's {claim} bytes")), "{err}");
        let cap = input.buffer_capacity();
        prop_assert!(cap <= (64 << 10).max(2 * sent + 64), "{cap} bytes taken for {sent} sent, {claim} claimed");
    }
}

/// MessagePack nested far deeper than any message is refused, not a
/// stack overflow: the decoder has a depth limit.
#[test]
fn deep_nesting_is_refused() {
    for depth in [1_000, 100_000] {
        let mut body = vec![0x91; depth]; // an array of one element, nested
        body.push(0xc0);
        let result = std::thread::Builder::new()
            .stack_size(2 << 20) // as the threads that read data connections have
            .spawn(move || decode_as_every_message(&body).map_err(|e| e.to_string()))
            .unwrap()
            .join();
        assert!(matches!(result, Ok(Ok(()))), "depth {depth}: {result:?}");
    }
}
