//! `GET /readyz` and `GET /metrics` text of hospital-view: ready when healthy, 503 naming
//! the database when it cannot be written and the outbox when an answer is stuck; the
//! metrics parse as the Prometheus text format and carry no personal data.

use axum::http::StatusCode;
use chrono::Duration;
use hospital_view::Clock;
use myna_domain::handoff::HandoffDecision;

use super::*;

fn failed(body: &serde_json::Value) -> Vec<String> {
    body["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn readyz_a_healthy_hospital_view_is_ready() {
    let f = fixture();
    let answer = f.get_anonymous("/readyz").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["ready"], true);
    let names: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["database", "outbox"]);
    let live = f.get_anonymous("/healthz").await;
    assert_eq!((live.status, live.body.as_str()), (StatusCode::OK, "ok"));
}

#[tokio::test]
async fn readyz_names_the_database_when_it_cannot_be_written() {
    let f = fixture();
    let holder = rusqlite::Connection::open(config(&f.dir).database_path()).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let answer = f.get_anonymous("/readyz").await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.body
    );
    assert_eq!(failed(&answer.json()), ["database"], "{}", answer.body);
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    let answer = f.get_anonymous("/readyz").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

#[tokio::test]
async fn readyz_names_the_outbox_when_an_answer_is_stuck() {
    let f = fixture();
    let sent = notice(7, 10);
    assert_eq!(f.post(&sent).await.status, StatusCode::CREATED);
    let now = f.clock.now();
    f.state
        .store()
        .run(move |s| s.answer(sent.handoff_id, HandoffDecision::Accepted, "er-nurse", now))
        .await
        .unwrap();
    // No edge is reachable: the answer stays in the outbox.
    f.clock.advance(Duration::minutes(9));
    let answer = f.get_anonymous("/readyz").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    f.clock.advance(Duration::minutes(2));
    let answer = f.get_anonymous("/readyz").await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.body
    );
    assert_eq!(failed(&answer.json()), ["outbox"], "{}", answer.body);
    assert!(!answer.body.contains(&sent.handoff_id.to_string()));
}

type Exposition = openmetrics_parser::MetricsExposition<
    openmetrics_parser::PrometheusType,
    openmetrics_parser::PrometheusValue,
>;

fn scrape() -> (String, Exposition) {
    let text = myna_service::metrics::render();
    if text.trim().is_empty() {
        // Nothing recorded yet: an empty exposition (the parser wants one family).
        return (text, Exposition::new());
    }
    let parsed = openmetrics_parser::prometheus::parse_prometheus(&text)
        .unwrap_or_else(|e| panic!("not Prometheus text format: {e:?}\n{text}"));
    (text, parsed)
}

fn counter(scrape: &Exposition, name: &str, labels: &[(&str, &str)]) -> f64 {
    let Some(family) = scrape.families.get(name) else {
        return 0.0;
    };
    family
        .iter_samples()
        .filter(|s| {
            let set = s.get_labelset().unwrap();
            labels
                .iter()
                .all(|(k, v)| set.get_label_value(k) == Some(*v))
        })
        .map(|s| match &s.value {
            openmetrics_parser::PrometheusValue::Counter(c) => c.value.as_f64(),
            other => panic!("{name} is not a counter: {other:?}"),
        })
        .sum()
}

/// The recorder is process-wide and other tests store arrivals beside this one: counters
/// are compared before and after, at least what this test did.
#[tokio::test]
async fn metrics_parse_and_count_arrivals_and_sign_in_failures_without_personal_data() {
    myna_service::metrics::install();
    let f = fixture();
    let stored = &[
        ("service", "hospital-view"),
        ("method", "POST"),
        ("route", "/v1/arrivals"),
        ("status", "201"),
    ];
    let unknown = &[("reason", "unknown_staff")];
    let (_, before) = scrape();
    let sent = notice(8, 10);
    assert_eq!(f.post(&sent).await.status, StatusCode::CREATED);
    let refused = f
        .send(
            Request::post("/sign-in")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(sign_in_form("nobody-here", "x", "000000")))
                .unwrap(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    f.get_anonymous("/arrivals/no-such-id/../../etc").await;
    let (text, after) = scrape();
    let moved = |name: &str, labels: &[(&str, &str)]| {
        counter(&after, name, labels) - counter(&before, name, labels)
    };
    assert!(moved("http_requests_total", stored) >= 1.0, "{text}");
    assert!(
        moved("hospital_arrivals_stored_total", &[]) >= 1.0,
        "{text}"
    );
    assert!(
        moved("hospital_staff_sign_in_failures_total", unknown) >= 1.0,
        "{text}"
    );
    for secret in [
        sent.handoff_id.to_string(),
        sent.incident_id.to_string(),
        "nobody-here".to_string(),
        TOKEN.to_string(),
    ] {
        assert!(!text.contains(&secret), "{secret} in {text}");
    }
    assert!(
        text.contains("# TYPE http_request_duration_seconds histogram"),
        "{text}"
    );
}

/// The probe row's time, as the readiness write left it.
fn probe_written_at(f: &Fixture) -> String {
    rusqlite::Connection::open(config(&f.dir).database_path())
        .unwrap()
        .query_row(
            "SELECT written_at FROM health_probe WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[tokio::test]
async fn readyz_within_a_second_reuses_one_check_so_a_flood_writes_once() {
    let f = fixture();
    let app = hospital_view::app(f.state.clone());
    let readyz = || {
        app.clone()
            .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
    };
    assert_eq!(readyz().await.unwrap().status(), StatusCode::OK);
    let first = probe_written_at(&f);
    // The probe writes the clock's time: a second write would change it.
    f.clock.advance(Duration::minutes(1));
    for _ in 0..20 {
        assert_eq!(readyz().await.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(probe_written_at(&f), first, "one write for the flood");
    // A second later the check runs again.
    tokio::time::sleep(hospital_view::health::READINESS_REUSED_FOR).await;
    assert_eq!(readyz().await.unwrap().status(), StatusCode::OK);
    assert_ne!(probe_written_at(&f), first);
}
