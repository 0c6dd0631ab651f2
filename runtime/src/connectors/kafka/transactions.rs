//! The exactly-once Kafka sink's two-phase commit, against the small
//! [`TxnClient`] trait so its logic is tested without a broker.
//!
//! Flink's `KafkaSink` writes into an open transaction and, after a
//! failure, commits a pre-committed transaction from a new producer by
//! resuming it (producer id and epoch, set by reflection into the Java
//! client). librdkafka cannot resume a transaction another process began,
//! so a transaction open at a crash can only be aborted. The records of a
//! checkpoint are therefore staged, not sent, until their checkpoint
//! completes:
//!
//! 1. **Pre-commit** (at the barrier of checkpoint `n`): the records since
//!    the last barrier become checkpoint `n`'s batch, and every batch not
//!    committed yet is part of the subtask's checkpointed state.
//! 2. **Commit** (checkpoint `n` completed): one Kafka transaction per
//!    checkpoint, in order: begin, send the batch, commit it *together
//!    with a marker*, the offset `n` committed for the consumer group named
//!    by the transactional id (`send_offsets_to_transaction`), so the
//!    batch and the fact that it was committed become visible atomically.
//! 3. **Recover** (on restore): the restored batches' checkpoints all
//!    completed. Opening the transactional id fences the failed attempt's
//!    producer and aborts the transaction it left open; then each restored
//!    batch whose checkpoint is above the committed marker is committed
//!    again, the others were committed before the failure and are skipped.
//!    Nothing is lost and nothing is written twice.
//!
//! Transactional ids are `<prefix>-<subtask>`; after a restore at another
//! parallelism, old subtask `j`'s batches are recovered by new subtask
//! `j mod parallelism` under old subtask `j`'s id.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::checkpoint::CheckpointId;

/// The marker of the batch committed at the end of input (no checkpoint).
pub(super) const FINAL_MARKER: i64 = i64::MAX;

/// A record to produce.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OutRecord {
    /// The topic; `None`: the sink's `topic`.
    pub topic: Option<String>,
    /// The partition; `None`: librdkafka's partitioner (by key).
    pub partition: Option<i32>,
    #[serde(with = "serde_bytes")]
    pub key: Option<Vec<u8>>,
    #[serde(with = "serde_bytes")]
    pub value: Option<Vec<u8>>,
    /// Its timestamp (ms); `None`: the time it is produced.
    pub timestamp: Option<i64>,
    pub headers: Vec<(String, Option<serde_bytes::ByteBuf>)>,
}

/// A transactional producer of one transactional id: what the
/// exactly-once logic needs of Kafka.
pub(crate) trait TxnClient: Send {
    /// Begins a transaction.
    fn begin(&mut self) -> Result<(), String>;
    /// Sends a record into the open transaction.
    fn send(&mut self, record: &OutRecord) -> Result<(), String>;
    /// Commits the open transaction together with `marker` as the
    /// committed offset of this transactional id's marker group.
    fn commit(&mut self, marker: i64) -> Result<(), String>;
    /// Aborts the open transaction.
    fn abort(&mut self) -> Result<(), String>;
    /// The marker last committed under this transactional id.
    fn committed_marker(&mut self) -> Result<Option<i64>, String>;
}

/// Opens the client of a transactional id: fences every earlier producer
/// of that id and aborts the transaction it left open.
pub(crate) type OpenClient = Box<dyn FnMut(&str) -> Result<Box<dyn TxnClient>, String> + Send>;

/// Checkpoint `checkpoint`'s records, waiting for it to complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Batch {
    checkpoint: CheckpointId,
    records: Vec<OutRecord>,
}

/// The checkpointed state of one exactly-once sink subtask.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct TxnState {
    /// The subtask that wrote it (its transactional id's suffix).
    subtask: u32,
    /// Batches of completed-or-not checkpoints not committed yet, oldest first.
    pending: Vec<Batch>,
}

/// The exactly-once writer of one subtask.
pub(crate) struct ExactlyOnce {
    prefix: String,
    subtask: u32,
    open: OpenClient,
    /// This subtask's client, opened at the first commit.
    client: Option<Box<dyn TxnClient>>,
    /// Records since the last barrier.
    staged: Vec<OutRecord>,
    /// Batches pre-committed at barriers, oldest first.
    pending: VecDeque<Batch>,
}

