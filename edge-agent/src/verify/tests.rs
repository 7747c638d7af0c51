//! The verifier on logs built in memory ([`MemoryTree`], [`LogSigner`]): intact, then each
//! kind of tampering, as an export and as a database file.

use chrono::{TimeZone, Utc};
use myna_domain::access::AccessRecord;
use myna_domain::access::{
    AccessAction, AccessOutcome, AccessRecordId, Institution, InstitutionKind, Purpose, Viewer,
    ViewerRole,
};
use myna_domain::identity::PatientId;
use myna_domain::transparency::{Hash, LogSigner, MemoryTree, leaf_hash};
use rusqlite::params;

use super::export::ExportLine;
use super::replay::RightEdge;
use super::*;

const ORIGIN: &str = "edge.test/log";

fn signer() -> LogSigner {
    LogSigner::from_secret(ORIGIN, [7; 32]).unwrap()
}

fn key() -> LogVerifier {
    LogVerifier::new(signer().verifier_key()).unwrap()
}

fn record(n: u64) -> AccessRecord {
    AccessRecord {
        id: AccessRecordId(uuid::Uuid::from_u128(0x1000 + u128::from(n))),
        at: Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap()
            + chrono::Duration::minutes(n as i64),
        incident: None,
        patient: Some(PatientId(format!("P{n:06}"))),
        viewer: Viewer {
            staff_id: Some("crew-7".into()),
            role: ViewerRole::Paramedic,
            device_id: Some("tab-3".into()),
            unit: None,
            institution: Institution {
                id: "fd-tokyo".into(),
                name: "Tokyo Fire Department".into(),
                kind: InstitutionKind::FireDepartment,
            },
            certificate_serial: None,
        },
        purpose: Purpose::EmergencyTreatment,
        action: AccessAction::ViewSummary,
        consent: None,
        outcome: AccessOutcome::Disclosed { kinds: vec![] },
    }
}

/// A log of `entries` records with a checkpoint signed at each of `sizes`, as export lines
/// in the documented order, and its tree.
fn log(entries: u64, sizes: &[u64]) -> (Vec<ExportLine>, MemoryTree) {
    let signer = signer();
    let mut tree = MemoryTree::new();
    let mut lines = Vec::new();
    let mut checkpoint_seq = 0;
    for n in 1..=entries {
        let record = record(n);
        let json = serde_json::to_string(&record).unwrap();
        tree.push(json.as_bytes());
        lines.push(ExportLine::Entry {
            seq: n as i64,
            id: record.id.0.to_string(),
            record_json: json,
        });
        if sizes.contains(&n) {
            checkpoint_seq += 1;
            lines.push(checkpoint_line(
                &signer,
                checkpoint_seq,
                n,
                tree.root(n).unwrap(),
            ));
        }
    }
    (lines, tree)
}

fn checkpoint_line(signer: &LogSigner, seq: i64, size: u64, root: Hash) -> ExportLine {
    let time =
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap() + chrono::Duration::seconds(seq);
    ExportLine::Checkpoint {
        seq,
        tree_size: size,
        note: signer.sign(size, root, time).unwrap().note,
    }
}

fn text_of(lines: &[ExportLine]) -> String {
    lines
        .iter()
        .map(|line| serde_json::to_string(line).unwrap() + "\n")
        .collect()
}

fn verify_lines(lines: &[ExportLine]) -> Report {
    verify_export(text_of(lines).as_bytes(), &key()).unwrap()
}

/// Position of the entry line for seq `seq`.
fn entry_line(lines: &[ExportLine], seq: i64) -> usize {
    lines
        .iter()
        .position(|l| matches!(l, ExportLine::Entry { seq: s, .. } if *s == seq))
        .unwrap()
}

fn record_json(lines: &mut [ExportLine], seq: i64) -> &mut String {
    let at = entry_line(lines, seq);
    match &mut lines[at] {
        ExportLine::Entry { record_json, .. } => record_json,
        ExportLine::Checkpoint { .. } => unreachable!(),
    }
}

/// Tampers with the export of an intact 10-entry log (checkpoints at 3, 7, 10), checks that
/// the finding is at `expected`.
fn check(tamper: impl FnOnce(&mut Vec<ExportLine>), expected: Position) {
    let (mut lines, _) = log(10, &[3, 7, 10]);
    assert_eq!(verify_lines(&lines).finding, None);
    tamper(&mut lines);
    let report = verify_lines(&lines);
    let finding = report.finding.expect("tampering not detected");
    assert_eq!(finding.position, expected, "{finding}");
}

