//! Staff accounts: the password hash, the TOTP secret and the sign-in state. The rules
//! (when to lock, when an account is stale) are in [`crate::staff`]; this file stores
//! their outcome, each in one transaction.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::database::{Store, parse_time, time_text};
use super::sessions::{NewSession, insert_session};
use crate::error::{Error, Result};
use crate::staff::sealing::TotpKey;
use crate::staff::{AccountStatus, DEV_TOTP_SECRET, SignInPolicy};

/// A stored account, as the sign-in reads it.
#[derive(Debug, Clone)]
pub struct StoredStaff {
    /// Staff id.
    pub id: String,
    /// Argon2id PHC string.
    pub password_phc: String,
    /// TOTP secret, base32 (opened: it is sealed in the file).
    pub totp_secret: String,
    /// The last TOTP step that signed in (a code of it or earlier is refused).
    pub last_totp_step: Option<u64>,
    /// Failures, lock, last activity, disabled.
    pub status: AccountStatus,
}

/// A new account, already hashed.
pub struct NewStaff<'a> {
    /// Staff id.
    pub id: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// Argon2id PHC string.
    pub password_phc: &'a str,
    /// TOTP secret, base32 (in plain text: the store seals it).
    pub totp_secret: &'a str,
}

/// A base32 secret as compared: upper case, without spaces or padding.
fn normalized(secret: &str) -> String {
    secret
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Inserts `account` (its secret sealed under `key`) unless its id exists; whether it was.
pub(super) fn insert_staff(
    conn: &rusqlite::Connection,
    key: &TotpKey,
    account: &NewStaff<'_>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let changed = conn.execute(
        "INSERT INTO staff_accounts (id, display_name, password_phc, totp_secret, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
        params![
            account.id,
            account.display_name,
            account.password_phc,
            key.seal(account.id, account.totp_secret),
            time_text(now)
        ],
    )?;
    Ok(changed == 1)
}

impl Store {
    /// Whether an account with this id is stored (enabled or not).
    pub fn has_staff(&self, id: &str) -> Result<bool> {
        Ok(self.conn()?.query_row(
            "SELECT COUNT(*) > 0 FROM staff_accounts WHERE id = ?1",
            [id],
            |r| r.get(0),
        )?)
    }

    /// Stores `account` unless its id exists, its TOTP secret sealed; returns whether it
    /// was stored.
    pub fn add_staff(&self, account: &NewStaff<'_>, now: DateTime<Utc>) -> Result<bool> {
        let conn = self.conn()?;
        insert_staff(&conn, self.totp_key()?, account, now)
    }

    /// The enabled accounts whose TOTP secret is the published development secret
    /// ([`crate::staff::DEV_TOTP_SECRET`]), by id (a disabled account cannot sign in). An
    /// error when a secret does not open.
    pub fn enabled_staff_with_dev_totp_secret(&self) -> Result<Vec<String>> {
        let key = self.totp_key()?;
        let conn = self.conn()?;
        let mut statement = conn
            .prepare("SELECT id, totp_secret FROM staff_accounts WHERE disabled = 0 ORDER BY id")?;
        let rows =
            statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut found = Vec::new();
        for row in rows {
            let (id, sealed) = row?;
            let secret = key
                .open(&id, &sealed)
                .map_err(|_| Error::WrongTotpKey(self.path().display().to_string()))?;
            if normalized(&secret) == normalized(DEV_TOTP_SECRET) {
                found.push(id);
            }
        }
        Ok(found)
    }

