//! One-time challenges for the patient portal's card sign-in (see
//! [`crate::portal_sign_in`]). Kept apart from the tablets' `identity_challenges`: an id
//! of one kind is simply unknown to the other.

use chrono::{DateTime, Utc};
use myna_domain::identity::ChallengeId;
use rusqlite::{OptionalExtension, params};

use super::tx::{Tx, parse_time, sortable_time};
use crate::error::Result;

/// A portal challenge as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalChallengeRow {
    /// Id.
    pub id: ChallengeId,
    /// The random bytes (the card signs the portal message over them).
    pub challenge: Vec<u8>,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// From this instant on it is refused.
    pub expires_at: DateTime<Utc>,
}

impl Tx<'_> {
    /// Stores a new portal challenge.
    pub fn insert_portal_challenge(&self, row: &PortalChallengeRow) -> Result<()> {
        self.tx.execute(
            "INSERT INTO portal_challenges (id, challenge, issued_at, expires_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                row.id.to_string(),
                row.challenge,
                sortable_time(row.issued_at),
                sortable_time(row.expires_at),
            ],
        )?;
        Ok(())
    }

    /// Removes portal challenge `id` and returns it as it was: the first attempt that
    /// names a challenge spends it, whatever that attempt's outcome. `None` if unknown
    /// (never issued, already spent, or purged).
    pub fn take_portal_challenge(&self, id: ChallengeId) -> Result<Option<PortalChallengeRow>> {
        let raw = self
            .tx
            .query_row(
                "DELETE FROM portal_challenges WHERE id = ?1
                 RETURNING challenge, issued_at, expires_at",
                [id.to_string()],
                |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?;
        let Some((challenge, issued_at, expires_at)) = raw else {
            return Ok(None);
        };
        Ok(Some(PortalChallengeRow {
            id,
            challenge,
            issued_at: parse_time(&issued_at)?,
            expires_at: parse_time(&expires_at)?,
        }))
    }

    /// Deletes portal challenges that expired before `now`.
    pub fn purge_expired_portal_challenges(&self, now: DateTime<Utc>) -> Result<usize> {
        Ok(self.tx.execute(
            "DELETE FROM portal_challenges WHERE expires_at < ?1",
            [sortable_time(now)],
        )?)
    }
}
