//! Tables and triggers.

use rusqlite::Connection;

use crate::error::Result;

const SCHEMA: &str = r#"
-- One row, rewritten by each readiness check: proof that a write commits.
CREATE TABLE IF NOT EXISTS health_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    written_at TEXT NOT NULL
);

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
    -- A card is linked by its certificate's issuer (RFC 4514) and serial (lowercase hex).
    card_issuer TEXT,
    card_serial TEXT
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

-- The access log's Merkle tree (RFC 6962), as the hashes tlog stores: the hash at
-- idx = stored_hash_index(level, n). Leaf n is access_log row seq = n + 1; seq never has
-- gaps (AUTOINCREMENT rolls back with its transaction, and rows are never deleted).
-- Written in the same transaction as the access record, never changed.
CREATE TABLE IF NOT EXISTS log_hashes (
    idx INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS log_hashes_no_update BEFORE UPDATE ON log_hashes
BEGIN SELECT RAISE(ABORT, 'log_hashes is append-only'); END;
CREATE TRIGGER IF NOT EXISTS log_hashes_no_delete BEFORE DELETE ON log_hashes
BEGIN SELECT RAISE(ABORT, 'log_hashes is append-only'); END;

-- Signed checkpoints (c2sp tlog-checkpoint in a signed note), newest last.
CREATE TABLE IF NOT EXISTS log_checkpoints (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tree_size INTEGER NOT NULL,
    root BLOB NOT NULL,
    signed_at TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS log_checkpoints_no_update BEFORE UPDATE ON log_checkpoints
BEGIN SELECT RAISE(ABORT, 'log_checkpoints is append-only'); END;
CREATE TRIGGER IF NOT EXISTS log_checkpoints_no_delete BEFORE DELETE ON log_checkpoints
BEGIN SELECT RAISE(ABORT, 'log_checkpoints is append-only'); END;

-- A patient's "I do not recognise this access" on one of their entries (portal).
CREATE TABLE IF NOT EXISTS access_flags (
    access_id TEXT PRIMARY KEY REFERENCES access_log(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    flagged_at TEXT NOT NULL,
    note TEXT
);

-- Accesses queued for a privacy officer's review, one row per reason (crate::review:
-- 'difficult_consent', 'patient_flag', an anomaly flag's code), inserted in the
-- transaction that makes the reason true and never changed or removed.
CREATE TABLE IF NOT EXISTS review_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    access_id TEXT NOT NULL REFERENCES access_log(id),
    reason TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    UNIQUE (access_id, reason)
);
CREATE TRIGGER IF NOT EXISTS review_queue_no_update BEFORE UPDATE ON review_queue
BEGIN SELECT RAISE(ABORT, 'review_queue is append-only'); END;
CREATE TRIGGER IF NOT EXISTS review_queue_no_delete BEFORE DELETE ON review_queue
BEGIN SELECT RAISE(ABORT, 'review_queue is append-only'); END;

-- A privacy officer's findings on queued accesses, append-only: the latest per access
-- stands. log_access_id is the access record logging the finding (same transaction);
-- covers_queue_id is the highest review_queue id of the access at the time, so a reason
-- queued later opens the item again. decided_at is sortable RFC 3339 UTC.
CREATE TABLE IF NOT EXISTS review_outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    access_id TEXT NOT NULL REFERENCES access_log(id),
    outcome TEXT NOT NULL,
    note TEXT,
    officer_id TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    log_access_id TEXT NOT NULL UNIQUE REFERENCES access_log(id),
    covers_queue_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS review_outcomes_by_access ON review_outcomes(access_id, id);
CREATE TRIGGER IF NOT EXISTS review_outcomes_no_update BEFORE UPDATE ON review_outcomes
BEGIN SELECT RAISE(ABORT, 'review_outcomes is append-only'); END;
CREATE TRIGGER IF NOT EXISTS review_outcomes_no_delete BEFORE DELETE ON review_outcomes
BEGIN SELECT RAISE(ABORT, 'review_outcomes is append-only'); END;

-- The access log by time, for the review queue's windows (access_log.at is RFC 3339 of
-- varying precision: compared as unix time).
CREATE INDEX IF NOT EXISTS access_log_by_time ON access_log(unixepoch(at, 'subsec'));
-- The access log by the viewing unit, for the review queue's "many patients without
-- transport": without it each paramedic disclosure scanned every access in the window.
CREATE INDEX IF NOT EXISTS access_log_by_unit
    ON access_log(json_extract(record_json, '$.viewer.unit'), seq);

CREATE TABLE IF NOT EXISTS handoffs (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    hospital_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    records_shared INTEGER NOT NULL,
    delivered_at TEXT,
    -- 'sent', 'accepted', 'declined' or 'withdrawn' (domain HandoffStatus); decline_reason
    -- is a DeclineReason code; decided_at is when the hospital answered or the crew withdrew.
    status TEXT NOT NULL DEFAULT 'sent',
    decline_reason TEXT,
    decided_at TEXT
);
CREATE INDEX IF NOT EXISTS handoffs_by_incident ON handoffs(incident_id);

-- Messages to hospital-view instances, kept until the hospital acknowledges them and
-- retried with backoff until then ('arrival': an ArrivalNotice; 'withdrawal': a
-- WithdrawalNotice). body_json is cleared on delivery: the edge keeps no copy of the
-- summary it relayed longer than it must. Times are sortable RFC 3339 UTC.
CREATE TABLE IF NOT EXISTS hospital_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    handoff_id TEXT NOT NULL REFERENCES handoffs(id),
    hospital_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    body_json TEXT,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX IF NOT EXISTS hospital_outbox_due ON hospital_outbox(next_attempt_at)
    WHERE delivered_at IS NULL;

-- One-time challenges for PIN-verified identification: bound to the tablet that asked,
-- used at most once, refused after expires_at. Times are RFC 3339 UTC with milliseconds
-- (fixed width, so they compare as text); rows past expiry are purged.
CREATE TABLE IF NOT EXISTS identity_challenges (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    challenge BLOB NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    used_for_incident TEXT
);
CREATE INDEX IF NOT EXISTS identity_challenges_by_expiry ON identity_challenges(expires_at);

-- Disasters declared by an operator: within area (a local-government code prefix) and
-- [starts_at, ends_at), ambulance crews may identify patients by the four basic facts.
-- Times are sortable RFC 3339 UTC.
CREATE TABLE IF NOT EXISTS disaster_declarations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    area TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    declared_at TEXT NOT NULL
);

