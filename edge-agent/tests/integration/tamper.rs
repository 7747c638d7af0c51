//! Tampering with the access log as an attacker with file access (triggers dropped, rows
//! edited with SQLite) is detected by `edge_agent::verify` and `myna-log`, and named where it
//! was made.
//!
//! One log is built through the edge (incidents opened through the API, checkpoints signed
//! at several sizes) and closed; each test tampers with its own copy of the file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;

use axum::http::StatusCode;
use edge_agent::verify::{
    Position, Report, export_jsonl, verify_db, verify_db_with, verify_export,
};
use myna_domain::access::{AccessRecord, AccessRecordId};
use myna_domain::transparency::{LogVerifier, MemoryTree};
use rusqlite::{Connection, params};
use tlog_tiles::tlog::{stored_hash_count, stored_hash_index, stored_hashes};

use crate::support::*;

/// Records before each checkpoint: the log has 3, 7 and 12 entries when they are signed.
const BATCHES: [u64; 3] = [3, 4, 5];

/// The intact log, closed.
struct Fixture {
    /// Holds the data directory (the database and the signing key file).
    dir: tempfile::TempDir,
    key: String,
    /// Tree sizes of the checkpoints, in order.
    sizes: Vec<u64>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(build_log())
});

async fn build_log() -> Fixture {
    let edge = TestEdge::new();
    let mut sizes = Vec::new();
    let mut patient = 0;
    for batch in BATCHES {
        for _ in 0..batch {
            // carded_patient(5)'s card is revoked.
            view(&edge, carded_patient(patient % 5)).await;
            patient += 1;
        }
        let checkpoint = edge_agent::transparency::publish(&edge.state)
            .await
            .unwrap()
            .unwrap();
        sizes.push(checkpoint.tree_size);
    }
    let key = edge.state.log_signer.verifier_key().to_string();
    edge.state.store.checkpoint_wal().await.unwrap();
    edge.state.store.close();
    let TestEdge { state, dir, .. } = edge;
    drop(state);
    Fixture { dir, key, sizes }
}

