//! Handoffs at the edge: the hospital list, who may answer, answers that stand, one
//! hospital at a time, withdrawal, and the outbox holding what could not be delivered.
//! The hospitals here are unreachable, so nothing is delivered: what is queued is checked
//! in the file.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const TOKEN_A: &str = HOSPITAL_A_TOKEN;
const TOKEN_B: &str = HOSPITAL_B_TOKEN;

/// An incident with consent given, ready to hand off.
async fn incident(edge: &TestEdge) -> String {
    let incident = edge.open_for(carded_patient(0)).await.to_string();
    let (status, body) = edge
        .put_json(
            &format!("/v1/incidents/{incident}/consent"),
            DEVICE,
            r#"{"decision":"given"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    incident
}

async fn hand_off(edge: &TestEdge, incident: &str, hospital: &str) -> (StatusCode, Value) {
    hand_off_from(edge, incident, hospital, None).await
}

/// A handoff saying where the patient was found (`scene`, when given).
async fn hand_off_from(
    edge: &TestEdge,
    incident: &str,
    hospital: &str,
    scene: Option<&str>,
) -> (StatusCode, Value) {
    let mut body =
        json!({"hospital_id": hospital, "chief_complaint": "chest pain", "eta_minutes": 7});
    if let Some(scene) = scene {
        body["scene"] = json!(scene);
    }
    edge.post(&format!("/v1/incidents/{incident}/handoff"), DEVICE, &body)
        .await
}

/// The notice queued for handoff `handoff`, as the hospital will get it.
fn queued_notice(edge: &TestEdge, handoff: &str) -> Value {
    let body: String = edge
        .raw_connection()
        .query_row(
            "SELECT body_json FROM hospital_outbox WHERE handoff_id = ?1",
            [handoff],
            |r| r.get(0),
        )
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

async fn decide(
    edge: &TestEdge,
    token: &str,
    handoff: &str,
    decision: Value,
) -> (StatusCode, Value) {
    edge.post(
        &format!("/v1/hospital/handoffs/{handoff}/decision"),
        token,
        &decision,
    )
    .await
}

fn outbox(edge: &TestEdge) -> Vec<(String, String, i64, bool)> {
    let conn = edge.raw_connection();
    let mut statement = conn
        .prepare(
            "SELECT kind, hospital_id, attempts, body_json IS NOT NULL FROM hospital_outbox
             WHERE delivered_at IS NULL ORDER BY id",
        )
        .unwrap();
    statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn handoff_hospitals_are_listed_nearest_first_and_locations_are_checked() {
    let edge = two_hospital_edge();
    let (status, body) = edge.get("/v1/hospitals?lat=35.66&lon=139.66", DEVICE).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let hospitals = body["hospitals"].as_array().unwrap();
    assert_eq!(hospitals[0]["id"], "hosp-a");
    let metres = hospitals[0]["distance_m"].as_u64().unwrap();
    assert!((1_000..2_000).contains(&metres), "{metres}");
    assert_eq!(
        hospitals[1]["distance_m"],
        Value::Null,
        "no location configured"
    );
    for bad in ["lat=35.6", "lat=91&lon=0", "lat=0&lon=181", "lat=x&lon=1"] {
        let (status, body) = edge.get(&format!("/v1/hospitals?{bad}"), DEVICE).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    let (status, _) = edge.get("/v1/hospitals", "no-such-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn handoff_only_the_chosen_hospital_answers_and_the_first_answer_stands() {
    let edge = two_hospital_edge();
    let incident = incident(&edge).await;
    let (status, sent) = hand_off(&edge, &incident, "hosp-a").await;
    assert_eq!(status, StatusCode::ACCEPTED, "queued: {sent}");
    assert_eq!(sent["delivered"], false);
    let handoff = sent["handoff_id"].as_str().unwrap().to_string();
    // Queued with its notice, one attempt failed already.
    assert_eq!(
        outbox(&edge),
        vec![("arrival".into(), "hosp-a".into(), 1, true)]
    );

    let accepted = json!({"decision": "accepted"});
    for (token, status) in [
        (TOKEN_B, StatusCode::NOT_FOUND),
        ("unknown", StatusCode::UNAUTHORIZED),
        (DEVICE, StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            decide(&edge, token, &handoff, accepted.clone()).await.0,
            status,
            "{token}"
        );
    }
    let declined = json!({"decision": "declined", "reason": "no_beds"});
    let (status, body) = decide(&edge, TOKEN_A, &handoff, declined.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["status"].as_str(), body["reason"].as_str()),
        (Some("declined"), Some("no_beds"))
    );
    assert_eq!(
        decide(&edge, TOKEN_A, &handoff, declined).await.0,
        StatusCode::OK,
        "same answer again"
    );
    let (status, body) = decide(&edge, TOKEN_A, &handoff, accepted).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("handoff_decided"))
    );
    let (status, body) = decide(&edge, TOKEN_A, &handoff, json!({"decision": "declined"})).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a decline names its reason: {body}"
    );

    // The tablet sees the decline; another tablet does not see the handoff at all.
    let (status, body) = edge.get(&format!("/v1/handoffs/{handoff}"), DEVICE).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("declined"))
    );
    assert_eq!(body["hospital_name"], "Hospital A");
    let (status, _) = edge
        .get(&format!("/v1/handoffs/{handoff}"), OTHER_DEVICE)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = edge.get("/v1/handoffs/not-a-uuid", DEVICE).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn handoff_one_hospital_at_a_time_and_withdrawal_is_relayed() {
    let edge = two_hospital_edge();
    let incident = incident(&edge).await;
    let (_, first) = hand_off(&edge, &incident, "hosp-a").await;
    let records = edge.access_log().len();
    let (status, body) = hand_off(&edge, &incident, "hosp-b").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("handoff_open"))
    );
    assert_eq!(
        edge.access_log().len(),
        records,
        "a refused second handoff logs nothing"
    );

    let first = first["handoff_id"].as_str().unwrap().to_string();
    let (status, body) = edge
        .call(
            axum::http::Method::POST,
            &format!("/v1/handoffs/{first}/withdraw"),
            Some(DEVICE),
            None,
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("withdrawn")),
        "{body}"
    );
    let (status, _) = edge
        .call(
            axum::http::Method::POST,
            &format!("/v1/handoffs/{first}/withdraw"),
            Some(OTHER_DEVICE),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "only the tablet that handed off may withdraw"
    );
    // The hospital cannot accept a withdrawn handoff.
    let (status, _) = decide(&edge, TOKEN_A, &first, json!({"decision": "accepted"})).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let (status, second) = hand_off(&edge, &incident, "hosp-b").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{second}");
    let kinds: Vec<(String, String)> = outbox(&edge)
        .into_iter()
        .map(|(k, h, _, _)| (k, h))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("arrival".into(), "hosp-a".into()),
            ("withdrawal".into(), "hosp-a".into()),
            ("arrival".into(), "hosp-b".into()),
        ],
        "everything not yet acknowledged stays queued, in order"
    );
}

