//! Tables and triggers.

use rusqlite::Connection;

use crate::Result;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS dataset (
    seed INTEGER NOT NULL,
    patients INTEGER NOT NULL,
    generated_on TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS patients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL,
    address TEXT NOT NULL,
    insurer TEXT NOT NULL,
    card_serial TEXT UNIQUE
);

CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients(id),
    kind TEXT NOT NULL,
    date TEXT NOT NULL,
    record_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_patient ON records(patient_id);

CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    crew_member_id TEXT NOT NULL,
    patient_id TEXT NOT NULL REFERENCES patients(id),
    assurance TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    consent_json TEXT,
    consent_at TEXT
);

-- The access log. Rows are only ever inserted: the triggers below turn any UPDATE or
-- DELETE into an error. (INSERT OR REPLACE would bypass the delete trigger; no code uses
-- it, and the tamper-evident log of the access-log issue makes any rewrite detectable.)
CREATE TABLE IF NOT EXISTS access_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    incident_id TEXT,
    patient_id TEXT,
    institution_id TEXT NOT NULL,
    record_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS access_log_by_patient ON access_log(patient_id, seq);
CREATE INDEX IF NOT EXISTS access_log_by_incident ON access_log(incident_id, seq);
CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log
BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;

CREATE TABLE IF NOT EXISTS handoffs (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    hospital_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    records_shared INTEGER NOT NULL,
    delivered_at TEXT
);

CREATE TABLE IF NOT EXISTS portal_sessions (
    token_sha256 TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients(id),
    expires_at TEXT NOT NULL
);
"#;

/// Creates missing tables, indexes and triggers.
pub fn apply(conn: &Connection) -> Result<()> {
    conn.execute_batch(SCHEMA)?;
    Ok(())
}
