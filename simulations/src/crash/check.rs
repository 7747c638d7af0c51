//! The checks after every start: each acknowledged record is in the file, the Merkle tree
//! replays with exactly the stored hashes of its leaves, and `PRAGMA integrity_check` says
//! `ok`.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use myna_domain::transparency::LogVerifier;
use rusqlite::{Connection, OpenFlags};

use super::ledger::{Acknowledged, Ledger};
use super::report::{CrashReport, Failure};

/// Runs the checks on the file (on a blocking thread) and adds what it found to `report`.
pub(super) async fn check(
    db: &Path,
    verifier: &LogVerifier,
    ledger: &Ledger,
    cycle: usize,
    report: &mut CrashReport,
) {
    let acknowledged = ledger.snapshot();
    let (db, verifier) = (db.to_path_buf(), verifier.clone());
    let checked =
        tokio::task::spawn_blocking(move || check_file(&db, &verifier, &acknowledged)).await;
    let found = match checked {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => FileCheck {
            problems: vec![format!("could not check the file: {error:#}")],
            ..FileCheck::default()
        },
        Err(error) => FileCheck {
            problems: vec![format!("the check panicked: {error}")],
            ..FileCheck::default()
        },
    };
    report.acknowledged = found.acknowledged;
    report.found = found.found;
    report.log_entries = found.rows;
    report.failures.extend(
        found
            .problems
            .into_iter()
            .map(|detail| Failure { cycle, detail }),
    );
}

/// What one check of the file found.
#[derive(Debug, Default)]
struct FileCheck {
    acknowledged: u64,
    found: u64,
    rows: u64,
    problems: Vec<String>,
}

/// The checks of the module documentation, on the file as it is now.
fn check_file(
    db: &Path,
    verifier: &LogVerifier,
    acknowledged: &HashMap<String, Acknowledged>,
) -> anyhow::Result<FileCheck> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let mut check = FileCheck::default();

    // Read the rows, the tree size and the records in one snapshot.
    conn.execute_batch("BEGIN")?;
    let rows: i64 = conn.query_row("SELECT COUNT(*) FROM access_log", [], |r| r.get(0))?;
    check.rows = rows as u64;
    let stored: i64 = conn.query_row(
        "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_hashes",
        [],
        |r| r.get(0),
    )?;
    let in_file = recorded_by_incident(&conn)?;
    conn.execute_batch("COMMIT")?;

    for (incident, wanted) in acknowledged {
        let got = in_file.get(incident).copied().unwrap_or_default();
        check.acknowledged += wanted.total();
        check.found += wanted.disclosed.min(got.disclosed)
            + wanted.refused.min(got.refused)
            + wanted.denied.min(got.denied);
        if got.disclosed < wanted.disclosed
            || got.refused < wanted.refused
            || got.denied < wanted.denied
        {
            check.problems.push(format!(
                "incident {incident}: acknowledged {wanted:?}, the file holds {got:?}"
            ));
        }
    }
    let expected_hashes = tlog_tiles::tlog::stored_hash_count(check.rows);
    if stored as u64 != expected_hashes {
        check.problems.push(format!(
            "log_hashes holds {stored} hashes; {} entries need {expected_hashes}",
            check.rows
        ));
    }
    match edge_agent::verify::verify_db(db, verifier) {
        Ok(replay) => {
            if let Some(finding) = replay.finding {
                check
                    .problems
                    .push(format!("the log does not replay: {finding:?}"));
            }
            if replay.entries != check.rows {
                check.problems.push(format!(
                    "replayed {} entries, access_log has {} rows",
                    replay.entries, check.rows
                ));
            }
        }
        Err(error) => check.problems.push(format!("verify_db failed: {error}")),
    }
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if integrity != ["ok"] {
        check
            .problems
            .push(format!("integrity_check: {}", integrity.join("; ")));
    }
    Ok(check)
}

/// Disclosures, refusals and denials in `access_log`, by incident id.
fn recorded_by_incident(conn: &Connection) -> anyhow::Result<HashMap<String, Acknowledged>> {
    let mut stmt = conn.prepare(
        "SELECT incident_id, json_extract(record_json, '$.action.type'),
                json_extract(record_json, '$.outcome.type'), COUNT(*)
         FROM access_log WHERE incident_id IS NOT NULL GROUP BY 1, 2, 3",
    )?;
    let mut found: HashMap<String, Acknowledged> = HashMap::new();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let incident: String = row.get(0)?;
        let action: Option<String> = row.get(1)?;
        let outcome: Option<String> = row.get(2)?;
        let count: i64 = row.get(3)?;
        let entry = found.entry(incident).or_default();
        match (action.as_deref(), outcome.as_deref()) {
            (Some("view_summary"), Some("disclosed")) => entry.disclosed += count as u64,
            (Some("record_consent"), Some("refused")) => entry.refused += count as u64,
            (Some("view_summary"), Some("denied")) => entry.denied += count as u64,
            _ => {}
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use myna_domain::transparency::LogSigner;

    use super::*;

    /// The checks are not vacuous: an acknowledged record the file lacks is reported.
    #[test]
    fn a_missing_acknowledged_record_is_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("edge.sqlite3");
        edge_agent::store::Store::open(&db).unwrap().close();
        let signer = LogSigner::from_secret("crash.test/log", [7; 32]).unwrap();
        let verifier = LogVerifier::new(signer.verifier_key()).unwrap();
        let mut acknowledged = HashMap::new();
        let check = check_file(&db, &verifier, &acknowledged).unwrap();
        assert_eq!(check.problems, Vec::<String>::new());
        acknowledged.insert(
            "7a1f0c2e-0000-4000-8000-000000000001".to_string(),
            Acknowledged {
                disclosed: 1,
                ..Acknowledged::default()
            },
        );
        let check = check_file(&db, &verifier, &acknowledged).unwrap();
        assert_eq!((check.acknowledged, check.found), (1, 0));
        assert_eq!(check.problems.len(), 1, "{:?}", check.problems);
    }
}
