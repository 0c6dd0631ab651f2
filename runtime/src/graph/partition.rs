//! Partitioning: which subtask of the next vertex receives a record.
//!
//! The rule every partitioner keeps: a record goes to exactly one subtask,
//! and for `Hash` the choice depends only on the key's bytes, so all
//! records of a key meet in one subtask and its state lives there.
//!
//! Keys hash to one of `max_parallelism` key groups; each subtask owns a
//! contiguous range of key groups (Flink's assignment), so state kept by
//! key group can later be redistributed when the parallelism changes.

use std::ops::Range;

/// How records travel from one vertex to the next (shared with the SDK).
pub use wflink_abi::plan::Partitioning;

/// The key group of a key: a stable hash of its bytes modulo the number of
/// key groups. Stable across processes and releases, since state is
/// snapshotted by key group.
#[inline]
pub fn key_group(key: &[u8], max_parallelism: u32) -> u32 {
    key_group_of_hash(xxhash_rust::xxh3::xxh3_64(key), max_parallelism)
}

/// The key group of a key whose xxh3-64 hash is already known. It takes
/// the high half of the hash so the low bits, which pick the slot in a key
/// group's hash table, still differ between the keys of one group.
#[inline]
pub fn key_group_of_hash(hash: u64, max_parallelism: u32) -> u32 {
    ((hash >> 32) % max_parallelism as u64) as u32
}

/// The subtask (operator index) that owns `key_group`.
#[inline]
pub fn subtask_for_key_group(key_group: u32, parallelism: u32, max_parallelism: u32) -> u32 {
    (key_group as u64 * parallelism as u64 / max_parallelism as u64) as u32
}

/// The key groups owned by subtask `index`.
pub fn key_group_range(index: u32, parallelism: u32, max_parallelism: u32) -> Range<u32> {
    let (p, m, i) = (parallelism as u64, max_parallelism as u64, index as u64);
    let start = (i * m).div_ceil(p);
    let end = ((i + 1) * m - 1) / p + 1;
    start as u32..end as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_group_ranges_cover_every_group_once() {
        for parallelism in 1..=20 {
            let mut next = 0;
            for index in 0..parallelism {
                let range = key_group_range(index, parallelism, 128);
                assert_eq!(range.start, next, "p={parallelism} i={index}");
                for group in range.clone() {
                    assert_eq!(subtask_for_key_group(group, parallelism, 128), index);
                }
                next = range.end;
            }
            assert_eq!(next, 128);
        }
    }

    #[test]
    fn key_groups_are_stable_and_spread() {
        assert_eq!(key_group(b"hello", 128), key_group(b"hello", 128));
        let groups: std::collections::HashSet<u32> =
            (0..1000).map(|i| key_group(format!("word{i}").as_bytes(), 128)).collect();
        assert!(groups.len() > 100, "only {} of 128 groups used", groups.len());
    }
}