#[test]
fn the_right_edge_replays_like_the_full_tree() {
    let mut full = MemoryTree::new();
    let mut edge = RightEdge::default();
    for n in 0..300u64 {
        let entry = n.to_string();
        let stored = tlog_tiles::tlog::stored_hashes(n, entry.as_bytes(), &full).unwrap();
        let next = edge.next_hashes(leaf_hash(entry.as_bytes()));
        assert_eq!(next, stored, "entry {n}");
        edge.push(&next);
        full.push(entry.as_bytes());
        assert_eq!(edge.root(), full.root(n + 1).unwrap(), "size {}", n + 1);
        assert!(edge.peaks.len() <= 9);
    }
}

#[test]
fn an_intact_export_verifies() {
    let (lines, tree) = log(10, &[3, 7, 10]);
    let report = verify_lines(&lines);
    assert_eq!(
        report,
        Report {
            entries: 10,
            checkpoints: 3,
            root: Some(tree.root(10).unwrap()),
            unsigned_entries: 0,
            trusted_checkpoints: 0,
            finding: None,
        }
    );
    let empty = verify_export(&b""[..], &key()).unwrap();
    assert_eq!((empty.entries, empty.root, empty.finding), (0, None, None));
}

#[test]
fn checkpoints_may_come_before_their_entries() {
    let (mut lines, _) = log(10, &[3, 7, 10]);
    let checkpoints: Vec<_> = lines
        .extract_if(.., |l| matches!(l, ExportLine::Checkpoint { .. }))
        .collect();
    lines.splice(0..0, checkpoints);
    assert_eq!(verify_lines(&lines).checkpoints, 3);
}

#[test]
fn a_changed_record_is_named_by_the_checkpoint_range() {
    // Still a valid record with the right id: only the signed root catches it.
    check(
        |lines| *record_json(lines, 5) = record_json(lines, 5).replace("Tokyo", "Tokyp"),
        Position::Range { from: 3, to: 7 },
    );
    check(
        |lines| *record_json(lines, 1) = record_json(lines, 1).replace("crew-7", "crew-8"),
        Position::Range { from: 0, to: 3 },
    );
}

#[test]
fn entry_problems_name_the_entry() {
    // A deleted entry: seq 6 comes where seq 5 belongs.
    check(
        |lines| {
            lines.remove(entry_line(lines, 5));
        },
        Position::Entry { index: 4, seq: 6 },
    );
    // A duplicated entry.
    check(
        |lines| {
            let at = entry_line(lines, 2);
            let copy = serde_json::from_str(&serde_json::to_string(&lines[at]).unwrap()).unwrap();
            lines.insert(at + 1, copy);
        },
        Position::Entry { index: 2, seq: 2 },
    );
    // Two records swapped: the earlier one no longer has its row's id.
    check(
        |lines| {
            let second = record_json(lines, 2).clone();
            let fifth = std::mem::replace(record_json(lines, 5), second);
            *record_json(lines, 2) = fifth;
        },
        Position::Entry { index: 1, seq: 2 },
    );
    // Not an access record at all.
    check(
        |lines| *record_json(lines, 9) = "{}".into(),
        Position::Entry { index: 8, seq: 9 },
    );
}

#[test]
fn checkpoint_problems_name_the_checkpoint() {
    // The note edited: its signature fails.
    check(
        |lines| {
            let at = entry_line(lines, 7) + 1;
            if let ExportLine::Checkpoint { note, .. } = &mut lines[at] {
                *note = note.replacen("7\n", "6\n", 1);
            }
        },
        Position::Checkpoint {
            seq: 2,
            tree_size: 7,
        },
    );
    // Signed by another key.
    check(
        |lines| {
            let other = LogSigner::from_secret(ORIGIN, [8; 32]).unwrap();
            let at = entry_line(lines, 7) + 1;
            lines[at] = checkpoint_line(&other, 2, 7, Hash::default());
        },
        Position::Checkpoint {
            seq: 2,
            tree_size: 7,
        },
    );
    // A size that is not the note's.
    check(
        |lines| {
            let at = entry_line(lines, 3) + 1;
            if let ExportLine::Checkpoint { tree_size, .. } = &mut lines[at] {
                *tree_size = 2;
            }
        },
        Position::Checkpoint {
            seq: 1,
            tree_size: 2,
        },
    );
    // A checkpoint missing from the sequence.
    check(
        |lines| {
            lines.remove(entry_line(lines, 7) + 1);
        },
        Position::Checkpoint {
            seq: 3,
            tree_size: 10,
        },
    );
}

