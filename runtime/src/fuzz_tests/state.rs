//! What a restore reads from checkpoint storage: a subtask's keyed state
//! file (`state/snapshot.rs`) and a checkpoint's `_metadata`
//! (`checkpoint/metadata.rs`). Storage can be damaged or written by
//! someone else, so both decode or refuse, naming what was wrong.

use proptest::prelude::*;

use super::cases;
use crate::checkpoint::KeyGroupOffset;
use crate::checkpoint::metadata::{CheckpointMetadata, VertexSnapshot};
use crate::checkpoint::{SnapshotKind, StateFile, TaskStateHandle};
use crate::graph::partition::key_group;
use crate::state::snapshot::{self, KeyedParts, KeyedTargets};
use crate::state::{
    EntryAddress, KeyedStateBackend, MemoryNamedBackend, MemoryStateBackend, NamedStateBackend, StateKey,
};
use crate::time::{TimeDomain, TimerService};

/// Key groups of the fuzz jobs.
const MAX: u32 = 128;

/// A keyed state target's input: `u32 n`, then `n × (u32 key group, u64
/// offset, u64 length)` as the metadata lists them (little-endian), then
/// the state file. Read as a restore at parallelism 1 reads it.
pub(super) fn keyed_state_file(input: &[u8]) -> Result<(), String> {
    let (groups, file) = split_state_input(input).ok_or("the input is shorter than its key group list")?;
    let (mut values, mut named, mut timers) =
        (MemoryStateBackend::new(0..MAX), MemoryNamedBackend::new(0..MAX), TimerService::new());
    let mut targets = KeyedTargets { values: Some(&mut values), named: Some(&mut named), timers: Some(&mut timers) };
    snapshot::read(file, &groups, 0..MAX, MAX, &mut targets)?;
    Ok(())
}

fn split_state_input(input: &[u8]) -> Option<(Vec<KeyGroupOffset>, &[u8])> {
    let count = u32::from_le_bytes(input.get(..4)?.try_into().ok()?) as usize;
    let mut groups = Vec::new();
    let mut at = 4;
    for _ in 0..count {
        let entry = input.get(at..at + 20)?;
        groups.push(KeyGroupOffset {
            key_group: u32::from_le_bytes(entry[..4].try_into().ok()?),
            offset: u64::from_le_bytes(entry[4..12].try_into().ok()?),
            length: u64::from_le_bytes(entry[12..20].try_into().ok()?),
        });
        at += 20;
    }
    Some((groups, &input[at..]))
}

fn join_state_input(groups: &[KeyGroupOffset], file: &[u8]) -> Vec<u8> {
    let mut input = (groups.len() as u32).to_le_bytes().to_vec();
    for g in groups {
        input.extend_from_slice(&g.key_group.to_le_bytes());
        input.extend_from_slice(&g.offset.to_le_bytes());
        input.extend_from_slice(&g.length.to_le_bytes());
    }
    input.extend_from_slice(file);
    input
}

/// A checkpoint's `_metadata` file, decoded, then summed up as the REST
/// API's checkpoint statistics sum it.
pub(super) fn checkpoint_metadata(bytes: &[u8]) -> Result<(), String> {
    let metadata = CheckpointMetadata::decode(bytes, "fuzz/_metadata").map_err(|e| e.to_string())?;
    let _ = metadata.state_size();
    let _ = metadata.state_files().count();
    Ok(())
}

/// Subtask state holding `keys` keys with a running value, named entries
/// and a timer each, at parallelism 1.
fn filled(keys: &[(Vec<u8>, Vec<u8>)]) -> (MemoryStateBackend, MemoryNamedBackend, TimerService) {
    let (mut values, mut named, mut timers) =
        (MemoryStateBackend::new(0..MAX), MemoryNamedBackend::new(0..MAX), TimerService::new());
    for (i, (key, value)) in keys.iter().enumerate() {
        let state_key = StateKey::new(key, MAX);
        values.put(state_key, value);
        let address = EntryAddress { state_id: i as u32 % 3, namespace: &value[..value.len().min(3)], user_key: key };
        named.write(state_key, address, Some(value));
        let domain = if i % 2 == 0 { TimeDomain::EventTime } else { TimeDomain::ProcessingTime };
        timers.register(domain, i as i64 * 1000 - 5, key_group(key, MAX), key, b"");
    }
    (values, named, timers)
}

