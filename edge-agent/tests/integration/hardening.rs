//! Input hardening: per-caller and per-address rate limits (429 with
//! `Retry-After`, nothing processed, nothing logged), the body size limit, unknown fields
//! refused on every strict request body, and over-long free text refused whole.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use edge_agent::app;
use edge_agent::config::{RateLimit, RateLimits};
use http_body_util::BodyExt;
use myna_domain::access::IncidentId;
use myna_domain::wire::IdentityEvidenceDto;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::*;

/// An answer: status, `Retry-After` if any, JSON (or text) body.
struct Answer {
    status: StatusCode,
    retry_after: Option<u64>,
    body: Value,
}

/// One request through `router` (the same router, so the same limiter, across calls).
async fn send(
    router: &Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(body.map(Body::from).unwrap_or_else(Body::empty))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
    Answer {
        status,
        retry_after,
        body,
    }
}

fn limited_edge(per_caller: Option<RateLimit>, per_address: Option<RateLimit>) -> TestEdge {
    TestEdge::with(|mut config| {
        config.rate_limits = RateLimits {
            per_caller,
            per_address,
        };
        config
    })
}

#[tokio::test]
async fn hardening_a_device_over_its_limit_gets_429_and_another_device_does_not() {
    let edge = limited_edge(RateLimit::new(3, 1), None);
    let incident =
        open_with_consent(&edge, DEVICE, carded_patient(0), r#"{"decision":"given"}"#).await;
    let router = app(edge.state.clone());
    let summary = format!("/v1/incidents/{incident}/summary");
    for _ in 0..3 {
        let answer = send(&router, Method::GET, &summary, Some(DEVICE), None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    let records = edge.access_log().len();
    let refused = send(&router, Method::GET, &summary, Some(DEVICE), None).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.body["code"], "rate_limited");
    assert!(refused.body.get("summary").is_none());
    assert!(
        matches!(refused.retry_after, Some(1..=2)),
        "{:?}",
        refused.retry_after
    );
    assert_eq!(
        edge.access_log().len(),
        records,
        "a refused request reads and logs nothing"
    );
    // Another tablet has its own allowance.
    let other = send(
        &router,
        Method::GET,
        "/v1/disasters/active",
        Some(OTHER_DEVICE),
        None,
    )
    .await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.body);
    // Health checks are never limited.
    let health = send(&router, Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
}

#[tokio::test]
async fn hardening_the_limit_refills() {
    let edge = limited_edge(RateLimit::new(1, 10), None);
    let router = app(edge.state.clone());
    let path = "/v1/disasters/active";
    let first = send(&router, Method::GET, path, Some(DEVICE), None).await;
    assert_eq!(first.status, StatusCode::OK);
    let second = send(&router, Method::GET, path, Some(DEVICE), None).await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    // 10 per second: one request back after 100 ms.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let third = send(&router, Method::GET, path, Some(DEVICE), None).await;
    assert_eq!(third.status, StatusCode::OK, "{}", third.body);
}

#[tokio::test]
async fn hardening_unauthenticated_requests_are_limited_per_address_over_a_socket() {
    let edge = limited_edge(RateLimit::new(100, 100), RateLimit::new(2, 1));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(edge_agent::run(listener, edge.state.clone(), async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let checkpoint = format!("{url}/v1/log/key");
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(http.get(&checkpoint).send().await.unwrap().status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // Made-up tokens are charged to the address too.
    let guessed = http
        .get(format!("{url}/portal/v1/history"))
        .bearer_auth("guessed-session-token")
        .send()
        .await
        .unwrap();
    assert_eq!(guessed.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(guessed.headers().contains_key(header::RETRY_AFTER));
    // A tablet from the same address is charged to itself.
    let tablet = http
        .get(format!("{url}/v1/disasters/active"))
        .bearer_auth(DEVICE)
        .send()
        .await
        .unwrap();
    assert_eq!(tablet.status(), StatusCode::OK);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn hardening_an_oversized_body_is_413_with_a_json_code() {
    let edge = TestEdge::new();
    let router = app(edge.state.clone());
    let huge = json!({
        "incident_id": uuid::Uuid::new_v4(),
        "crew_member_id": "crew-1",
        "identity": {
            "method": "card_with_photo_check",
            "certificate_der_b64": "A".repeat(edge_agent::api::MAX_BODY_BYTES),
            "photo_matches": true
        }
    });
    let answer = send(
        &router,
        Method::POST,
        "/v1/incidents",
        Some(DEVICE),
        Some(huge.to_string()),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.body
    );
    assert_eq!(answer.body["code"], "body_too_large");
    assert!(edge.access_log().is_empty());
}

/// Inserts `"unexpected": 1` into the object at `pointer` of `body`.
fn with_unknown_field(body: &Value, pointer: &str) -> Value {
    let mut changed = body.clone();
    changed
        .pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {pointer:?} in {body}"))
        .insert("unexpected".into(), json!(1));
    changed
}

#[tokio::test]
async fn hardening_unknown_fields_are_refused_on_every_strict_request() {
    let edge = two_hospital_edge();
    let router = app(edge.state.clone());
    let session = send(
        &router,
        Method::POST,
        "/portal/v1/dev-sign-in",
        None,
        Some(json!({ "patient_id": patient_id(0) }).to_string()),
    )
    .await;
    assert_eq!(session.status, StatusCode::OK, "{}", session.body);
    let session = session.body["token"].as_str().unwrap().to_string();
    let incident = IncidentId(uuid::Uuid::new_v4());
    let card_evidence = serde_json::to_value(IdentityEvidenceDto::card_with_photo(
        &card_for(carded_patient(0)),
        true,
    ))
    .unwrap();
    let facts = json!({
        "name": "山田 太郎",
        "birth_date": "1950-01-01",
        "sex": "male",
        "address_or_insurer": { "kind": "address", "value": "東京都世田谷区" }
    });
    // (method, path, token, a body that decodes, objects in it that must stay closed)
    let cases: Vec<(Method, String, &str, Value, &[&str])> = vec![
        (
            Method::POST,
            "/v1/incidents".into(),
            DEVICE,
            json!({
                "incident_id": incident,
                "crew_member_id": "crew-1",
                "identity": card_evidence
            }),
            &["", "/identity"],
        ),
        (
            Method::POST,
            "/v1/incidents".into(),
            DEVICE,
            json!({
                "incident_id": uuid::Uuid::new_v4(),
                "crew_member_id": "crew-1",
                "identity": { "method": "basic_facts", "facts": facts }
            }),
            &["/identity/facts", "/identity/facts/address_or_insurer"],
        ),
        (
            Method::PUT,
            format!("/v1/incidents/{incident}/consent"),
            DEVICE,
            json!({ "decision": "difficult", "reason": { "kind": "other", "note": "drunk" } }),
            &["", "/reason"],
        ),
        (
            Method::POST,
            format!("/v1/incidents/{incident}/device-views"),
            DEVICE,
            json!({ "view_id": uuid::Uuid::now_v7(), "viewed_at": "2026-11-25T03:00:00Z" }),
            &[""],
        ),
        (
            Method::POST,
            format!("/v1/incidents/{incident}/handoff"),
            DEVICE,
            json!({
                "hospital_id": "hosp-a",
                "chief_complaint": "chest pain",
                "eta_minutes": 10,
                "vitals": { "heart_rate": 90 }
            }),
            &["", "/vitals"],
        ),
        (
            Method::POST,
            format!("/v1/hospital/handoffs/{}/decision", uuid::Uuid::new_v4()),
            HOSPITAL_A_TOKEN,
            json!({ "decision": "declined", "reason": "no_beds" }),
            &[""],
        ),
        (
            Method::POST,
            "/v1/disasters".into(),
            "dev-operator-token",
            json!({
                "name": "test",
                "area": "13112",
                "starts_at": "2026-11-25T00:00:00Z",
                "ends_at": "2026-11-26T00:00:00Z"
            }),
            &[""],
        ),
        (
            Method::POST,
            "/portal/v1/dev-sign-in".into(),
            "",
            json!({ "patient_id": patient_id(1) }),
            &[""],
        ),
        (
            Method::POST,
            format!("/portal/v1/history/{}/flag", uuid::Uuid::new_v4()),
            &session,
            json!({ "note": "not me" }),
            &[""],
        ),
    ];
    for (method, path, token, body, objects) in cases {
        let token = (!token.is_empty()).then_some(token);
        let base = send(
            &router,
            method.clone(),
            &path,
            token,
            Some(body.to_string()),
        )
        .await;
        assert_ne!(
            base.body["code"], "invalid_body",
            "{method} {path}: the base body must decode: {}",
            base.body
        );
        for pointer in objects {
            let strict = with_unknown_field(&body, pointer);
            let answer = send(
                &router,
                method.clone(),
                &path,
                token,
                Some(strict.to_string()),
            )
            .await;
            assert_eq!(
                (answer.status, answer.body["code"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body")),
                "{method} {path} with an unknown field at {pointer:?}: {}",
                answer.body
            );
        }
    }
}

#[tokio::test]
async fn hardening_a_too_long_consent_reason_is_422_not_truncated() {
    let edge = TestEdge::new();
    let incident = edge.open_for(carded_patient(0)).await;
    let path = format!("/v1/incidents/{incident}/consent");
    let max = myna_domain::consent::MAX_REASON_NOTE_CHARS;
    let records = edge.access_log().len();
    let too_long = json!({ "decision": "difficult", "reason": { "kind": "other", "note": "酔".repeat(max + 1) } });
    let (status, body) = edge.put_json(&path, DEVICE, &too_long.to_string()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("consent_reason_too_long")
        ),
        "{body}"
    );
    assert_eq!(
        edge.access_log().len(),
        records,
        "refused before the policy"
    );
    // Nothing was recorded: the longest allowed note is still accepted, whole.
    let longest = "酔".repeat(max);
    let fits = json!({ "decision": "difficult", "reason": { "kind": "other", "note": longest } });
    let (status, body) = edge.put_json(&path, DEVICE, &fits.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["consent"]["reason"]["note"], longest.as_str());
}

#[tokio::test]
async fn hardening_too_long_basic_facts_are_422() {
    let edge = TestEdge::new();
    let request = json!({
        "incident_id": uuid::Uuid::new_v4(),
        "crew_member_id": "crew-1",
        "identity": {
            "method": "basic_facts",
            "facts": {
                "name": "名".repeat(201),
                "birth_date": "1950-01-01",
                "sex": "male",
                "address_or_insurer": { "kind": "address", "value": "東京都" }
            }
        }
    });
    let (status, body) = edge
        .call(
            Method::POST,
            "/v1/incidents",
            Some(DEVICE),
            Some(request.to_string()),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("basic_facts_too_long")
        ),
        "{body}"
    );
    assert!(edge.access_log().is_empty());
}

/// A long poll asking for more than the request timeout gets the state at the longest
/// wait, not a 408 from the timeout layer.
#[tokio::test]
async fn hardening_a_long_poll_never_outlives_the_request_timeout() {
    let edge = two_hospital_edge();
    let incident =
        open_with_consent(&edge, DEVICE, carded_patient(0), r#"{"decision":"given"}"#).await;
    let (status, sent) = edge
        .post(
            &format!("/v1/incidents/{incident}/handoff"),
            DEVICE,
            &json!({ "hospital_id": "hosp-a", "chief_complaint": "fall", "eta_minutes": 10 }),
        )
        .await;
    // 202: queued, the hospital is not reachable in tests; it stays `sent`.
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    let handoff = sent["handoff_id"].as_str().unwrap();
    let started = std::time::Instant::now();
    let (status, body) = edge
        .get(
            &format!("/v1/handoffs/{handoff}?wait=30&known=sent"),
            DEVICE,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "sent");
    assert!(started.elapsed() < edge_agent::api::REQUEST_TIMEOUT);
}

#[tokio::test]
async fn hardening_readiness_is_limited_per_address_and_liveness_never() {
    // Each /readyz writes to the database: a flood from one address is refused before it
    // reaches the writer; /healthz costs nothing and is always answered.
    let edge = limited_edge(None, RateLimit::new(2, 1));
    let router = app(edge.state.clone());
    for _ in 0..2 {
        let ready = send(&router, Method::GET, "/readyz", None, None).await;
        assert_ne!(ready.status, StatusCode::TOO_MANY_REQUESTS);
    }
    let flooded = send(&router, Method::GET, "/readyz", None, None).await;
    assert_eq!(flooded.status, StatusCode::TOO_MANY_REQUESTS);
    for _ in 0..5 {
        let live = send(&router, Method::GET, "/healthz", None, None).await;
        assert_eq!(live.status, StatusCode::OK);
    }
}