#[test]
fn a_shrinking_log_is_a_rollback() {
    let (mut lines, tree) = log(10, &[7]);
    lines.push(checkpoint_line(&signer(), 2, 5, tree.root(5).unwrap()));
    let finding = verify_lines(&lines).finding.unwrap();
    assert_eq!(
        finding.position,
        Position::Checkpoint {
            seq: 2,
            tree_size: 5
        }
    );
    assert!(finding.problem.contains("shrank"), "{finding}");
}

#[test]
fn a_truncated_tail_is_reported_with_the_signed_size() {
    check(
        |lines| lines.retain(|l| !matches!(l, ExportLine::Entry { seq, .. } if *seq > 8)),
        Position::Tail {
            expected: 10,
            found: 8,
        },
    );
}

/// The signed note of a checkpoint over the first `size` entries of `tree`, as kept
/// elsewhere.
fn kept_note(tree: &MemoryTree, size: u64) -> String {
    match checkpoint_line(&signer(), 99, size, tree.root(size).unwrap()) {
        ExportLine::Checkpoint { note, .. } => note,
        ExportLine::Entry { .. } => unreachable!(),
    }
}

fn verify_lines_with(lines: &[ExportLine], trusted: &[String]) -> Report {
    verify_export_with(text_of(lines).as_bytes(), &key(), trusted).unwrap()
}

#[test]
fn entries_after_the_last_checkpoint_are_counted_as_unsigned() {
    let unsigned = |entries, sizes: &[u64]| {
        let report = verify_lines(&log(entries, sizes).0);
        assert_eq!(report.finding, None);
        report.unsigned_entries
    };
    assert_eq!(unsigned(10, &[3, 7, 10]), 0);
    assert_eq!(unsigned(10, &[3, 7]), 3);
    assert_eq!(unsigned(10, &[]), 10);
    assert_eq!(unsigned(0, &[]), 0);

    // The newest checkpoint line dropped and the entries after the one left rewritten: no
    // finding, but none of them is vouched for.
    let (mut lines, _) = log(10, &[3, 7, 10]);
    lines.pop();
    *record_json(&mut lines, 9) = record_json(&mut lines, 9).replace("Tokyo", "Tokyp");
    let report = verify_lines(&lines);
    assert_eq!(
        (report.finding, report.checkpoints, report.unsigned_entries),
        (None, 2, 3)
    );
}

#[test]
fn a_checkpoint_kept_elsewhere_vouches_for_what_it_signed() {
    let (lines, tree) = log(10, &[3, 7]);
    let report = verify_lines_with(&lines, &[kept_note(&tree, 10), kept_note(&tree, 5)]);
    assert_eq!(
        (
            report.finding,
            report.checkpoints,
            report.trusted_checkpoints,
            report.unsigned_entries
        ),
        (None, 2, 2, 0)
    );
    // One of size 0 (the empty tree) checks too.
    let report = verify_lines_with(&lines, &[kept_note(&tree, 0)]);
    assert_eq!((report.finding, report.trusted_checkpoints), (None, 1));
    let empty = verify_export_with(&b""[..], &key(), &[kept_note(&tree, 0)]).unwrap();
    assert_eq!((empty.finding, empty.trusted_checkpoints), (None, 1));
}