/// Everything restored, sorted, to compare a restore with what was written.
fn contents(values: &MemoryStateBackend, named: &MemoryNamedBackend, timers: &TimerService) -> Vec<String> {
    let mut all = Vec::new();
    for group in 0..MAX {
        values.for_each_in_group(group, &mut |k, v| all.push(format!("v {k:?} {v:?}")));
        named.for_each_in_group(group, &mut |k, a, v| all.push(format!("n {k:?} {a:?} {v:?}")));
    }
    timers.for_each(|d, t, g, k, n| all.push(format!("t {d:?} {t} {g} {k:?} {n:?}")));
    all.sort();
    all
}

fn sample_keys() -> Vec<(Vec<u8>, Vec<u8>)> {
    ["flink", "wasm", "state", "river", ""]
        .iter()
        .map(|k| (rmp_serde::to_vec(k).unwrap(), rmp_serde::to_vec(&(k.len() as u64 * 7)).unwrap()))
        .collect()
}

/// A real state file with its key group list; and damaged ones.
pub(super) fn keyed_state_file_corpus() -> Vec<(&'static str, Vec<u8>)> {
    let (values, named, timers) = filled(&sample_keys());
    let parts = KeyedParts {
        values: Some(&values),
        named: Some(&named),
        named_kept: None,
        timers: Some(&timers),
        ..Default::default()
    };
    let written = snapshot::write(0..MAX, &parts).unwrap();
    let good = join_state_input(&written.key_groups, &written.bytes);
    let mut past_end = written.key_groups.clone();
    past_end[0].length = u64::MAX;
    let mut wrapping = written.key_groups.clone();
    wrapping[0].offset = u64::MAX - 2;
    wrapping[0].length = 8;
    let mut foreign = written.key_groups.clone();
    foreign[0].key_group = MAX + 5;
    let mut bad_magic = written.bytes.clone();
    bad_magic[0] = b'X';
    vec![
        ("five-keys-values-named-timers.bin", good),
        ("no-key-groups.bin", join_state_input(&[], b"WFLKKG01")),
        ("bad-length-past-the-end.bin", join_state_input(&past_end, &written.bytes)),
        ("bad-offset-plus-length-overflows.bin", join_state_input(&wrapping, &written.bytes)),
        ("bad-key-group-outside-the-range.bin", join_state_input(&foreign, &written.bytes)),
        ("bad-magic.bin", join_state_input(&written.key_groups, &bad_magic)),
    ]
}

fn sample_metadata() -> CheckpointMetadata {
    let file = StateFile {
        path: "chk-3/6f1c-0.state".into(),
        size: 4242,
        checksum: 0x1234_5678_9abc_def0,
        key_groups: vec![KeyGroupOffset { key_group: 5, offset: 8, length: 100 }],
    };
    CheckpointMetadata {
        job_id: "a1b2c3d4e5f60718293a4b5c6d7e8f90".into(),
        job_name: "wordcount".into(),
        component_hash: "0123456789abcdef0123456789abcdef".into(),
        checkpoint_id: 3,
        kind: SnapshotKind::Savepoint,
        timestamp: 1_700_000_000_000,
        vertices: vec![VertexSnapshot {
            id: "6f1c".into(),
            name: "Keyed Reduce".into(),
            parallelism: 1,
            max_parallelism: MAX,
            subtasks: vec![TaskStateHandle { keyed: Some(file), operator: Some(vec![0x93, 1, 2, 3]) }],
        }],
    }
}

/// A real metadata file; a truncated and a tampered one.
pub(super) fn checkpoint_metadata_corpus() -> Vec<(&'static str, Vec<u8>)> {
    let good = sample_metadata().encode();
    let mut tampered = good.clone();
    *tampered.last_mut().unwrap() ^= 1;
    vec![
        ("savepoint-one-keyed-vertex.bin", good.clone()),
        ("bad-truncated.bin", good[..good.len() - 5].to_vec()),
        ("bad-checksum.bin", tampered),
        ("bad-not-metadata.bin", b"WFLKKG01 a state file, not metadata".to_vec()),
    ]
}

