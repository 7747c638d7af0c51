//! `POST /v1/arrivals` and `GET /v1/arrivals`.

use axum::http::StatusCode;
use myna_domain::wire::ArrivalNotice;

use crate::{TOKEN, fixture, notice};

#[tokio::test]
async fn a_new_arrival_is_stored_and_listed() {
    let f = fixture();
    let mut events = f.state.watch_events();
    let before = *events.borrow_and_update();
    let sent = notice(1, 10);
    let answer = f.post(&sent).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(
        answer.json(),
        serde_json::json!({ "handoff_id": sent.handoff_id, "stored": true })
    );
    assert!(events.has_changed().unwrap(), "a new arrival is announced");
    assert_eq!(*events.borrow_and_update(), before + 1);

    let list = f.get("/v1/arrivals").await;
    assert_eq!(list.status, StatusCode::OK);
    let listed: Vec<ArrivalNotice> = serde_json::from_str(&list.body).expect("list json");
    assert_eq!(listed, vec![sent]);
}

#[tokio::test]
async fn a_retried_arrival_is_stored_once() {
    let f = fixture();
    let sent = notice(2, 10);
    assert_eq!(f.post(&sent).await.status, StatusCode::CREATED);
    let mut events = f.state.watch_events();
    events.borrow_and_update();
    let again = f.post(&sent).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["stored"], false);
    assert!(
        !events.has_changed().unwrap(),
        "a duplicate is not announced"
    );
    let listed: Vec<ArrivalNotice> =
        serde_json::from_str(&f.get("/v1/arrivals").await.body).expect("json");
    assert_eq!(listed.len(), 1);
}

#[tokio::test]
async fn the_list_is_newest_first() {
    let f = fixture();
    for n in [10, 11, 12] {
        f.post(&notice(n, 30 - n as i64)).await;
    }
    let listed: Vec<ArrivalNotice> =
        serde_json::from_str(&f.get("/v1/arrivals").await.body).expect("json");
    let ids: Vec<u128> = listed.iter().map(|n| n.handoff_id.as_u128()).collect();
    assert_eq!(ids, vec![12, 11, 10]);
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_401_and_stores_nothing() {
    let f = fixture();
    let body = serde_json::to_vec(&notice(3, 10)).expect("json");
    for token in [
        None,
        Some("wrong"),
        Some(""),
        Some(&TOKEN[..TOKEN.len() - 1]),
    ] {
        let answer = f.post_raw(token, body.clone()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(answer.json()["code"], "unauthorized");
    }
    // Auth is checked before the body is read: garbage with no token is still a 401.
    assert_eq!(
        f.post_raw(None, "{not json").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(f.get("/v1/arrivals").await.body, "[]");
}

#[tokio::test]
async fn the_json_list_needs_the_token() {
    let f = fixture();
    f.post(&notice(1, 10)).await;
    let answer = f.get_anonymous("/v1/arrivals").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(!answer.body.contains("handoff_id"));
}

#[tokio::test]
async fn malformed_bodies_are_4xx_with_a_code_and_no_echo() {
    let f = fixture();
    let mut unknown_field = serde_json::to_value(notice(4, 10)).expect("json");
    unknown_field["patient_name"] = "Secret Name".into();
    let mut wrong_type = serde_json::to_value(notice(4, 10)).expect("json");
    wrong_type["vitals"]["heart_rate"] = "Secret Value".into();
    let cases = [
        ("{not json".to_string(), StatusCode::BAD_REQUEST),
        ("[]".to_string(), StatusCode::UNPROCESSABLE_ENTITY),
        ("{}".to_string(), StatusCode::UNPROCESSABLE_ENTITY),
        (unknown_field.to_string(), StatusCode::UNPROCESSABLE_ENTITY),
        (wrong_type.to_string(), StatusCode::UNPROCESSABLE_ENTITY),
    ];
    for (body, status) in cases {
        let answer = f.post_raw(Some(TOKEN), body.clone()).await;
        assert_eq!(answer.status, status, "{body}");
        assert_eq!(answer.json()["code"], "invalid_body", "{body}");
        assert!(
            !answer.body.contains("Secret"),
            "the error echoes the body: {}",
            answer.body
        );
    }
    assert_eq!(f.get("/v1/arrivals").await.body, "[]");
}

#[tokio::test]
async fn a_body_without_json_content_type_is_415() {
    let f = fixture();
    let request = axum::http::Request::post("/v1/arrivals")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(axum::body::Body::from(
            serde_json::to_vec(&notice(5, 10)).expect("json"),
        ))
        .expect("request");
    let answer = f.send(request).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(answer.json()["code"], "invalid_body");
}

#[tokio::test]
async fn an_oversize_body_is_413() {
    let f = fixture();
    let body = format!(r#"{{"chief_complaint":"{}"}}"#, "x".repeat(300 * 1024));
    let answer = f.post_raw(Some(TOKEN), body).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.json()["code"], "body_too_large");
}

#[tokio::test]
async fn storage_failures_are_503_without_detail() {
    let f = fixture();
    let path = f.state.config().database_path();
    let sabotage = rusqlite::Connection::open(&path).expect("second connection");
    sabotage
        .execute_batch(
            "CREATE TRIGGER fail BEFORE INSERT ON arrivals BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .expect("trigger");
    let answer = f.post(&notice(6, 10)).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.json()["code"], "storage_unavailable");
    assert!(!answer.body.contains("disk full"));

    sabotage
        .execute_batch("ALTER TABLE arrivals RENAME TO gone")
        .expect("rename");
    let page = f.get("/").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.body.contains("temporarily unavailable"));
}