#[test]
fn a_checkpoint_kept_elsewhere_catches_what_the_file_cannot() {
    let (_, tree) = log(10, &[3, 7, 10]);
    let kept = [kept_note(&tree, 10)];

    // The tail truncated together with the checkpoint that covered it.
    let mut truncated = log(10, &[3, 7, 10]).0;
    truncated.retain(|l| match l {
        ExportLine::Entry { seq, .. } => *seq <= 8,
        ExportLine::Checkpoint { tree_size, .. } => *tree_size <= 8,
    });
    let plain = verify_lines(&truncated);
    assert_eq!(
        (plain.finding, plain.entries, plain.unsigned_entries),
        (None, 8, 1)
    );
    assert_eq!(
        verify_lines_with(&truncated, &kept)
            .finding
            .unwrap()
            .position,
        Position::Tail {
            expected: 10,
            found: 8
        }
    );

    // Entries past the last checkpoint left in the file rewritten.
    let mut rewritten = log(10, &[3, 7, 10]).0;
    rewritten.pop();
    *record_json(&mut rewritten, 9) = record_json(&mut rewritten, 9).replace("Tokyo", "Tokyp");
    assert_eq!(verify_lines(&rewritten).finding, None);
    let finding = verify_lines_with(&rewritten, &kept).finding.unwrap();
    assert_eq!(finding.position, Position::Range { from: 7, to: 10 });
    assert!(finding.problem.contains("given checkpoint"), "{finding}");

    // The range starts at the largest good checkpoint below, in the file or given.
    let mut early = log(10, &[3, 7]).0;
    *record_json(&mut early, 7) = record_json(&mut early, 7).replace("Tokyo", "Tokyp");
    let finding = verify_lines_with(&early, &[kept_note(&tree, 6)])
        .finding
        .unwrap();
    assert_eq!(finding.position, Position::Range { from: 6, to: 7 });

    // The same through the database.
    let (file, _) = database(10, &[3, 7, 10]);
    Connection::open(file.path())
        .unwrap()
        .execute_batch(&format!(
            "DELETE FROM access_log WHERE seq > 8; DELETE FROM log_hashes WHERE idx >= {};
             DELETE FROM log_checkpoints WHERE seq = 3",
            tlog_tiles::tlog::stored_hash_count(8)
        ))
        .unwrap();
    let plain = verify_db(file.path(), &key()).unwrap();
    assert_eq!((plain.finding, plain.unsigned_entries), (None, 1));
    let finding = verify_db_with(file.path(), &key(), &kept)
        .unwrap()
        .finding
        .unwrap();
    assert_eq!(
        finding.position,
        Position::Tail {
            expected: 10,
            found: 8
        }
    );
}

#[test]
fn a_checkpoint_not_signed_by_the_key_cannot_be_used() {
    let (lines, tree) = log(3, &[3]);
    let other = LogSigner::from_secret(ORIGIN, [8; 32]).unwrap();
    let forged = other
        .sign(3, tree.root(3).unwrap(), Utc::now())
        .unwrap()
        .note;
    let given = [kept_note(&tree, 3), forged];
    match verify_export_with(text_of(&lines).as_bytes(), &key(), &given) {
        Err(VerifyError::TrustedCheckpoint { index: 2, .. }) => {}
        other => panic!("{other:?}"),
    }
    let (file, _) = database(3, &[3]);
    assert!(matches!(
        verify_db_with(file.path(), &key(), &["not a note".into()]),
        Err(VerifyError::TrustedCheckpoint { index: 1, .. })
    ));
}

