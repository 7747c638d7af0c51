//! Identification (本人確認): from the evidence a crew presents to an established identity,
//! and the one-time challenges a card signs for PIN-verified identification.
//!
//! [`resolve`] checks, in this order, and stops at the first failure:
//! 1. the identification method against [`policy::identification_allowed`], before any
//!    lookup, so a refused method cannot probe who is in the record system;
//! 2. for a PIN-verified card, the challenge: issued to this device, not expired, and
//!    unused (or used by this same incident: a retried open). It is marked used in the
//!    transaction that logs the outcome, whatever the outcome;
//! 3. the card certificate against [`CardTrust`] (chain, revocation, validity);
//! 4. for a PIN-verified card, the card's signature over the challenge bytes
//!    ([`CardCertificate::verify_signature`]);
//! 5. the patient lookup by certificate issuer and serial.
//!
//! A certificate that is not genuine (unreadable, or not issued by a trusted CA) is never
//! looked up: [`Tx::patient_by_card`] takes only a [`GenuineCard`]. A genuine certificate
//! that fails a later check (revoked, expired, not yet valid, bad signature) is looked up so
//! that the refused attempt shows in the card holder's portal history; the client's answer
//! is the same whether or not a patient matched.

use chrono::{DateTime, Utc};
use myna_domain::access::{DenialReason, IncidentId};
use myna_domain::certificate::CardCertificate;
use myna_domain::identity::{
    AssuranceLevel, ChallengeId, EstablishedIdentity, IdentityEvidence, PatientId,
};
use myna_domain::policy;
use myna_domain::wire::IdentityEvidenceDto;
use rand::RngCore;

use crate::card_trust::{CardTrust, GenuineCard};
use crate::config::DeviceRegistration;
use crate::error::Result;
use crate::store::{ChallengeRow, Tx};

/// Length of a challenge in bytes.
pub const CHALLENGE_BYTES: usize = 32;

/// Issues a fresh challenge to `device`, valid for `ttl`, and purges expired ones.
pub fn issue_challenge(
    tx: &Tx<'_>,
    device: &DeviceRegistration,
    ttl: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<ChallengeRow> {
    tx.purge_expired_challenges(now)?;
    let mut challenge = vec![0; CHALLENGE_BYTES];
    rand::rng().fill_bytes(&mut challenge);
    let row = ChallengeRow {
        id: ChallengeId(uuid::Uuid::new_v4()),
        device_id: device.device_id.clone(),
        challenge,
        issued_at: now,
        expires_at: now + ttl,
        used_at: None,
        used_for_incident: None,
    };
    tx.insert_challenge(&row)?;
    Ok(row)
}

/// How a challenge may be used by an identification attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChallengeUse {
    /// Unused, this device's, unexpired: use it now.
    Fresh,
    /// Already used by this device for this same incident: a retried open.
    Retry,
    /// Unknown, another device's, expired, or used by another incident.
    Invalid,
}

fn challenge_use(
    row: Option<&ChallengeRow>,
    device_id: &str,
    incident: IncidentId,
    now: DateTime<Utc>,
) -> ChallengeUse {
    match row {
        None => ChallengeUse::Invalid,
        Some(row) if row.device_id != device_id || now >= row.expires_at => ChallengeUse::Invalid,
        Some(row) if row.used_at.is_none() => ChallengeUse::Fresh,
        Some(row) if row.used_for_incident == Some(incident) => ChallengeUse::Retry,
        Some(_) => ChallengeUse::Invalid,
    }
}

/// The patient the evidence points to (if any) and whether identity is established.
pub struct Resolution {
    /// The patient to name in the access record of a denial; `None` when nothing genuine
    /// pointed to anyone.
    pub patient: Option<PatientId>,
    /// The identity, or why it is not established.
    pub outcome: std::result::Result<EstablishedIdentity, DenialReason>,
}

impl Resolution {
    fn denied(patient: Option<PatientId>, reason: DenialReason) -> Result<Self> {
        Ok(Resolution {
            patient,
            outcome: Err(reason),
        })
    }

    fn established(patient: PatientId, assurance: AssuranceLevel) -> Result<Self> {
        Ok(Resolution {
            patient: Some(patient.clone()),
            outcome: Ok(EstablishedIdentity { patient, assurance }),
        })
    }
}

