//! The group-commit writer on a real file: jobs that fail or panic roll back alone, a
//! failed COMMIT fails its whole batch, and what was acknowledged survives a reopen.

use std::sync::Arc;

use myna_domain::access::AccessRecord;
use myna_domain::fixtures::unknown_patient_denial;

use crate::error::Error;
use crate::store::Store;

fn denial() -> AccessRecord {
    unknown_patient_denial(1)
}

fn open(dir: &tempfile::TempDir) -> Arc<Store> {
    Arc::new(Store::open(&dir.path().join("edge.sqlite3")).unwrap())
}

/// (access-log rows, tree size, highest seq) as read by a fresh connection.
fn counts(store: &Store) -> (u64, u64, u64) {
    store
        .read_blocking(|tx| {
            let (rows, max_seq): (i64, i64) = tx.tx.query_row(
                "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM access_log",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok((rows as u64, tx.tree_size()?, max_seq as u64))
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_and_panicking_jobs_roll_back_alone_and_leave_no_gap_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let mut jobs = tokio::task::JoinSet::new();
    for n in 0..300u32 {
        let store = Arc::clone(&store);
        jobs.spawn(async move {
            let result = store
                .write(move |tx| {
                    let index = tx.append_access(&denial())?;
                    match n % 3 {
                        0 => Ok(index),
                        1 => Err(Error::Corrupt("this job fails after appending".into())),
                        _ => panic!("this job panics after appending"),
                    }
                })
                .await;
            (n, result)
        });
    }
    let mut acknowledged = Vec::new();
    while let Some(joined) = jobs.join_next().await {
        let (n, result) = joined.unwrap();
        match (n % 3, result) {
            (0, Ok(index)) => acknowledged.push(index),
            (1, Err(Error::Corrupt(_))) | (2, Err(Error::Poisoned)) => {}
            (kind, other) => panic!("job {n} (kind {kind}) answered {other:?}"),
        }
    }
    assert_eq!(acknowledged.len(), 100);
    // Every acknowledged job has its own leaf, and the rolled-back ones left no hole:
    // seq (and so the leaf index) runs without gaps over exactly the kept records.
    acknowledged.sort_unstable();
    assert_eq!(acknowledged, (0..100).collect::<Vec<u64>>());
    assert_eq!(counts(&store), (100, 100, 100));
    // The writer is still healthy after the panics.
    store.write(|tx| tx.append_access(&denial())).await.unwrap();
    assert_eq!(counts(&store), (101, 101, 101));
}

#[tokio::test]
async fn a_failed_commit_fails_every_job_of_its_batch_and_keeps_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store.write(|tx| tx.append_access(&denial())).await.unwrap();
    // A deferred foreign-key violation is checked only at COMMIT: the job itself succeeds
    // and the COMMIT of its batch fails, as a full disk would make it fail.
    let result = store
        .write(|tx| {
            tx.tx.execute_batch("PRAGMA defer_foreign_keys = ON")?;
            let index = tx.append_access(&denial())?;
            tx.tx.execute(
                "INSERT INTO access_flags (access_id, patient_id, flagged_at) \
                 VALUES ('no-such-access', 'no-such-patient', '2026-11-28T00:00:00Z')",
                [],
            )?;
            Ok(index)
        })
        .await;
    assert!(
        matches!(result, Err(Error::Unavailable(_))),
        "a failed commit must not acknowledge: {result:?}"
    );
    assert_eq!(counts(&store), (1, 1, 1));
    // The next batch commits normally.
    assert_eq!(
        store.write(|tx| tx.append_access(&denial())).await.unwrap(),
        1
    );
}

#[test]
fn acknowledged_writes_survive_a_reopen_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let indexes: Vec<u64> = (0..50)
        .map(|_| {
            store
                .write_blocking(|tx| tx.append_access(&denial()))
                .unwrap()
        })
        .collect();
    assert_eq!(indexes, (0..50).collect::<Vec<u64>>());
    let root = store.read_blocking(|tx| tx.tree_root(50)).unwrap();
    store.close();
    drop(store);
    let reopened = open(&dir);
    assert_eq!(counts(&reopened), (50, 50, 50));
    assert_eq!(reopened.read_blocking(|tx| tx.tree_root(50)).unwrap(), root);
}