impl ExactlyOnce {
    /// The writer of `subtask` (of `parallelism`), recovering the batches
    /// of the old subtasks it takes over from `restored`.
    pub(crate) fn open(
        prefix: &str,
        subtask: u32,
        parallelism: u32,
        restored: &[Vec<u8>],
        mut open: OpenClient,
    ) -> Result<Self, String> {
        let mut by_subtask: BTreeMap<u32, Vec<Batch>> = BTreeMap::new();
        for state in restored {
            let state: TxnState = rmp_serde::from_slice(state)
                .map_err(|e| format!("the checkpointed kafka sink state is unreadable: {e}"))?;
            if state.subtask % parallelism == subtask {
                by_subtask.entry(state.subtask).or_default().extend(state.pending);
            }
        }
        let mut own = None;
        for (old, batches) in by_subtask {
            let id = transactional_id(prefix, old);
            let mut client = open(&id)?;
            let committed = client.committed_marker()?.unwrap_or(i64::MIN);
            for batch in batches {
                let marker = batch.checkpoint as i64;
                if marker <= committed {
                    tracing::info!(transactional_id = %id, checkpoint = batch.checkpoint, "kafka transaction committed before the failure");
                    continue;
                }
                tracing::info!(transactional_id = %id, checkpoint = batch.checkpoint, records = batch.records.len(), "committing a restored kafka transaction");
                run_transaction(client.as_mut(), &batch.records, marker)?;
            }
            if old == subtask {
                own = Some(client);
            }
        }
        Ok(ExactlyOnce {
            prefix: prefix.to_string(),
            subtask,
            open,
            client: own,
            staged: Vec::new(),
            pending: VecDeque::new(),
        })
    }

    /// Stages a record for the next checkpoint's transaction.
    pub(crate) fn write(&mut self, record: OutRecord) {
        self.staged.push(record);
    }

    /// At checkpoint `checkpoint`'s barrier: its batch is what was staged;
    /// returns the state to checkpoint (every batch not committed yet).
    pub(crate) fn pre_commit(&mut self, checkpoint: CheckpointId) -> Vec<u8> {
        let records = std::mem::take(&mut self.staged);
        if !records.is_empty() {
            self.pending.push_back(Batch { checkpoint, records });
        }
        let state = TxnState { subtask: self.subtask, pending: self.pending.iter().cloned().collect() };
        rmp_serde::to_vec(&state).expect("a kafka sink state serializes")
    }

    /// Checkpoint `checkpoint` completed: commits the batches up to it,
    /// one transaction each.
    pub(crate) fn commit(&mut self, checkpoint: CheckpointId) -> Result<(), String> {
        while self.pending.front().is_some_and(|b| b.checkpoint <= checkpoint) {
            self.client()?;
            let (Some(batch), Some(client)) = (self.pending.front(), self.client.as_mut()) else { break };
            run_transaction(client.as_mut(), &batch.records, batch.checkpoint as i64)?;
            self.pending.pop_front();
        }
        Ok(())
    }

    /// End of input: commits everything, staged records included.
    pub(crate) fn finish(&mut self) -> Result<(), String> {
        self.commit(CheckpointId::MAX)?;
        let records = std::mem::take(&mut self.staged);
        if !records.is_empty() {
            run_transaction(self.client()?, &records, FINAL_MARKER)?;
        }
        Ok(())
    }

    fn client(&mut self) -> Result<&mut dyn TxnClient, String> {
        if self.client.is_none() {
            self.client = Some((self.open)(&transactional_id(&self.prefix, self.subtask))?);
        }
        Ok(self.client.as_mut().expect("just opened").as_mut())
    }
}

/// `<prefix>-<subtask>`.
pub(super) fn transactional_id(prefix: &str, subtask: u32) -> String {
    format!("{prefix}-{subtask}")
}

