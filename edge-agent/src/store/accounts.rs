//! Staff accounts (`staff_accounts`) and the record of administrative actions
//! (`admin_actions`).
//!
//! A privacy officer or an operator calls the edge with a client certificate naming
//! `urn:myna:staff:<role>:<id>`; [`Tx::enabled_staff`] is what `api::authz` asks before it
//! accepts one. Accounts change only through `edge-agent admin` ([`AdminDb`], a connection
//! of its own beside the running service's): each change and its [`AdminAction`] are one
//! transaction.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use myna_domain::client_identity::StaffRole;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::schema;
use super::tx::{Tx, parse_time, sortable_time};
use crate::error::{Error, Result};

/// How long an administrative command waits for the running service's writer.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A staff account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccount {
    /// Account id: the `<id>` of the certificate's `urn:myna:staff:<role>:<id>`.
    pub id: String,
    /// Officer or operator; a certificate naming the other role is refused.
    pub role: StaffRole,
    /// A name for administrators to recognise the account by; never logged.
    pub display_name: Option<String>,
    /// Whether certificates naming it are accepted.
    pub enabled: bool,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// Who added it.
    pub created_by: String,
    /// When it was last disabled (kept after it is enabled again).
    pub disabled_at: Option<DateTime<Utc>>,
    /// Who last disabled it.
    pub disabled_by: Option<String>,
}

/// One administrative action, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAction {
    /// Position in the record (1, 2, 3, …).
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (the administrator's login name, or `--by`).
    pub actor: String,
    /// What: `account_added`, `account_disabled`, `account_enabled`, `log_key_rotated`.
    pub action: String,
    /// On what: an account (`officer:po-1`), or the log's keys (`<old key> -> <new key>`).
    pub subject: String,
}

/// Why an account change was not made (nothing was written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountRefusal {
    /// `add` of an id that exists (whatever its role): ids are never reused.
    #[error("an account with id `{0}` exists already (ids are never reused)")]
    Exists(String),
    /// No account has this id.
    #[error("no account with id `{0}`")]
    Unknown(String),
    /// The account is already enabled or disabled.
    #[error("account `{id}` is already {state}")]
    Unchanged {
        /// The account.
        id: String,
        /// `enabled` or `disabled`.
        state: &'static str,
    },
}

fn account_subject(role: StaffRole, id: &str) -> String {
    format!("{role}:{id}")
}

impl Tx<'_> {
    /// Whether an enabled account `id` of `role` exists: the only question a staff
    /// certificate is asked.
    pub fn enabled_staff(&self, id: &str, role: StaffRole) -> Result<bool> {
        Ok(self.tx.query_row(
            "SELECT COUNT(*) > 0 FROM staff_accounts WHERE id = ?1 AND role = ?2 AND enabled = 1",
            params![id, role.code()],
            |r| r.get(0),
        )?)
    }

    /// The account `id`, if any.
    pub fn staff_account(&self, id: &str) -> Result<Option<StaffAccount>> {
        self.tx
            .query_row(
                "SELECT id, role, display_name, enabled, created_at, created_by,
                        disabled_at, disabled_by
                 FROM staff_accounts WHERE id = ?1",
                [id],
                raw_account,
            )
            .optional()?
            .map(RawAccount::decode)
            .transpose()
    }

    /// Every account, by id.
    pub fn staff_accounts(&self) -> Result<Vec<StaffAccount>> {
        let mut statement = self.tx.prepare(
            "SELECT id, role, display_name, enabled, created_at, created_by,
                    disabled_at, disabled_by
             FROM staff_accounts ORDER BY id",
        )?;
        let rows = statement.query_map([], raw_account)?;
        rows.map(|row| row?.decode()).collect()
    }

    /// Adds an enabled account and records who did it.
    pub fn add_staff_account(
        &self,
        id: &str,
        role: StaffRole,
        display_name: Option<&str>,
        at: DateTime<Utc>,
        actor: &str,
    ) -> Result<Result<(), AccountRefusal>> {
        if self.staff_account(id)?.is_some() {
            return Ok(Err(AccountRefusal::Exists(id.to_string())));
        }
        self.tx.execute(
            "INSERT INTO staff_accounts (id, role, display_name, enabled, created_at, created_by)
             VALUES (?1, ?2, ?3, 1, ?4, ?5)",
            params![id, role.code(), display_name, sortable_time(at), actor],
        )?;
        self.append_admin_action(at, actor, "account_added", &account_subject(role, id))?;
        Ok(Ok(()))
    }

    /// Enables or disables the account `id` and records who did it. Returns its role.
    pub fn set_staff_enabled(
        &self,
        id: &str,
        enabled: bool,
        at: DateTime<Utc>,
        actor: &str,
    ) -> Result<Result<StaffRole, AccountRefusal>> {
        let Some(account) = self.staff_account(id)? else {
            return Ok(Err(AccountRefusal::Unknown(id.to_string())));
        };
        if account.enabled == enabled {
            let state = if enabled { "enabled" } else { "disabled" };
            return Ok(Err(AccountRefusal::Unchanged {
                id: id.to_string(),
                state,
            }));
        }
        if enabled {
            self.tx
                .execute("UPDATE staff_accounts SET enabled = 1 WHERE id = ?1", [id])?;
        } else {
            self.tx.execute(
                "UPDATE staff_accounts SET enabled = 0, disabled_at = ?2, disabled_by = ?3
                 WHERE id = ?1",
                params![id, sortable_time(at), actor],
            )?;
        }
        let action = if enabled {
            "account_enabled"
        } else {
            "account_disabled"
        };
        self.append_admin_action(at, actor, action, &account_subject(account.role, id))?;
        Ok(Ok(account.role))
    }

    /// Appends an administrative action to the record.
    pub fn append_admin_action(
        &self,
        at: DateTime<Utc>,
        actor: &str,
        action: &str,
        subject: &str,
    ) -> Result<()> {
        self.tx.execute(
            "INSERT INTO admin_actions (at, actor, action, subject) VALUES (?1, ?2, ?3, ?4)",
            params![sortable_time(at), actor, action, subject],
        )?;
        Ok(())
    }

    /// Every administrative action, oldest first.
    pub fn admin_actions(&self) -> Result<Vec<AdminAction>> {
        let mut statement = self
            .tx
            .prepare("SELECT seq, at, actor, action, subject FROM admin_actions ORDER BY seq")?;
        let rows = statement.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (seq, at, actor, action, subject) = row?;
            Ok(AdminAction {
                seq,
                at: parse_time(&at)?,
                actor,
                action,
                subject,
            })
        })
        .collect()
    }
}

