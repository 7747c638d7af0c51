//! Staff sessions. The cookie carries a random token; only its SHA-256 is stored, so a
//! copy of the database signs nobody in. A session ends at `expires_at` (absolute), after
//! an idle period without a request (`last_seen_at`), when its account is disabled, or at
//! sign-out.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::database::{Store, parse_time, time_text};
use crate::error::Result;

/// A session to store at sign-in.
pub struct NewSession<'a> {
    /// SHA-256 of the cookie's token, hex.
    pub token_sha256: &'a str,
    /// The time of sign-in.
    pub now: DateTime<Utc>,
    /// The absolute end.
    pub expires_at: DateTime<Utc>,
    /// Sessions idle since then are over (they are dropped now).
    pub idle_cutoff: DateTime<Utc>,
}

/// Drops ended sessions and stores a new one, inside the caller's transaction.
pub(super) fn insert_session(conn: &Connection, staff_id: &str, s: &NewSession<'_>) -> Result<()> {
    conn.execute(
        "DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen_at <= ?2",
        params![time_text(s.now), time_text(s.idle_cutoff)],
    )?;
    conn.execute(
        "INSERT INTO sessions (token_sha256, staff_id, expires_at, last_seen_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            s.token_sha256,
            staff_id,
            time_text(s.expires_at),
            time_text(s.now)
        ],
    )?;
    Ok(())
}

impl Store {
    /// The staff id of a live session, and its absolute end; marks it used at `now`. A
    /// session is live before its end, if used after `idle_cutoff`, and while its account
    /// is enabled.
    pub fn session_staff(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
        idle_cutoff: DateTime<Utc>,
    ) -> Result<Option<(String, DateTime<Utc>)>> {
        let conn = self.conn()?;
        let row: Option<(String, String)> = conn
            .prepare_cached(
                "UPDATE sessions SET last_seen_at = ?2
                 WHERE token_sha256 = ?1 AND expires_at > ?2 AND last_seen_at > ?3
                   AND staff_id IN (SELECT id FROM staff_accounts WHERE disabled = 0)
                 RETURNING staff_id, expires_at",
            )?
            .query_row(
                params![token_sha256, time_text(now), time_text(idle_cutoff)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(id, expires)| Ok((id, parse_time(&expires)?)))
            .transpose()
    }

    /// Ends a session.
    pub fn delete_session(&self, token_sha256: &str) -> Result<()> {
        self.conn()?.execute(
            "DELETE FROM sessions WHERE token_sha256 = ?1",
            [token_sha256],
        )?;
        Ok(())
    }
}
