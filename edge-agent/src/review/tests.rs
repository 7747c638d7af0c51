use chrono::{DateTime, Duration, Utc};
use myna_domain::access::{
    AccessAction, AccessOutcome, AccessRecord, AccessRecordId, Institution, InstitutionKind,
    Purpose, ReviewOutcome, Viewer, ViewerRole,
};
use myna_domain::consent::{ConsentState, DifficultyReason};
use myna_domain::identity::PatientId;
use myna_domain::records::RecordKind;

use super::*;

fn t(minutes: i64) -> DateTime<Utc> {
    "2026-11-25T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(minutes)
}

fn record(at: i64, action: AccessAction, outcome: AccessOutcome) -> AccessRecord {
    AccessRecord {
        id: AccessRecordId(uuid::Uuid::nil()),
        at: t(at),
        incident: None,
        patient: Some(PatientId("P1".into())),
        viewer: Viewer {
            staff_id: Some("crew-1".into()),
            role: ViewerRole::Paramedic,
            device_id: Some("tablet-1".into()),
            unit: Some("unit-1".into()),
            certificate_serial: None,
            institution: Institution {
                id: "fd".into(),
                name: "FD".into(),
                kind: InstitutionKind::FireDepartment,
            },
        },
        purpose: Purpose::EmergencyTreatment,
        action,
        consent: Some(ConsentState::Given),
        outcome,
    }
}

fn disclosure(at: i64) -> AccessRecord {
    record(
        at,
        AccessAction::ViewSummary,
        AccessOutcome::Disclosed {
            kinds: vec![RecordKind::DrugAllergy],
        },
    )
}

fn quiet() -> AccessFacts {
    AccessFacts {
        unit_patients_without_transport: Some(1),
        patient_disclosures: 1,
        incident: Some(IncidentTimes {
            opened_at: t(0),
            accepted_at: None,
        }),
        patient_flagged: false,
    }
}

fn codes(record: &AccessRecord, facts: &AccessFacts) -> Vec<&'static str> {
    anomaly_flags(record, facts, &ReviewThresholds::default())
        .iter()
        .map(AnomalyFlag::code)
        .collect()
}

#[test]
fn a_quiet_disclosure_has_no_flags() {
    assert!(codes(&disclosure(10), &quiet()).is_empty());
}

#[test]
fn many_patients_without_transport_trips_at_the_threshold() {
    let check = |patients: u32, expected: &[&str]| {
        let facts = AccessFacts {
            unit_patients_without_transport: Some(patients),
            ..quiet()
        };
        assert_eq!(codes(&disclosure(10), &facts), expected, "{patients}");
    };
    check(3, &[]);
    check(4, &["many_patients_without_transport"]);
    check(9, &["many_patients_without_transport"]);
}

#[test]
fn repeated_views_trip_at_the_threshold() {
    let check = |views: u32, expected: &[&str]| {
        let facts = AccessFacts {
            patient_disclosures: views,
            ..quiet()
        };
        assert_eq!(codes(&disclosure(10), &facts), expected, "{views}");
    };
    check(9, &[]);
    check(10, &["repeated_views"]);
}

#[test]
fn an_incident_is_active_for_six_hours_or_until_half_an_hour_after_acceptance() {
    let thresholds = ReviewThresholds::default();
    let open = IncidentTimes {
        opened_at: t(0),
        accepted_at: None,
    };
    let accepted = IncidentTimes {
        accepted_at: Some(t(60)),
        ..open
    };
    let check = |at: i64, incident: &IncidentTimes, expected: Option<Inactive>| {
        assert_eq!(inactive(t(at), incident, &thresholds), expected, "{at}");
    };
    check(360, &open, None);
    check(361, &open, Some(Inactive::LongAfterOpening));
    check(90, &accepted, None);
    check(91, &accepted, Some(Inactive::AfterAcceptance));
    check(400, &accepted, Some(Inactive::AfterAcceptance));
}

#[test]
fn a_view_on_the_tablet_counts_at_the_tablets_time_when_plausible() {
    let incident = IncidentTimes {
        opened_at: t(0),
        accepted_at: Some(t(60)),
    };
    let view = |viewed_at: i64| {
        record(
            600,
            AccessAction::ViewOnDevice {
                viewed_at: t(viewed_at),
            },
            AccessOutcome::Disclosed { kinds: vec![] },
        )
    };
    // Shown offline at the scene, reported hours later: not late.
    assert_eq!(activity_time(&view(30), Some(&incident)), t(30));
    let facts = AccessFacts {
        incident: Some(incident),
        ..quiet()
    };
    assert!(codes(&view(30), &facts).is_empty());
    // A claim before the incident or after the report falls back to the edge's time.
    assert_eq!(activity_time(&view(-10), Some(&incident)), t(600));
    assert_eq!(activity_time(&view(700), Some(&incident)), t(600));
    assert_eq!(codes(&view(700), &facts), ["outside_active_incident"]);
}

#[test]
fn only_disclosures_are_anomalous_but_any_access_can_be_flagged_by_its_patient() {
    let loud = AccessFacts {
        unit_patients_without_transport: Some(20),
        patient_disclosures: 50,
        incident: Some(IncidentTimes {
            opened_at: t(-10_000),
            accepted_at: None,
        }),
        patient_flagged: true,
    };
    let denied = record(
        0,
        AccessAction::ViewSummary,
        AccessOutcome::Denied {
            reason: myna_domain::access::DenialReason::ConsentRefused,
        },
    );
    assert_eq!(codes(&denied, &loud), ["patient_flag"]);
    let mut review = record(
        0,
        AccessAction::ReviewAccess {
            reviewed: AccessRecordId(uuid::Uuid::nil()),
            outcome: ReviewOutcome::Appropriate,
        },
        AccessOutcome::Reviewed,
    );
    review.viewer.role = ViewerRole::PrivacyOfficer;
    assert_eq!(codes(&review, &loud), ["patient_flag"]);
    assert_eq!(
        codes(&disclosure(0), &loud),
        [
            "many_patients_without_transport",
            "repeated_views",
            "outside_active_incident",
            "patient_flag"
        ]
    );
}

#[test]
fn difficult_consent_is_always_a_reason_to_queue() {
    let mut difficult = disclosure(0);
    difficult.consent = Some(ConsentState::Difficult {
        reason: DifficultyReason::Unconscious,
    });
    assert_eq!(reasons_on_append(&difficult, &[]), [DIFFICULT_CONSENT]);
    assert_eq!(
        reasons_on_append(&difficult, &[AnomalyFlag::RepeatedViews { views: 10 }]),
        [DIFFICULT_CONSENT, "repeated_views"]
    );
    assert!(reasons_on_append(&disclosure(0), &[]).is_empty());
}

#[test]
fn reasons_name_the_numbers_and_no_one() {
    let thresholds = ReviewThresholds::default();
    assert_eq!(
        AnomalyFlag::ManyPatientsWithoutTransport { patients: 5 }.reason(&thresholds),
        "the unit viewed 5 patients' records within 3 h, none transported"
    );
    assert_eq!(
        AnomalyFlag::OutsideActiveIncident(Inactive::AfterAcceptance).reason(&thresholds),
        "more than 30 min after a hospital accepted the patient"
    );
}
