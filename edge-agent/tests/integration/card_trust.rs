//! Card trust over HTTP: forged, revoked and unconfigured cards are refused, and a card
//! that is not genuine never reaches the patient table.

use axum::http::StatusCode;
use myna_domain::access::{AccessAction, AccessOutcome, DenialReason, IncidentId};

use crate::support::*;

fn new_id() -> IncidentId {
    IncidentId(uuid::Uuid::new_v4())
}

#[tokio::test]
async fn a_forged_card_with_a_real_serial_is_refused_and_names_nobody() {
    let edge = TestEdge::new();
    let forged = forged_card_for(carded_patient(0));
    edge.expect_open(
        DEVICE,
        &open_request(new_id(), &forged),
        StatusCode::FORBIDDEN,
        "certificate_untrusted",
    )
    .await;
    let log = edge.access_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, AccessAction::IdentifyPatient);
    assert_eq!(denial(&log[0]), Some(DenialReason::CertificateUntrusted));
    assert_eq!(log[0].patient, None);
}

#[tokio::test]
async fn a_forged_card_never_reaches_the_patient_table() {
    let edge = TestEdge::new();
    let index = carded_patient(0);
    // With the patient table gone, any lookup fails the request with 503.
    edge.raw_connection()
        .execute_batch("ALTER TABLE patients RENAME TO patients_hidden")
        .unwrap();
    // Answered without a lookup: a 503 would mean the forged card was looked up.
    edge.expect_open(
        DEVICE,
        &open_request(new_id(), &forged_card_for(index)),
        StatusCode::FORBIDDEN,
        "certificate_untrusted",
    )
    .await;
    // Control: a genuine card is looked up, and so fails here.
    let (status, _) = edge
        .post(
            "/v1/incidents",
            DEVICE,
            &open_request(new_id(), &card_for(index)),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_revoked_card_is_refused_and_nothing_is_disclosed() {
    let edge = TestEdge::new();
    let index = revoked_patient();
    let incident = new_id();
    edge.expect_open(
        DEVICE,
        &open_request(incident, &card_for(index)),
        StatusCode::FORBIDDEN,
        "certificate_revoked",
    )
    .await;
    // No incident was opened: no consent, no summary.
    let (status, body) = edge
        .put_json(
            &format!("/v1/incidents/{incident}/consent"),
            DEVICE,
            r#"{"decision":"difficult","reason":{"kind":"unconscious"}}"#,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), DEVICE)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.get("summary").is_none());
    // The refused attempt is in the card holder's history: the card is genuine.
    let log = edge.access_log();
    assert_eq!(log.len(), 1);
    assert_eq!(denial(&log[0]), Some(DenialReason::CertificateRevoked));
    assert_eq!(
        log[0].patient.as_ref().map(|p| p.0.clone()),
        Some(patient_id(index))
    );
    assert!(!log.iter().any(|r| r.outcome.disclosed_records()));
    // Other cards of the same CA still work.
    assert_eq!(
        edge.post(
            "/v1/incidents",
            DEVICE,
            &open_request(new_id(), &card_for(carded_patient(0)))
        )
        .await
        .0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_card_is_linked_by_issuer_and_serial_not_serial_alone() {
    let edge = TestEdge::with_trust(vec![CARD_CA.der(), OTHER_ISSUER_CA.der()], vec![]);
    let index = carded_patient(0);
    let key = rcgen::KeyPair::generate().unwrap();
    let same_serial = OTHER_ISSUER_CA.issue(&serial_of(index), &key, 2024, 2029);
    edge.expect_open(
        DEVICE,
        &open_request(new_id(), &same_serial),
        StatusCode::NOT_FOUND,
        "unknown_patient",
    )
    .await;
    assert_eq!(edge.access_log()[0].patient, None);
    // The dataset's own issuer links the same serial.
    let (status, body) = edge
        .post(
            "/v1/incidents",
            DEVICE,
            &open_request(new_id(), &card_for(index)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn an_edge_without_a_card_ca_refuses_every_card() {
    let edge = TestEdge::without_card_trust();
    for index in [carded_patient(0), carded_patient(1)] {
        edge.expect_open(
            DEVICE,
            &open_request(new_id(), &card_for(index)),
            StatusCode::FORBIDDEN,
            "certificate_untrusted",
        )
        .await;
    }
    let log = edge.access_log();
    assert_eq!(log.len(), 2);
    for record in log {
        assert_eq!(
            record.outcome,
            AccessOutcome::Denied {
                reason: DenialReason::CertificateUntrusted
            }
        );
        assert_eq!(record.patient, None);
    }
}
