//! Witness tests: logs built and signed here, served by the canned edge over a socket.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use myna_domain::transparency::{LogSigner, MemoryTree};
use myna_domain::wire::ConsistencyProofDto;

use super::*;
use crate::test_support::{Exchange, FakeEdge};

const ORIGIN: &str = "edge.test/access-log";
const SECRET: [u8; 32] = [7; 32];

/// A log with its signing key: the edge's side.
struct Log {
    signer: LogSigner,
    tree: MemoryTree,
}

impl Log {
    fn new(secret: [u8; 32], entries: &[&str]) -> Log {
        let mut tree = MemoryTree::new();
        for entry in entries {
            tree.push(entry.as_bytes());
        }
        Log {
            signer: LogSigner::from_secret(ORIGIN, secret).unwrap(),
            tree,
        }
    }

    /// The signed checkpoint note of the first `size` entries.
    fn note(&self, size: u64) -> String {
        let time = DateTime::<Utc>::from_timestamp(1_800_000_000 + size as i64, 0).unwrap();
        let root = self.tree.root(size).unwrap();
        self.signer.sign(size, root, time).unwrap().note
    }

    fn checkpoint_reply(&self, size: u64) -> Exchange {
        Exchange {
            expect: "GET /v1/log/checkpoint".into(),
            status: 200,
            body: self.note(size),
        }
    }

    fn proof_reply(&self, from: u64, to: u64) -> Exchange {
        let hashes = self.tree.prove_consistency(from, to).unwrap();
        let dto = ConsistencyProofDto {
            from,
            to,
            hashes: wire::proof_strings(&hashes),
        };
        Exchange {
            expect: format!("GET /v1/log/proof/consistency?from={from}&to={to}"),
            status: 200,
            body: serde_json::to_string(&dto).unwrap(),
        }
    }
}

fn entries(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("access record {i}")).collect()
}

fn honest_log(n: usize) -> Log {
    let entries = entries(n);
    Log::new(
        SECRET,
        &entries.iter().map(String::as_str).collect::<Vec<_>>(),
    )
}

fn verifier_key() -> String {
    honest_log(0).signer.verifier_key().to_string()
}

async fn edge(script: Vec<Exchange>) -> (FakeEdge, EdgeClient) {
    let fake = FakeEdge::start(script).await;
    let client = EdgeClient::new(fake.base_url.clone(), "tablet-token".into()).unwrap();
    (fake, client)
}

/// The note of the last seen checkpoint.
fn last_note(witness: &LogWitness) -> Option<String> {
    witness
        .inner
        .lock()
        .checkpoint
        .as_ref()
        .map(|c| c.note.clone())
}

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "mobile-core-log-witness-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn file(&self) -> PathBuf {
        self.0.join("access-log-checkpoint")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn first_contact_stores_the_checkpoint() {
    let log = honest_log(3);
    let (fake, client) = edge(vec![log.checkpoint_reply(3)]).await;
    let witness = LogWitness::new(&verifier_key(), None).unwrap();
    assert_eq!(witness.last_seen_size(), None);

    let check = witness.check(&client).await.unwrap();

    assert_eq!(
        check,
        LogCheck {
            size: 3,
            previous_size: None,
            signed_at: "2027-01-15T08:00:03.000Z".into(),
        }
    );
    assert_eq!(witness.last_seen_size(), Some(3));
    assert_eq!(last_note(&witness), Some(log.note(3)));
    assert_eq!(fake.received().len(), 1);
}

#[tokio::test]
async fn a_grown_log_with_a_valid_proof_is_accepted_and_stored() {
    let log = honest_log(7);
    let (fake, client) = edge(vec![
        log.checkpoint_reply(3),
        log.checkpoint_reply(3),
        log.checkpoint_reply(7),
        log.proof_reply(3, 7),
    ])
    .await;
    let witness = LogWitness::new(&verifier_key(), None).unwrap();
    witness.check(&client).await.unwrap();

    // Same size, same root: nothing to prove.
    let same = witness.check(&client).await.unwrap();
    assert_eq!((same.previous_size, same.size), (Some(3), 3));

    let grown = witness.check(&client).await.unwrap();
    assert_eq!((grown.previous_size, grown.size), (Some(3), 7));
    assert_eq!(last_note(&witness), Some(log.note(7)));
    let lines: Vec<_> = fake.received().into_iter().map(|r| r.line).collect();
    assert_eq!(
        lines.last().map(String::as_str),
        Some("GET /v1/log/proof/consistency?from=3&to=7")
    );
}