/// One transaction: begin, send `records`, commit with `marker`; aborted
/// if any step fails (the error is returned).
fn run_transaction(client: &mut dyn TxnClient, records: &[OutRecord], marker: i64) -> Result<(), String> {
    client.begin()?;
    let sent = records.iter().try_for_each(|r| client.send(r)).and_then(|()| client.commit(marker));
    if let Err(error) = sent {
        if let Err(abort) = client.abort() {
            tracing::warn!(%abort, "aborting the failed kafka transaction failed too");
        }
        return Err(error);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A broker as the transactions see it: per transactional id, the
    /// committed records, the marker, and an open transaction.
    #[derive(Default)]
    struct Broker {
        committed: Vec<String>,
        markers: BTreeMap<String, i64>,
        open: BTreeMap<String, Vec<String>>,
        log: Vec<String>,
        fail_commit_of: Option<String>,
    }

    struct Fake {
        id: String,
        broker: Arc<Mutex<Broker>>,
    }

    impl TxnClient for Fake {
        fn begin(&mut self) -> Result<(), String> {
            let mut b = self.broker.lock().unwrap();
            b.log.push(format!("begin {}", self.id));
            b.open.insert(self.id.clone(), Vec::new());
            Ok(())
        }
        fn send(&mut self, record: &OutRecord) -> Result<(), String> {
            let value = String::from_utf8(record.value.clone().unwrap()).unwrap();
            self.broker.lock().unwrap().open.get_mut(&self.id).expect("a transaction is open").push(value);
            Ok(())
        }
        fn commit(&mut self, marker: i64) -> Result<(), String> {
            let mut b = self.broker.lock().unwrap();
            let records = b.open.get(&self.id).cloned().expect("a transaction is open");
            if b.fail_commit_of.as_deref() == records.first().map(String::as_str) {
                return Err("the broker went away".into());
            }
            b.open.remove(&self.id);
            b.committed.extend(records);
            b.markers.insert(self.id.clone(), marker);
            b.log.push(format!("commit {} {marker}", self.id));
            Ok(())
        }
        fn abort(&mut self) -> Result<(), String> {
            let mut b = self.broker.lock().unwrap();
            b.open.remove(&self.id);
            b.log.push(format!("abort {}", self.id));
            Ok(())
        }
        fn committed_marker(&mut self) -> Result<Option<i64>, String> {
            Ok(self.broker.lock().unwrap().markers.get(&self.id).copied())
        }
    }

    fn opener(broker: &Arc<Mutex<Broker>>) -> OpenClient {
        let broker = broker.clone();
        Box::new(move |id: &str| {
            let mut b = broker.lock().unwrap();
            // Opening fences the earlier producer: its open transaction is aborted.
            if b.open.remove(id).is_some() {
                b.log.push(format!("fenced {id}"));
            }
            b.log.push(format!("open {id}"));
            Ok(Box::new(Fake { id: id.to_string(), broker: broker.clone() }) as Box<dyn TxnClient>)
        })
    }

    fn record(value: &str) -> OutRecord {
        OutRecord { value: Some(value.as_bytes().to_vec()), ..Default::default() }
    }

    fn committed(broker: &Arc<Mutex<Broker>>) -> Vec<String> {
        let mut all = broker.lock().unwrap().committed.clone();
        all.sort();
        all
    }

    #[test]
    fn records_become_visible_when_their_checkpoint_completes_one_transaction_each() {
        let broker = Arc::new(Mutex::new(Broker::default()));
        let mut sink = ExactlyOnce::open("job", 0, 1, &[], opener(&broker)).unwrap();
        sink.write(record("a"));
        sink.pre_commit(1);
        sink.write(record("b"));
        assert_eq!(committed(&broker), Vec::<String>::new(), "nothing before completion");
        sink.pre_commit(2); // checkpoint 1's notification is late
        sink.write(record("c"));
        sink.commit(2).unwrap();
        assert_eq!(committed(&broker), ["a", "b"]);
        assert_eq!(
            broker.lock().unwrap().log,
            ["open job-0", "begin job-0", "commit job-0 1", "begin job-0", "commit job-0 2"]
        );
        sink.finish().unwrap();
        assert_eq!(committed(&broker), ["a", "b", "c"]);
    }

    #[test]
    fn a_restore_commits_what_the_failure_left_uncommitted_and_aborts_the_open_transaction() {
        let broker = Arc::new(Mutex::new(Broker::default()));
        let mut sink = ExactlyOnce::open("job", 0, 1, &[], opener(&broker)).unwrap();
        sink.write(record("a"));
        sink.pre_commit(1);
        sink.commit(1).unwrap();
        sink.write(record("b"));
        let state = sink.pre_commit(2);
        // Checkpoint 2 completes, but the subtask dies before committing
        // it, in the middle of a transaction of records after it.
        broker.lock().unwrap().open.insert("job-0".into(), vec!["after".into()]);
        drop(sink);
        let restored = ExactlyOnce::open("job", 0, 1, std::slice::from_ref(&state), opener(&broker)).unwrap();
        assert_eq!(committed(&broker), ["a", "b"], "checkpoint 2's batch committed once, nothing after it");
        assert!(broker.lock().unwrap().log.contains(&"fenced job-0".to_string()));
        drop(restored);
        // Restoring the same checkpoint again (a failure during recovery) commits nothing twice.
        ExactlyOnce::open("job", 0, 1, &[state], opener(&broker)).unwrap();
        assert_eq!(committed(&broker), ["a", "b"]);
    }

    #[test]
    fn a_restore_at_another_parallelism_recovers_every_old_subtask_once() {
        let broker = Arc::new(Mutex::new(Broker::default()));
        let mut states = Vec::new();
        for subtask in 0..3 {
            let mut sink = ExactlyOnce::open("job", subtask, 3, &[], opener(&broker)).unwrap();
            sink.write(record(&format!("s{subtask}")));
            states.push(sink.pre_commit(5));
            if subtask == 1 {
                sink.commit(5).unwrap(); // only subtask 1 heard of the completion
            }
        }
        for subtask in 0..2 {
            ExactlyOnce::open("job", subtask, 2, &states, opener(&broker)).unwrap();
        }
        assert_eq!(committed(&broker), ["s0", "s1", "s2"]);
    }

    #[test]
    fn a_failed_commit_aborts_and_keeps_the_batch_for_recovery() {
        let broker = Arc::new(Mutex::new(Broker { fail_commit_of: Some("x".into()), ..Default::default() }));
        let mut sink = ExactlyOnce::open("job", 0, 1, &[], opener(&broker)).unwrap();
        sink.write(record("x"));
        let state = sink.pre_commit(1);
        let err = sink.commit(1).unwrap_err();
        assert!(err.contains("went away"), "{err}");
        assert!(broker.lock().unwrap().log.contains(&"abort job-0".to_string()));
        broker.lock().unwrap().fail_commit_of = None;
        ExactlyOnce::open("job", 0, 1, &[state], opener(&broker)).unwrap();
        assert_eq!(committed(&broker), ["x"]);
    }
}
