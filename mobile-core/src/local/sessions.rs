//! Each incident's steps (sealed: a consent note is free text) and its card certificate
//! (sealed, until close): what the app resumes after being killed.

use chrono::Utc;
use myna_domain::access::IncidentId;
use rusqlite::{OptionalExtension, params};

use super::store::{LocalStore, context, parse_incident, refuse_if_closed, rfc3339, storage};
use crate::error::MobileError;
use crate::progress::IncidentProgress;

/// An incident the tablet was working on, as saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedIncident {
    /// Incident id (UUID).
    pub incident_id: String,
    /// Crew member who started it.
    pub crew_member_id: String,
    /// Its steps so far.
    pub progress: IncidentProgress,
    /// Closed (nothing left to resume).
    pub closed: bool,
}

/// A saved incident and its card certificate (DER), while the tablet holds one.
pub(crate) type WithCertificate = (SavedIncident, Option<Vec<u8>>);

impl LocalStore {
    /// Saves an incident's steps (and, while held, its card certificate), creating the row
    /// on first save. Saving the close also wipes the summary copy and the certificate, in
    /// the same transaction. A closed incident stays closed: saving over it (a second
    /// handle on the same incident) is [`MobileError::IncidentNotOnTablet`].
    pub(crate) fn save_session(
        &self,
        incident: IncidentId,
        crew_member_id: &str,
        progress: &IncidentProgress,
        certificate_der: Option<&[u8]>,
    ) -> Result<(), MobileError> {
        let progress_json = zeroize::Zeroizing::new(serde_json::to_vec(progress).map_err(storage)?);
        let progress_sealed = self
            .sealer
            .seal(&progress_json, &context("progress", incident))?;
        let closed = progress.is_closed();
        let certificate = certificate_der
            .filter(|_| !closed)
            .map(|der| self.sealer.seal(der, &context("certificate", incident)))
            .transpose()?;
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(storage)?;
        refuse_if_closed(&tx, incident)?;
        tx.execute(
            "INSERT INTO sessions (incident_id, crew_member_id, progress, certificate, closed, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (incident_id) DO UPDATE SET
               progress = excluded.progress, certificate = excluded.certificate,
               closed = excluded.closed, updated_at = excluded.updated_at",
            params![
                incident.to_string(),
                crew_member_id,
                progress_sealed,
                certificate,
                closed,
                rfc3339(Utc::now())
            ],
        )
        .map_err(storage)?;
        if closed {
            tx.execute(
                "DELETE FROM summary_cache WHERE incident_id = ?1",
                [incident.to_string()],
            )
            .map_err(storage)?;
        }
        tx.commit().map_err(storage)
    }

    /// The saved incident, with its certificate opened, if the tablet has it.
    pub(crate) fn load_session(
        &self,
        incident: IncidentId,
    ) -> Result<Option<WithCertificate>, MobileError> {
        let row = self
            .conn()
            .query_row(
                "SELECT crew_member_id, progress, certificate, closed FROM sessions
                 WHERE incident_id = ?1",
                [incident.to_string()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, Option<Vec<u8>>>(2)?,
                        r.get::<_, bool>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(storage)?;
        let Some((crew_member_id, progress, certificate, closed)) = row else {
            return Ok(None);
        };
        let certificate = certificate
            .map(|sealed| {
                self.sealer
                    .open(&sealed, &context("certificate", incident))
                    .map(|der| der.to_vec())
            })
            .transpose()?;
        let progress = self
            .sealer
            .open(&progress, &context("progress", incident))?;
        let saved = SavedIncident {
            incident_id: incident.to_string(),
            crew_member_id,
            progress: serde_json::from_slice(&progress).map_err(storage)?,
            closed,
        };
        Ok(Some((saved, certificate)))
    }

    /// Incidents not closed yet, oldest first: what the app offers to resume at start.
    pub fn unfinished_incidents(&self) -> Result<Vec<SavedIncident>, MobileError> {
        let ids: Vec<String> = {
            let conn = self.conn();
            let mut statement = conn
                .prepare("SELECT incident_id FROM sessions WHERE closed = 0 ORDER BY incident_id")
                .map_err(storage)?;
            statement
                .query_map([], |r| r.get(0))
                .and_then(Iterator::collect)
                .map_err(storage)?
        };
        let mut incidents = Vec::with_capacity(ids.len());
        for id in ids {
            let id = parse_incident(&id)?;
            if let Some((saved, _)) = self.load_session(id)? {
                incidents.push(saved);
            }
        }
        Ok(incidents)
    }
}
