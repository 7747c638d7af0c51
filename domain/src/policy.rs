//! The emergency-access policy: pure functions the edge-agent applies to every request.
//! The tablet may mirror them for its UI, but the server's answer is the one that counts.

use chrono::{DateTime, Duration, Utc};

use crate::access::{DenialReason, InstitutionKind};
use crate::consent::{ConsentState, DifficultyReason};
use crate::identity::{AssuranceLevel, EstablishedIdentity};

/// The basis on which a summary may be disclosed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disclosure {
    /// The patient consented.
    WithConsent,
    /// Consent was difficult to obtain; break-the-glass, with the reason.
    WithoutConsent(DifficultyReason),
}

/// Whether a viewer of `viewer` kind may identify a patient with evidence of `assurance`;
/// `in_declared_disaster` says whether the viewer's area is under a declared disaster now
/// ([`crate::disaster`]).
///
/// Ambulance crews identify by card (マイナ救急 is a card workflow); the four basic facts
/// alone are for hospitals' emergency viewing (救急時医療情報閲覧) and, for crews, only
/// within a declared disaster's area and period.
pub fn identification_allowed(
    assurance: AssuranceLevel,
    viewer: InstitutionKind,
    in_declared_disaster: bool,
) -> Result<(), DenialReason> {
    match (viewer, assurance) {
        (InstitutionKind::FireDepartment, AssuranceLevel::BasicFactsOnly)
            if !in_declared_disaster =>
        {
            Err(DenialReason::OutsideDeclaredDisaster)
        }
        _ => Ok(()),
    }
}

/// Records a consent decision. The only change allowed afterwards is towards refusal: a
/// patient who consented, or who woke up after being unconscious, may withdraw
/// (`Refused`), and nothing is disclosed from then on. A refusal is never overturned.
pub fn record_consent(
    current: Option<&ConsentState>,
    decision: ConsentState,
) -> Result<ConsentState, DenialReason> {
    match (current, &decision) {
        (None, _) => {}
        (Some(ConsentState::Given | ConsentState::Difficult { .. }), ConsentState::Refused) => {}
        (Some(_), _) => return Err(DenialReason::ConsentAlreadyRecorded),
    }
    if let ConsentState::Difficult { reason } = &decision {
        reason
            .validate()
            .map_err(|_| DenialReason::ConsentReasonMissing)?;
    }
    Ok(decision)
}

/// Whether the emergency summary may be disclosed: identity must be established and a
/// consent decision recorded that is `Given` or `Difficult`. Deny by default.
pub fn summary_disclosure(
    identity: Option<&EstablishedIdentity>,
    consent: Option<&ConsentState>,
) -> Result<Disclosure, DenialReason> {
    if identity.is_none() {
        return Err(DenialReason::UnknownPatient);
    }
    match consent {
        None => Err(DenialReason::ConsentNotRecorded),
        Some(ConsentState::Refused) => Err(DenialReason::ConsentRefused),
        Some(ConsentState::Given) => Ok(Disclosure::WithConsent),
        Some(ConsentState::Difficult { reason }) => {
            reason
                .validate()
                .map_err(|_| DenialReason::ConsentReasonMissing)?;
            Ok(Disclosure::WithoutConsent(reason.clone()))
        }
    }
}

/// How long after it was opened an incident stays active: its crew may record consent,
/// fetch the summary and hand the patient off until then. A scene-to-hospital run takes
/// well under an hour (DOMAIN.md); twelve hours cover a long transfer or a tablet that
/// was offline for a shift, and end access long before anyone could browse a patient's
/// records days later under an old incident. Reports of views already made on the tablet
/// are recorded whatever the age (refusing one would lose an access record).
pub const INCIDENT_ACTIVE_FOR: Duration = Duration::hours(12);

/// Whether an incident opened at `opened_at` is still active at `now`.
pub fn incident_active(opened_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), DenialReason> {
    if now - opened_at < INCIDENT_ACTIVE_FOR {
        Ok(())
    } else {
        Err(DenialReason::IncidentNotActive)
    }
}

/// A crew's view of an incident: the incident's unit and fire department, when they are
/// known, and the calling tablet's. A crew sees its own unit's incidents only (two
/// tablets of one ambulance share them); an incident recorded without its unit is its
/// own device's only, which the caller checks first.
pub fn incident_in_scope(
    incident_unit: Option<(&str, &str)>,
    caller_unit: (&str, &str),
) -> Result<(), DenialReason> {
    match incident_unit {
        Some(unit) if unit == caller_unit => Ok(()),
        _ => Err(DenialReason::OutsideScope),
    }
}

