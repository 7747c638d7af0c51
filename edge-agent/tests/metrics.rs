//! The edge's Prometheus metrics: the text parses as the exposition format, a summary
//! fetch moves the request and access-record counters by exactly one, and no label value
//! carries a patient id, incident id or token. A process of its own (the recorder is
//! process-wide); the tests here take [`SERIAL`] so they do not count each other.

#[allow(dead_code)]
#[path = "integration/support.rs"]
mod support;

use axum::http::StatusCode;
use support::*;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

type Exposition = openmetrics_parser::MetricsExposition<
    openmetrics_parser::PrometheusType,
    openmetrics_parser::PrometheusValue,
>;

/// The current metrics, parsed by an independent reader of the text format.
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

/// Every sample's labels, as (metric, name, value).
fn labels(scrape: &Exposition) -> Vec<(String, String, String)> {
    let mut all = Vec::new();
    for (name, family) in &scrape.families {
        for sample in family.iter_samples() {
            let set = sample.get_labelset().unwrap();
            for (key, value) in set.iter() {
                all.push((name.clone(), key.clone(), value.clone()));
            }
        }
    }
    all
}

/// The value of the counter `name` summed over samples whose labels include `labels` (0
/// when absent).
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

const SUMMARY_REQUESTS: &[(&str, &str)] = &[
    ("service", "edge-agent"),
    ("method", "GET"),
    ("route", "/v1/incidents/{id}/summary"),
    ("status", "200"),
];

#[tokio::test]
async fn metrics_a_summary_fetch_moves_its_request_and_access_record_counters_by_one() {
    let _serial = SERIAL.lock().await;
    myna_service::metrics::install();
    let edge = TestEdge::new();
    let index = carded_patient(0);
    let incident = open_with_consent(&edge, DEVICE, index, r#"{"decision":"given"}"#).await;
    let (_, before) = scrape();

    let (status, body) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), DEVICE)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (text, after) = scrape();
    let moved = |name: &str, labels: &[(&str, &str)]| {
        counter(&after, name, labels) - counter(&before, name, labels)
    };
    assert_eq!(
        moved("http_requests_total", SUMMARY_REQUESTS),
        1.0,
        "{text}"
    );
    assert_eq!(
        moved(
            "edge_access_records_appended_total",
            &[("action", "view_summary")]
        ),
        1.0,
        "{text}"
    );
    // The identification and consent before it were not summary disclosures.
    assert_eq!(
        moved(
            "edge_access_records_appended_total",
            &[("action", "identify_patient")]
        ),
        0.0
    );
    // A duration was observed under the same template.
    assert!(text.contains(
        "http_request_duration_seconds_count{service=\"edge-agent\",method=\"GET\",route=\"/v1/incidents/{id}/summary\"}"
    ), "{text}");

    // Nothing personal or secret in any label value.
    let secrets = [
        patient_id(index),
        incident.clone(),
        DEVICE.to_string(),
        format!("/v1/incidents/{incident}/summary"),
    ];
    for (metric, key, value) in labels(&after) {
        for secret in &secrets {
            assert!(
                !value.contains(secret.as_str()),
                "{metric} has {key}={value}"
            );
        }
    }
}

#[tokio::test]
async fn metrics_count_card_trust_refusals_and_auth_denials_by_reason() {
    let _serial = SERIAL.lock().await;
    myna_service::metrics::install();
    let edge = TestEdge::new();
    let (_, before) = scrape();
    let incident = myna_domain::access::IncidentId(uuid::Uuid::new_v4());
    let forged = open_request(incident, &forged_card_for(carded_patient(1)));
    let (status, body) = edge.post("/v1/incidents", DEVICE, &forged).await;
    assert!(status.is_client_error(), "{status} {body}");
    let (status, _) = edge
        .call(
            axum::http::Method::GET,
            "/v1/review-queue",
            Some("not-a-token"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (text, after) = scrape();
    let moved = |name: &str, labels: &[(&str, &str)]| {
        counter(&after, name, labels) - counter(&before, name, labels)
    };
    assert_eq!(
        moved(
            "edge_card_trust_refusals_total",
            &[("reason", "untrusted_issuer")]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        moved("edge_auth_denials_total", &[("reason", "unauthenticated")]),
        1.0,
        "{text}"
    );
    assert!(!text.contains("not-a-token"), "{text}");
}

#[tokio::test]
async fn metrics_text_parses_and_names_unmatched_routes_without_their_path() {
    let _serial = SERIAL.lock().await;
    myna_service::metrics::install();
    let edge = TestEdge::new();
    let unmatched = &[("route", "unmatched"), ("status", "404")];
    let (_, before) = scrape();
    let (status, _) = edge.get("/v1/patients/P-0000001/secret", DEVICE).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = edge.get("/readyz", DEVICE).await;
    assert_eq!(status, StatusCode::OK);
    let (text, after) = scrape();
    assert_eq!(
        counter(&after, "http_requests_total", unmatched)
            - counter(&before, "http_requests_total", unmatched),
        1.0,
        "{text}"
    );
    assert!(!text.contains("P-0000001"), "{text}");
    // Every family the edge documents that has been touched by now is typed.
    for family in [
        "http_requests_total",
        "http_request_duration_seconds",
        "edge_store_commit_batch_size",
        "edge_store_commit_duration_seconds",
        "edge_store_writer_queue_depth",
        "edge_log_entries",
        "edge_outbox_undelivered",
        "readiness_check_ok",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family}: {text}"
        );
    }
    assert!(labels(&after).iter().any(|(_, key, _)| key == "route"));
}