    /// The password hashes (PHC strings) of the enabled accounts among `ids`, by id.
    pub fn enabled_password_hashes(&self, ids: &[String]) -> Result<Vec<(String, String)>> {
        let conn = self.conn()?;
        let mut statement = conn.prepare_cached(
            "SELECT id, password_phc FROM staff_accounts WHERE id = ?1 AND disabled = 0",
        )?;
        let mut found = Vec::new();
        for id in ids {
            let row = statement
                .query_row([id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .optional()?;
            found.extend(row);
        }
        Ok(found)
    }

    /// The account with this id.
    pub fn staff_account(&self, id: &str) -> Result<Option<StoredStaff>> {
        type Row = (
            String,
            String,
            String,
            Option<i64>,
            u32,
            Option<String>,
            String,
            bool,
        );
        let row: Option<Row> = self
            .conn()?
            .prepare_cached(
                "SELECT id, password_phc, totp_secret, last_totp_step, failed_attempts,
                        locked_until, COALESCE(last_sign_in_at, created_at), disabled
                 FROM staff_accounts WHERE id = ?1",
            )?
            .query_row([id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            })
            .optional()?;
        let Some((id, password_phc, totp_secret, step, failed, locked, active, disabled)) = row
        else {
            return Ok(None);
        };
        let totp_secret = self
            .totp_key()?
            .open(&id, &totp_secret)
            .map_err(|_| Error::Corrupt("staff_accounts.totp_secret".into()))?;
        Ok(Some(StoredStaff {
            id,
            password_phc,
            totp_secret,
            last_totp_step: step.and_then(|s| u64::try_from(s).ok()),
            status: AccountStatus {
                failed_attempts: failed,
                locked_until: locked.as_deref().map(parse_time).transpose()?,
                last_active: parse_time(&active)?,
                disabled,
            },
        }))
    }

    /// Counts a failed sign-in and locks the account when `policy` says so. Returns the
    /// end of the lock, if this failure locked it.
    pub fn record_sign_in_failure(
        &self,
        id: &str,
        now: DateTime<Utc>,
        policy: &SignInPolicy,
    ) -> Result<Option<DateTime<Utc>>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let failures: Option<u32> = tx
            .query_row(
                "UPDATE staff_accounts SET failed_attempts = failed_attempts + 1
                 WHERE id = ?1 RETURNING failed_attempts",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        let locked_until = failures
            .and_then(|n| policy.lockout_after(n))
            .map(|lock| now + lock);
        if let Some(until) = locked_until {
            tx.execute(
                "UPDATE staff_accounts SET locked_until = ?2 WHERE id = ?1",
                params![id, time_text(until)],
            )?;
        }
        tx.commit()?;
        Ok(locked_until)
    }

    /// Records a successful sign-in with the TOTP step it used, and stores its session,
    /// in one transaction. Returns `false`, storing nothing, when the account was
    /// disabled, locked or had used this step meanwhile (two requests with one code).
    pub fn record_sign_in(
        &self,
        id: &str,
        totp_step: u64,
        session: &NewSession<'_>,
    ) -> Result<bool> {
        let now = time_text(session.now);
        let step = i64::try_from(totp_step).unwrap_or(i64::MAX);
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE staff_accounts
             SET failed_attempts = 0, locked_until = NULL, last_sign_in_at = ?2,
                 last_totp_step = ?3
             WHERE id = ?1 AND disabled = 0
               AND (last_totp_step IS NULL OR last_totp_step < ?3)
               AND (locked_until IS NULL OR locked_until <= ?2)",
            params![id, now, step],
        )?;
        if changed != 1 {
            return Ok(false);
        }
        insert_session(&tx, id, session)?;
        tx.commit()?;
        Ok(true)
    }

    /// Disables every enabled account last active at or before `cutoff` (an account
    /// that never signed in counts from its creation) and ends their sessions. Returns
    /// the ids disabled.
    pub fn disable_stale_staff(&self, cutoff: DateTime<Utc>) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let ids = {
            let mut statement = tx.prepare(
                "UPDATE staff_accounts SET disabled = 1
                 WHERE disabled = 0 AND COALESCE(last_sign_in_at, created_at) <= ?1
                 RETURNING id",
            )?;
            let rows = statement.query_map([time_text(cutoff)], |r| r.get::<_, String>(0))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        tx.execute(
            "DELETE FROM sessions
             WHERE staff_id IN (SELECT id FROM staff_accounts WHERE disabled = 1)",
            [],
        )?;
        tx.commit()?;
        Ok(ids)
    }

    /// Disables one account and ends its sessions.
    pub fn disable_staff(&self, id: &str) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        tx.execute("UPDATE staff_accounts SET disabled = 1 WHERE id = ?1", [id])?;
        tx.execute("DELETE FROM sessions WHERE staff_id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }
}
