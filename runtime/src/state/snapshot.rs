//! The state file of a keyed subtask: its keyed state (running values,
//! named state) and its timers, written key group by key group, with the
//! offset of each group. A restore at any parallelism reads exactly the
//! groups of its new key-group range, from whichever files hold them.
//!
//! Layout: the magic `WFLKKG01`, then per non-empty key group, in order:
//!
//! ```text
//!  u32 n  n × (key, value)                          running values
//!  u32 n  n × (u32 state id, key, namespace, user key, value)   named state
//!  u32 n  n × (u8 domain, i64 timestamp, key, namespace)        timers
//! ```
//!
//! where each byte string is a u32 length and its bytes, all little-endian.
//! The file's xxh3-64 checksum lives in its [`crate::checkpoint::StateFile`].

use std::borrow::Cow;
use std::ops::Range;

use super::ttl::ExpiredFilter;
use super::{EntryAddress, GroupedEntries, KeyedStateBackend, NamedStateBackend, StateKey};
use crate::checkpoint::KeyGroupOffset;
use crate::time::{TimeDomain, TimerService};

/// First bytes of every keyed state file (format version 1).
const MAGIC: &[u8; 8] = b"WFLKKG01";

/// What a subtask's keyed snapshot is taken from.
#[derive(Default)]
pub struct KeyedParts<'a> {
    /// Running values (reduce, aggregate without context).
    pub values: Option<&'a dyn KeyedStateBackend>,
    /// Running values a chain kept in its own memory and handed over
    /// (their addresses are ignored).
    pub values_kept: Option<&'a GroupedEntries>,
    /// Named state of process functions and windows.
    pub named: Option<&'a dyn NamedStateBackend>,
    /// Named state a chain kept in its own memory and handed over.
    pub named_kept: Option<&'a GroupedEntries>,
    /// Timers of process functions and windows.
    pub timers: Option<&'a TimerService>,
    /// The named states with a time to live: their expired entries are
    /// left out.
    pub expired: Option<&'a ExpiredFilter>,
}

/// Where a restore puts what it reads.
#[derive(Default)]
pub struct KeyedTargets<'a> {
    /// Running values.
    pub values: Option<&'a mut dyn KeyedStateBackend>,
    /// Named state.
    pub named: Option<&'a mut dyn NamedStateBackend>,
    /// Timers.
    pub timers: Option<&'a mut TimerService>,
}

/// A subtask's keyed state, encoded.
pub struct KeyedSnapshot {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Where each non-empty key group sits in `bytes`.
    pub key_groups: Vec<KeyGroupOffset>,
}

/// A timer as the snapshot writes it: (key group, domain, timestamp, key, namespace).
type TimerEntry<'a> = (u32, TimeDomain, i64, &'a [u8], &'a [u8]);

/// Encodes every key group of `groups` that holds anything; `None` when
/// none does.
pub fn write(groups: Range<u32>, parts: &KeyedParts<'_>) -> Option<KeyedSnapshot> {
    // Timers are kept in time order: bucket them by key group once.
    let mut timers: Vec<TimerEntry<'_>> = Vec::new();
    if let Some(service) = parts.timers {
        timers.reserve(service.len());
        service.for_each(|domain, timestamp, group, key, namespace| {
            timers.push((group, domain, timestamp, key, namespace))
        });
        timers.sort_by_key(|t| t.0);
    }
    let mut next_timer = 0;
    let mut bytes = MAGIC.to_vec();
    let mut offsets = Vec::new();
    for group in groups {
        let start = bytes.len();
        let mut count = Counted::start(&mut bytes);
        if let Some(values) = parts.values {
            values.for_each_in_group(group, &mut |key, value| {
                count.add();
                put_bytes(count.out(), key);
                put_bytes(count.out(), value);
            });
        }
        if let Some(kept) = parts.values_kept {
            kept.for_each_in_group(group, &mut |key, _, value| {
                count.add();
                put_bytes(count.out(), key);
                put_bytes(count.out(), value);
            });
        }
        let mut entries = count.finish();
        let mut count = Counted::start(&mut bytes);
        let mut put_named = |key: &[u8], address: EntryAddress<'_>, value: &[u8]| {
            let kept = parts.expired.map_or(Some(Cow::Borrowed(value)), |f| f.keep(address.state_id, value));
            let Some(value) = kept else { return };
            count.add();
            let out = count.out();
            out.extend_from_slice(&address.state_id.to_le_bytes());
            put_bytes(out, key);
            put_bytes(out, address.namespace);
            put_bytes(out, address.user_key);
            put_bytes(out, &value);
        };
        if let Some(named) = parts.named {
            named.for_each_in_group(group, &mut put_named);
        }
        if let Some(kept) = parts.named_kept {
            kept.for_each_in_group(group, &mut put_named);
        }
        entries += count.finish();
        let mut count = Counted::start(&mut bytes);
        while let Some(&(g, domain, timestamp, key, namespace)) = timers.get(next_timer) {
            if g > group {
                break;
            }
            next_timer += 1;
            if g < group {
                continue; // a timer outside the range: not this subtask's
            }
            count.add();
            let out = count.out();
            out.push(match domain {
                TimeDomain::EventTime => 0,
                TimeDomain::ProcessingTime => 1,
            });
            out.extend_from_slice(&timestamp.to_le_bytes());
            put_bytes(out, key);
            put_bytes(out, namespace);
        }
        entries += count.finish();
        if entries == 0 {
            bytes.truncate(start);
        } else {
            offsets.push(KeyGroupOffset {
                key_group: group,
                offset: start as u64,
                length: (bytes.len() - start) as u64,
            });
        }
    }
    (!offsets.is_empty()).then_some(KeyedSnapshot { bytes, key_groups: offsets })
}

