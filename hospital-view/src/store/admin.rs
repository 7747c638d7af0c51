//! Administrative changes to staff accounts, each written with its `admin_actions` row
//! (who did what to which account, when) in one transaction, and the listings the
//! `hospital-view admin` command prints.

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

use super::database::{Store, parse_time, time_text};
use super::staff::{NewStaff, insert_staff};
use crate::error::Result;

/// An administrative action on a staff account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    /// The account was created.
    Add,
    /// The account was disabled (its sessions ended).
    Disable,
    /// The account was enabled again.
    Enable,
    /// A new TOTP secret replaced the old one (its sessions ended).
    ResetTotp,
    /// The lock and the failure count were cleared.
    Unlock,
}

impl AdminAction {
    /// The name stored and printed (the command's name).
    pub fn as_str(self) -> &'static str {
        match self {
            AdminAction::Add => "add",
            AdminAction::Disable => "disable",
            AdminAction::Enable => "enable",
            AdminAction::ResetTotp => "reset-totp",
            AdminAction::Unlock => "unlock",
        }
    }
}

/// Who does an administrative action, and when.
#[derive(Debug, Clone)]
pub struct Actor<'a> {
    /// The administrator's name (`--by`, else the login name).
    pub name: &'a str,
    /// The time recorded.
    pub now: DateTime<Utc>,
}

/// One recorded administrative action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedAction {
    /// Order of recording.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What (`add`, `disable`, `enable`, `reset-totp`, `unlock`).
    pub action: String,
    /// On which account.
    pub staff_id: String,
}

/// An account as `hospital-view admin list` shows it (no secret, no hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSummary {
    /// Staff id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Disabled (stale or by an administrator).
    pub disabled: bool,
    /// Locked until then, after failed sign-ins.
    pub locked_until: Option<DateTime<Utc>>,
    /// Consecutive failed sign-ins.
    pub failed_attempts: u32,
    /// The last sign-in.
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

fn record(
    tx: &Transaction<'_>,
    actor: &Actor<'_>,
    action: AdminAction,
    staff_id: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO admin_actions (at, actor, action, staff_id) VALUES (?1, ?2, ?3, ?4)",
        params![time_text(actor.now), actor.name, action.as_str(), staff_id],
    )?;
    Ok(())
}

impl Store {
    /// Adds `account` and records it; `false` (nothing written) when the id exists.
    pub fn admin_add_staff(&self, account: &NewStaff<'_>, actor: &Actor<'_>) -> Result<bool> {
        let key = self.totp_key()?;
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        if !insert_staff(&tx, key, account, actor.now)? {
            return Ok(false);
        }
        record(&tx, actor, AdminAction::Add, account.id)?;
        tx.commit()?;
        Ok(true)
    }

    /// Disables (`true`) or enables (`false`) account `id` and records it; `false` when
    /// no such account. Disabling ends its sessions; enabling counts as activity, so the
    /// account has the whole stale period to sign in.
    pub fn admin_set_disabled(&self, id: &str, disabled: bool, actor: &Actor<'_>) -> Result<bool> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let changed = if disabled {
            let changed =
                tx.execute("UPDATE staff_accounts SET disabled = 1 WHERE id = ?1", [id])?;
            tx.execute("DELETE FROM sessions WHERE staff_id = ?1", [id])?;
            changed
        } else {
            tx.execute(
                "UPDATE staff_accounts SET disabled = 0, last_sign_in_at = ?2 WHERE id = ?1",
                params![id, time_text(actor.now)],
            )?
        };
        if changed != 1 {
            return Ok(false);
        }
        let action = if disabled {
            AdminAction::Disable
        } else {
            AdminAction::Enable
        };
        record(&tx, actor, action, id)?;
        tx.commit()?;
        Ok(true)
    }

    /// Replaces account `id`'s TOTP secret with `secret` (base32, sealed here), forgets the
    /// last step used, ends its sessions and records it; `false` when no such account.
    pub fn admin_reset_totp(&self, id: &str, secret: &str, actor: &Actor<'_>) -> Result<bool> {
        let sealed = self.totp_key()?.seal(id, secret);
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE staff_accounts SET totp_secret = ?2, last_totp_step = NULL WHERE id = ?1",
            params![id, sealed],
        )?;
        if changed != 1 {
            return Ok(false);
        }
        tx.execute("DELETE FROM sessions WHERE staff_id = ?1", [id])?;
        record(&tx, actor, AdminAction::ResetTotp, id)?;
        tx.commit()?;
        Ok(true)
    }

    /// Clears account `id`'s lock and failure count and records it; `false` when no such
    /// account.
    pub fn admin_unlock(&self, id: &str, actor: &Actor<'_>) -> Result<bool> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE staff_accounts SET failed_attempts = 0, locked_until = NULL WHERE id = ?1",
            [id],
        )?;
        if changed != 1 {
            return Ok(false);
        }
        record(&tx, actor, AdminAction::Unlock, id)?;
        tx.commit()?;
        Ok(true)
    }

    /// Every account, by id.
    pub fn list_staff(&self) -> Result<Vec<StaffSummary>> {
        let conn = self.conn()?;
        let mut statement = conn.prepare(
            "SELECT id, display_name, disabled, locked_until, failed_attempts,
                    last_sign_in_at, created_at
             FROM staff_accounts ORDER BY id",
        )?;
        type Row = (
            String,
            String,
            bool,
            Option<String>,
            u32,
            Option<String>,
            String,
        );
        let rows = statement.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?;
        let mut accounts = Vec::new();
        for row in rows {
            let (id, display_name, disabled, locked, failed_attempts, last, created): Row = row?;
            accounts.push(StaffSummary {
                id,
                display_name,
                disabled,
                locked_until: locked.as_deref().map(parse_time).transpose()?,
                failed_attempts,
                last_sign_in_at: last.as_deref().map(parse_time).transpose()?,
                created_at: parse_time(&created)?,
            });
        }
        Ok(accounts)
    }

    /// Every recorded administrative action, oldest first.
    pub fn admin_actions(&self) -> Result<Vec<RecordedAction>> {
        let conn = self.conn()?;
        let mut statement = conn
            .prepare("SELECT seq, at, actor, action, staff_id FROM admin_actions ORDER BY seq")?;
        let rows = statement.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut actions = Vec::new();
        for row in rows {
            let (seq, at, actor, action, staff_id) = row?;
            actions.push(RecordedAction {
                seq,
                at: parse_time(&at)?,
                actor,
                action,
                staff_id,
            });
        }
        Ok(actions)
    }
}
