//! PIN-verified identification: challenge, card signature, single use, device binding,
//! expiry, and every refusal logged.

use axum::http::{Method, StatusCode};
use edge_agent::clock::Clock;
use myna_domain::access::{AccessAction, DenialReason, IncidentId};
use myna_domain::identity::ChallengeId;
use myna_domain::wire::IdentityEvidenceDto;

use crate::support::*;

fn new_id() -> IncidentId {
    IncidentId(uuid::Uuid::new_v4())
}

/// A challenge from `token`'s tablet, signed by [`CARD_KEY`]: (challenge id, signature).
async fn signed_challenge(edge: &TestEdge, token: &str) -> (ChallengeId, Vec<u8>) {
    let challenge = edge.challenge(token).await;
    let signature = CARD_KEY.sign(&challenge.challenge().unwrap());
    (challenge.challenge_id, signature)
}
#[tokio::test]
async fn a_pin_verified_card_opens_an_incident_and_its_summary() {
    let edge = TestEdge::new();
    let index = carded_patient(0);
    let challenge = edge.challenge(DEVICE).await;
    let bytes = challenge.challenge().unwrap();
    assert_eq!(bytes.len(), 32);
    assert_eq!(
        challenge.expires_at,
        edge.clock.now() + chrono::Duration::minutes(2)
    );
    assert_ne!(
        edge.challenge(DEVICE).await.challenge_b64,
        challenge.challenge_b64
    );

    let incident = new_id();
    let request = pin_request(
        incident,
        &pin_card_for(index),
        challenge.challenge_id,
        &CARD_KEY.sign(&bytes),
    );
    let (status, body) = edge.post("/v1/incidents", DEVICE, &request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["assurance"], "pin_verified");
    // A retried open (lost response) is idempotent, not a reused challenge.
    let (status, body) = edge.post("/v1/incidents", DEVICE, &request).await;
    assert_eq!(
        (status, body["assurance"].as_str()),
        (StatusCode::CREATED, Some("pin_verified"))
    );

    edge.put_json(
        &format!("/v1/incidents/{incident}/consent"),
        DEVICE,
        r#"{"decision":"given"}"#,
    )
    .await;
    let (status, body) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), DEVICE)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["summary"]["patient"]["id"], patient_id(index));
    let log = edge.access_log();
    assert_eq!(log.len(), 1, "identification alone discloses nothing");
    assert_eq!(log[0].action, AccessAction::ViewSummary);
}

#[tokio::test]
async fn a_challenge_is_single_use() {
    let edge = TestEdge::new();
    let card = pin_card_for(carded_patient(0));
    let (id, signature) = signed_challenge(&edge, DEVICE).await;
    let first = pin_request(new_id(), &card, id, &signature);
    assert_eq!(
        edge.post("/v1/incidents", DEVICE, &first).await.0,
        StatusCode::CREATED
    );
    // The same evidence for another incident is a replay.
    let replay = pin_request(new_id(), &card, id, &signature);
    edge.expect_open(DEVICE, &replay, StatusCode::CONFLICT, "challenge_invalid")
        .await;
    let log = edge.access_log();
    assert_eq!(log.len(), 1);
    assert_eq!(denial(&log[0]), Some(DenialReason::ChallengeInvalid));
    assert_eq!(log[0].patient, None);
}

#[tokio::test]
async fn a_refused_attempt_uses_up_its_challenge() {
    let edge = TestEdge::new();
    let card = pin_card_for(carded_patient(0));
    let (id, signature) = signed_challenge(&edge, DEVICE).await;
    let mut bad = signature.clone();
    bad[0] ^= 0x80;
    let incident = new_id();
    let guess = pin_request(incident, &card, id, &bad);
    edge.expect_open(DEVICE, &guess, StatusCode::FORBIDDEN, "signature_invalid")
        .await;
    // Even the right signature, for the same incident, now needs a new challenge.
    let right = pin_request(incident, &card, id, &signature);
    edge.expect_open(DEVICE, &right, StatusCode::CONFLICT, "challenge_invalid")
        .await;
    let reasons: Vec<_> = edge.access_log().iter().map(denial).collect();
    assert_eq!(
        reasons,
        [
            Some(DenialReason::SignatureInvalid),
            Some(DenialReason::ChallengeInvalid)
        ]
    );
}