#[tokio::test]
async fn a_rewritten_history_is_rejected_and_the_old_checkpoint_kept() {
    let original = honest_log(3);
    // Same key, same size then growth, but entry 1 was replaced.
    let mut rewritten_entries = entries(5);
    rewritten_entries[1] = "access record 1, rewritten".into();
    let rewritten = Log::new(
        SECRET,
        &rewritten_entries
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let (_fake, client) = edge(vec![
        original.checkpoint_reply(3),
        rewritten.checkpoint_reply(5),
        rewritten.proof_reply(3, 5),
        rewritten.checkpoint_reply(3),
    ])
    .await;
    let witness = LogWitness::new(&verifier_key(), None).unwrap();
    witness.check(&client).await.unwrap();

    // A grown log whose proof (honest for the rewritten tree) cannot reach the old root.
    let error = witness.check(&client).await.unwrap_err();
    assert!(
        matches!(
            error,
            MobileError::LogInconsistent {
                previous_size: 3,
                size: 5,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "The records service failed its tamper check (its access log was altered). \
         Patient care can continue; report this to your supervisor."
    );
    assert!(!error.is_retryable());
    assert_eq!(last_note(&witness), Some(original.note(3)));

    // The same size with another root: a fork.
    let error = witness.check(&client).await.unwrap_err();
    assert!(
        matches!(error, MobileError::LogInconsistent { ref detail, .. } if detail.contains("different roots")),
        "{error:?}"
    );
    assert_eq!(last_note(&witness), Some(original.note(3)));
}

#[tokio::test]
async fn a_rollback_is_rejected_without_asking_for_a_proof() {
    let log = honest_log(5);
    // A proof request would go beyond the script and fail as unreachable.
    let (fake, client) = edge(vec![log.checkpoint_reply(5), log.checkpoint_reply(3)]).await;
    let witness = LogWitness::new(&verifier_key(), None).unwrap();
    witness.check(&client).await.unwrap();

    let error = witness.check(&client).await.unwrap_err();

    assert!(
        matches!(
            error,
            MobileError::LogInconsistent {
                previous_size: 5,
                size: 3,
                ref detail,
            } if detail.contains("shrank")
        ),
        "{error:?}"
    );
    assert_eq!(witness.last_seen_size(), Some(5));
    assert_eq!(fake.received().len(), 2);
}

#[tokio::test]
async fn a_checkpoint_signed_by_another_key_is_rejected() {
    let impostor = Log::new([9; 32], &["access record 0"]);
    let (_fake, client) = edge(vec![
        impostor.checkpoint_reply(1),
        Exchange {
            expect: "GET /v1/log/checkpoint".into(),
            status: 200,
            body: "not a signed note".into(),
        },
    ])
    .await;
    let witness = LogWitness::new(&verifier_key(), None).unwrap();

    for _ in 0..2 {
        let error = witness.check(&client).await.unwrap_err();
        assert!(
            matches!(error, MobileError::LogCheckpointInvalid { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("Patient care can continue"));
    }
    assert_eq!(witness.last_seen_size(), None);
}

#[tokio::test]
async fn an_unreachable_edge_is_retryable_and_changes_nothing() {
    let client = EdgeClient::new("http://127.0.0.1:9".into(), "t".into()).unwrap();
    let witness = LogWitness::new(&verifier_key(), None).unwrap();
    let error = witness.check(&client).await.unwrap_err();
    assert!(
        matches!(error, MobileError::EdgeUnreachable { .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert_eq!(witness.last_seen_size(), None);
}

#[tokio::test]
async fn the_state_file_survives_a_restart() {
    let dir = TempDir::new();
    let log = honest_log(6);
    let (_fake, client) = edge(vec![
        log.checkpoint_reply(2),
        log.checkpoint_reply(6),
        log.proof_reply(2, 6),
    ])
    .await;
    let witness = LogWitness::new(&verifier_key(), Some(dir.file())).unwrap();
    witness.check(&client).await.unwrap();
    assert_eq!(fs::read_to_string(dir.file()).unwrap(), log.note(2));
    drop(witness);

    let restarted = LogWitness::new(&verifier_key(), Some(dir.file())).unwrap();
    assert_eq!(restarted.last_seen_size(), Some(2));
    let check = restarted.check(&client).await.unwrap();
    assert_eq!((check.previous_size, check.size), (Some(2), 6));
    assert_eq!(fs::read_to_string(dir.file()).unwrap(), log.note(6));
    // Only the state file is left: the temporary file was renamed over it.
    let names: Vec<_> = fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![OsString::from("access-log-checkpoint")]);
}

#[tokio::test]
async fn a_corrupted_or_foreign_state_file_is_an_error_until_reset() {
    let dir = TempDir::new();
    let key = verifier_key();
    let foreign = Log::new([9; 32], &["access record 0"]).note(1);
    for saved in [log_tail_cut(&honest_log(2).note(2)), foreign] {
        fs::write(dir.file(), saved).unwrap();
        let error = LogWitness::new(&key, Some(dir.file())).unwrap_err();
        assert!(
            matches!(error, MobileError::LogWitnessStateUnusable { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("Patient care can continue"));
    }

    let witness = LogWitness::reset(&key, Some(dir.file())).unwrap();
    assert!(!dir.file().exists());
    let log = honest_log(2);
    let (_fake, client) = edge(vec![log.checkpoint_reply(2)]).await;
    assert_eq!(witness.check(&client).await.unwrap().previous_size, None);
    assert_eq!(
        LogWitness::new(&key, Some(dir.file()))
            .unwrap()
            .last_seen_size(),
        Some(2)
    );

    witness.forget().unwrap();
    assert_eq!(witness.last_seen_size(), None);
    assert!(!dir.file().exists());
}

/// A note with its signature line cut short, as a torn write would leave it.
fn log_tail_cut(note: &str) -> String {
    note[..note.len() - 10].to_string()
}

#[test]
fn a_check_does_not_overwrite_what_another_stored_meanwhile() {
    let log = honest_log(4);
    let witness = LogWitness::new(&verifier_key(), None).unwrap();
    let key = LogVerifier::new(&verifier_key()).unwrap();
    let open = |size| key.open(&log.note(size)).unwrap();
    let started_at = witness.inner.lock().generation;

    assert!(witness.inner.store(started_at, open(4)).unwrap());
    // A second check that started at the same point must start over.
    assert!(!witness.inner.store(started_at, open(2)).unwrap());
    assert_eq!(witness.last_seen_size(), Some(4));
}

#[test]
fn setup_errors_are_configuration_errors() {
    for (key, file) in [
        ("not a key", None),
        (verifier_key().as_str(), Some(PathBuf::from("/"))),
    ] {
        let error = LogWitness::new(key, file).unwrap_err();
        assert!(
            matches!(error, MobileError::Configuration { .. }),
            "{error:?}"
        );
    }
}

#[test]
fn the_witness_and_its_check_can_move_between_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let witness = LogWitness::new(&verifier_key(), None).unwrap();
    send_sync(&witness);
    let client = EdgeClient::new("http://127.0.0.1:9".into(), "t".into()).unwrap();
    send(&witness.check(&client));
}

#[tokio::test]
async fn a_rotated_log_key_is_followed_once_the_tablet_has_the_key_list() {
    let dir = TempDir::new();
    let old = honest_log(6);
    let new = Log {
        signer: LogSigner::from_secret(ORIGIN, [8; 32]).unwrap(),
        tree: honest_log(6).tree,
    };
    let (_fake, client) = edge(vec![
        old.checkpoint_reply(2),
        new.checkpoint_reply(6),
        new.checkpoint_reply(6),
        new.proof_reply(2, 6),
    ])
    .await;
    let old_key = verifier_key();
    LogWitness::new(&old_key, Some(dir.file()))
        .unwrap()
        .check(&client)
        .await
        .unwrap();
    // Provisioned with the old key only: the new key's checkpoint is refused, the saved
    // one kept.
    let pinned = LogWitness::new(&old_key, Some(dir.file())).unwrap();
    let error = pinned.check(&client).await.unwrap_err();
    assert!(
        matches!(error, MobileError::LogCheckpointInvalid { .. }),
        "{error:?}"
    );
    assert_eq!(pinned.last_seen_size(), Some(2));
    // Re-provisioned with the edge's key list: the saved checkpoint still opens, and the
    // new one is proved to extend it.
    let keys = format!("{old_key}\n{}\n", new.signer.verifier_key());
    let listed = LogWitness::new(&keys, Some(dir.file())).unwrap();
    assert_eq!(listed.last_seen_size(), Some(2));
    let check = listed.check(&client).await.unwrap();
    assert_eq!((check.previous_size, check.size), (Some(2), 6));
}
