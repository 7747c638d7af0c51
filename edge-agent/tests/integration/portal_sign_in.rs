//! The patient's card sign-in to the portal: a challenge from the portal, the card's
//! signature over the portal message, and a session that reads only that patient's
//! history. Every refusal is the same 401, spends the challenge, opens no session and
//! writes no access record.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use edge_agent::app;
use edge_agent::clock::Clock;
use http_body_util::BodyExt;
use myna_domain::access::IncidentId;
use myna_domain::certificate::portal_sign_in_message;
use myna_domain::identity::ChallengeId;
use myna_domain::wire::{PortalChallenge, PortalSignInRequest};
use serde_json::Value;
use tower::ServiceExt;

use crate::support::*;

/// `POST /portal/v1/sign-in/challenges` without credentials; panics unless 201.
async fn portal_challenge(edge: &TestEdge) -> PortalChallenge {
    let (status, body) = edge
        .call(Method::POST, "/portal/v1/sign-in/challenges", None, None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    serde_json::from_value(body).unwrap()
}

/// What a sign-in answered: status, the `Set-Cookie` header and the JSON body.
struct Answer {
    status: StatusCode,
    cookie: Option<String>,
    body: Value,
}

async fn post_sign_in(edge: &TestEdge, body: String) -> Answer {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/portal/v1/sign-in")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let response = app(edge.state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        cookie,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

async fn sign_in(
    edge: &TestEdge,
    certificate: &[u8],
    challenge: ChallengeId,
    signature: &[u8],
) -> Answer {
    let request = PortalSignInRequest::new(certificate, challenge, signature);
    post_sign_in(edge, serde_json::to_string(&request).unwrap()).await
}

/// The card of [`pin_card_for`] signing the portal message over `challenge`.
fn portal_signature(key: &CardKey, challenge: &PortalChallenge) -> Vec<u8> {
    key.sign(&portal_sign_in_message(&challenge.challenge().unwrap()))
}

fn portal_sessions(edge: &TestEdge) -> i64 {
    edge.raw_connection()
        .query_row("SELECT count(*) FROM portal_sessions", [], |r| r.get(0))
        .unwrap()
}

/// Asserts the one refusal: 401 `sign_in_failed`, no cookie, no session, no access record.
fn assert_refused(edge: &TestEdge, answer: &Answer, log_before: usize) {
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("sign_in_failed")),
        "{}",
        answer.body
    );
    assert!(answer.body.get("token").is_none());
    assert_eq!(answer.cookie, None);
    assert_eq!(portal_sessions(edge), 0, "no session was opened");
    assert_eq!(edge.access_log().len(), log_before, "nothing was logged");
}

/// One summary of seeded patient `index` viewed by the tablet (one access record).
async fn viewed(edge: &TestEdge, index: u64) -> String {
    let incident = open_with_consent(edge, DEVICE, index, r#"{"decision":"given"}"#).await;
    let (status, body) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), DEVICE)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    incident
}

