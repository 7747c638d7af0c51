use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

fn signer() -> LogSigner {
    LogSigner::from_secret("test.myna.local/access-log", [7; 32]).unwrap()
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 9, 30, 0).unwrap()
}

fn tree(entries: usize) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for i in 0..entries {
        tree.push(format!("entry {i}").as_bytes());
    }
    tree
}

fn checkpoint(tree: &MemoryTree, size: u64) -> Checkpoint {
    signer().sign(size, tree.root(size).unwrap(), at()).unwrap()
}

#[test]
fn leaf_and_node_hashes_are_domain_separated() {
    // RFC 6962 test vector: the empty leaf is SHA-256(0x00).
    assert_eq!(
        hash_to_base64(&leaf_hash(b"")),
        "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="
    );
    let mut tree = MemoryTree::new();
    tree.push(b"a");
    tree.push(b"b");
    let two = tree.root(2).unwrap();
    let mut concatenated = leaf_hash(b"a").0.to_vec();
    concatenated.extend_from_slice(&leaf_hash(b"b").0);
    // A two-leaf root is not the leaf hash of the two leaf hashes side by side.
    assert_ne!(two, leaf_hash(&concatenated));
    assert_eq!(tree.root(0).unwrap(), tlog_tiles::tlog::EMPTY_HASH);
}

#[test]
fn a_signed_checkpoint_opens_with_the_public_key_and_says_what_was_signed() {
    let tree = tree(5);
    let signed = checkpoint(&tree, 5);
    assert!(signed.note.starts_with("test.myna.local/access-log\n5\n"));
    assert!(
        signed
            .note
            .contains("\ntime 2026-11-25T09:30:00.000Z\n\n— ")
    );
    let verifier = LogVerifier::new(signer().verifier_key()).unwrap();
    let opened = verifier.open(&signed.note).unwrap();
    assert_eq!(opened, signed);
}

#[test]
fn verifiers_move_between_threads() {
    fn send_sync<T: Send + Sync + Clone>() {}
    send_sync::<LogVerifier>();
}

#[test]
fn the_secret_round_trips_through_its_text_form() {
    let signer = signer();
    let again = LogSigner::parse(signer.encoded_secret()).unwrap();
    assert_eq!(again.verifier_key(), signer.verifier_key());
    assert!(LogSigner::parse("PRIVATE+KEY+x+00000000+AAAA").is_err());
    // Base64 of a key often holds `+`; every secret must round-trip.
    for byte in 0..=255u8 {
        let signer = LogSigner::from_secret("a.log", [byte; 32]).unwrap();
        let again = LogSigner::parse(signer.encoded_secret()).unwrap();
        assert_eq!(again.verifier_key(), signer.verifier_key());
    }
    assert!(LogSigner::from_secret("has space", [1; 32]).is_err());
}

#[test]
fn a_changed_or_foreign_checkpoint_is_refused() {
    let tree = tree(5);
    let signed = checkpoint(&tree, 5);
    let verifier = LogVerifier::new(signer().verifier_key()).unwrap();
    let bigger = signed.note.replacen("\n5\n", "\n6\n", 1);
    assert_eq!(verifier.open(&bigger), Err(LogError::SignatureInvalid));
    let other = LogSigner::from_secret("test.myna.local/access-log", [8; 32]).unwrap();
    let forged = other.sign(5, signed.root, at()).unwrap();
    assert_eq!(verifier.open(&forged.note), Err(LogError::SignatureInvalid));
    let elsewhere = LogSigner::from_secret("other.log", [7; 32]).unwrap();
    let wrong_log = elsewhere.sign(5, signed.root, at()).unwrap();
    assert!(verifier.open(&wrong_log.note).is_err());
    assert!(matches!(
        verifier.open("not a note"),
        Err(LogError::CheckpointMalformed(_))
    ));
}