/// A metadata file around `payload`, with a correct length and checksum,
/// so the fuzzer reaches the payload's decoder.
fn metadata_file(payload: &[u8]) -> Vec<u8> {
    let mut bytes = b"WFLKMD01".to_vec();
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(payload).to_le_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

fn key_group_offset() -> impl Strategy<Value = KeyGroupOffset> {
    let near = prop_oneof![0..200u64, any::<u64>(), (u64::MAX - 300)..=u64::MAX];
    (0..MAX + 2, near.clone(), near).prop_map(|(key_group, offset, length)| KeyGroupOffset {
        key_group,
        offset,
        length,
    })
}

proptest! {
    #![proptest_config(cases(1000))]

    /// State written by [`snapshot::write`] reads back the same.
    #[test]
    fn keyed_state_round_trips(
        keys in prop::collection::btree_map(
            prop::collection::vec(any::<u8>(), 0..10), prop::collection::vec(any::<u8>(), 0..10), 0..24),
    ) {
        let keys: Vec<_> = keys.into_iter().collect();
        let (values, named, timers) = filled(&keys);
        let parts = KeyedParts { values: Some(&values), named: Some(&named), named_kept: None, timers: Some(&timers), ..Default::default() };
        let Some(written) = snapshot::write(0..MAX, &parts) else {
            prop_assert!(keys.is_empty(), "state was written as nothing");
            return Ok(());
        };
        let (mut v, mut n, mut t) = (MemoryStateBackend::new(0..MAX), MemoryNamedBackend::new(0..MAX), TimerService::new());
        let mut targets = KeyedTargets { values: Some(&mut v), named: Some(&mut n), timers: Some(&mut t) };
        let read = snapshot::read(&written.bytes, &written.key_groups, 0..MAX, MAX, &mut targets).unwrap();
        prop_assert_eq!(read, values.len() + named.len() + timers.len());
        prop_assert_eq!(contents(&v, &n, &t), contents(&values, &named, &timers));
    }

    /// A real state file with arbitrary key group offsets (as a damaged
    /// metadata file gives them) reads or is refused.
    #[test]
    fn any_key_group_offsets_are_read_or_refused(groups in prop::collection::vec(key_group_offset(), 0..6)) {
        let (values, named, timers) = filled(&sample_keys());
        let parts = KeyedParts { values: Some(&values), named: Some(&named), named_kept: None, timers: Some(&timers), ..Default::default() };
        let written = snapshot::write(0..MAX, &parts).unwrap();
        if let Err(e) = keyed_state_file(&join_state_input(&groups, &written.bytes)) {
            prop_assert!(e.contains("key group"), "{e}");
        }
    }

    /// A real state file with bytes changed, given its true offsets: read
    /// or refused naming the key group.
    #[test]
    fn a_damaged_state_file_is_read_or_refused(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let (values, named, timers) = filled(&sample_keys());
        let parts = KeyedParts { values: Some(&values), named: Some(&named), named_kept: None, timers: Some(&timers), ..Default::default() };
        let mut written = snapshot::write(0..MAX, &parts).unwrap();
        for (at, byte) in edits {
            let at = at.index(written.bytes.len());
            written.bytes[at] = byte;
        }
        if let Err(e) = keyed_state_file(&join_state_input(&written.key_groups, &written.bytes)) {
            prop_assert!(e.contains("key group") || e.contains("magic"), "{e}");
        }
    }

    /// Metadata with a valid header around any MessagePack payload decodes
    /// or is refused as corrupted, and what decodes sums up without overflow.
    #[test]
    fn any_metadata_payload_decodes_or_is_refused(
        size in prop_oneof![0..10_000u64, any::<u64>()],
        sizes in prop::collection::vec(prop_oneof![0..10_000u64, (u64::MAX / 2)..=u64::MAX], 0..4),
        payload in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        if let Err(e) = checkpoint_metadata(&metadata_file(&payload)) {
            prop_assert!(e.contains("corrupted"), "{e}");
        }
        // State files of any size, as a damaged or foreign file may claim them.
        let mut metadata = sample_metadata();
        let handle = metadata.vertices[0].subtasks[0].clone();
        metadata.vertices[0].subtasks = std::iter::once(size).chain(sizes).map(|size| {
            let mut handle = handle.clone();
            handle.keyed.as_mut().unwrap().size = size;
            handle
        }).collect();
        prop_assert!(checkpoint_metadata(&metadata.encode()).is_ok());
    }
}
