use super::*;
use crate::checkpoint::StateFile;

fn settings(max_concurrent: usize, retained: usize) -> CheckpointSettings {
    CheckpointSettings {
        interval: Duration::from_millis(100),
        timeout: Duration::from_millis(500),
        max_concurrent,
        retained,
        location: "/tmp/x".into(),
        savepoint_dir: String::new(),
        tolerable_failures: 1,
    }
}

fn ack(id: CheckpointId, vertex: usize, index: u32, size: u64) -> CheckpointReport {
    ack_with(id, vertex, index, size, None)
}

fn ack_with(id: CheckpointId, vertex: usize, index: u32, size: u64, operator: Option<Vec<u8>>) -> CheckpointReport {
    let keyed = (size > 0).then(|| StateFile {
        path: format!("job/chk-{id}/{vertex}-{index}.state"),
        size,
        checksum: 1,
        key_groups: Vec::new(),
    });
    let handle = TaskStateHandle { keyed, operator };
    CheckpointReport {
        subtask: SubtaskId { vertex, index },
        checkpoint_id: id,
        outcome: CheckpointOutcome::Acknowledged(handle),
    }
}

/// Acknowledges `id` from every subtask of a [1, 2] job; returns the last effect.
fn ack_all(c: &mut CheckpointCoordinator, id: CheckpointId) -> ReportEffect {
    assert!(matches!(c.report(ack(id, 0, 0, 0), 10), ReportEffect::Pending));
    assert!(matches!(c.report(ack(id, 1, 0, 100), 11), ReportEffect::Pending));
    c.report(ack(id, 1, 1, 50), 12)
}

#[test]
fn a_checkpoint_completes_when_every_subtask_acknowledged() {
    let mut c = CheckpointCoordinator::new(settings(1, 1), vec![1, 2]);
    let barrier = c.trigger(SnapshotKind::Checkpoint, 5, &[]).unwrap();
    assert_eq!(barrier.id, 1);
    assert!(matches!(c.report(ack(1, 1, 0, 100), 10), ReportEffect::Pending));
    assert!(matches!(c.report(ack(1, 1, 0, 100), 10), ReportEffect::Ignored), "a duplicate counts once");
    assert!(matches!(c.report(ack(9, 0, 0, 0), 10), ReportEffect::Ignored), "unknown checkpoint");
    assert!(matches!(c.report(ack(1, 0, 0, 0), 11), ReportEffect::Pending));
    let ReportEffect::AllAcknowledged(pending) = c.report(ack(1, 1, 1, 50), 12) else { panic!("not complete") };
    assert_eq!(c.stats().in_progress(), 1, "in progress until the metadata is written");
    assert!(c.completed(&pending, "job/chk-1".into(), "/tmp/x/job/chk-1".into(), 20).is_empty());
    let stats = c.stats();
    assert_eq!((stats.total, stats.completed, stats.failed, stats.in_progress()), (1, 1, 0, 0));
    let latest = stats.latest_completed.as_ref().unwrap();
    assert_eq!((latest.state_size, latest.end_to_end_duration, latest.num_acknowledged_subtasks), (150, 15, 3));
    assert_eq!(latest.external_path.as_deref(), Some("/tmp/x/job/chk-1"));
}

#[test]
fn metadata_holds_paths_relative_to_the_checkpoint() {
    let job = crate::graph::JobGraph::build(
        &crate::graph::job_graph::tests::wordcount(),
        crate::graph::ParallelismSources { default: 1, submitted: Some(2), max_parallelism: 8 },
    )
    .unwrap();
    let shape: Vec<u32> = job.vertices.iter().map(|v| v.parallelism).collect();
    let mut c = CheckpointCoordinator::new(settings(1, 1), shape.clone());
    let id = c.trigger(SnapshotKind::Savepoint, 1, &[]).unwrap().id;
    let mut effect = ReportEffect::Ignored;
    for (vertex, p) in shape.iter().enumerate() {
        for index in 0..*p {
            effect = c.report(ack(id, vertex, index, 10), 2);
        }
    }
    let ReportEffect::AllAcknowledged(pending) = effect else { panic!("not complete") };
    let metadata = pending.metadata(&job, "job", "hash");
    assert_eq!(metadata.kind, SnapshotKind::Savepoint);
    assert_eq!(metadata.vertices.len(), job.vertices.len());
    assert!(metadata.state_files().all(|f| !f.path.contains('/')), "{metadata:?}");
    assert_eq!(metadata.state_size(), 10 * shape.iter().sum::<u32>() as u64);
}

