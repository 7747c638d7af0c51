//! Staff sessions. The cookie carries a random token; only its SHA-256 is stored, so a
//! copy of the database signs nobody in.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Store, parse_time, time_text};
use crate::Result;

impl Store {
    /// Stores a session for `staff_id` until `expires_at`, and drops expired ones.
    pub fn create_session(
        &self,
        token_sha256: &str,
        staff_id: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let conn = self.conn()?;
        conn.execute(
            "DELETE FROM sessions WHERE expires_at <= ?1",
            [time_text(now)],
        )?;
        conn.execute(
            "INSERT INTO sessions (token_sha256, staff_id, expires_at) VALUES (?1, ?2, ?3)",
            params![token_sha256, staff_id, time_text(expires_at)],
        )?;
        Ok(())
    }

    /// The staff id of an unexpired session, and when it expires.
    pub fn session_staff(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(String, DateTime<Utc>)>> {
        let row: Option<(String, String)> = self
            .conn()?
            .prepare_cached(
                "SELECT staff_id, expires_at FROM sessions
                 WHERE token_sha256 = ?1 AND expires_at > ?2",
            )?
            .query_row(params![token_sha256, time_text(now)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
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
