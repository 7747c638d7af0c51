//! Typed operations inside one transaction. SQL lives here and nowhere else.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use myna_domain::access::{AccessRecord, AccessRecordId, IncidentId};
use myna_domain::consent::ConsentState;
use myna_domain::identity::{
    AddressOrInsurer, AssuranceLevel, BasicFacts, ChallengeId, EstablishedIdentity, PatientId, Sex,
};
use myna_domain::records::MedicalRecord;
use myna_domain::summary::{EmergencySummary, PatientHeader};
use rusqlite::{Connection, OptionalExtension, params};

use crate::card_trust::GenuineCard;
use crate::error::{Error, Result};
use crate::review::ReviewThresholds;

/// An open incident as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRow {
    /// Incident id (client-generated).
    pub id: IncidentId,
    /// Device that opened it.
    pub device_id: String,
    /// The crew's fire department and unit, `(fire department id, unit)`; any tablet of
    /// that unit may use it. `None` for incidents opened before units were recorded:
    /// those are their device's only.
    pub crew_unit: Option<(String, String)>,
    /// Crew member operating the tablet.
    pub crew_member_id: String,
    /// The identified patient.
    pub patient: PatientId,
    /// Assurance of the identification.
    pub assurance: AssuranceLevel,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// The consent decision, once recorded.
    pub consent: Option<ConsentState>,
}

impl IncidentRow {
    /// The identity established when the incident was opened.
    pub fn identity(&self) -> EstablishedIdentity {
        EstablishedIdentity {
            patient: self.patient.clone(),
            assurance: self.assurance,
        }
    }
}

/// An identification challenge as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeRow {
    /// Id given to the tablet.
    pub id: ChallengeId,
    /// Device that asked for it; only that device may use it.
    pub device_id: String,
    /// The random bytes the card signs.
    pub challenge: Vec<u8>,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// When it was used, if it was.
    pub used_at: Option<DateTime<Utc>>,
    /// The incident whose identification used it.
    pub used_for_incident: Option<IncidentId>,
}

/// Operations inside one transaction: [`crate::store::Store::write`] (writer thread) or
/// [`crate::store::Store::read`] (read-only snapshot).
pub struct Tx<'a> {
    pub(super) tx: &'a Connection,
    /// Thresholds of the review queue's anomaly flags.
    pub(super) review: ReviewThresholds,
    /// Action codes of the access records appended in this transaction (counted as a
    /// metric by the writer once they are committed).
    appended: std::cell::RefCell<Vec<&'static str>>,
}