#[test]
fn checkpoint_lines_far_ahead_of_their_entries_are_refused() {
    let (lines, _) = log(3, &[3]);
    let checkpoint = serde_json::to_string(&lines[3]).unwrap();
    let mut text = format!("{checkpoint}\n").repeat(MAX_EARLY_CHECKPOINTS);
    assert_eq!(
        verify_export(text.as_bytes(), &key()).unwrap().finding,
        Some(Finding {
            position: Position::Tail {
                expected: 3,
                found: 0
            },
            problem: "checkpoint 1 signs 3 entries, the log has 0".into(),
        })
    );
    text += &format!("{checkpoint}\n");
    match verify_export(text.as_bytes(), &key()) {
        Err(VerifyError::Malformed { line, .. }) => {
            assert_eq!(line, MAX_EARLY_CHECKPOINTS as u64 + 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_malformed_line_cannot_be_verified() {
    let (lines, _) = log(3, &[3]);
    let mut text = text_of(&lines);
    text.insert_str(text.find('\n').unwrap() + 1, "{\"type\":\"entry\"\n");
    match verify_export(text.as_bytes(), &key()) {
        Err(VerifyError::Malformed { line: 2, .. }) => {}
        other => panic!("{other:?}"),
    }
}

/// The log of [`log`] as an edge database file (the tables without their triggers).
fn database(entries: u64, sizes: &[u64]) -> (tempfile::NamedTempFile, MemoryTree) {
    let file = tempfile::NamedTempFile::new().unwrap();
    let conn = Connection::open(file.path()).unwrap();
    conn.execute_batch(
        "CREATE TABLE access_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
             at TEXT NOT NULL, incident_id TEXT, patient_id TEXT, institution_id TEXT NOT NULL,
             record_json TEXT NOT NULL);
         CREATE TABLE log_hashes (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL);
         CREATE TABLE log_checkpoints (seq INTEGER PRIMARY KEY AUTOINCREMENT,
             tree_size INTEGER NOT NULL, root BLOB NOT NULL, signed_at TEXT NOT NULL,
             note TEXT NOT NULL);",
    )
    .unwrap();
    let (lines, tree) = log(entries, sizes);
    let mut replayed = MemoryTree::new();
    for line in lines {
        match line {
            ExportLine::Entry {
                seq, record_json, ..
            } => {
                let record: AccessRecord = serde_json::from_str(&record_json).unwrap();
                conn.execute(
                    "INSERT INTO access_log (seq, id, at, patient_id, institution_id, record_json)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        seq,
                        record.id.0.to_string(),
                        record.at.to_rfc3339(),
                        record.patient.map(|p| p.0),
                        record.viewer.institution.id,
                        record_json
                    ],
                )
                .unwrap();
                let n = replayed.size();
                let hashes =
                    tlog_tiles::tlog::stored_hashes(n, record_json.as_bytes(), &replayed).unwrap();
                for (offset, hash) in hashes.iter().enumerate() {
                    let idx = stored_hash_index(0, n) + offset as u64;
                    conn.execute(
                        "INSERT INTO log_hashes (idx, hash) VALUES (?1, ?2)",
                        params![idx as i64, &hash.0[..]],
                    )
                    .unwrap();
                }
                replayed.push(record_json.as_bytes());
            }
            ExportLine::Checkpoint {
                tree_size, note, ..
            } => {
                let signed = key().open(&note).unwrap();
                conn.execute(
                    "INSERT INTO log_checkpoints (tree_size, root, signed_at, note)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        tree_size as i64,
                        &signed.root.0[..],
                        signed
                            .time
                            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        note
                    ],
                )
                .unwrap();
            }
        }
    }
    (file, tree)
}

/// Runs `sql` on an intact 10-entry database (checkpoints at 3, 7, 10) and checks that the
/// finding is at `expected`.
fn check_db(sql: &str, expected: Position) {
    let (file, _) = database(10, &[3, 7, 10]);
    assert_eq!(verify_db(file.path(), &key()).unwrap().finding, None);
    Connection::open(file.path())
        .unwrap()
        .execute_batch(sql)
        .unwrap();
    let finding = verify_db(file.path(), &key())
        .unwrap()
        .finding
        .expect("not detected");
    assert_eq!(finding.position, expected, "{finding}");
}

#[test]
fn an_intact_database_verifies_and_exports() {
    let (file, tree) = database(10, &[3, 7, 10]);
    let report = verify_db(file.path(), &key()).unwrap();
    assert_eq!(
        (
            report.entries,
            report.checkpoints,
            report.root,
            report.finding
        ),
        (10, 3, Some(tree.root(10).unwrap()), None)
    );
    let mut export = Vec::new();
    assert_eq!(export_jsonl(file.path(), &mut export).unwrap(), 10);
    assert_eq!(
        String::from_utf8(export).unwrap(),
        text_of(&log(10, &[3, 7, 10]).0)
    );
    let mut fhir = Vec::new();
    assert_eq!(export_fhir(file.path(), &mut fhir).unwrap(), 10);
}

#[test]
fn stored_hashes_are_checked() {
    // Entry 4's leaf hash: stored_hash_index(0, 4) = 7.
    check_db(
        "UPDATE log_hashes SET hash = zeroblob(32) WHERE idx = 7",
        Position::Entry { index: 4, seq: 5 },
    );
    // The subtree over entries 4..8 (level 2, written with entry 7): idx 13.
    check_db(
        "UPDATE log_hashes SET hash = zeroblob(32) WHERE idx = 13",
        Position::Range { from: 4, to: 8 },
    );
    check_db(
        "DELETE FROM log_hashes WHERE idx = 13",
        Position::Range { from: 4, to: 8 },
    );
    // Hashes left over from removed entries (no checkpoint covered them).
    check_db(
        "DELETE FROM access_log WHERE seq = 10; DELETE FROM log_checkpoints WHERE seq = 3",
        Position::Tail {
            expected: 10,
            found: 9,
        },
    );
}

#[test]
fn stored_hashes_at_impossible_indexes_are_findings() {
    // Read first, ahead of entry 0's leaf hash.
    check_db(
        "INSERT INTO log_hashes (idx, hash) VALUES (-1, zeroblob(32))",
        Position::StoredHash { idx: -1 },
    );
    check_db(
        &format!(
            "INSERT INTO log_hashes (idx, hash) VALUES ({}, zeroblob(32))",
            i64::MIN
        ),
        Position::StoredHash { idx: i64::MIN },
    );
    // Past the end: beyond any tree, or the tree of 11 entries.
    check_db(
        &format!(
            "INSERT INTO log_hashes (idx, hash) VALUES ({}, zeroblob(32))",
            i64::MAX
        ),
        Position::StoredHash { idx: i64::MAX },
    );
    check_db(
        &format!(
            "INSERT INTO log_hashes (idx, hash) VALUES ({}, zeroblob(32))",
            tlog_tiles::tlog::stored_hash_count(10)
        ),
        Position::Tail {
            expected: 11,
            found: 10,
        },
    );
    // An empty log with only such a row.
    let (file, _) = database(0, &[]);
    Connection::open(file.path())
        .unwrap()
        .execute_batch("INSERT INTO log_hashes (idx, hash) VALUES (-1, zeroblob(32))")
        .unwrap();
    let report = verify_db(file.path(), &key()).unwrap();
    assert_eq!(
        report.finding.map(|f| f.position),
        Some(Position::StoredHash { idx: -1 })
    );
}

#[test]
fn database_columns_are_checked() {
    check_db(
        "UPDATE access_log SET patient_id = 'P999999' WHERE seq = 6",
        Position::Entry { index: 5, seq: 6 },
    );
    check_db(
        "UPDATE access_log SET id = 'x' WHERE seq = 2",
        Position::Entry { index: 1, seq: 2 },
    );
    check_db(
        "UPDATE log_checkpoints SET root = zeroblob(32) WHERE seq = 2",
        Position::Checkpoint {
            seq: 2,
            tree_size: 7,
        },
    );
    check_db(
        "UPDATE log_checkpoints SET signed_at = '2020-01-01T00:00:00.000Z' WHERE seq = 1",
        Position::Checkpoint {
            seq: 1,
            tree_size: 3,
        },
    );
}

#[test]
fn a_missing_file_cannot_be_verified() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        verify_db(&dir.path().join("absent.sqlite3"), &key()),
        Err(VerifyError::Open { .. })
    ));
}