#[test]
fn max_concurrent_bounds_periodic_checkpoints_but_not_savepoints() {
    let mut c = CheckpointCoordinator::new(settings(1, 1), vec![1, 2]);
    c.trigger(SnapshotKind::Checkpoint, 0, &[]).unwrap();
    assert_eq!(c.trigger(SnapshotKind::Checkpoint, 1, &[]), Err(TriggerRefused::TooManyConcurrent(1)));
    assert_eq!(c.trigger(SnapshotKind::Savepoint, 1, &[]).unwrap().id, 2);
    let mut two = CheckpointCoordinator::new(settings(2, 1), vec![1]);
    two.trigger(SnapshotKind::Checkpoint, 0, &[]).unwrap();
    two.trigger(SnapshotKind::Checkpoint, 0, &[]).unwrap();
    assert!(two.trigger(SnapshotKind::Checkpoint, 0, &[]).is_err());
}

#[test]
fn a_decline_fails_the_checkpoint_and_frees_its_place() {
    let mut c = CheckpointCoordinator::new(settings(1, 1), vec![1, 2]);
    c.trigger(SnapshotKind::Checkpoint, 0, &[]).unwrap();
    let decline = CheckpointReport {
        subtask: SubtaskId { vertex: 1, index: 1 },
        checkpoint_id: 1,
        outcome: CheckpointOutcome::Declined("disk full".into()),
    };
    let ReportEffect::Declined(barrier, reason) = c.report(decline, 3) else { panic!("not declined") };
    assert_eq!(barrier.id, 1);
    assert!(reason.contains("disk full"), "{reason}");
    assert!(matches!(c.report(ack(1, 0, 0, 0), 4), ReportEffect::Ignored), "a failed checkpoint takes no acks");
    let failed = c.stats().latest_failed.as_ref().unwrap();
    assert_eq!((failed.id, failed.status), (1, CheckpointStatus::Failed));
    assert_eq!(c.trigger(SnapshotKind::Checkpoint, 5, &[]).unwrap().id, 2);
}

#[test]
fn checkpoints_time_out() {
    let mut c = CheckpointCoordinator::new(settings(2, 1), vec![1, 2]);
    c.trigger(SnapshotKind::Checkpoint, 0, &[]).unwrap();
    c.trigger(SnapshotKind::Checkpoint, 300, &[]).unwrap();
    assert!(c.expired(499).is_empty());
    assert_eq!(c.expired(500), [1]);
    c.failed(1, "expired before completing (execution.checkpointing.timeout)", 500);
    assert_eq!(c.expired(800), [2]);
    assert_eq!(c.stats().failed, 1);
    assert_eq!(c.abort_all("job failed", 900).len(), 1);
    assert!(!c.has_pending());
}

#[test]
fn retention_retires_the_oldest_completed_checkpoints() {
    let mut c = CheckpointCoordinator::new(settings(1, 2), vec![1, 2]);
    let mut retired = Vec::new();
    for id in 1..=4 {
        assert_eq!(c.trigger(SnapshotKind::Checkpoint, 0, &[]).unwrap().id, id);
        let ReportEffect::AllAcknowledged(p) = ack_all(&mut c, id) else { panic!("not complete") };
        retired.extend(c.completed(&p, format!("job/chk-{id}"), String::new(), 20));
    }
    assert_eq!(retired, ["job/chk-1", "job/chk-2"]);
    let kept: Vec<_> = c.retained_newest_first().map(|r| r.id).collect();
    assert_eq!(kept, [4, 3]);
    c.forget(4);
    assert_eq!(c.retained_newest_first().next().unwrap().id, 3);
    // Savepoints are the user's: never retained, never retired.
    let sp = c.trigger(SnapshotKind::Savepoint, 0, &[]).unwrap().id;
    let ReportEffect::AllAcknowledged(p) = ack_all(&mut c, sp) else { panic!("not complete") };
    assert!(c.completed(&p, "/sp".into(), "/sp".into(), 30).is_empty());
    assert_eq!(c.stats().latest_savepoint.as_ref().unwrap().id, sp);
}

#[test]
fn ids_continue_after_a_restore() {
    let mut c = CheckpointCoordinator::new(settings(1, 1), vec![1]);
    c.restored(RestoredCheckpoint { id: 41, is_savepoint: true, restore_timestamp: 1, external_path: "/sp".into() });
    assert_eq!(c.trigger(SnapshotKind::Checkpoint, 0, &[]).unwrap().id, 42);
    assert_eq!(c.stats().restored, 1);
}

#[test]
fn finished_subtasks_count_as_acknowledged_without_state() {
    let mut c = CheckpointCoordinator::new(settings(1, 1), vec![1, 2]);
    let id = c.trigger(SnapshotKind::Checkpoint, 0, &[SubtaskId { vertex: 1, index: 0 }]).unwrap().id;
    assert_eq!(c.awaiting(SubtaskId { vertex: 1, index: 0 }), Vec::<CheckpointId>::new());
    assert_eq!(c.awaiting(SubtaskId { vertex: 1, index: 1 }), [id]);
    assert!(matches!(c.report(ack(id, 0, 0, 0), 1), ReportEffect::Pending));
    let ReportEffect::AllAcknowledged(pending) = c.report(ack(id, 1, 1, 5), 2) else { panic!("not complete") };
    assert_eq!(pending.handles[1][0], Some(TaskStateHandle::default()));
}