-- Requests refused for who made them (no or unknown credentials, a role the route does
-- not allow, another unit's, hospital's or patient's resource). Denials about a patient's
-- records are in access_log as well, where the patient sees them; this table is the
-- security log for the privacy officer and the operator. Append-only like access_log.
CREATE TABLE IF NOT EXISTS auth_denials (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    role TEXT NOT NULL,
    principal TEXT,
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    resource TEXT,
    reason TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS auth_denials_no_update BEFORE UPDATE ON auth_denials
BEGIN SELECT RAISE(ABORT, 'auth_denials is append-only'); END;
CREATE TRIGGER IF NOT EXISTS auth_denials_no_delete BEFORE DELETE ON auth_denials
BEGIN SELECT RAISE(ABORT, 'auth_denials is append-only'); END;

CREATE TABLE IF NOT EXISTS portal_sessions (
    token_sha256 TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients(id),
    expires_at TEXT NOT NULL
);

-- One-time challenges for a patient's card sign-in to the portal: a table of their own,
-- so a tablet's identity challenge id is unknown here and a portal one unknown there.
-- Consumed (deleted) by the first sign-in attempt that names it, whatever its outcome;
-- rows past expiry are purged. Times are sortable RFC 3339 UTC.
CREATE TABLE IF NOT EXISTS portal_challenges (
    id TEXT PRIMARY KEY,
    challenge BLOB NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS portal_challenges_by_expiry ON portal_challenges(expires_at);

-- Staff accounts: privacy officers and operators, who call the edge with a client
-- certificate naming `urn:myna:staff:<role>:<id>`. The certificate is accepted only while
-- an enabled account of that id and role exists. Accounts are disabled, never deleted (the
-- security log and review findings name their ids). Times are sortable RFC 3339 UTC;
-- created_by and disabled_by name the administrator (`edge-agent admin --by`).
CREATE TABLE IF NOT EXISTS staff_accounts (
    id TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('officer', 'operator')),
    display_name TEXT,
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    disabled_at TEXT,
    disabled_by TEXT
);
CREATE TRIGGER IF NOT EXISTS staff_accounts_no_delete BEFORE DELETE ON staff_accounts
BEGIN SELECT RAISE(ABORT, 'staff accounts are disabled, not deleted'); END;

-- Every administrative action (`edge-agent admin`: an account added, disabled or enabled,
-- the log-signing key rotated), written in the transaction that makes the change.
-- Append-only like access_log.
CREATE TABLE IF NOT EXISTS admin_actions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS admin_actions_no_update BEFORE UPDATE ON admin_actions
BEGIN SELECT RAISE(ABORT, 'admin_actions is append-only'); END;
CREATE TRIGGER IF NOT EXISTS admin_actions_no_delete BEFORE DELETE ON admin_actions
BEGIN SELECT RAISE(ABORT, 'admin_actions is append-only'); END;
"#;

/// A column added after its table first shipped: files created before get it when
/// opened, and `backfill` fills it in once, right after it was added.
struct AddedColumn {
    table: &'static str,
    column: &'static str,
    declaration: &'static str,
    backfill: fn(&Connection) -> Result<()>,
}

fn no_backfill(_: &Connection) -> Result<()> {
    Ok(())
}

const ADDED_COLUMNS: &[AddedColumn] = &[
    // The crew's unit, for "own unit's incidents": incidents opened before stay their own
    // device's only.
    AddedColumn {
        table: "incidents",
        column: "fire_department_id",
        declaration: "TEXT",
        backfill: no_backfill,
    },
    AddedColumn {
        table: "incidents",
        column: "unit",
        declaration: "TEXT",
        backfill: no_backfill,
    },
    AddedColumn {
        table: "patients",
        column: "card_issuer",
        declaration: "TEXT",
        // Cards linked before issuers were recorded keep an empty issuer until whoever
        // imported them names it (`Store::assign_card_issuer`): the schema knows no issuer.
        backfill: no_backfill,
    },
    // Handoffs before hospitals could answer were all still 'sent'.
    AddedColumn {
        table: "handoffs",
        column: "status",
        declaration: "TEXT NOT NULL DEFAULT 'sent'",
        backfill: no_backfill,
    },
    AddedColumn {
        table: "handoffs",
        column: "decline_reason",
        declaration: "TEXT",
        backfill: no_backfill,
    },
    AddedColumn {
        table: "handoffs",
        column: "decided_at",
        declaration: "TEXT",
        backfill: no_backfill,
    },
];

/// Indexes over added columns, created once the columns exist.
const LATE_INDEXES: &str = r#"
CREATE UNIQUE INDEX IF NOT EXISTS patients_by_card ON patients(card_issuer, card_serial);
"#;

/// Creates missing tables, columns, indexes and triggers.
pub fn apply(conn: &Connection) -> Result<()> {
    conn.execute_batch(SCHEMA)?;
    for added in ADDED_COLUMNS {
        let present: bool = conn.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info(?1) WHERE name = ?2",
            [added.table, added.column],
            |r| r.get(0),
        )?;
        if !present {
            conn.execute_batch(&format!(
                "ALTER TABLE {} ADD COLUMN {} {}",
                added.table, added.column, added.declaration
            ))?;
            (added.backfill)(conn)?;
        }
    }
    conn.execute_batch(LATE_INDEXES)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insert(conn: &Connection, id: &str, issuer: &str, serial: &str) -> rusqlite::Result<usize> {
        conn.execute(
            "INSERT INTO patients (id, name, birth_date, sex, address, insurer, card_issuer, card_serial)
             VALUES (?1, 'n', '1940-01-02', '\"female\"', 'a', 'i', ?2, ?3)",
            [id, issuer, serial],
        )
    }

    #[test]
    fn a_card_is_unique_by_issuer_and_serial() {
        let conn = Connection::open_in_memory().unwrap();
        apply(&conn).unwrap();
        insert(&conn, "P1", "CN=A", "0a").unwrap();
        insert(&conn, "P2", "CN=B", "0a").unwrap();
        assert!(insert(&conn, "P3", "CN=A", "0a").is_err());
    }

    #[test]
    fn files_from_before_card_issuers_get_the_column() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE patients (id TEXT PRIMARY KEY, name TEXT NOT NULL,
                 birth_date TEXT NOT NULL, sex TEXT NOT NULL, address TEXT NOT NULL,
                 insurer TEXT NOT NULL, card_serial TEXT UNIQUE);
             INSERT INTO patients VALUES ('P0', 'n', '1940-01-02', '\"male\"', 'a', 'i', '0b');",
        )
        .unwrap();
        apply(&conn).unwrap();
        apply(&conn).unwrap();
        let issuer = |conn: &Connection| -> Option<String> {
            conn.query_row(
                "SELECT card_issuer FROM patients WHERE id = 'P0'",
                [],
                |r| r.get(0),
            )
            .unwrap()
        };
        // The schema names no issuer; the importer of the old patients does.
        assert_eq!(issuer(&conn), None);
        super::super::import::assign_card_issuer(&conn, "CN=Old CA").unwrap();
        assert_eq!(issuer(&conn).as_deref(), Some("CN=Old CA"));
        insert(&conn, "P1", "CN=A", "0a").unwrap();
        let indexed: bool = conn
            .query_row(
                "SELECT COUNT(*) > 0 FROM pragma_index_list('patients') WHERE name = 'patients_by_card'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(indexed);
    }

    #[test]
    fn a_units_accesses_are_found_without_scanning_the_log() {
        let conn = Connection::open_in_memory().unwrap();
        apply(&conn).unwrap();
        let plan: Vec<String> = conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM access_log
                 WHERE json_extract(record_json, '$.viewer.unit') = 'u' AND seq <= 10",
            )
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            plan.iter().any(
                |step| step.contains("USING COVERING INDEX access_log_by_unit")
                    || step.contains("USING INDEX access_log_by_unit")
            ),
            "{plan:?}"
        );
    }
}