/// Whether an institution of `kind` may receive an emergency view (救急時医療情報閲覧):
/// emergency-receiving hospitals only, never clinics, pharmacies or fire departments.
pub fn emergency_view_allowed(kind: InstitutionKind) -> Result<(), DenialReason> {
    match kind {
        InstitutionKind::EmergencyHospital { .. } => Ok(()),
        InstitutionKind::FireDepartment
        | InstitutionKind::Clinic
        | InstitutionKind::Pharmacy
        | InstitutionKind::PrivacyOffice => Err(DenialReason::NotEmergencyReceiving),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::PatientId;

    fn identity() -> EstablishedIdentity {
        EstablishedIdentity {
            patient: PatientId("P1".into()),
            assurance: AssuranceLevel::CardAndPhoto,
        }
    }

    fn check(
        identity: Option<EstablishedIdentity>,
        consent: Option<ConsentState>,
        expected: Result<Disclosure, DenialReason>,
    ) {
        assert_eq!(
            summary_disclosure(identity.as_ref(), consent.as_ref()),
            expected,
            "identity {identity:?}, consent {consent:?}"
        );
    }

    #[test]
    fn summary_disclosure_table() {
        let unconscious = DifficultyReason::Unconscious;
        check(
            Some(identity()),
            Some(ConsentState::Given),
            Ok(Disclosure::WithConsent),
        );
        check(
            Some(identity()),
            Some(ConsentState::Difficult {
                reason: unconscious.clone(),
            }),
            Ok(Disclosure::WithoutConsent(unconscious)),
        );
        check(
            Some(identity()),
            Some(ConsentState::Refused),
            Err(DenialReason::ConsentRefused),
        );
        check(
            Some(identity()),
            None,
            Err(DenialReason::ConsentNotRecorded),
        );
        check(
            None,
            Some(ConsentState::Given),
            Err(DenialReason::UnknownPatient),
        );
        check(
            Some(identity()),
            Some(ConsentState::Difficult {
                reason: DifficultyReason::Other(String::new()),
            }),
            Err(DenialReason::ConsentReasonMissing),
        );
    }

    #[test]
    fn consent_changes_only_towards_refusal() {
        assert_eq!(
            record_consent(None, ConsentState::Refused),
            Ok(ConsentState::Refused)
        );
        assert_eq!(
            record_consent(Some(&ConsentState::Refused), ConsentState::Given),
            Err(DenialReason::ConsentAlreadyRecorded)
        );
        let unconscious = ConsentState::Difficult {
            reason: DifficultyReason::Unconscious,
        };
        // (current, decision, allowed): only a withdrawal towards refusal changes a decision.
        let cases = [
            (ConsentState::Given, ConsentState::Refused, true),
            (unconscious.clone(), ConsentState::Refused, true),
            (ConsentState::Given, unconscious.clone(), false),
            (unconscious.clone(), ConsentState::Given, false),
            (ConsentState::Refused, unconscious, false),
        ];
        for (current, decision, allowed) in cases {
            let got = record_consent(Some(&current), decision.clone());
            assert_eq!(got.is_ok(), allowed, "{current:?} -> {decision:?}");
        }
    }

    #[test]
    fn crews_identify_by_card() {
        let fd = InstitutionKind::FireDepartment;
        let er = InstitutionKind::EmergencyHospital { tier: 3 };
        assert!(identification_allowed(AssuranceLevel::CardAndPhoto, fd, false).is_ok());
        assert_eq!(
            identification_allowed(AssuranceLevel::BasicFactsOnly, fd, false),
            Err(DenialReason::OutsideDeclaredDisaster)
        );
        assert!(identification_allowed(AssuranceLevel::BasicFactsOnly, fd, true).is_ok());
        assert!(identification_allowed(AssuranceLevel::BasicFactsOnly, er, false).is_ok());
    }

    #[test]
    fn incidents_stay_active_for_twelve_hours() {
        let opened = DateTime::parse_from_rfc3339("2026-11-29T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(incident_active(opened, opened), Ok(()));
        let almost = opened + INCIDENT_ACTIVE_FOR - Duration::seconds(1);
        assert_eq!(incident_active(opened, almost), Ok(()));
        assert_eq!(
            incident_active(opened, opened + INCIDENT_ACTIVE_FOR),
            Err(DenialReason::IncidentNotActive)
        );
    }

    #[test]
    fn crews_see_their_own_units_incidents_only() {
        let mine = ("fd-kyoto", "unit-3");
        assert_eq!(incident_in_scope(Some(mine), mine), Ok(()));
        for other in [("fd-kyoto", "unit-4"), ("fd-osaka", "unit-3")] {
            assert_eq!(
                incident_in_scope(Some(other), mine),
                Err(DenialReason::OutsideScope)
            );
        }
        assert_eq!(
            incident_in_scope(None, mine),
            Err(DenialReason::OutsideScope)
        );
    }

    #[test]
    fn only_emergency_hospitals_receive_an_emergency_view() {
        assert_eq!(
            emergency_view_allowed(InstitutionKind::EmergencyHospital { tier: 1 }),
            Ok(())
        );
        for kind in [
            InstitutionKind::Clinic,
            InstitutionKind::Pharmacy,
            InstitutionKind::FireDepartment,
        ] {
            assert_eq!(
                emergency_view_allowed(kind),
                Err(DenialReason::NotEmergencyReceiving)
            );
        }
    }
}
