//! `GET /readyz`: ready on a healthy edge, and 503 naming the check that failed: the
//! database (its write lock held elsewhere), the checkpoint (entries unsigned for more
//! than three intervals), the card CRLs (past their next update), the hospital outbox (a
//! message undelivered for more than ten minutes). The answer names checks only.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::support::*;

async fn readyz(edge: &TestEdge) -> (StatusCode, Value) {
    edge.call(Method::GET, "/readyz", None, None).await
}

/// The names of the failed checks.
fn failed(body: &Value) -> Vec<String> {
    body["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

fn assert_unready(status: StatusCode, body: &Value, check: &str) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["ready"], false, "{body}");
    assert_eq!(failed(body), [check], "{body}");
}

#[tokio::test]
async fn readyz_a_healthy_edge_is_ready_and_lists_every_check() {
    let edge = TestEdge::new();
    let (status, body) = readyz(&edge).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ready"], true);
    let names: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["database", "checkpoint", "card_crls", "outbox"]);
    let (status, body) = edge.call(Method::GET, "/healthz", None, None).await;
    assert_eq!((status, body), (StatusCode::OK, Value::String("ok".into())));
}

#[tokio::test]
async fn readyz_names_the_database_when_it_cannot_be_written() {
    let edge = TestEdge::new();
    // Another process holds the write lock: the edge's writer cannot commit.
    let holder = edge.raw_connection();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (status, body) = readyz(&edge).await;
    assert_unready(status, &body, "database");
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    let (status, body) = readyz(&edge).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn readyz_names_the_checkpoint_when_entries_wait_too_long_for_one() {
    let edge = TestEdge::new();
    // A disclosure: one access-log entry, not yet covered by a checkpoint.
    let incident =
        open_with_consent(&edge, DEVICE, carded_patient(0), r#"{"decision":"given"}"#).await;
    let (status, body) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), DEVICE)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let interval = edge.state.config.checkpoint_interval;
    edge.clock
        .advance(chrono::Duration::from_std(interval * 3).unwrap());
    let (status, body) = readyz(&edge).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "three intervals are allowed: {body}"
    );
    edge.clock.advance(chrono::Duration::seconds(1));
    let (status, body) = readyz(&edge).await;
    assert_unready(status, &body, "checkpoint");
    edge_agent::transparency::publish(&edge.state)
        .await
        .unwrap();
    let (status, body) = readyz(&edge).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A quiet log stays ready however old its newest checkpoint (the CRL is current
    // until 2027-01-01).
    edge.clock.advance(chrono::Duration::days(2));
    let (status, body) = readyz(&edge).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn readyz_names_the_crls_when_one_is_past_its_next_update() {
    // The CRL is current until 2027-01-01; the clock starts in November 2026.
    let edge = TestEdge::new();
    edge.clock.advance(chrono::Duration::days(40));
    let (status, body) = readyz(&edge).await;
    assert_unready(status, &body, "card_crls");
    // No CRL at all is not ready either: revoked cards would pass.
    let edge = TestEdge::with(|config| config);
    let (status, body) = readyz(&edge).await;
    assert_unready(status, &body, "card_crls");
}

#[tokio::test]
async fn readyz_names_the_outbox_when_a_hospital_message_is_stuck() {
    let edge = TestEdge::configured_with_crl(with_two_hospitals);
    let incident =
        open_with_consent(&edge, DEVICE, carded_patient(0), r#"{"decision":"given"}"#).await;
    let (status, body) = edge
        .post(
            &format!("/v1/incidents/{incident}/handoff"),
            DEVICE,
            &serde_json::json!({"hospital_id": "hosp-a", "chief_complaint": "chest pain", "eta_minutes": 7}),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    // Hospital A is unreachable: the arrival notice stays in the outbox.
    edge.clock.advance(chrono::Duration::minutes(9));
    edge_agent::transparency::publish(&edge.state)
        .await
        .unwrap();
    let (status, body) = readyz(&edge).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    edge.clock.advance(chrono::Duration::minutes(2));
    edge_agent::transparency::publish(&edge.state)
        .await
        .unwrap();
    let (status, body) = readyz(&edge).await;
    assert_unready(status, &body, "outbox");
    let text = body.to_string();
    assert!(
        !text.contains(&incident) && !text.contains("hosp-a"),
        "{text}"
    );
}