#[test]
fn views_on_the_tablet_replay_and_their_device_time_is_covered_by_the_signature() {
    let signer = signer();
    let mut tree = MemoryTree::new();
    let mut lines = Vec::new();
    for n in 1..=4 {
        let mut record = record(n);
        if n % 2 == 0 {
            record.action = AccessAction::ViewOnDevice {
                viewed_at: record.at - chrono::Duration::minutes(30),
            };
        }
        let json = serde_json::to_string(&record).unwrap();
        tree.push(json.as_bytes());
        lines.push(ExportLine::Entry {
            seq: n as i64,
            id: record.id.0.to_string(),
            record_json: json,
        });
    }
    lines.push(checkpoint_line(&signer, 1, 4, tree.root(4).unwrap()));
    let report = verify_lines(&lines);
    assert_eq!((report.entries, report.finding), (4, None));

    // Moving the tablet's display time is a rewrite like any other.
    let json = record_json(&mut lines, 2);
    assert!(json.contains(r#""type":"view_on_device""#), "{json}");
    assert!(json.contains("T08:32:00Z"), "{json}");
    *json = json.replace("T08:32:00Z", "T08:35:00Z");
    let finding = verify_lines(&lines).finding.expect("rewrite not detected");
    assert_eq!(finding.position, Position::Range { from: 0, to: 4 });
}