#[tokio::test]
async fn handoff_long_poll_answers_when_the_hospital_does() {
    let edge = two_hospital_edge();
    let incident = incident(&edge).await;
    let (_, sent) = hand_off(&edge, &incident, "hosp-a").await;
    let handoff = sent["handoff_id"].as_str().unwrap().to_string();
    let waiting = {
        let state = edge.state.clone();
        let path = format!("/v1/handoffs/{handoff}?wait=20&known=sent");
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let response = tower::ServiceExt::oneshot(
                edge_agent::app(state),
                axum::http::Request::get(path)
                    .header("authorization", format!("Bearer {DEVICE}"))
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
            let bytes = http_body_util::BodyExt::collect(response.into_body())
                .await
                .unwrap()
                .to_bytes();
            (
                started.elapsed(),
                serde_json::from_slice::<Value>(&bytes).unwrap(),
            )
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "it waits while nothing changes");
    decide(&edge, TOKEN_A, &handoff, json!({"decision": "accepted"})).await;
    let (waited, body) = waiting.await.unwrap();
    assert_eq!(body["status"], "accepted");
    assert!(
        waited.as_secs() < 10,
        "answered at the change, not at the timeout: {waited:?}"
    );
}

/// A stand-in hospital-view on `listener`: answers every arrival with 201 and keeps the
/// notices it got.
fn stub_hospital(
    listener: tokio::net::TcpListener,
) -> std::sync::Arc<std::sync::Mutex<Vec<Value>>> {
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let notices = std::sync::Arc::clone(&received);
    let app = axum::Router::new().route(
        "/v1/arrivals",
        axum::routing::post(move |body: String| {
            let notices = std::sync::Arc::clone(&notices);
            async move {
                let notice: Value = serde_json::from_str(&body).unwrap();
                assert!(notice["handoff_id"].is_string(), "the queued notice itself");
                notices.lock().unwrap().push(notice);
                StatusCode::CREATED
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    received
}

#[tokio::test]
async fn handoff_scene_goes_to_the_hospital_as_recorded_and_absent_stays_absent() {
    let edge = two_hospital_edge();
    let at_home = incident(&edge).await;
    let (status, sent) = hand_off_from(&edge, &at_home, "hosp-a", Some("home")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    let notice = queued_notice(&edge, sent["handoff_id"].as_str().unwrap());
    assert_eq!(notice["scene"], "home", "{notice}");

    // An older tablet says nothing about the scene: the notice says nothing either.
    let unsaid = incident(&edge).await;
    let (status, sent) = hand_off(&edge, &unsaid, "hosp-a").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    let notice = queued_notice(&edge, sent["handoff_id"].as_str().unwrap());
    assert!(notice.get("scene").is_none(), "{notice}");

    // A kind the edge does not know is the tablet's mistake, not a silent "other".
    let unknown = incident(&edge).await;
    let (status, body) = hand_off_from(&edge, &unknown, "hosp-a", Some("beach")).await;
    assert!(status.is_client_error(), "{status} {body}");
    assert_eq!(
        outbox(&edge).len(),
        2,
        "nothing queued for the refused request"
    );
}

#[tokio::test]
async fn handoff_outbox_survives_an_edge_restart() {
    // A port with nobody listening yet: the hospital is down when the crew hands off.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let edge = TestEdge::with(|config| {
        config.with_hospital("hosp-a", "Hospital A", 3, &url, TOKEN_A, None)
    });
    let incident = incident(&edge).await;
    let (status, sent) = hand_off_from(&edge, &incident, "hosp-a", Some("care_facility")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");

    // The edge stops; the hospital comes back; the edge starts again on the same file.
    let TestEdge { state, clock, dir } = edge;
    let config = (*state.config).clone();
    state.store.close();
    drop(state);
    let received = stub_hospital(
        tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap(),
    );
    let state = edge_agent::AppState::open(config, clock.clone()).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let deliverer = tokio::spawn(edge_agent::relay::run(state.clone(), async {
        let _ = stopped.await;
    }));
    let edge = TestEdge { state, clock, dir };
    // The first retry is due after the request's grace period: move the clock past it.
    edge.clock.advance(chrono::Duration::seconds(20));
    edge.state.relay.wake();
    for _ in 0..100 {
        if !received.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let notices = received.lock().unwrap().clone();
    assert_eq!(notices.len(), 1, "delivered after the restart, once");
    assert_eq!(
        notices[0]["scene"], "care_facility",
        "the re-sent notice still says where the patient was found"
    );
    let handoff = sent["handoff_id"].as_str().unwrap();
    for _ in 0..100 {
        let (_, state) = edge.get(&format!("/v1/handoffs/{handoff}"), DEVICE).await;
        if state["delivered"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, state) = edge.get(&format!("/v1/handoffs/{handoff}"), DEVICE).await;
    assert_eq!(state["delivered"], true, "{state}");
    assert!(outbox(&edge).is_empty(), "nothing left to deliver");
    let kept: Option<String> = edge
        .raw_connection()
        .query_row("SELECT body_json FROM hospital_outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, None, "the relayed summary is not kept after delivery");
    let _ = stop.send(());
    deliverer.await.unwrap();
}