/// Resolves `evidence` presented by `device` for `incident` at `now` (see the module docs
/// for the order of checks). Writes nothing but the challenge's use.
pub fn resolve(
    tx: &Tx<'_>,
    evidence: IdentityEvidenceDto,
    device: &DeviceRegistration,
    incident: IncidentId,
    trust: &CardTrust,
    now: DateTime<Utc>,
) -> Result<Resolution> {
    let evidence = match evidence.into_domain() {
        Ok(Ok(evidence)) => evidence,
        Ok(Err(_photo_mismatch)) => {
            return Resolution::denied(None, DenialReason::PhotoNotConfirmed);
        }
        Err(myna_domain::Error::BasicFactsIncomplete(_)) => {
            return Resolution::denied(None, DenialReason::UnknownPatient);
        }
        Err(myna_domain::Error::Base64 {
            field: "signature_b64",
        }) => return Resolution::denied(None, DenialReason::SignatureInvalid),
        Err(_) => return Resolution::denied(None, DenialReason::CertificateInvalid),
    };
    let assurance = evidence.assurance();
    // Only a crew's basic-facts identification depends on a declared disaster.
    let in_declared_disaster = assurance == AssuranceLevel::BasicFactsOnly
        && !tx.disasters_covering(&device.area, now)?.is_empty();
    if let Err(reason) =
        policy::identification_allowed(assurance, device.fire_department.kind, in_declared_disaster)
    {
        return Resolution::denied(None, reason);
    }
    match evidence {
        IdentityEvidence::CardWithPhotoCheck { certificate_der } => {
            let card = match trust.check(&certificate_der, now) {
                Ok(card) => card,
                Err(problem) => {
                    return refused_card(tx, problem.genuine_card(), problem.denial_reason());
                }
            };
            card_holder(tx, &card, assurance)
        }
        IdentityEvidence::PinVerifiedCard {
            certificate_der,
            challenge_id,
            signature,
        } => {
            let row = tx.challenge(challenge_id)?;
            let challenge = match challenge_use(row.as_ref(), &device.device_id, incident, now) {
                ChallengeUse::Fresh => {
                    tx.use_challenge(challenge_id, incident, now)?;
                    row.map(|r| r.challenge)
                }
                ChallengeUse::Retry if own_incident_exists(tx, device, incident)? => {
                    row.map(|r| r.challenge)
                }
                ChallengeUse::Retry | ChallengeUse::Invalid => None,
            };
            let Some(challenge) = challenge else {
                return Resolution::denied(None, DenialReason::ChallengeInvalid);
            };
            let card = match trust.check(&certificate_der, now) {
                Ok(card) => card,
                Err(problem) => {
                    return refused_card(tx, problem.genuine_card(), problem.denial_reason());
                }
            };
            if CardCertificate::verify_signature(&certificate_der, &challenge, &signature).is_err()
            {
                return refused_card(tx, Some(&card), DenialReason::SignatureInvalid);
            }
            card_holder(tx, &card, assurance)
        }
        IdentityEvidence::BasicFacts(facts) => match tx.patient_by_facts(&facts)? {
            None => Resolution::denied(None, DenialReason::UnknownPatient),
            Some(patient) => Resolution::established(patient, AssuranceLevel::BasicFactsOnly),
        },
    }
}

/// The holder of an accepted card, or an unknown patient.
fn card_holder(tx: &Tx<'_>, card: &GenuineCard, assurance: AssuranceLevel) -> Result<Resolution> {
    match tx.patient_by_card(card)? {
        Some(patient) => Resolution::established(patient, assurance),
        None => Resolution::denied(None, DenialReason::UnknownPatient),
    }
}

/// A refused card: the holder of a genuine one is named in the access record.
fn refused_card(
    tx: &Tx<'_>,
    genuine: Option<&GenuineCard>,
    reason: DenialReason,
) -> Result<Resolution> {
    let patient = match genuine {
        Some(card) => tx.patient_by_card(card)?,
        None => None,
    };
    Resolution::denied(patient, reason)
}

fn own_incident_exists(
    tx: &Tx<'_>,
    device: &DeviceRegistration,
    incident: IncidentId,
) -> Result<bool> {
    Ok(tx
        .incident(incident)?
        .is_some_and(|row| row.device_id == device.device_id))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn row(used_for: Option<u128>) -> ChallengeRow {
        let at = Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap();
        ChallengeRow {
            id: ChallengeId(uuid::Uuid::nil()),
            device_id: "tablet-1".into(),
            challenge: vec![1; CHALLENGE_BYTES],
            issued_at: at,
            expires_at: at + chrono::Duration::minutes(2),
            used_at: used_for.map(|_| at),
            used_for_incident: used_for.map(|n| IncidentId(uuid::Uuid::from_u128(n))),
        }
    }

    #[test]
    fn a_challenge_is_single_use_bound_to_its_device_and_expires() {
        let incident = IncidentId(uuid::Uuid::from_u128(1));
        let issued = row(None).issued_at;
        let minutes = |m| issued + chrono::Duration::minutes(m);
        let seconds = |s| issued + chrono::Duration::seconds(s);
        // (row, device, at, expected)
        let cases = [
            (Some(row(None)), "tablet-1", seconds(1), ChallengeUse::Fresh),
            (
                Some(row(None)),
                "tablet-1",
                seconds(119),
                ChallengeUse::Fresh,
            ),
            (
                Some(row(None)),
                "tablet-1",
                minutes(2),
                ChallengeUse::Invalid,
            ),
            (
                Some(row(None)),
                "tablet-2",
                seconds(1),
                ChallengeUse::Invalid,
            ),
            (
                Some(row(Some(1))),
                "tablet-1",
                seconds(1),
                ChallengeUse::Retry,
            ),
            (
                Some(row(Some(2))),
                "tablet-1",
                seconds(1),
                ChallengeUse::Invalid,
            ),
            (
                Some(row(Some(1))),
                "tablet-2",
                seconds(1),
                ChallengeUse::Invalid,
            ),
            (
                Some(row(Some(1))),
                "tablet-1",
                minutes(3),
                ChallengeUse::Invalid,
            ),
            (None, "tablet-1", seconds(1), ChallengeUse::Invalid),
        ];
        for (n, (row, device, at, expected)) in cases.into_iter().enumerate() {
            assert_eq!(
                challenge_use(row.as_ref(), device, incident, at),
                expected,
                "case {n}"
            );
        }
    }
}