/// Reads the key groups `groups` of the state file `bytes` into
/// `targets`, refusing groups outside `owned` and entries whose key does
/// not hash to their group (the file is corrupted or the job's max
/// parallelism changed). Returns the number of entries and timers read.
pub fn read(
    bytes: &[u8],
    groups: &[KeyGroupOffset],
    owned: Range<u32>,
    max_parallelism: u32,
    targets: &mut KeyedTargets<'_>,
) -> Result<usize, String> {
    if !bytes.starts_with(MAGIC) {
        return Err("not a wflink keyed state file (bad magic)".into());
    }
    let mut read = 0;
    for at in groups {
        if !owned.contains(&at.key_group) {
            return Err(format!("key group {} is not in this subtask's range {owned:?}", at.key_group));
        }
        // Checked: offsets come from a metadata file, which may be damaged.
        let end = at.offset.checked_add(at.length);
        let range = usize::try_from(at.offset).ok().zip(end.and_then(|end| usize::try_from(end).ok()));
        let Some(slice) = range.and_then(|(start, end)| bytes.get(start..end)) else {
            return Err(format!("key group {} lies beyond the end of the file", at.key_group));
        };
        read += read_group(&mut Cursor { bytes: slice, at: 0 }, at.key_group, max_parallelism, targets)
            .map_err(|e| format!("key group {}: {e}", at.key_group))?;
    }
    Ok(read)
}

fn read_group(
    input: &mut Cursor<'_>,
    group: u32,
    max_parallelism: u32,
    targets: &mut KeyedTargets<'_>,
) -> Result<usize, String> {
    fn check(key: &[u8], group: u32, max_parallelism: u32) -> Result<StateKey<'_>, String> {
        let key = StateKey::new(key, max_parallelism);
        if key.group == group {
            Ok(key)
        } else {
            Err(format!("a key of key group {} (the max parallelism differs from the snapshot's)", key.group))
        }
    }
    let values = input.u32()? as usize;
    for _ in 0..values {
        let (key, value) = (input.bytes()?, input.bytes()?);
        let key = check(key, group, max_parallelism)?;
        let target = targets.values.as_deref_mut().ok_or("running values, but this chain keeps none")?;
        target.put(key, value);
    }
    let named = input.u32()? as usize;
    for _ in 0..named {
        let state_id = input.u32()?;
        let (key, namespace, user_key, value) = (input.bytes()?, input.bytes()?, input.bytes()?, input.bytes()?);
        let key = check(key, group, max_parallelism)?;
        let target = targets.named.as_deref_mut().ok_or("named state, but this chain declares none")?;
        target.write(key, EntryAddress { state_id, namespace, user_key }, Some(value));
    }
    let timers = input.u32()? as usize;
    for _ in 0..timers {
        let domain = match input.take(1)?[0] {
            0 => TimeDomain::EventTime,
            1 => TimeDomain::ProcessingTime,
            other => return Err(format!("unknown timer domain {other}")),
        };
        let timestamp = i64::from_le_bytes(input.take(8)?.try_into().expect("8 bytes"));
        let (key, namespace) = (input.bytes()?, input.bytes()?);
        check(key, group, max_parallelism)?;
        let target = targets.timers.as_deref_mut().ok_or("timers, but this chain sets none")?;
        target.register(domain, timestamp, group, key, namespace);
    }
    if input.at != input.bytes.len() {
        return Err("trailing bytes after its entries".into());
    }
    Ok(values + named + timers)
}