async fn history_with(edge: &TestEdge, header: (&str, String)) -> (StatusCode, Value) {
    let request = Request::builder()
        .uri("/portal/v1/history")
        .header(header.0, header.1)
        .body(Body::empty())
        .unwrap();
    let response = app(edge.state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn portal_sign_in_with_the_card_reads_its_own_history_only() {
    let edge = TestEdge::new();
    let (me, other) = (carded_patient(0), carded_patient(1));
    viewed(&edge, me).await;
    viewed(&edge, other).await;
    viewed(&edge, me).await;
    let log = edge.access_log();
    let mine: Vec<String> = log
        .iter()
        .filter(|r| r.patient.as_ref().map(|p| p.0.as_str()) == Some(patient_id(me).as_str()))
        .map(|r| r.id.0.to_string())
        .collect();
    assert_eq!(mine.len(), 2);

    let challenge = portal_challenge(&edge).await;
    assert_eq!(challenge.challenge().unwrap().len(), 32);
    assert_eq!(
        challenge.expires_at,
        edge.clock.now() + chrono::Duration::minutes(2)
    );
    let answer = sign_in(
        &edge,
        &pin_card_for(me),
        challenge.challenge_id,
        &portal_signature(&CARD_KEY, &challenge),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let token = answer.body["token"].as_str().unwrap().to_string();
    let cookie = answer.cookie.expect("a session cookie");
    assert!(
        cookie.starts_with(&format!("portal_session={token}")),
        "{cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/portal"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP here: {cookie}");
    assert_eq!(
        edge.access_log().len(),
        log.len(),
        "signing in logs nothing"
    );

    for header in [
        ("authorization", format!("Bearer {token}")),
        ("cookie", format!("portal_session={token}")),
    ] {
        let (status, history) = history_with(&edge, header).await;
        assert_eq!(status, StatusCode::OK, "{history}");
        let mut shown: Vec<String> = history["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["access_id"].as_str().unwrap().to_string())
            .collect();
        shown.sort();
        let mut expected = mine.clone();
        expected.sort();
        assert_eq!(shown, expected, "only the card holder's entries");
    }
}

#[tokio::test]
async fn portal_sign_in_refuses_a_signature_over_another_challenge() {
    let edge = TestEdge::new();
    let card = pin_card_for(carded_patient(0));
    let signed = portal_challenge(&edge).await;
    let presented = portal_challenge(&edge).await;
    let answer = sign_in(
        &edge,
        &card,
        presented.challenge_id,
        &portal_signature(&CARD_KEY, &signed),
    )
    .await;
    assert_refused(&edge, &answer, 0);
}

#[tokio::test]
async fn portal_sign_in_refuses_a_reused_challenge_even_after_a_failure() {
    let edge = TestEdge::new();
    let card = pin_card_for(carded_patient(0));
    // Used once successfully: the same request again is refused.
    let challenge = portal_challenge(&edge).await;
    let signature = portal_signature(&CARD_KEY, &challenge);
    let first = sign_in(&edge, &card, challenge.challenge_id, &signature).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let again = sign_in(&edge, &card, challenge.challenge_id, &signature).await;
    assert_eq!(
        (again.status, again.body["code"].as_str(), again.cookie),
        (StatusCode::UNAUTHORIZED, Some("sign_in_failed"), None)
    );
    assert_eq!(portal_sessions(&edge), 1, "the replay opened no session");

    // A failed attempt spends the challenge too: the right signature comes too late.
    let edge = TestEdge::new();
    let challenge = portal_challenge(&edge).await;
    let wrong = sign_in(&edge, &card, challenge.challenge_id, &[0; 256]).await;
    assert_refused(&edge, &wrong, 0);
    let right = sign_in(
        &edge,
        &card,
        challenge.challenge_id,
        &portal_signature(&CARD_KEY, &challenge),
    )
    .await;
    assert_refused(&edge, &right, 0);
}

#[tokio::test]
async fn portal_sign_in_refuses_an_expired_challenge() {
    let edge = TestEdge::new();
    let card = pin_card_for(carded_patient(0));
    let late = portal_challenge(&edge).await;
    let in_time = portal_challenge(&edge).await;
    edge.clock.advance(chrono::Duration::seconds(119));
    let answer = sign_in(
        &edge,
        &card,
        in_time.challenge_id,
        &portal_signature(&CARD_KEY, &in_time),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    edge.clock.advance(chrono::Duration::seconds(1));
    let answer = sign_in(
        &edge,
        &card,
        late.challenge_id,
        &portal_signature(&CARD_KEY, &late),
    )
    .await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str(), answer.cookie),
        (StatusCode::UNAUTHORIZED, Some("sign_in_failed"), None)
    );
    assert_eq!(portal_sessions(&edge), 1, "only the timely sign-in");
}

#[tokio::test]
async fn portal_sign_in_refuses_a_revoked_card() {
    let edge = TestEdge::new();
    let challenge = portal_challenge(&edge).await;
    let answer = sign_in(
        &edge,
        &pin_card_for(revoked_patient()),
        challenge.challenge_id,
        &portal_signature(&CARD_KEY, &challenge),
    )
    .await;
    assert_refused(&edge, &answer, 0);
}

#[tokio::test]
async fn portal_sign_in_refuses_a_certificate_from_an_unknown_ca() {
    let edge = TestEdge::new();
    let challenge = portal_challenge(&edge).await;
    // The forger holds the key: the signature itself verifies against the forgery.
    let answer = sign_in(
        &edge,
        &forged_card_for(carded_patient(0)),
        challenge.challenge_id,
        &portal_signature(&OTHER_KEY, &challenge),
    )
    .await;
    assert_refused(&edge, &answer, 0);
}

#[tokio::test]
async fn portal_sign_in_refuses_a_tablet_identity_challenge() {
    let edge = TestEdge::new();
    let card = pin_card_for(carded_patient(0));
    let tablet = edge.challenge(DEVICE).await;
    let bytes = tablet.challenge().unwrap();
    for signature in [
        CARD_KEY.sign(&portal_sign_in_message(&bytes)),
        CARD_KEY.sign(&bytes),
    ] {
        let answer = sign_in(&edge, &card, tablet.challenge_id, &signature).await;
        assert_refused(&edge, &answer, 0);
    }
    // The portal neither knew nor spent it: the tablet can still identify with it.
    let request = pin_request(
        new_incident(),
        &card,
        tablet.challenge_id,
        &CARD_KEY.sign(&bytes),
    );
    let (status, body) = edge.post("/v1/incidents", DEVICE, &request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn portal_sign_in_refuses_a_tablet_purpose_signature_and_vice_versa() {
    let edge = TestEdge::new();
    let index = carded_patient(0);
    let card = pin_card_for(index);
    // The card signed the bare challenge, as for a tablet: not a portal sign-in.
    let challenge = portal_challenge(&edge).await;
    let answer = sign_in(
        &edge,
        &card,
        challenge.challenge_id,
        &CARD_KEY.sign(&challenge.challenge().unwrap()),
    )
    .await;
    assert_refused(&edge, &answer, 0);

    // A portal-purpose signature over a tablet's challenge does not identify anyone.
    let tablet = edge.challenge(DEVICE).await;
    let request = pin_request(
        new_incident(),
        &card,
        tablet.challenge_id,
        &CARD_KEY.sign(&portal_sign_in_message(&tablet.challenge().unwrap())),
    );
    edge.expect_open(DEVICE, &request, StatusCode::FORBIDDEN, "signature_invalid")
        .await;
}

#[tokio::test]
async fn portal_sign_in_takes_strict_json_only() {
    let edge = TestEdge::new();
    let challenge = portal_challenge(&edge).await;
    let mut body = serde_json::to_value(PortalSignInRequest::new(
        &pin_card_for(carded_patient(0)),
        challenge.challenge_id,
        &portal_signature(&CARD_KEY, &challenge),
    ))
    .unwrap();
    body["patient_id"] = Value::from(patient_id(carded_patient(1)));
    let answer = post_sign_in(&edge, body.to_string()).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    assert_eq!(answer.cookie, None);
    assert_eq!(portal_sessions(&edge), 0);
}

fn new_incident() -> IncidentId {
    IncidentId(uuid::Uuid::new_v4())
}

async fn page(edge: &TestEdge, path: &str) -> (StatusCode, String) {
    let request = Request::builder().uri(path).body(Body::empty()).unwrap();
    let response = app(edge.state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn portal_sign_in_page_explains_the_card_and_shows_the_dev_form_only_in_development() {
    let development = TestEdge::new();
    let (status, english) = page(&development, "/portal/sign-in?lang=en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        english.contains("sign in with your My Number card"),
        "{english}"
    );
    assert!(english.contains("A web browser cannot read the card"));
    assert!(english.contains(r#"action="/portal/dev-sign-in""#));
    let (_, japanese) = page(&development, "/portal/sign-in?lang=ja").await;
    assert!(
        japanese.contains("ブラウザではカードを読み取れない"),
        "{japanese}"
    );

    let production = TestEdge::with(|mut config| {
        config.dev_portal_sign_in = false;
        config
    });
    for path in ["/portal/sign-in?lang=en", "/portal/dev-sign-in?lang=en"] {
        let (status, html) = page(&production, path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("sign in with your My Number card"), "{html}");
        assert!(!html.contains("<form"), "no development form: {html}");
    }
    // Signed out, the history page sends the patient to the sign-in page.
    let request = Request::builder()
        .uri("/portal?lang=en")
        .body(Body::empty())
        .unwrap();
    let response = app(production.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(
        response.headers().get("location").unwrap(),
        "/portal/sign-in?lang=en"
    );
}
