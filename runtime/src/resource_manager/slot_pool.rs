//! Which slots exist and which job holds each: pure allocation logic,
//! tested without actors.

use crate::ids::JobId;

/// Not enough free slots for a job.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("not enough task slots: the job needs {needed}, the cluster has {free} free of {total}")]
pub struct NotEnoughSlots {
    /// Slots the job asked for.
    pub needed: usize,
    /// Slots free.
    pub free: usize,
    /// Slots in the cluster.
    pub total: usize,
}

/// Who has a slot.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Holder {
    Free,
    Held(JobId),
    /// Its TaskManager left the cluster; the index stays so others keep theirs.
    Gone,
}

/// Every slot of the cluster and its holder.
#[derive(Debug, Default)]
pub struct SlotPool {
    holders: Vec<Holder>,
}

impl SlotPool {
    /// Adds `count` free slots; returns the index of the first.
    pub fn add(&mut self, count: usize) -> usize {
        let first = self.holders.len();
        self.holders.resize(first + count, Holder::Free);
        first
    }

    /// Removes the slots at `indices` (their TaskManager is gone).
    pub fn remove(&mut self, indices: impl IntoIterator<Item = usize>) {
        for i in indices {
            self.holders[i] = Holder::Gone;
        }
    }

    /// Gives `needed` free slots to `job`, all or nothing, taking them
    /// in the order of `preference` (indices of free slots first used).
    pub fn allocate(&mut self, job: JobId, needed: usize, preference: &[usize]) -> Result<Vec<usize>, NotEnoughSlots> {
        let free: Vec<usize> = preference.iter().copied().filter(|i| self.holders[*i] == Holder::Free).collect();
        if free.len() < needed {
            return Err(NotEnoughSlots { needed, free: self.free(), total: self.total() });
        }
        for &i in &free[..needed] {
            self.holders[i] = Holder::Held(job);
        }
        Ok(free[..needed].to_vec())
    }

    /// Frees every slot `job` holds.
    pub fn release(&mut self, job: JobId) {
        for holder in &mut self.holders {
            if *holder == Holder::Held(job) {
                *holder = Holder::Free;
            }
        }
    }

    /// Whether slot `i` is free.
    pub fn is_free(&self, i: usize) -> bool {
        self.holders[i] == Holder::Free
    }

    /// Number of free slots.
    pub fn free(&self) -> usize {
        self.holders.iter().filter(|h| **h == Holder::Free).count()
    }

    /// Number of slots of the TaskManagers still in the cluster.
    pub fn total(&self) -> usize {
        self.holders.iter().filter(|h| **h != Holder::Gone).count()
    }

    /// Number of slot indices ever added.
    pub fn len(&self) -> usize {
        self.holders.len()
    }

    /// Whether no slot was ever added.
    pub fn is_empty(&self) -> bool {
        self.holders.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_all_or_nothing_and_release_frees() {
        let mut pool = SlotPool::default();
        pool.add(3);
        let all = [0, 1, 2];
        let (a, b) = (JobId::random(), JobId::random());
        assert_eq!(pool.allocate(a, 2, &all).unwrap(), [0, 1]);
        assert_eq!(pool.allocate(b, 2, &all).unwrap_err(), NotEnoughSlots { needed: 2, free: 1, total: 3 });
        assert_eq!(pool.free(), 1);
        pool.release(a);
        assert_eq!(pool.allocate(b, 3, &[2, 0, 1]).unwrap(), [2, 0, 1]);
    }

    #[test]
    fn removed_slots_are_never_granted() {
        let mut pool = SlotPool::default();
        pool.add(2);
        pool.remove([0]);
        assert_eq!(pool.total(), 1);
        assert!(pool.allocate(JobId::random(), 2, &[0, 1]).is_err());
        assert_eq!(pool.allocate(JobId::random(), 1, &[0, 1]).unwrap(), [1]);
    }
}