#[test]
fn a_rotated_logs_former_and_current_keys_both_open_and_a_foreign_key_still_does_not() {
    let tree = tree(5);
    let former = signer();
    let current = LogSigner::from_secret("test.myna.local/access-log", [9; 32]).unwrap();
    let keys = format!(
        "# former keys first\n{}\n\n{}\n",
        former.verifier_key(),
        current.verifier_key()
    );
    let verifier = LogVerifier::new(&keys).unwrap();
    assert_eq!(verifier.key_count(), 2);
    assert_eq!(verifier.origin(), "test.myna.local/access-log");
    let old = former.sign(4, tree.root(4).unwrap(), at()).unwrap();
    let new = current.sign(5, tree.root(5).unwrap(), at()).unwrap();
    assert_eq!(verifier.open(&old.note).unwrap().size, 4);
    assert_eq!(verifier.open(&new.note).unwrap().size, 5);
    // The current key alone no longer opens the former key's checkpoints.
    let only_current = LogVerifier::new(current.verifier_key()).unwrap();
    assert_eq!(
        only_current.open(&old.note),
        Err(LogError::SignatureInvalid)
    );
    // A key of the same name that is not in the list is refused.
    let foreign = LogSigner::from_secret("test.myna.local/access-log", [10; 32]).unwrap();
    let forged = foreign.sign(5, tree.root(5).unwrap(), at()).unwrap();
    assert_eq!(verifier.open(&forged.note), Err(LogError::SignatureInvalid));
    // Keys of two different logs in one list, or no key at all, are refused.
    let elsewhere = LogSigner::from_secret("other.log", [7; 32]).unwrap();
    let mixed = format!("{}\n{}", former.verifier_key(), elsewhere.verifier_key());
    assert_eq!(
        LogVerifier::new(&mixed).unwrap_err(),
        LogError::KeyMalformed
    );
    assert_eq!(
        LogVerifier::new(" \n# none\n").unwrap_err(),
        LogError::KeyMalformed
    );
}

#[test]
fn inclusion_proofs_verify_only_for_the_right_entry_and_position() {
    let tree = tree(11);
    let cp = checkpoint(&tree, 11);
    for index in 0..11 {
        let proof = tree.prove_inclusion(index, 11).unwrap();
        let leaf = leaf_hash(format!("entry {index}").as_bytes());
        assert_eq!(verify_inclusion(&cp, index, leaf, &proof), Ok(()));
        let other = (index + 1) % 11;
        assert_eq!(
            verify_inclusion(&cp, other, leaf, &proof),
            Err(LogError::ProofInvalid)
        );
        let changed = leaf_hash(format!("entry {index}!").as_bytes());
        assert_eq!(
            verify_inclusion(&cp, index, changed, &proof),
            Err(LogError::ProofInvalid)
        );
    }
    assert!(matches!(
        verify_inclusion(&cp, 11, leaf_hash(b"x"), &[]),
        Err(LogError::IndexOutOfRange { .. })
    ));
    let huge = vec![leaf_hash(b"x"); MAX_PROOF_HASHES + 1];
    assert_eq!(
        verify_inclusion(&cp, 0, leaf_hash(b"entry 0"), &huge),
        Err(LogError::ProofInvalid)
    );
}

#[test]
fn consistency_catches_rollback_fork_and_rewritten_history() {
    let tree = tree(9);
    let (old, new) = (checkpoint(&tree, 4), checkpoint(&tree, 9));
    let proof = tree.prove_consistency(4, 9).unwrap();
    assert_eq!(verify_consistency(&old, &new, &proof), Ok(()));
    assert_eq!(
        verify_consistency(&new, &old, &proof),
        Err(LogError::Rollback { old: 9, new: 4 })
    );
    assert_eq!(verify_consistency(&new, &new, &[]), Ok(()));
    let mut rewritten = MemoryTree::new();
    for i in 0..9 {
        let entry = if i == 2 {
            "entry 2 changed".to_string()
        } else {
            format!("entry {i}")
        };
        rewritten.push(entry.as_bytes());
    }
    let forked = checkpoint(&rewritten, 9);
    assert_eq!(
        verify_consistency(&new, &forked, &[]),
        Err(LogError::Fork { size: 9 })
    );
    let proof = rewritten.prove_consistency(4, 9).unwrap();
    assert_eq!(
        verify_consistency(&old, &forked, &proof),
        Err(LogError::ProofInvalid)
    );
    let empty = checkpoint(&tree, 0);
    assert_eq!(verify_consistency(&empty, &new, &[]), Ok(()));
}

