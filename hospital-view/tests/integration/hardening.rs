//! Input hardening: body size limits on every route, unknown fields refused
//! on the JSON the edge sends.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::{TOKEN, fixture, notice};

#[tokio::test]
async fn hardening_an_oversized_arrival_is_413_with_a_json_code() {
    let f = fixture();
    let mut big = serde_json::to_value(notice(1, 10)).unwrap();
    big["chief_complaint"] = json!("x".repeat(hospital_view::routes::MAX_NOTICE_BYTES));
    let answer = f.post_raw(Some(TOKEN), big.to_string()).await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.body
    );
    assert_eq!(answer.json()["code"], "body_too_large");
}

#[tokio::test]
async fn hardening_routes_without_their_own_limit_take_16_kib() {
    let f = fixture();
    let sent = notice(2, 10);
    assert_eq!(f.post(&sent).await.status, StatusCode::CREATED);
    let path = format!("/v1/arrivals/{}/withdrawal", sent.handoff_id);
    let withdrawal = |padding: usize| {
        let body = json!({
            "handoff_id": sent.handoff_id,
            "at": "2026-11-25T03:00:00Z",
            "padding": "x".repeat(padding),
        });
        Request::post(&path)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let over = f
        .send(withdrawal(hospital_view::routes::MAX_OTHER_BODY_BYTES))
        .await;
    assert_eq!(over.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", over.body);
    assert_eq!(over.json()["code"], "body_too_large");
    // Under the limit, the unknown field is what is wrong.
    let under = f.send(withdrawal(10)).await;
    assert_eq!(
        under.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        under.body
    );
    assert_eq!(under.json()["code"], "invalid_body");
}

#[tokio::test]
async fn hardening_unknown_fields_in_an_arrival_are_refused() {
    let f = fixture();
    let base = serde_json::to_value(notice(3, 10)).unwrap();
    for pointer in ["", "/vitals"] {
        let answer = f
            .post_raw(Some(TOKEN), with_unknown_field(&base, pointer).to_string())
            .await;
        assert_eq!(
            (answer.status, answer.json()["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body")),
            "unknown field at {pointer:?}: {}",
            answer.body
        );
    }
    let answer = f.post_raw(Some(TOKEN), base.to_string()).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
}

/// The summary inside a notice is the edge's own data from an authenticated peer: its
/// types stay open (a newer edge may add a record field), but what this side does not
/// know is dropped, never stored or shown.
#[tokio::test]
async fn hardening_unknown_summary_fields_are_dropped_not_stored() {
    let f = fixture();
    let base = serde_json::to_value(notice(4, 10)).unwrap();
    let answer = f
        .post_raw(
            Some(TOKEN),
            with_unknown_field(&base, "/summary/patient").to_string(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let listed = f.get("/v1/arrivals").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(
        listed.body.contains("Setagaya Ambulance 7"),
        "{}",
        listed.body
    );
    assert!(!listed.body.contains("unexpected"), "{}", listed.body);
}

fn with_unknown_field(body: &Value, pointer: &str) -> Value {
    let mut changed = body.clone();
    changed
        .pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {pointer:?}"))
        .insert("unexpected".into(), json!(1));
    changed
}

#[tokio::test]
async fn production_every_answer_carries_a_request_id() {
    use tower::ServiceExt;
    let f = fixture();
    let send = |id: Option<&str>, uri: &str| {
        let mut request = Request::get(uri);
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        hospital_view::app(f.state.clone()).oneshot(request.body(Body::empty()).unwrap())
    };
    let id_of = |response: &axum::response::Response| {
        response
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_string())
    };
    // A fresh UUID when the caller gives none, also on refusals and unknown routes.
    for uri in ["/healthz", "/events", "/no-such-route"] {
        let response = send(None, uri).await.unwrap();
        let id = id_of(&response).unwrap_or_else(|| panic!("{uri}: no x-request-id"));
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{uri}: {id}");
    }
    // A caller's plain token is kept; anything else is replaced.
    let kept = send(Some("lb-42:abc.def_1"), "/healthz").await.unwrap();
    assert_eq!(id_of(&kept).as_deref(), Some("lb-42:abc.def_1"));
    for bad in ["has space", "x=1&y", &"a".repeat(65)] {
        let response = send(Some(bad), "/healthz").await.unwrap();
        let id = id_of(&response).unwrap();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{bad:?} became {id}");
    }
}