/// A row before its role and times are decoded.
struct RawAccount {
    id: String,
    role: String,
    display_name: Option<String>,
    enabled: bool,
    created_at: String,
    created_by: String,
    disabled_at: Option<String>,
    disabled_by: Option<String>,
}

fn raw_account(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawAccount> {
    Ok(RawAccount {
        id: r.get(0)?,
        role: r.get(1)?,
        display_name: r.get(2)?,
        enabled: r.get(3)?,
        created_at: r.get(4)?,
        created_by: r.get(5)?,
        disabled_at: r.get(6)?,
        disabled_by: r.get(7)?,
    })
}

impl RawAccount {
    fn decode(self) -> Result<StaffAccount> {
        Ok(StaffAccount {
            role: StaffRole::from_code(&self.role)
                .ok_or_else(|| Error::Corrupt(format!("staff role `{}`", self.role)))?,
            created_at: parse_time(&self.created_at)?,
            disabled_at: self.disabled_at.as_deref().map(parse_time).transpose()?,
            id: self.id,
            display_name: self.display_name,
            enabled: self.enabled,
            created_by: self.created_by,
            disabled_by: self.disabled_by,
        })
    }
}

/// The edge's database opened by an administrative command, beside the running service
/// (WAL lets both in; a write waits up to ten seconds for the service's writer).
pub struct AdminDb {
    conn: Connection,
}

impl AdminDb {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// The directory must exist.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = myna_service::open_durable(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        schema::apply(&conn)?;
        Ok(AdminDb { conn })
    }

    /// Runs `f` in one immediate (write-locking) transaction; `Err` rolls everything back.
    pub fn write<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&Tx::new(&tx))?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs `f` in a read transaction.
    pub fn read<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let tx = self.conn.transaction()?;
        let value = f(&Tx::new(&tx))?;
        tx.finish()?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 8, 1, minute, 0).unwrap()
    }

    #[test]
    fn an_account_is_added_disabled_and_enabled_with_each_action_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = AdminDb::open(&dir.path().join("edge.sqlite3")).unwrap();
        db.write(|tx| {
            tx.add_staff_account("po-1", StaffRole::Officer, Some("Sato"), at(0), "alice")
        })
        .unwrap()
        .unwrap();
        assert!(
            db.read(|tx| tx.enabled_staff("po-1", StaffRole::Officer))
                .unwrap()
        );
        assert!(
            !db.read(|tx| tx.enabled_staff("po-1", StaffRole::Operator))
                .unwrap()
        );
        let again =
            db.write(|tx| tx.add_staff_account("po-1", StaffRole::Operator, None, at(1), "bob"));
        assert_eq!(again.unwrap(), Err(AccountRefusal::Exists("po-1".into())));
        db.write(|tx| tx.set_staff_enabled("po-1", false, at(2), "bob"))
            .unwrap()
            .unwrap();
        assert!(
            !db.read(|tx| tx.enabled_staff("po-1", StaffRole::Officer))
                .unwrap()
        );
        assert!(matches!(
            db.write(|tx| tx.set_staff_enabled("po-1", false, at(3), "bob"))
                .unwrap(),
            Err(AccountRefusal::Unchanged { .. })
        ));
        assert_eq!(
            db.write(|tx| tx.set_staff_enabled("nobody", true, at(3), "bob"))
                .unwrap(),
            Err(AccountRefusal::Unknown("nobody".into()))
        );
        db.write(|tx| tx.set_staff_enabled("po-1", true, at(4), "carol"))
            .unwrap()
            .unwrap();
        let account = db.read(|tx| tx.staff_account("po-1")).unwrap().unwrap();
        assert!(account.enabled);
        assert_eq!(account.created_by, "alice");
        assert_eq!(account.disabled_by.as_deref(), Some("bob"));
        assert_eq!(account.disabled_at, Some(at(2)));
        let actions: Vec<(String, String, String)> = db
            .read(|tx| tx.admin_actions())
            .unwrap()
            .into_iter()
            .map(|a| (a.actor, a.action, a.subject))
            .collect();
        let expected = [
            ("alice", "account_added", "officer:po-1"),
            ("bob", "account_disabled", "officer:po-1"),
            ("carol", "account_enabled", "officer:po-1"),
        ]
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
        assert_eq!(actions, expected);
    }

    #[test]
    fn the_action_record_and_accounts_cannot_be_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = AdminDb::open(&dir.path().join("edge.sqlite3")).unwrap();
        db.write(|tx| tx.add_staff_account("op-1", StaffRole::Operator, None, at(0), "alice"))
            .unwrap()
            .unwrap();
        for sql in [
            "UPDATE admin_actions SET actor = 'mallory'",
            "DELETE FROM admin_actions",
            "DELETE FROM staff_accounts",
        ] {
            assert!(db.conn.execute(sql, []).is_err(), "{sql}");
        }
    }
}