pub(super) fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    Ok(serde_json::to_string(value)?)
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    // serde's message can quote the stored value (record text): keep only where it broke.
    serde_json::from_str(text).map_err(|e| {
        Error::Corrupt(format!(
            "json {:?} at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

/// RFC 3339 in UTC with milliseconds: fixed width, so such times compare as text in SQL.
pub(super) fn sortable_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(super) fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Corrupt(e.to_string()))
}

impl<'a> Tx<'a> {
    pub(super) fn new(tx: &'a Connection) -> Self {
        Tx {
            tx,
            review: ReviewThresholds::default(),
            appended: std::cell::RefCell::default(),
        }
    }

    /// The same transaction with these anomaly-flag thresholds.
    pub(super) fn with_review(self, review: ReviewThresholds) -> Self {
        Tx { review, ..self }
    }

    /// The action codes of the access records appended so far, emptied.
    pub(super) fn take_appended(&self) -> Vec<&'static str> {
        self.appended.take()
    }

    /// The patient linked to this card (issuer and serial). Only a [`GenuineCard`], whose
    /// chain to a trusted CA verified, can be looked up: a forged certificate cannot.
    pub fn patient_by_card(&self, card: &GenuineCard) -> Result<Option<PatientId>> {
        let card = card.certificate();
        Ok(self
            .tx
            .query_row(
                "SELECT id FROM patients WHERE card_issuer = ?1 AND card_serial = ?2",
                params![card.issuer, card.serial_hex],
                |r| r.get(0),
            )
            .optional()?
            .map(PatientId))
    }

    /// The patient matching all four basic facts exactly; `None` if none or ambiguous.
    pub fn patient_by_facts(&self, facts: &BasicFacts) -> Result<Option<PatientId>> {
        let (column, fourth) = match &facts.address_or_insurer {
            AddressOrInsurer::Address(a) => ("address", a),
            AddressOrInsurer::Insurer(i) => ("insurer", i),
        };
        let sql = format!(
            "SELECT id FROM patients WHERE name = ?1 AND birth_date = ?2 AND sex = ?3 AND {column} = ?4 LIMIT 2"
        );
        let mut stmt = self.tx.prepare(&sql)?;
        let ids: Vec<String> = stmt
            .query_map(
                params![
                    facts.name,
                    facts.birth_date.to_string(),
                    json(&facts.sex)?,
                    fourth
                ],
                |r| r.get(0),
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(match ids.as_slice() {
            [one] => Some(PatientId(one.clone())),
            _ => None,
        })
    }

    /// Whether a patient with this id exists.
    pub fn patient_exists(&self, patient: &PatientId) -> Result<bool> {
        Ok(self
            .tx
            .query_row("SELECT 1 FROM patients WHERE id = ?1", [&patient.0], |_| {
                Ok(())
            })
            .optional()?
            .is_some())
    }

    /// Stores a new incident.
    pub fn insert_incident(&self, row: &IncidentRow) -> Result<()> {
        self.tx.execute(
            "INSERT INTO incidents (id, device_id, crew_member_id, patient_id, assurance, opened_at,
                                    fire_department_id, unit)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                row.id.to_string(),
                row.device_id,
                row.crew_member_id,
                row.patient.0,
                json(&row.assurance)?,
                row.opened_at.to_rfc3339(),
                row.crew_unit.as_ref().map(|(fd, _)| fd),
                row.crew_unit.as_ref().map(|(_, unit)| unit),
            ],
        )?;
        Ok(())
    }

    /// An incident by id.
    pub fn incident(&self, id: IncidentId) -> Result<Option<IncidentRow>> {
        let raw = self
            .tx
            .query_row(
                "SELECT device_id, crew_member_id, patient_id, assurance, opened_at, consent_json,
                        fire_department_id, unit
                 FROM incidents WHERE id = ?1",
                [id.to_string()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, Option<String>>(7)?,
                    ))
                },
            )
            .optional()?;
        let Some((device_id, crew_member_id, patient, assurance, opened_at, consent, fd, unit)) =
            raw
        else {
            return Ok(None);
        };
        Ok(Some(IncidentRow {
            id,
            device_id,
            crew_unit: fd.zip(unit),
            crew_member_id,
            patient: PatientId(patient),
            assurance: from_json(&assurance)?,
            opened_at: parse_time(&opened_at)?,
            consent: consent.as_deref().map(from_json).transpose()?,
        }))
    }

    /// Records the consent decision of an incident (the policy decides whether it may change).
    pub fn set_consent(
        &self,
        id: IncidentId,
        consent: &ConsentState,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let changed = self.tx.execute(
            "UPDATE incidents SET consent_json = ?2, consent_at = ?3 WHERE id = ?1",
            params![id.to_string(), json(consent)?, at.to_rfc3339()],
        )?;
        if changed != 1 {
            return Err(Error::Corrupt(
                "incident vanished inside its transaction".into(),
            ));
        }
        Ok(())
    }

    /// Assembles the emergency summary of a patient from stored records.
    pub fn summary(&self, patient: &PatientId, now: DateTime<Utc>) -> Result<EmergencySummary> {
        let (name, birth, sex): (String, String, String) = self.tx.query_row(
            "SELECT name, birth_date, sex FROM patients WHERE id = ?1",
            [&patient.0],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let header = PatientHeader {
            id: patient.clone(),
            name,
            birth_date: birth
                .parse::<NaiveDate>()
                .map_err(|e| Error::Corrupt(e.to_string()))?,
            sex: from_json::<Sex>(&sex)?,
        };
        let mut stmt = self
            .tx
            .prepare_cached("SELECT record_json FROM records WHERE patient_id = ?1 ORDER BY id")?;
        let records = stmt
            .query_map([&patient.0], |r| r.get::<_, String>(0))?
            .map(|row| from_json::<MedicalRecord>(&row?))
            .collect::<Result<Vec<_>>>()?;
        Ok(EmergencySummary::assemble(header, records, now))
    }

    /// Appends an access record and its leaf in the log's Merkle tree, and queues it for
    /// the privacy officer's review when its consent was `Difficult` or an anomaly flag
    /// holds ([`crate::review`]), all in this transaction; returns the leaf index. There
    /// is no way to change or remove one.
    pub fn append_access(&self, record: &AccessRecord) -> Result<u64> {
        let entry = json(record)?;
        // Cached: this runs once per access, the hottest statement of the service.
        self.tx.prepare_cached(
            "INSERT INTO access_log (id, at, incident_id, patient_id, institution_id, record_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?.execute(
            params![
                record.id.0.to_string(),
                record.at.to_rfc3339(),
                record.incident.map(|i| i.to_string()),
                record.patient.as_ref().map(|p| p.0.clone()),
                record.viewer.institution.id,
                entry,
            ],
        )?;
        let seq = self.tx.last_insert_rowid();
        let leaf = self.add_leaf(seq, entry.as_bytes())?;
        self.queue_on_append(record, seq)?;
        self.appended.borrow_mut().push(record.action.code());
        Ok(leaf)
    }

    /// The access record with this id, if there is one.
    pub fn access_record(&self, id: AccessRecordId) -> Result<Option<AccessRecord>> {
        self.tx
            .prepare_cached("SELECT record_json FROM access_log WHERE id = ?1")?
            .query_row([id.0.to_string()], |r| r.get::<_, String>(0))
            .optional()?
            .map(|json| from_json(&json))
            .transpose()
    }

    /// The access records of an incident, oldest first.
    pub fn incident_access(&self, incident: IncidentId) -> Result<Vec<AccessRecord>> {
        let mut statement = self.tx.prepare_cached(
            "SELECT record_json FROM access_log WHERE incident_id = ?1 ORDER BY seq",
        )?;
        let rows = statement.query_map([incident.to_string()], |r| r.get::<_, String>(0))?;
        rows.map(|json| from_json(&json?)).collect()
    }

    /// Stores a new identification challenge.
    pub fn insert_challenge(&self, row: &ChallengeRow) -> Result<()> {
        self.tx.execute(
            "INSERT INTO identity_challenges
                 (id, device_id, challenge, issued_at, expires_at, used_at, used_for_incident)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                row.id.to_string(),
                row.device_id,
                row.challenge,
                sortable_time(row.issued_at),
                sortable_time(row.expires_at),
                row.used_at.map(sortable_time),
                row.used_for_incident.map(|i| i.to_string()),
            ],
        )?;
        Ok(())
    }

    /// An identification challenge by id, whoever it was issued to.
    pub fn challenge(&self, id: ChallengeId) -> Result<Option<ChallengeRow>> {
        let raw = self
            .tx
            .query_row(
                "SELECT device_id, challenge, issued_at, expires_at, used_at, used_for_incident
                 FROM identity_challenges WHERE id = ?1",
                [id.to_string()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((device_id, challenge, issued_at, expires_at, used_at, incident)) = raw else {
            return Ok(None);
        };
        let incident = incident
            .map(|i| i.parse().map(IncidentId))
            .transpose()
            .map_err(|_| Error::Corrupt("challenge incident id".into()))?;
        Ok(Some(ChallengeRow {
            id,
            device_id,
            challenge,
            issued_at: parse_time(&issued_at)?,
            expires_at: parse_time(&expires_at)?,
            used_at: used_at.as_deref().map(parse_time).transpose()?,
            used_for_incident: incident,
        }))
    }

    /// Marks an unused challenge used by `incident`'s identification.
    pub fn use_challenge(
        &self,
        id: ChallengeId,
        incident: IncidentId,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let changed = self.tx.execute(
            "UPDATE identity_challenges SET used_at = ?2, used_for_incident = ?3
             WHERE id = ?1 AND used_at IS NULL",
            params![id.to_string(), sortable_time(at), incident.to_string()],
        )?;
        if changed != 1 {
            return Err(Error::Corrupt(
                "challenge vanished or was used inside its transaction".into(),
            ));
        }
        Ok(())
    }

    /// Deletes challenges that expired before `now`: they can never be used again.
    pub fn purge_expired_challenges(&self, now: DateTime<Utc>) -> Result<usize> {
        Ok(self.tx.execute(
            "DELETE FROM identity_challenges WHERE expires_at < ?1",
            [sortable_time(now)],
        )?)
    }

    /// Stores a portal session by the SHA-256 of its token (the token itself is not kept).
    pub fn insert_portal_session(
        &self,
        token_sha256: &str,
        patient: &PatientId,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        self.tx.execute(
            "INSERT INTO portal_sessions (token_sha256, patient_id, expires_at) VALUES (?1, ?2, ?3)",
            params![token_sha256, patient.0, expires_at.to_rfc3339()],
        )?;
        Ok(())
    }

    /// The patient of an unexpired portal session.
    pub fn portal_session(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PatientId>> {
        let row: Option<(String, String)> = self
            .tx
            .query_row(
                "SELECT patient_id, expires_at FROM portal_sessions WHERE token_sha256 = ?1",
                [token_sha256],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match row {
            Some((patient, expires)) if parse_time(&expires)? > now => Ok(Some(PatientId(patient))),
            _ => Ok(None),
        }
    }
}