/// A count of entries written before them, patched in when known.
struct Counted<'a> {
    out: &'a mut Vec<u8>,
    at: usize,
    count: u32,
}

impl<'a> Counted<'a> {
    fn start(out: &'a mut Vec<u8>) -> Self {
        let at = out.len();
        out.extend_from_slice(&0u32.to_le_bytes());
        Counted { out, at, count: 0 }
    }

    fn add(&mut self) {
        self.count += 1;
    }

    fn out(&mut self) -> &mut Vec<u8> {
        self.out
    }

    fn finish(self) -> usize {
        self.out[self.at..self.at + 4].copy_from_slice(&self.count.to_le_bytes());
        self.count as usize
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Reads a key group's bytes, failing on truncation instead of panicking.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let slice = self.at.checked_add(n).and_then(|end| self.bytes.get(self.at..end)).ok_or("truncated")?;
        self.at += n;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::partition::{key_group, key_group_range};
    use crate::state::{MemoryNamedBackend, MemoryStateBackend, StateEntries};
    use crate::time::Timers;

    const MAX: u32 = 128;

    /// Keyed state of `parallelism` subtasks holding `keys` keys, each
    /// with a running value, two named entries and a timer.
    fn fill(parallelism: u32, keys: u32) -> Vec<(MemoryStateBackend, MemoryNamedBackend, TimerService)> {
        let mut subtasks: Vec<_> = (0..parallelism)
            .map(|i| {
                let range = key_group_range(i, parallelism, MAX);
                (MemoryStateBackend::new(range.clone()), MemoryNamedBackend::new(range), TimerService::new())
            })
            .collect();
        for k in 0..keys {
            let key = format!("key-{k}");
            let owner = subtasks
                .iter_mut()
                .enumerate()
                .find(|(i, _)| key_group_range(*i as u32, parallelism, MAX).contains(&key_group(key.as_bytes(), MAX)))
                .map(|(_, s)| s)
                .unwrap();
            owner.0.put(StateKey::new(key.as_bytes(), MAX), &k.to_le_bytes());
            let mut named = StateEntries::default();
            named.push(key.as_bytes(), EntryAddress { state_id: 1, namespace: b"w", user_key: b"" }, b"sum");
            named.push(key.as_bytes(), EntryAddress { state_id: 2, namespace: b"", user_key: b"u" }, b"map");
            crate::state::apply_named(&mut owner.1, &named, MAX).unwrap();
            let mut timers = Timers::default();
            timers.push(TimeDomain::EventTime, k as i64, key.as_bytes(), b"w");
            owner.2.apply(&timers, &Timers::default(), MAX);
        }
        subtasks
    }

    /// Everything a subtask holds, sorted, for comparison.
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

    #[test]
    fn state_snapshotted_at_one_parallelism_restores_at_another() {
        let before = fill(2, 500);
        let files: Vec<_> = before
            .iter()
            .enumerate()
            .map(|(i, (values, named, timers))| {
                // State 1 as a chain that keeps its state hands it over,
                // the rest from the backend: a snapshot holds both.
                let range = key_group_range(i as u32, 2, MAX);
                let (mut kept, mut host) = (StateEntries::default(), MemoryNamedBackend::new(range.clone()));
                for group in range.clone() {
                    named.for_each_in_group(group, &mut |k, a, v| match a.state_id {
                        1 => kept.push(k, a, v),
                        _ => host.write(StateKey::new(k, MAX), a, Some(v)),
                    });
                }
                let kept = GroupedEntries::new(kept, range.clone(), MAX).unwrap();
                let parts = KeyedParts {
                    values: Some(values),
                    values_kept: None,
                    named: Some(&host),
                    named_kept: Some(&kept),
                    timers: Some(timers),
                    expired: None,
                };
                write(range, &parts).unwrap()
            })
            .collect();
        let mut expected: Vec<String> = before.iter().flat_map(|(v, n, t)| contents(v, n, t)).collect();
        expected.sort();
        for parallelism in [1, 3] {
            let mut restored = Vec::new();
            for i in 0..parallelism {
                let owned = key_group_range(i, parallelism, MAX);
                let (mut values, mut named, mut timers) = (
                    MemoryStateBackend::new(owned.clone()),
                    MemoryNamedBackend::new(owned.clone()),
                    TimerService::new(),
                );
                let mut targets =
                    KeyedTargets { values: Some(&mut values), named: Some(&mut named), timers: Some(&mut timers) };
                for file in &files {
                    let mine: Vec<_> =
                        file.key_groups.iter().filter(|g| owned.contains(&g.key_group)).copied().collect();
                    read(&file.bytes, &mine, owned.clone(), MAX, &mut targets).unwrap();
                }
                restored.extend(contents(&values, &named, &timers));
            }
            restored.sort();
            assert_eq!(restored, expected, "restored at parallelism {parallelism}");
        }
        assert_eq!(expected.len(), 500 * 4);
    }

    #[test]
    fn kept_state_of_a_key_group_the_subtask_does_not_own_is_refused() {
        let key = (0..).map(|i: u32| i.to_le_bytes()).find(|k| key_group(k, MAX) != 0).unwrap();
        let mut entries = StateEntries::default();
        entries.push(&key, EntryAddress { state_id: 1, namespace: b"", user_key: b"" }, b"v");
        let refused = GroupedEntries::new(entries, 0..1, MAX).err().unwrap();
        assert!(refused.contains("does not own"), "{refused}");
    }

    #[test]
    fn a_snapshot_leaves_out_the_entries_of_states_whose_ttl_has_passed() {
        use crate::graph::{StateDescriptor, StateKind};
        let mut named = MemoryNamedBackend::new(0..MAX);
        let mut entries = StateEntries::default();
        let at = |state_id| EntryAddress { state_id, namespace: b"", user_key: b"" };
        let (old, fresh) = (wflink_abi::ttl::stamped(1_000, b"old"), wflink_abi::ttl::stamped(5_000, b"new"));
        entries.push(b"k1", at(7), &old);
        entries.push(b"k2", at(7), &fresh);
        entries.push(b"k3", at(8), b"no ttl");
        crate::state::apply_named(&mut named, &entries, MAX).unwrap();
        let states =
            [StateDescriptor { id: 7, name: "seen".into(), kind: StateKind::Value, lazy: false, ttl_ms: Some(1_000) }];
        let expired = ExpiredFilter::new(&states, 5_500).unwrap();
        let parts = KeyedParts { named: Some(&named), expired: Some(&expired), ..Default::default() };
        let snapshot = write(0..MAX, &parts).unwrap();
        let mut restored = MemoryNamedBackend::new(0..MAX);
        let mut targets = KeyedTargets { named: Some(&mut restored), ..Default::default() };
        read(&snapshot.bytes, &snapshot.key_groups, 0..MAX, MAX, &mut targets).unwrap();
        let mut kept = Vec::new();
        for group in 0..MAX {
            restored.for_each_in_group(group, &mut |k, a, v| kept.push((k.to_vec(), a.state_id, v.to_vec())));
        }
        kept.sort();
        assert_eq!(kept, [(b"k2".to_vec(), 7, fresh), (b"k3".to_vec(), 8, b"no ttl".to_vec())]);
    }

    #[test]
    fn empty_state_writes_no_file_and_damage_is_refused() {
        let empty = MemoryStateBackend::new(0..MAX);
        assert!(write(0..MAX, &KeyedParts { values: Some(&empty), ..Default::default() }).is_none());

        let subtasks = fill(1, 20);
        let parts = KeyedParts { values: Some(&subtasks[0].0), ..Default::default() };
        let snapshot = write(0..MAX, &parts).unwrap();
        let mut values = MemoryStateBackend::new(0..MAX);
        let mut targets = KeyedTargets { values: Some(&mut values), ..Default::default() };
        let mut truncated = snapshot.key_groups.clone();
        truncated.last_mut().unwrap().length -= 1;
        assert!(read(&snapshot.bytes, &truncated, 0..MAX, MAX, &mut targets).unwrap_err().contains("truncated"));
        let other_range = read(&snapshot.bytes, &snapshot.key_groups, 0..1, MAX, &mut targets).unwrap_err();
        assert!(other_range.contains("not in this subtask's range"), "{other_range}");
        let wrong_max = read(&snapshot.bytes, &snapshot.key_groups, 0..MAX, 256, &mut targets).unwrap_err();
        assert!(wrong_max.contains("max parallelism"), "{wrong_max}");
        let mut named = MemoryNamedBackend::new(0..MAX);
        let without_values = read(
            &snapshot.bytes,
            &snapshot.key_groups,
            0..MAX,
            MAX,
            &mut KeyedTargets { named: Some(&mut named), ..Default::default() },
        );
        assert!(without_values.unwrap_err().contains("keeps none"));
    }
}
