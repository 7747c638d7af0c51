//! Identification with the PIN: a scripted card that signs, and a canned edge that issues
//! challenges and opens (or refuses) the incident.

use myna_domain::identity::ChallengeId;
use myna_domain::wire::{IdentityChallenge, IncidentOpened};

use myna_domain::identity::AssuranceLevel;
use myna_domain::wire::IdentityEvidenceDto;

use super::*;
use crate::card::jpki::tests::{pin_query_script, pin_verify_script, signing_script};

const CHALLENGE: [u8; 32] = [7; 32];
const SIGNATURE: [u8; 256] = [0x5A; 256];

fn challenge_id() -> ChallengeId {
    ChallengeId(uuid::Uuid::from_u128(0xC4A1))
}

/// The edge issues [`CHALLENGE`].
fn challenge_issued() -> Exchange {
    let expires_at = Utc::now() + chrono::Duration::minutes(2);
    Exchange {
        expect: "POST /v1/identity-challenges".into(),
        status: 201,
        body: json(&IdentityChallenge::new(
            challenge_id(),
            &CHALLENGE,
            expires_at,
        )),
    }
}

/// The edge opens incident `id` with `assurance`.
fn opened(id: IncidentId, assurance: AssuranceLevel) -> Exchange {
    Exchange {
        expect: "POST /v1/incidents".into(),
        status: 201,
        body: json(&IncidentOpened {
            incident_id: id,
            assurance,
        }),
    }
}

/// The edge refuses to open the incident with `status` and `code`.
fn open_refused(status: u16, code: &str) -> Exchange {
    Exchange {
        expect: "POST /v1/incidents".into(),
        status,
        body: format!(r#"{{"code":"{code}","message":"server text"}}"#),
    }
}

/// An incident whose edge answers `script` (built knowing the incident id), with the card
/// holding `der` already read.
async fn read_incident(
    der: &[u8],
    script: impl FnOnce(IncidentId) -> Vec<Exchange>,
) -> (EmergencyIncident, FakeEdge) {
    let probe = offline_incident();
    let fake = FakeEdge::start(script(probe.scene.id)).await;
    // The probe's incident (same id, same in-memory state) against the canned edge.
    let edge = EdgeClient::new(fake.base_url.clone(), "tablet-token".into()).unwrap();
    let incident = probe.with_edge(edge);
    incident.read_card(&card(der)).unwrap();
    (incident, fake)
}

/// The card holding `der` on the reader again, then the PIN exchanges in `pin_steps`.
fn card_on_reader(der: &[u8], pin_steps: Vec<Step>) -> ScriptedCard {
    let mut script = certificate_script(der);
    script.extend(pin_steps);
    ScriptedCard::new(script)
}

fn lines(fake: &FakeEdge) -> Vec<String> {
    fake.received().into_iter().map(|r| r.line).collect()
}

// Multi-threaded, like the runtime of exported async functions: the card exchange goes
// through `block_in_place` there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_path_signs_the_edge_challenge_and_opens_pin_verified() {
    let der = certificate(2099);
    let (incident, fake) = read_incident(&der, |id| {
        vec![challenge_issued(), opened(id, AssuranceLevel::PinVerified)]
    })
    .await;
    // The script proves the card signs exactly the challenge bytes.
    let nfc = card_on_reader(&der, signing_script(&CHALLENGE, &SIGNATURE));
    let confirmed = incident.identify_with_pin(&nfc, pin()).await.unwrap();
    nfc.assert_done();
    assert_eq!(
        confirmed,
        IdentityConfirmed {
            incident_id: incident.incident_id(),
            assurance: AssuranceLevel::PinVerified,
            queued: false,
        }
    );
    assert_eq!(incident.step(), IncidentStep::Identified);

    let received = fake.received();
    assert_eq!(
        lines(&fake),
        ["POST /v1/identity-challenges", "POST /v1/incidents"]
    );
    assert!(
        received
            .iter()
            .all(|r| r.authorization.as_deref() == Some("Bearer tablet-token"))
    );
    let open: serde_json::Value = serde_json::from_str(&received[1].body).unwrap();
    let evidence = IdentityEvidenceDto::pin_verified(&der, challenge_id(), &SIGNATURE);
    assert_eq!(open["identity"], serde_json::to_value(&evidence).unwrap());
    assert_eq!(open["identity"]["method"], "pin_verified_card");
    assert_eq!(open["incident_id"], incident.incident_id());

    // Identified: a second identification is refused before any card or network I/O.
    assert!(is_illegal(
        incident
            .identify_with_pin(&ScriptedCard::new(vec![]), pin())
            .await
    ));
}