#[tokio::test]
async fn a_challenge_is_bound_to_the_tablet_that_asked() {
    let edge = TestEdge::new();
    let card = pin_card_for(carded_patient(0));
    let (id, signature) = signed_challenge(&edge, OTHER_DEVICE).await;
    let request = pin_request(new_id(), &card, id, &signature);
    edge.expect_open(DEVICE, &request, StatusCode::CONFLICT, "challenge_invalid")
        .await;
    let log = edge.access_log();
    assert_eq!(log.len(), 1);
    assert_eq!(denial(&log[0]), Some(DenialReason::ChallengeInvalid));
    assert_eq!(log[0].viewer.device_id.as_deref(), Some("tablet-tfd-0001"));
    // Another tablet's attempt does not use the challenge up.
    assert_eq!(
        edge.post("/v1/incidents", OTHER_DEVICE, &request).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn an_expired_or_unknown_challenge_is_refused() {
    let edge = TestEdge::new();
    let card = pin_card_for(carded_patient(0));
    let (late, late_signature) = signed_challenge(&edge, DEVICE).await;
    edge.clock.advance(chrono::Duration::seconds(119));
    let (in_time, in_time_signature) = signed_challenge(&edge, DEVICE).await;
    assert_eq!(
        edge.post(
            "/v1/incidents",
            DEVICE,
            &pin_request(new_id(), &card, in_time, &in_time_signature)
        )
        .await
        .0,
        StatusCode::CREATED,
        "119 s after issue"
    );
    edge.clock.advance(chrono::Duration::seconds(1));
    let expired = pin_request(new_id(), &card, late, &late_signature);
    edge.expect_open(DEVICE, &expired, StatusCode::CONFLICT, "challenge_invalid")
        .await;
    let unknown = pin_request(
        new_id(),
        &card,
        ChallengeId(uuid::Uuid::new_v4()),
        &late_signature,
    );
    edge.expect_open(DEVICE, &unknown, StatusCode::CONFLICT, "challenge_invalid")
        .await;
    let reasons: Vec<_> = edge.access_log().iter().map(denial).collect();
    assert_eq!(reasons, [Some(DenialReason::ChallengeInvalid); 2]);
}

/// Makes a wrong signature given the challenge bytes.
type BadSigner = fn(&[u8]) -> Vec<u8>;

#[tokio::test]
async fn signatures_that_do_not_verify_are_refused_and_logged() {
    let edge = TestEdge::new();
    let index = carded_patient(1);
    let card = pin_card_for(index);
    let mut count = 0;
    // (how the signature is wrong, signature given the challenge bytes)
    let cases: [(&str, BadSigner); 3] = [
        ("flipped bit", |c| {
            let mut s = CARD_KEY.sign(c);
            s[100] ^= 0x01;
            s
        }),
        ("other key", |c| OTHER_KEY.sign(c)),
        ("other challenge", |c| {
            CARD_KEY.sign(&c.iter().map(|b| !b).collect::<Vec<_>>())
        }),
    ];
    for (name, sign) in cases {
        let challenge = edge.challenge(DEVICE).await;
        let signature = sign(&challenge.challenge().unwrap());
        let request = pin_request(new_id(), &card, challenge.challenge_id, &signature);
        let (status, body) = edge.post("/v1/incidents", DEVICE, &request).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("signature_invalid")),
            "{name}"
        );
        count += 1;
    }
    // A signature that is not even base64.
    let challenge = edge.challenge(DEVICE).await;
    let mut garbled = pin_request(new_id(), &card, challenge.challenge_id, &[]);
    if let IdentityEvidenceDto::PinVerifiedCard { signature_b64, .. } = &mut garbled.identity {
        *signature_b64 = "%%%".into();
    }
    edge.expect_open(DEVICE, &garbled, StatusCode::FORBIDDEN, "signature_invalid")
        .await;
    count += 1;
    let log = edge.access_log();
    assert_eq!(log.len(), count, "each refusal is logged once");
    assert!(
        log.iter()
            .all(|r| denial(r) == Some(DenialReason::SignatureInvalid))
    );
    // The card is genuine: its holder sees the failed attempts, except the garbled one,
    // which was refused before the certificate was looked at.
    let named: Vec<_> = log.iter().map(|r| r.patient.clone().map(|p| p.0)).collect();
    assert_eq!(
        named[..3],
        [
            Some(patient_id(index)),
            Some(patient_id(index)),
            Some(patient_id(index))
        ]
    );
    assert_eq!(named[3], None);
}

#[tokio::test]
async fn forged_and_revoked_cards_are_refused_on_the_pin_path_too() {
    let edge = TestEdge::new();
    // The forger holds the key of the forged certificate, so the signature is "valid".
    let challenge = edge.challenge(DEVICE).await;
    let signature = OTHER_KEY.sign(&challenge.challenge().unwrap());
    let forged = pin_request(
        new_id(),
        &forged_card_for(carded_patient(0)),
        challenge.challenge_id,
        &signature,
    );
    edge.expect_open(
        DEVICE,
        &forged,
        StatusCode::FORBIDDEN,
        "certificate_untrusted",
    )
    .await;
    let (id, signature) = signed_challenge(&edge, DEVICE).await;
    let revoked = pin_request(new_id(), &pin_card_for(revoked_patient()), id, &signature);
    edge.expect_open(
        DEVICE,
        &revoked,
        StatusCode::FORBIDDEN,
        "certificate_revoked",
    )
    .await;
    let log = edge.access_log();
    assert_eq!(
        log.iter().map(denial).collect::<Vec<_>>(),
        [
            Some(DenialReason::CertificateUntrusted),
            Some(DenialReason::CertificateRevoked)
        ]
    );
    assert_eq!(log[0].patient, None, "a forged card names nobody");
}

#[tokio::test]
async fn challenges_are_for_registered_tablets_only() {
    let edge = TestEdge::new();
    for token in [None, Some("stolen-token")] {
        let (status, body) = edge
            .call(Method::POST, "/v1/identity-challenges", token, None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
}
