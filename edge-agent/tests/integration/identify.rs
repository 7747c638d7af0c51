//! Identifying the patient: cards, bad certificates, unknown patients, bad bodies.

use axum::http::{Method, StatusCode};
use myna_domain::access::{AccessAction, DenialReason, IncidentId};
use myna_domain::wire::{IdentityEvidenceDto, OpenIncidentRequest};

use crate::support::*;

#[tokio::test]
async fn valid_card_opens_incident_without_an_access_record() {
    let edge = TestEdge::new();
    let incident = IncidentId(uuid::Uuid::new_v4());
    let request = open_request(incident, &card_for(carded_patient(0)));
    let (status, body) = edge.post("/v1/incidents", DEVICE, &request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["assurance"], "card_and_photo");
    // Retrying the same request is idempotent.
    let (status, _) = edge.post("/v1/incidents", DEVICE, &request).await;
    assert_eq!(status, StatusCode::CREATED);
    // The same id from another tablet is a conflict, not a takeover.
    let (status, body) = edge.post("/v1/incidents", OTHER_DEVICE, &request).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("incident_id_conflict"))
    );
    assert!(
        edge.access_log().is_empty(),
        "identification alone discloses nothing"
    );
}

#[tokio::test]
async fn unknown_card_is_404_and_the_attempt_is_logged_without_a_patient() {
    let edge = TestEdge::new();
    let cert = certificate(&[0x7f, 1, 2, 3, 4, 5, 6, 7], 2024, 2029);
    let (status, body) = edge
        .post(
            "/v1/incidents",
            DEVICE,
            &open_request(IncidentId(uuid::Uuid::new_v4()), &cert),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_patient"))
    );
    let log = edge.access_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].patient, None);
    assert_eq!(log[0].action, AccessAction::IdentifyPatient);
    assert_eq!(denial(&log[0]), Some(DenialReason::UnknownPatient));
    assert_eq!(log[0].viewer.device_id.as_deref(), Some("tablet-tfd-0001"));
}

#[tokio::test]
async fn expired_card_is_refused_and_shows_in_the_owners_log() {
    let edge = TestEdge::new();
    let index = carded_patient(1);
    let card = population::patient(edge_seed(), index, today())
        .card
        .unwrap();
    let expired = certificate(&card.serial, 2019, 2024);
    let (status, body) = edge
        .post(
            "/v1/incidents",
            DEVICE,
            &open_request(IncidentId(uuid::Uuid::new_v4()), &expired),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("certificate_not_valid_now")
        )
    );
    let log = edge.access_log();
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].patient.as_ref().map(|p| p.0.clone()),
        Some(patient_id(index))
    );
}

#[tokio::test]
async fn bad_evidence_gets_clear_4xx() {
    let edge = TestEdge::new();
    let id = || IncidentId(uuid::Uuid::new_v4());
    let der = card_for(carded_patient(0));
    // (request, expected status, expected code)
    let garbage = OpenIncidentRequest {
        identity: IdentityEvidenceDto::CardWithPhotoCheck {
            certificate_der_b64: "AAECAw==".into(),
            photo_matches: true,
        },
        ..open_request(id(), &der)
    };
    let not_base64 = OpenIncidentRequest {
        identity: IdentityEvidenceDto::CardWithPhotoCheck {
            certificate_der_b64: "%%%".into(),
            photo_matches: true,
        },
        ..open_request(id(), &der)
    };
    let photo_mismatch = OpenIncidentRequest {
        identity: IdentityEvidenceDto::card_with_photo(&der, false),
        ..open_request(id(), &der)
    };
    let facts = population::patient(edge_seed(), 0, today());
    let basic_facts = OpenIncidentRequest {
        identity: IdentityEvidenceDto::BasicFacts {
            facts: myna_domain::identity::BasicFacts {
                name: facts.header.name.clone(),
                birth_date: facts.header.birth_date,
                sex: facts.header.sex,
                address_or_insurer: myna_domain::identity::AddressOrInsurer::Address(
                    facts.address.clone(),
                ),
            },
        },
        ..open_request(id(), &der)
    };
    // Made-up facts must get the same answer as real ones: no probing who exists.
    let mut made_up = basic_facts.clone();
    if let IdentityEvidenceDto::BasicFacts { facts } = &mut made_up.identity {
        facts.name = "存在 しない".into();
    }
    made_up.incident_id = id();
    let cases = [
        (
            made_up,
            StatusCode::UNPROCESSABLE_ENTITY,
            "outside_declared_disaster",
        ),
        (
            garbage,
            StatusCode::UNPROCESSABLE_ENTITY,
            "certificate_invalid",
        ),
        (
            not_base64,
            StatusCode::UNPROCESSABLE_ENTITY,
            "certificate_invalid",
        ),
        (
            photo_mismatch,
            StatusCode::UNPROCESSABLE_ENTITY,
            "photo_not_confirmed",
        ),
        (
            basic_facts,
            StatusCode::UNPROCESSABLE_ENTITY,
            "outside_declared_disaster",
        ),
    ];
    let count = cases.len();
    for (request, status, code) in cases {
        let (got, body) = edge.post("/v1/incidents", DEVICE, &request).await;
        assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{body}");
    }
    assert_eq!(
        edge.access_log().len(),
        count,
        "each attempt is logged once"
    );
}

#[tokio::test]
async fn malformed_bodies_and_unknown_devices_write_nothing() {
    let edge = TestEdge::new();
    let cases: [(Option<&str>, &str, StatusCode); 5] = [
        (Some(DEVICE), "{not json", StatusCode::BAD_REQUEST),
        (
            Some(DEVICE),
            r#"{"incident_id":"x"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some(DEVICE),
            r#"{"incident_id":"7f1c3f0e-4c1e-4bde-9b8a-3f2a6c1d2e10","crew_member_id":"c","identity":{"method":"card_with_photo_check","certificate_der_b64":"","photo_matches":true},"extra":1}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (Some("stolen-token"), "{}", StatusCode::UNAUTHORIZED),
        (None, "{}", StatusCode::UNAUTHORIZED),
    ];
    for (token, body, expected) in cases {
        let (status, json) = edge
            .call(Method::POST, "/v1/incidents", token, Some(body.to_string()))
            .await;
        assert_eq!(status, expected, "{body}: {json}");
        assert!(json["code"].is_string(), "JSON error body for {body}");
    }
    // A body whose value is personal data is refused without quoting it back.
    let named = r#"{"incident_id":"7f1c3f0e-4c1e-4bde-9b8a-3f2a6c1d2e10","crew_member_id":"c","identity":{"method":"basic_facts","facts":{"name":"x","birth_date":"1940-01-02","sex":"山田 花子","address_or_insurer":{"kind":"address","value":"x"}}}}"#;
    let (status, json) = edge
        .call(
            Method::POST,
            "/v1/incidents",
            Some(DEVICE),
            Some(named.to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        !json.to_string().contains("not a date") && !json.to_string().contains("山田"),
        "{json}"
    );
    let huge = format!(
        r#"{{"pad":"{}"}}"#,
        "x".repeat(edge_agent::api::MAX_BODY_BYTES + 1)
    );
    let (status, _) = edge
        .call(Method::POST, "/v1/incidents", Some(DEVICE), Some(huge))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(edge.access_log().is_empty());
}