#[tokio::test]
async fn wrong_pin_keeps_the_step_reports_tries_left_and_may_be_retried() {
    let der = certificate(2099);
    let (incident, fake) = read_incident(&der, |id| {
        vec![
            challenge_issued(),
            challenge_issued(),
            opened(id, AssuranceLevel::PinVerified),
        ]
    })
    .await;
    let nfc = card_on_reader(&der, pin_verify_script(0x63C2));
    let wrong = incident.identify_with_pin(&nfc, pin()).await;
    nfc.assert_done();
    assert_eq!(wrong, Err(MobileError::WrongPin { tries_left: 2 }));
    assert_eq!(
        wrong.unwrap_err().to_string(),
        "Wrong PIN, 2 tries left: do not guess; confirm identity with the face photo instead"
    );
    assert_eq!(incident.step(), IncidentStep::CardRead);
    assert_eq!(
        lines(&fake),
        ["POST /v1/identity-challenges"],
        "no open request"
    );

    // A second try, with a fresh challenge, identifies the patient.
    let nfc = card_on_reader(&der, signing_script(&CHALLENGE, &SIGNATURE));
    let confirmed = incident.identify_with_pin(&nfc, pin()).await.unwrap();
    assert_eq!(confirmed.assurance, AssuranceLevel::PinVerified);
    assert_eq!(incident.step(), IncidentStep::Identified);
}

#[tokio::test]
async fn guard_at_one_try_sends_no_pin_and_no_open_request() {
    let der = certificate(2099);
    let (incident, fake) = read_incident(&der, |id| {
        vec![
            challenge_issued(),
            challenge_issued(),
            opened(id, AssuranceLevel::CardAndPhoto),
        ]
    })
    .await;
    // The scripts end at the retry query: a VERIFY with the PIN would fail the test.
    let one_left = card_on_reader(&der, pin_query_script(0x63C1));
    assert_eq!(
        incident.identify_with_pin(&one_left, pin()).await,
        Err(MobileError::PinGuard { tries_left: 1 })
    );
    one_left.assert_done();
    let blocked = card_on_reader(&der, pin_query_script(0x6983));
    assert_eq!(
        incident.identify_with_pin(&blocked, pin()).await,
        Err(MobileError::PinBlocked)
    );
    blocked.assert_done();
    assert_eq!(incident.step(), IncidentStep::CardRead);
    assert_eq!(
        lines(&fake),
        [
            "POST /v1/identity-challenges",
            "POST /v1/identity-challenges"
        ],
        "no open request"
    );

    // The crew falls back to the face photo.
    let confirmed = incident.confirm_identity(true).await.unwrap();
    assert_eq!(confirmed.assurance, AssuranceLevel::CardAndPhoto);
}

#[tokio::test]
async fn a_different_card_on_the_reader_is_refused_before_any_pin() {
    let der = certificate(2099);
    let (incident, fake) = read_incident(&der, |_| vec![challenge_issued()]).await;
    // Only the certificate is read from the other card: no PIN query, no VERIFY.
    let other = card_on_reader(&certificate(2099), vec![]);
    let refused = incident.identify_with_pin(&other, pin()).await;
    other.assert_done();
    assert_eq!(refused, Err(MobileError::DifferentCard));
    assert_eq!(
        refused.unwrap_err().to_string(),
        "A different card is on the reader: tap the patient's card again"
    );
    assert_eq!(incident.step(), IncidentStep::CardRead);
    assert_eq!(lines(&fake), ["POST /v1/identity-challenges"]);
}

#[tokio::test]
async fn edge_refusals_of_the_pin_evidence_map_to_actionable_errors() {
    let der = certificate(2099);
    let refusals = [
        (403, "signature_invalid", MobileError::SignatureInvalid),
        (409, "challenge_invalid", MobileError::ChallengeInvalid),
        (403, "certificate_revoked", MobileError::CardRevoked),
        (403, "certificate_untrusted", MobileError::CardUntrusted),
    ];
    let script: Vec<_> = refusals
        .iter()
        .flat_map(|(status, code, _)| [challenge_issued(), open_refused(*status, code)])
        .collect();
    let (incident, fake) = read_incident(&der, |_| script).await;
    for (_, code, expected) in refusals {
        let nfc = card_on_reader(&der, signing_script(&CHALLENGE, &SIGNATURE));
        assert_eq!(
            incident.identify_with_pin(&nfc, pin()).await,
            Err(expected),
            "{code}"
        );
        nfc.assert_done();
        assert_eq!(incident.step(), IncidentStep::CardRead, "{code}");
    }
    assert_eq!(fake.received().len(), 8);
}

#[tokio::test]
async fn photo_path_maps_untrusted_and_revoked_cards_like_the_pin_path() {
    let der = certificate(2099);
    let (incident, _fake) = read_incident(&der, |_| {
        vec![
            open_refused(403, "certificate_untrusted"),
            open_refused(403, "certificate_revoked"),
        ]
    })
    .await;
    let untrusted = incident.confirm_identity(true).await.unwrap_err();
    assert_eq!(untrusted, MobileError::CardUntrusted);
    assert_eq!(
        untrusted.to_string(),
        "The card's certificate is not from the JPKI authority: check the card"
    );
    let revoked = incident.confirm_identity(true).await.unwrap_err();
    assert_eq!(revoked, MobileError::CardRevoked);
    assert_eq!(
        revoked.to_string(),
        "This card has been revoked: identify the patient another way"
    );
    assert_eq!(incident.step(), IncidentStep::CardRead);
}

#[test]
fn identifying_with_the_pin_is_a_send_future() {
    // Exported futures run on a multi-threaded runtime.
    fn send<T: Send>(_: T) {}
    let incident = offline_incident();
    send(incident.identify_with_pin(&ScriptedCard::new(vec![]), pin()));
}