#[test]
fn malformed_base64_hashes_are_refused() {
    assert_eq!(hash_from_base64("AAAA"), Err(LogError::HashMalformed));
    assert_eq!(hash_from_base64("%%"), Err(LogError::HashMalformed));
    let hash = leaf_hash(b"x");
    assert_eq!(hash_from_base64(&hash_to_base64(&hash)), Ok(hash));
}

#[test]
fn stored_hash_counts_map_back_to_tree_sizes() {
    use tlog_tiles::tlog::stored_hash_count;
    for size in 0..2_000u64 {
        let count = stored_hash_count(size);
        assert_eq!(tree_size_storing(count), Some(size), "size {size}");
        // One hash more is the first hash of the next leaf: a partial leaf of size + 1.
        assert_eq!(tree_size_storing(count + 1), Some(size + 1), "size {size}");
    }
    // 3 hashes are a tree of 2 leaves; 2 hashes stop inside the second leaf's.
    assert_eq!(tree_size_storing(3), Some(2));
    assert_eq!(tree_size_storing(2), Some(2));
    assert_ne!(stored_hash_count(2), 2);
    let largest = stored_hash_count(MAX_TREE_SIZE);
    assert_eq!(tree_size_storing(largest), Some(MAX_TREE_SIZE));
    // Indexes no log reaches (an attacker's row at i64::MAX, say) answer None, not a panic.
    assert_eq!(tree_size_storing(largest + 1), None);
    assert_eq!(tree_size_storing(i64::MAX as u64 + 1), None);
    assert_eq!(tree_size_storing(u64::MAX), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every size up to the largest maps back from its stored-hash count.
    #[test]
    fn large_stored_hash_counts_map_back(size in 0u64..=MAX_TREE_SIZE) {
        let count = tlog_tiles::tlog::stored_hash_count(size);
        prop_assert_eq!(tree_size_storing(count), Some(size));
        if size > 0 {
            // The first hash of the last leaf: that leaf, partly stored.
            let partial = tlog_tiles::tlog::stored_hash_count(size - 1) + 1;
            prop_assert_eq!(tree_size_storing(partial), Some(size));
        }
    }

    /// Consistency proofs verify between every pair of checkpoints of a random log, and
    /// inclusion proofs for every entry against every checkpoint that covers it.
    #[test]
    fn every_pair_of_checkpoints_is_consistent(
        entries in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..40),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 1..6),
    ) {
        let mut tree = MemoryTree::new();
        for entry in &entries {
            tree.push(entry);
        }
        let size = tree.size();
        let mut sizes: Vec<u64> = cuts.iter().map(|c| c.index(entries.len() + 1) as u64).collect();
        sizes.push(size);
        sizes.sort_unstable();
        let checkpoints: Vec<Checkpoint> = sizes.iter().map(|&s| checkpoint(&tree, s)).collect();
        for (i, older) in checkpoints.iter().enumerate() {
            for newer in &checkpoints[i..] {
                let proof = tree.prove_consistency(older.size, newer.size).unwrap();
                prop_assert_eq!(verify_consistency(older, newer, &proof), Ok(()));
            }
            for (index, entry) in entries.iter().enumerate().take(older.size as usize) {
                let proof = tree.prove_inclusion(index as u64, older.size).unwrap();
                prop_assert_eq!(verify_inclusion(older, index as u64, leaf_hash(entry), &proof), Ok(()));
            }
        }
    }

    /// Proof checking never panics on arbitrary proofs and sizes.
    #[test]
    fn checking_arbitrary_proofs_never_panics(
        old_size in 0u64..1_000_000,
        new_size in 0u64..1_000_000,
        index in 0u64..1_000_000,
        proof in proptest::collection::vec(any::<[u8; 32]>(), 0..70),
    ) {
        let proof: Vec<Hash> = proof.into_iter().map(Hash).collect();
        let old = signer().sign(old_size, leaf_hash(b"a"), at()).unwrap();
        let new = signer().sign(new_size, leaf_hash(b"b"), at()).unwrap();
        let _ = verify_consistency(&old, &new, &proof);
        let _ = verify_inclusion(&new, index, leaf_hash(b"c"), &proof);
    }
}
