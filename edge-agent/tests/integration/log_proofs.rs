//! Proofs from the SQLite-stored tree: for random logs appended through the store, with
//! checkpoints signed at random sizes, a consistency proof verifies between every pair of
//! checkpoints and an inclusion proof for every entry verifies against every checkpoint
//! that covers it. The same over HTTP for the public proof endpoints.

use axum::http::{Method, StatusCode};
use chrono::Utc;
use edge_agent::store::Store;
use myna_domain::fixtures::unknown_patient_denial;
use myna_domain::transparency::{
    Checkpoint, LogSigner, LogVerifier, leaf_hash, verify_consistency, verify_inclusion,
};
use myna_domain::wire::proof_hashes;
use proptest::prelude::*;

use crate::support::*;

/// Appends `sizes.last()` entries, signing a checkpoint whenever the log reaches one of
/// `sizes`; returns the checkpoints as a verifier opens them, and the store.
fn build(sizes: &[usize]) -> (tempfile::TempDir, Store, Vec<Checkpoint>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("edge.sqlite3")).unwrap();
    let signer = std::sync::Arc::new(LogSigner::from_secret("test.example/log", [7; 32]).unwrap());
    let verifier = LogVerifier::new(signer.verifier_key()).unwrap();
    let mut checkpoints = Vec::new();
    let mut appended = 0;
    for &size in sizes {
        while appended < size {
            let record = unknown_patient_denial(appended as u64);
            store
                .write_blocking(move |tx| tx.append_access(&record))
                .unwrap();
            appended += 1;
        }
        let signer = std::sync::Arc::clone(&signer);
        let stored = store
            .write_blocking(move |tx| tx.publish_checkpoint(&signer, Utc::now()))
            .unwrap()
            .unwrap();
        assert_eq!(stored.tree_size, size as u64);
        checkpoints.push(verifier.open(&stored.note).unwrap());
    }
    (dir, store, checkpoints)
}

/// Increasing checkpoint sizes between 1 and 48.
fn sizes() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::btree_set(1usize..=48, 1..7).prop_map(|s| s.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn stored_tree_proofs_verify_between_every_pair_of_checkpoints(sizes in sizes()) {
        let (_dir, store, checkpoints) = build(&sizes);
        for (i, older) in checkpoints.iter().enumerate() {
            for newer in &checkpoints[i..] {
                let (from, to) = (older.size, newer.size);
                let proof = store
                    .read_blocking(|tx| tx.consistency_proof(from, to))
                    .unwrap()
                    .unwrap();
                prop_assert!(
                    verify_consistency(older, newer, &proof).is_ok(),
                    "{from} → {to}"
                );
                if from < to {
                    // The proof is for this pair only: it does not prove a rollback.
                    prop_assert!(verify_consistency(newer, older, &proof).is_err());
                }
            }
        }
        for checkpoint in &checkpoints {
            for index in 0..checkpoint.size {
                let (entry, proof) = store
                    .read_blocking(|tx| {
                        Ok((
                            tx.log_entry(index)?.unwrap(),
                            tx.inclusion_proof(index, checkpoint.size)?.unwrap(),
                        ))
                    })
                    .unwrap();
                let leaf = leaf_hash(entry.as_bytes());
                prop_assert!(verify_inclusion(checkpoint, index, leaf, &proof).is_ok());
                // Nor for a neighbour's position.
                if checkpoint.size > 1 {
                    let other = (index + 1) % checkpoint.size;
                    prop_assert!(verify_inclusion(checkpoint, other, leaf, &proof).is_err());
                }
            }
        }
        store.close();
    }
}

#[tokio::test]
async fn log_proof_endpoints_serve_verifiable_proofs_and_reject_out_of_range() {
    let edge = TestEdge::new();
    for n in 0..5 {
        let record = unknown_patient_denial(n as u64);
        edge.state
            .store
            .write(move |tx| tx.append_access(&record))
            .await
            .unwrap();
    }
    // Plain-text answers come back as JSON strings from `call`.
    let (status, key) = edge.call(Method::GET, "/v1/log/key", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let verifier = LogVerifier::new(key.as_str().unwrap().trim()).unwrap();
    let (status, note) = edge
        .call(Method::GET, "/v1/log/checkpoint", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let checkpoint = verifier.open(note.as_str().unwrap()).unwrap();
    assert_eq!(checkpoint.size, 5);

    let entry = edge
        .state
        .store
        .read(|tx| Ok(tx.log_entry(3)?.unwrap()))
        .await
        .unwrap();
    let (status, body) = edge
        .call(
            Method::GET,
            "/v1/log/proof/inclusion?index=3&tree_size=5",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let hashes: Vec<String> = serde_json::from_value(body["hashes"].clone()).unwrap();
    verify_inclusion(
        &checkpoint,
        3,
        leaf_hash(entry.as_bytes()),
        &proof_hashes(&hashes).unwrap(),
    )
    .unwrap();

    for out_of_range in [
        "/v1/log/proof/inclusion?index=5&tree_size=5",
        "/v1/log/proof/inclusion?index=0&tree_size=6",
        "/v1/log/proof/consistency?from=4&to=2",
        "/v1/log/proof/consistency?from=1&to=9",
    ] {
        let (status, body) = edge.call(Method::GET, out_of_range, None, None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("proof_out_of_range")),
            "{out_of_range}"
        );
    }
}