/// Opens an incident, records consent and views the summary: one access record.
async fn view(edge: &TestEdge, index: u64) {
    let incident = edge.open_for(index).await;
    let (status, body) = edge
        .put_json(
            &format!("/v1/incidents/{incident}/consent"),
            DEVICE,
            r#"{"decision":"given"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), DEVICE)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

impl Fixture {
    fn db(&self) -> PathBuf {
        self.dir.path().join("edge.sqlite3")
    }

    fn key(&self) -> LogVerifier {
        LogVerifier::new(&self.key).unwrap()
    }

    fn entries(&self) -> u64 {
        *self.sizes.last().unwrap()
    }
}

/// A private copy of the intact database.
struct Copy {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn copy() -> Copy {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edge.sqlite3");
    std::fs::copy(FIXTURE.db(), &path).unwrap();
    Copy { _dir: dir, path }
}

fn verify(path: &Path) -> Report {
    verify_db(path, &FIXTURE.key()).unwrap()
}

/// The attacker's connection: the append-only triggers dropped, and foreign keys off (the
/// review queue refers to access records: five patients viewed in a row by one unit with
/// no transport are queued as an anomaly).
fn attacker(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         DROP TRIGGER access_log_no_update; DROP TRIGGER access_log_no_delete;
         DROP TRIGGER log_hashes_no_update; DROP TRIGGER log_hashes_no_delete;
         DROP TRIGGER log_checkpoints_no_update; DROP TRIGGER log_checkpoints_no_delete;",
    )
    .unwrap();
    conn
}

fn record_json(conn: &Connection, seq: i64) -> String {
    conn.query_row(
        "SELECT record_json FROM access_log WHERE seq = ?1",
        [seq],
        |r| r.get(0),
    )
    .unwrap()
}

fn set_record_json(conn: &Connection, seq: i64, text: &str) {
    let changed = conn
        .execute(
            "UPDATE access_log SET record_json = ?2 WHERE seq = ?1",
            params![seq, text],
        )
        .unwrap();
    assert_eq!(changed, 1);
}

/// The intact copy verifies; after `tamper` the finding is at `expected`.
fn check(tamper: impl FnOnce(&Connection), expected: Position) {
    let copy = copy();
    let intact = verify(&copy.path);
    assert_eq!(intact.finding, None, "intact log: {:?}", intact.finding);
    assert_eq!(
        (intact.entries, intact.checkpoints, intact.unsigned_entries),
        (FIXTURE.entries(), FIXTURE.sizes.len() as u64, 0)
    );
    {
        let conn = attacker(&copy.path);
        tamper(&conn);
    }
    let finding = verify(&copy.path).finding.expect("tampering not detected");
    assert_eq!(finding.position, expected, "{finding}");
}

#[test]
fn tamper_the_fixture_has_the_planned_sizes() {
    assert_eq!(
        FIXTURE.sizes,
        [3, 7, 12],
        "one access record per opened incident"
    );
}

#[test]
fn tamper_flipped_byte_names_the_entry() {
    check(
        |conn| {
            let mut bytes = record_json(conn, 5).into_bytes();
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x01;
            set_record_json(conn, 5, &String::from_utf8(bytes).unwrap());
        },
        Position::Entry { index: 4, seq: 5 },
    );
}

#[test]
fn tamper_deleted_entry_names_the_gap() {
    check(
        |conn| {
            conn.execute("DELETE FROM access_log WHERE seq = 5", [])
                .unwrap();
        },
        Position::Entry { index: 4, seq: 6 },
    );
}

#[test]
fn tamper_swapped_entries_name_the_earlier() {
    check(
        |conn| {
            let (third, ninth) = (record_json(conn, 3), record_json(conn, 9));
            set_record_json(conn, 3, &ninth);
            set_record_json(conn, 9, &third);
        },
        Position::Entry { index: 2, seq: 3 },
    );
}

#[test]
fn tamper_truncated_tail_is_reported_against_the_last_checkpoint() {
    check(
        |conn| {
            conn.execute("DELETE FROM access_log WHERE seq > 10", [])
                .unwrap();
            conn.execute(
                "DELETE FROM log_hashes WHERE idx >= ?1",
                [stored_hash_count(10) as i64],
            )
            .unwrap();
        },
        Position::Tail {
            expected: 12,
            found: 10,
        },
    );
}

/// The signed note of checkpoint `seq` of the intact log, as a tablet or an auditor kept it.
fn kept_checkpoint(seq: i64) -> String {
    Connection::open(FIXTURE.db())
        .unwrap()
        .query_row(
            "SELECT note FROM log_checkpoints WHERE seq = ?1",
            [seq],
            |r| r.get(0),
        )
        .unwrap()
}

/// Removes the entries after the 10th with their stored hashes, and the checkpoint that
/// covered them: what is left is a consistent, shorter log.
fn truncate_with_checkpoint(conn: &Connection) {
    conn.execute("DELETE FROM access_log WHERE seq > 10", [])
        .unwrap();
    conn.execute(
        "DELETE FROM log_hashes WHERE idx >= ?1",
        [stored_hash_count(10) as i64],
    )
    .unwrap();
    conn.execute("DELETE FROM log_checkpoints WHERE seq = 3", [])
        .unwrap();
}

#[test]
fn tamper_truncated_tail_with_its_checkpoint_needs_a_kept_checkpoint() {
    let copy = copy();
    truncate_with_checkpoint(&attacker(&copy.path));
    // The file alone: nothing to find, but 3 entries no signature covers.
    let report = verify(&copy.path);
    assert_eq!(report.finding, None);
    assert_eq!(
        (report.entries, report.checkpoints, report.unsigned_entries),
        (10, 2, 3)
    );
    // A checkpoint kept elsewhere still signs 12 entries.
    let kept = [kept_checkpoint(3)];
    let report = verify_db_with(&copy.path, &FIXTURE.key(), &kept).unwrap();
    let finding = report.finding.expect("truncation not detected");
    assert_eq!(
        finding.position,
        Position::Tail {
            expected: 12,
            found: 10
        },
        "{finding}"
    );
    // An older kept checkpoint the log still holds is fine, and vouches for nothing newer.
    let report = verify_db_with(&copy.path, &FIXTURE.key(), &[kept_checkpoint(2)]).unwrap();
    assert_eq!(
        (
            report.finding,
            report.trusted_checkpoints,
            report.unsigned_entries
        ),
        (None, 1, 3)
    );
}

#[test]
fn tamper_rewrite_after_the_last_checkpoint_left_needs_a_kept_checkpoint() {
    let copy = copy();
    {
        let conn = attacker(&copy.path);
        conn.execute("DELETE FROM log_checkpoints WHERE seq = 3", [])
            .unwrap();
        let text = record_json(&conn, 10);
        assert!(text.contains("crew-0042"));
        set_record_json(&conn, 10, &text.replace("crew-0042", "crew-0099"));
        rebuild_stored_tree(&conn);
    }
    let report = verify(&copy.path);
    assert_eq!((report.finding, report.unsigned_entries), (None, 5));
    let finding = verify_db_with(&copy.path, &FIXTURE.key(), &[kept_checkpoint(3)])
        .unwrap()
        .finding
        .expect("rewrite not detected");
    assert_eq!(
        finding.position,
        Position::Range { from: 7, to: 12 },
        "{finding}"
    );
}

#[test]
fn tamper_negative_stored_hash_index_is_named() {
    let insert = |conn: &Connection| {
        conn.execute(
            "INSERT INTO log_hashes (idx, hash) VALUES (-1, zeroblob(32))",
            [],
        )
        .unwrap();
    };
    check(insert, Position::StoredHash { idx: -1 });
    // The edge itself refuses to build on such a tree.
    let copy = copy();
    insert(&attacker(&copy.path));
    match edge_agent::store::Store::open(&copy.path) {
        Err(edge_agent::Error::Corrupt(message)) => {
            assert!(message.contains("negative"), "{message}");
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("the store opened a tree with a negative index"),
    }
}

#[test]
fn tamper_rewritten_checkpoint_is_named() {
    check(
        |conn| {
            conn.execute(
                "UPDATE log_checkpoints SET root = zeroblob(32) WHERE seq = 2",
                [],
            )
            .unwrap();
        },
        Position::Checkpoint {
            seq: 2,
            tree_size: 7,
        },
    );
    // The note's size edited to match a shorter log: its signature no longer verifies.
    check(
        |conn| {
            let note: String = conn
                .query_row("SELECT note FROM log_checkpoints WHERE seq = 3", [], |r| {
                    r.get(0)
                })
                .unwrap();
            conn.execute(
                "UPDATE log_checkpoints SET note = ?1, tree_size = 11 WHERE seq = 3",
                [note.replacen("\n12\n", "\n11\n", 1)],
            )
            .unwrap();
        },
        Position::Checkpoint {
            seq: 3,
            tree_size: 11,
        },
    );
}

#[test]
fn tamper_consistent_rewrite_is_caught_by_the_signed_root() {
    check(
        |conn| {
            let text = record_json(conn, 5);
            assert!(text.contains("crew-0042"));
            set_record_json(conn, 5, &text.replace("crew-0042", "crew-0099"));
            rebuild_stored_tree(conn);
        },
        Position::Range { from: 3, to: 7 },
    );
}

/// Recomputes every stored hash from the (edited) entries, as an attacker covering their
/// tracks would: the stored tree is then self-consistent.
fn rebuild_stored_tree(conn: &Connection) {
    let mut stmt = conn
        .prepare("SELECT record_json FROM access_log ORDER BY seq")
        .unwrap();
    let entries: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut tree = MemoryTree::new();
    for (n, entry) in entries.iter().enumerate() {
        let n = n as u64;
        for (offset, hash) in stored_hashes(n, entry.as_bytes(), &tree)
            .unwrap()
            .iter()
            .enumerate()
        {
            conn.execute(
                "UPDATE log_hashes SET hash = ?2 WHERE idx = ?1",
                params![
                    (stored_hash_index(0, n) + offset as u64) as i64,
                    &hash.0[..]
                ],
            )
            .unwrap();
        }
        tree.push(entry.as_bytes());
    }
}

#[test]
fn tamper_edited_index_column_names_the_entry() {
    // The portal finds a patient's history by this column: moving an entry away from its
    // patient is tampering too.
    check(
        |conn| {
            conn.execute(
                "UPDATE access_log SET patient_id = 'P-someone-else' WHERE seq = 8",
                [],
            )
            .unwrap();
        },
        Position::Entry { index: 7, seq: 8 },
    );
}

#[test]
fn tamper_export_verifies_and_an_edited_line_is_found() {
    let mut export = Vec::new();
    let written = export_jsonl(&FIXTURE.db(), &mut export).unwrap();
    assert_eq!(written, FIXTURE.entries());
    let text = String::from_utf8(export).unwrap();
    assert_eq!(
        text.lines().count() as u64,
        FIXTURE.entries() + FIXTURE.sizes.len() as u64
    );
    let report = verify_export(text.as_bytes(), &FIXTURE.key()).unwrap();
    assert_eq!(report.finding, None);
    assert_eq!(report, verify(&FIXTURE.db()));

    // Entry 9 (seq 10), between the checkpoints at 7 and 12.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let line = lines
        .iter_mut()
        .find(|l| l.starts_with(r#"{"type":"entry","seq":10,"#))
        .unwrap();
    *line = line.replace("crew-0042", "crew-0099");
    let tampered = lines.join("\n");
    let finding = verify_export(tampered.as_bytes(), &FIXTURE.key())
        .unwrap()
        .finding
        .expect("edited export not detected");
    assert_eq!(finding.position, Position::Range { from: 7, to: 12 });
}

fn myna_log(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_myna-log"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn tamper_cli_exit_codes() {
    let copy = copy();
    let db = copy.path.to_str().unwrap();
    let key = FIXTURE.key.as_str();

    let (code, out, _) = myna_log(&["verify", "--db", db, "--key", key]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("ok: 12 entries, 3 checkpoints, root "),
        "{out}"
    );

    let key_file = copy._dir.path().join("log.pub");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let export = copy._dir.path().join("log.jsonl");
    let (code, _, err) = myna_log(&["export", "--db", db, "--out", export.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = myna_log(&[
        "verify",
        "--export",
        export.to_str().unwrap(),
        "--key-file",
        key_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out, err) = myna_log(&["export", "--db", db, "--format", "fhir"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 12);
    assert!(out.contains(r#""resourceType":"AuditEvent""#));

    let data_dir = FIXTURE.dir.path().to_str().unwrap();
    let (code, out, _) = myna_log(&["key", "--data-dir", data_dir]);
    assert_eq!((code, out.trim()), (0, key));

    {
        let conn = attacker(&copy.path);
        conn.execute("DELETE FROM access_log WHERE seq = 2", [])
            .unwrap();
    }
    let (code, out, _) = myna_log(&["verify", "--db", db, "--key", key]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("entry 1 (seq 3)"), "{out}");

    // The tail truncated with its checkpoint: a warning from the file alone, a finding
    // with the checkpoint kept elsewhere.
    let truncated = self::copy();
    truncate_with_checkpoint(&attacker(&truncated.path));
    let truncated_db = truncated.path.to_str().unwrap();
    let (code, out, _) = myna_log(&["verify", "--db", truncated_db, "--key", key]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("ok: 10 entries, 2 checkpoints, root "),
        "{out}"
    );
    let warning = out.lines().nth(1).unwrap_or_default();
    assert!(
        warning.starts_with("WARNING: the last 3 entries (seq 8..=10)")
            && warning.contains("cannot be vouched for without a newer checkpoint"),
        "{out}"
    );
    let kept = copy._dir.path().join("checkpoint-12.txt");
    std::fs::write(&kept, format!("{}\n", kept_checkpoint(3))).unwrap();
    let (code, out, _) = myna_log(&[
        "verify",
        "--db",
        truncated_db,
        "--key",
        key,
        "--checkpoint",
        kept.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("TAMPERED: tail (entries 10..12 missing)"),
        "{out}"
    );
    let older = copy._dir.path().join("checkpoint-7.txt");
    std::fs::write(&older, kept_checkpoint(2)).unwrap();
    let (code, out, _) = myna_log(&[
        "verify",
        "--db",
        truncated_db,
        "--key",
        key,
        "--checkpoint",
        older.to_str().unwrap(),
        "--checkpoint",
        older.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("; 2 given checkpoint(s) match"), "{out}");
    // A file that is not a checkpoint (the key file): nothing checked.
    let (code, _, err) = myna_log(&[
        "verify",
        "--db",
        truncated_db,
        "--key",
        key,
        "--checkpoint",
        key_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--checkpoint"), "{err}");

    let missing = copy._dir.path().join("absent.sqlite3");
    let (code, _, err) = myna_log(&["verify", "--db", missing.to_str().unwrap(), "--key", key]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = myna_log(&["verify", "--db", db, "--key", "not-a-key"]);
    assert_eq!(code, 2, "{err}");
    std::fs::write(&export, "{\"type\":\"entry\"\n").unwrap();
    let (code, _, err) = myna_log(&["verify", "--export", export.to_str().unwrap(), "--key", key]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("line 1"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = myna_log(&["key", "--data-dir", empty.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        !empty
            .path()
            .join(edge_agent::transparency::KEY_FILE)
            .exists()
    );
}

/// Opens the store on `path` as a restarted edge would, appends one more record (a copy of
/// the first with a new id) and asks it to sign a checkpoint of the grown tree.
fn append_and_publish(path: &Path) -> edge_agent::Result<u64> {
    let store = edge_agent::store::Store::open(path).unwrap();
    let signer = edge_agent::transparency::load_or_create_signer(
        FIXTURE.dir.path(),
        &edge_agent::config::Config::local(FIXTURE.dir.path().into()).log_origin,
    )
    .unwrap();
    let conn = Connection::open(path).unwrap();
    let mut record: AccessRecord = serde_json::from_str(&record_json(&conn, 1)).unwrap();
    record.id = AccessRecordId(uuid::Uuid::new_v4());
    store
        .write_blocking(move |tx| tx.append_access(&record))
        .unwrap();
    let published =
        store.write_blocking(move |tx| tx.publish_checkpoint(&signer, chrono::Utc::now()));
    store.close();
    published.map(|checkpoint| checkpoint.unwrap().tree_size)
}

#[test]
fn tamper_the_edge_refuses_to_sign_over_a_consistent_rewrite() {
    let intact = copy();
    assert_eq!(
        append_and_publish(&intact.path).unwrap(),
        FIXTURE.entries() + 1
    );
    assert_eq!(verify(&intact.path).finding, None);

    let forged = copy();
    {
        let conn = attacker(&forged.path);
        let text = record_json(&conn, 5);
        set_record_json(&conn, 5, &text.replace("crew-0042", "crew-0099"));
        rebuild_stored_tree(&conn);
    }
    let refused = append_and_publish(&forged.path);
    assert!(
        matches!(refused, Err(edge_agent::Error::Corrupt(_))),
        "the edge signed a rewritten tree: {refused:?}"
    );
    // Still caught where it was made: no newer signed root papers over it.
    let finding = verify(&forged.path)
        .finding
        .expect("tampering not detected");
    assert_eq!(
        finding.position,
        Position::Range { from: 3, to: 7 },
        "{finding}"
    );
}
