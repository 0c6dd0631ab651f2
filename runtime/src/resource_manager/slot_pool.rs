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

/// Every slot of the cluster and its holder.
#[derive(Debug, Default)]
pub struct SlotPool {
    holders: Vec<Option<JobId>>,
}

impl SlotPool {
    /// Adds `count` free slots; returns the index of the first.
    pub fn add(&mut self, count: usize) -> usize {
        let first = self.holders.len();
        self.holders.resize(first + count, None);
        first
    }

    /// Gives `needed` free slots to `job`, all or nothing.
    pub fn allocate(&mut self, job: JobId, needed: usize) -> Result<Vec<usize>, NotEnoughSlots> {
        let free: Vec<usize> = (0..self.holders.len()).filter(|i| self.holders[*i].is_none()).collect();
        if free.len() < needed {
            return Err(NotEnoughSlots { needed, free: free.len(), total: self.holders.len() });
        }
        for &i in &free[..needed] {
            self.holders[i] = Some(job);
        }
        Ok(free[..needed].to_vec())
    }

    /// Frees every slot `job` holds.
    pub fn release(&mut self, job: JobId) {
        for holder in &mut self.holders {
            if *holder == Some(job) {
                *holder = None;
            }
        }
    }

    /// Number of free slots.
    pub fn free(&self) -> usize {
        self.holders.iter().filter(|h| h.is_none()).count()
    }

    /// Number of slots.
    pub fn total(&self) -> usize {
        self.holders.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_all_or_nothing_and_release_frees() {
        let mut pool = SlotPool::default();
        pool.add(3);
        let (a, b) = (JobId::random(), JobId::random());
        assert_eq!(pool.allocate(a, 2).unwrap(), [0, 1]);
        assert_eq!(pool.allocate(b, 2).unwrap_err(), NotEnoughSlots { needed: 2, free: 1, total: 3 });
        assert_eq!(pool.free(), 1);
        pool.release(a);
        assert_eq!(pool.allocate(b, 3).unwrap(), [0, 1, 2]);
    }
}
