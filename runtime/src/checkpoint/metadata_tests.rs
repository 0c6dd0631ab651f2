use super::*;
use crate::checkpoint::KeyGroupOffset;
use crate::graph::ParallelismSources;
use crate::graph::job_graph::tests::wordcount;

fn job(parallelism: u32) -> JobGraph {
    let sources = ParallelismSources { default: 1, submitted: Some(parallelism), max_parallelism: 8 };
    JobGraph::build(&wordcount(), sources).unwrap()
}

/// A state file holding `groups`, each 10 bytes long.
fn file(path: &str, groups: std::ops::Range<u32>) -> StateFile {
    let key_groups: Vec<_> = groups
        .clone()
        .enumerate()
        .map(|(i, g)| KeyGroupOffset { key_group: g, offset: i as u64 * 10, length: 10 })
        .collect();
    StateFile { path: path.into(), size: key_groups.len() as u64 * 10, checksum: 0, key_groups }
}

/// The metadata of `job` at parallelism 2: keyed state in the count vertex, offsets in the source.
fn metadata(job: &JobGraph) -> CheckpointMetadata {
    let vertices = job
        .vertices
        .iter()
        .map(|v| VertexSnapshot {
            id: v.id.clone(),
            name: v.name.clone(),
            parallelism: v.parallelism,
            max_parallelism: v.max_parallelism,
            subtasks: (0..v.parallelism)
                .map(|i| TaskStateHandle {
                    keyed: v.keyed.then(|| file(&format!("{}-{i}.state", v.id), key_group_range(i, v.parallelism, 8))),
                    operator: v.source.is_some().then(|| vec![i as u8]),
                })
                .collect(),
        })
        .collect();
    CheckpointMetadata {
        job_id: "j".into(),
        job_name: job.job_name.clone(),
        component_hash: "h".into(),
        checkpoint_id: 7,
        kind: SnapshotKind::Checkpoint,
        timestamp: 1,
        vertices,
    }
}

#[test]
fn metadata_round_trips_and_refuses_corruption_and_truncation() {
    let m = metadata(&job(2));
    let bytes = m.encode();
    assert_eq!(CheckpointMetadata::decode(&bytes, "x").unwrap(), m);
    let err = CheckpointMetadata::decode(&bytes[..bytes.len() - 3], "chk-7/_metadata").unwrap_err().to_string();
    assert!(err.contains("chk-7/_metadata") && err.contains("truncated"), "{err}");
    let mut flipped = bytes.clone();
    *flipped.last_mut().unwrap() ^= 1;
    assert!(CheckpointMetadata::decode(&flipped, "x").unwrap_err().to_string().contains("checksum"));
    assert!(CheckpointMetadata::decode(b"hello", "x").unwrap_err().to_string().contains("not a wflink"));
}

#[test]
fn rescaling_redistributes_every_key_group_exactly_once() {
    let old = metadata(&job(2));
    for p in [1, 3] {
        let new = job(p);
        old.check_compatible(&new, "sp", false).unwrap();
        let restores = old.assign(&new, "sp");
        let keyed = new.vertices.iter().find(|v| v.keyed).unwrap();
        let mut groups: Vec<u32> = Vec::new();
        for (index, restore) in restores[keyed.index].iter().enumerate() {
            let restore = restore.as_ref().unwrap();
            let range = key_group_range(index as u32, p, 8);
            for file in &restore.keyed {
                assert!(file.key_groups.iter().all(|g| range.contains(&g.key_group)));
                groups.extend(file.key_groups.iter().map(|g| g.key_group));
            }
        }
        groups.sort();
        assert_eq!(groups, (0..8).collect::<Vec<_>>(), "at p={p}");
        let source = new.vertices.iter().find(|v| v.source.is_some()).unwrap();
        let union = &restores[source.index][0].as_ref().unwrap().operator;
        assert_eq!(union.len(), 2, "every old source subtask's state is offered");
    }
}

#[test]
fn another_job_or_missing_operators_are_refused_by_name() {
    let new = job(2);
    let mut other = metadata(&new);
    other.job_name = "windows".into();
    let err = other.check_compatible(&new, "/sp/1", false).unwrap_err().to_string();
    assert!(err.contains("windows") && err.contains("wordcount") && err.contains("/sp/1"), "{err}");
    let mut renamed = metadata(&new);
    let keyed = renamed.vertices.iter_mut().find(|v| v.subtasks[0].keyed.is_some()).unwrap();
    keyed.id = "0123".into();
    let err = renamed.check_compatible(&new, "/sp/1", false).unwrap_err().to_string();
    assert!(err.contains("0123") && err.contains("--allowNonRestoredState"), "{err}");
    renamed.check_compatible(&new, "/sp/1", true).unwrap();
}

#[test]
fn load_checks_every_state_file() {
    let dir = std::env::temp_dir().join(format!("wflink-metadata-{}", uuid::Uuid::new_v4()));
    let storage = CheckpointStorage::open(dir.to_str().unwrap()).unwrap();
    let mut m = metadata(&job(2));
    for v in &mut m.vertices {
        for h in &mut v.subtasks {
            if let Some(f) = &mut h.keyed {
                let bytes = vec![7u8; f.size as usize];
                f.checksum = xxhash_rust::xxh3::xxh3_64(&bytes);
                storage.put(&join("job/chk-7", &f.path), bytes).unwrap();
            }
        }
    }
    storage.put("job/chk-7/_metadata", m.encode()).unwrap();
    let loaded = futures::executor::block_on(CheckpointMetadata::load(&storage, "job/chk-7")).unwrap();
    assert_eq!(loaded, m);
    let victim = m.state_files().next().unwrap().path.clone();
    storage.put(&join("job/chk-7", &victim), vec![7u8; 5]).unwrap();
    let err = futures::executor::block_on(CheckpointMetadata::load(&storage, "job/chk-7")).unwrap_err().to_string();
    assert!(err.contains(&victim) && err.contains("bytes where"), "{err}");
    let err = futures::executor::block_on(CheckpointMetadata::load(&storage, "job/chk-8")).unwrap_err().to_string();
    assert!(err.contains("no checkpoint or savepoint") && err.contains("chk-8"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}
