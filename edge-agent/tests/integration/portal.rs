//! The patient portal: each patient sees their own history and nothing else.

use axum::http::{Method, StatusCode};

use crate::support::*;

async fn sign_in(edge: &TestEdge, patient: &str) -> String {
    let (status, body) = edge
        .call(
            Method::POST,
            "/portal/v1/dev-sign-in",
            None,
            Some(format!(r#"{{"patient_id":"{patient}"}}"#)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn patients_see_only_their_own_history() {
    let edge = TestEdge::new();
    let (a, b) = (carded_patient(0), carded_patient(1));
    for index in [a, b, b] {
        let incident = edge.open_for(index).await;
        edge.put_json(
            &format!("/v1/incidents/{incident}/consent"),
            DEVICE,
            r#"{"decision":"given"}"#,
        )
        .await;
        assert_eq!(
            edge.get(&format!("/v1/incidents/{incident}/summary"), DEVICE)
                .await
                .0,
            StatusCode::OK
        );
    }
    let token_a = sign_in(&edge, &patient_id(a)).await;
    let token_b = sign_in(&edge, &patient_id(b)).await;
    let (status, history_a) = edge.get("/portal/v1/history", &token_a).await;
    assert_eq!(status, StatusCode::OK);
    let (_, history_b) = edge.get("/portal/v1/history", &token_b).await;
    assert_eq!(history_a["entries"].as_array().unwrap().len(), 1);
    assert_eq!(history_b["entries"].as_array().unwrap().len(), 2);
    let entry = &history_a["entries"][0];
    assert_eq!(entry["institution"], "東京消防庁 Tokyo Fire Department");
    assert_eq!(entry["role"], "paramedic");
    assert!(
        entry.get("staff_id").is_none(),
        "staff ids are not shown to patients"
    );
    // A device token is not a portal session, and a made-up token gets nothing.
    assert_eq!(
        edge.get("/portal/v1/history", DEVICE).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        edge.call(Method::GET, "/portal/v1/history", None, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn unknown_patient_cannot_sign_in() {
    let edge = TestEdge::new();
    let (status, body) = edge
        .call(
            Method::POST,
            "/portal/v1/dev-sign-in",
            None,
            Some(r#"{"patient_id":"P9999999"}"#.into()),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_patient"))
    );
}