#[test]
fn a_finished_subtask_stands_with_its_operator_state_of_the_latest_completed_checkpoint() {
    let mut c = CheckpointCoordinator::new(settings(1, 1), vec![1, 2]);
    let first = c.trigger(SnapshotKind::Checkpoint, 0, &[]).unwrap().id;
    assert!(matches!(c.report(ack_with(first, 0, 0, 0, Some(b"ended".to_vec())), 10), ReportEffect::Pending));
    assert!(matches!(c.report(ack(first, 1, 0, 100), 11), ReportEffect::Pending));
    let ReportEffect::AllAcknowledged(pending) = c.report(ack(first, 1, 1, 50), 12) else { panic!("not complete") };
    c.completed(&pending, format!("job/chk-{first}"), String::new(), 20);
    let finished = [SubtaskId { vertex: 0, index: 0 }, SubtaskId { vertex: 1, index: 0 }];
    let second = c.trigger(SnapshotKind::Checkpoint, 30, &finished).unwrap().id;
    let ReportEffect::AllAcknowledged(pending) = c.report(ack(second, 1, 1, 7), 32) else { panic!("not complete") };
    let source = pending.handles[0][0].clone().unwrap();
    assert_eq!(source.operator.as_deref(), Some(&b"ended"[..]), "the ended source keeps its last position");
    assert_eq!(pending.handles[1][0], Some(TaskStateHandle::default()), "no keyed file of a retired checkpoint");
}

/// A source that finished before any checkpoint recorded its end (no
/// periodic checkpoints, or a savepoint taken earlier while it ran)
/// stands in later savepoints with the state it finished with, not with a
/// position of before its end.
#[test]
fn a_finished_subtask_stands_with_the_state_it_finished_with() {
    let mut c = CheckpointCoordinator::new(settings(1, 1), vec![1, 2]);
    let first = c.trigger(SnapshotKind::Savepoint, 0, &[]).unwrap().id;
    assert!(matches!(c.report(ack_with(first, 0, 0, 0, Some(b"halfway".to_vec())), 10), ReportEffect::Pending));
    assert!(matches!(c.report(ack(first, 1, 0, 100), 11), ReportEffect::Pending));
    let ReportEffect::AllAcknowledged(pending) = c.report(ack(first, 1, 1, 50), 12) else { panic!("not complete") };
    c.completed(&pending, format!("job/sp-{first}"), String::new(), 20);
    let source = SubtaskId { vertex: 0, index: 0 };
    c.finished(source, TaskStateHandle { keyed: None, operator: Some(b"ended".to_vec()) });
    for (at, kind) in [(30, SnapshotKind::Savepoint), (40, SnapshotKind::Checkpoint)] {
        let id = c.trigger(kind, at, &[source]).unwrap().id;
        assert!(matches!(c.report(ack(id, 1, 0, 7), at + 1), ReportEffect::Pending));
        let ReportEffect::AllAcknowledged(pending) = c.report(ack(id, 1, 1, 7), at + 2) else { panic!("incomplete") };
        assert_eq!(pending.handles[0][0].clone().unwrap().operator.as_deref(), Some(&b"ended"[..]), "{kind:?}");
        c.completed(&pending, format!("job/chk-{id}"), String::new(), at + 3);
    }
}

#[test]
fn failures_in_a_row_beyond_the_tolerance_fail_the_job_and_a_completion_resets_them() {
    let mut c = CheckpointCoordinator::new(settings(1, 1), vec![1]);
    c.trigger(SnapshotKind::Checkpoint, 0, &[]).unwrap();
    c.failed(1, "disk full", 1);
    assert_eq!(c.count_failure(1), None, "one failure is tolerated");
    c.trigger(SnapshotKind::Checkpoint, 2, &[]).unwrap();
    let ReportEffect::AllAcknowledged(pending) = c.report(ack(2, 0, 0, 0), 3) else { panic!("not complete") };
    c.completed(&pending, "chk-2".into(), "/tmp/x/chk-2".into(), 3);
    c.trigger(SnapshotKind::Savepoint, 4, &[]).unwrap();
    c.failed(3, "disk full", 5);
    assert_eq!(c.count_failure(3), None, "savepoints are not counted");
    for id in [4, 5] {
        c.trigger(SnapshotKind::Checkpoint, 6, &[]).unwrap();
        c.failed(id, "disk full", 7);
    }
    assert_eq!(c.count_failure(4), None, "the completion reset the count");
    assert_eq!(c.count_failure(5), Some(2), "the second in a row is one too many");
}
