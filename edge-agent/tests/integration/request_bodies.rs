//! Arbitrary bodies on the tablet's routes (issue 8.6): the edge answers every one without
//! a 5xx, a body it cannot decode is a 4xx, and such a body leaves no access record.
//! `fuzz/` runs the router under libFuzzer as well (target `edge_request`).

use axum::http::Method;
use myna_domain::wire::{ConsentRequest, DeviceViewReport, HandoffRequest, OpenIncidentRequest};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

use crate::support::{DEVICE, TestEdge, open_with_consent};

/// Field names and values of the tablet's request types, so generated bodies come close.
const WORDS: &[&str] = &[
    "incident_id",
    "crew_member_id",
    "identity",
    "method",
    "certificate_der_b64",
    "photo_matches",
    "challenge_id",
    "signature_b64",
    "facts",
    "decision",
    "reason",
    "kind",
    "note",
    "hospital_id",
    "chief_complaint",
    "eta_minutes",
    "vitals",
    "handoff_id",
    "view_id",
    "viewed_at",
    "card_with_photo_check",
    "pin_verified_card",
    "basic_facts",
    "given",
    "refused",
    "difficult",
    "other",
    "0192f0c0-0000-7000-8000-000000000001",
    "2026-11-25T03:00:00Z",
    "MIIB",
];

fn json_ish() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(WORDS).prop_map(Value::from),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(WORDS), inner), 0..5).prop_map(|fields| {
                Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// A body: JSON from the vocabulary, or arbitrary text.
fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => json_ish().prop_map(|v| v.to_string()),
        1 => ".{0,40}",
    ]
}

/// A tablet route that takes a body, and whether a body decodes as its request type.
struct Route {
    method: Method,
    path: String,
    decodes: fn(&str) -> bool,
}

fn decodes<T: serde::de::DeserializeOwned>(body: &str) -> bool {
    serde_json::from_str::<T>(body).is_ok()
}

#[test]
fn arbitrary_bodies_are_client_errors_and_leave_no_record() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let edge = runtime.block_on(async { TestEdge::new() });
    let incident = runtime.block_on(open_with_consent(
        &edge,
        DEVICE,
        1,
        r#"{"decision":"given"}"#,
    ));
    let routes = [
        Route {
            method: Method::POST,
            path: "/v1/incidents".into(),
            decodes: decodes::<OpenIncidentRequest>,
        },
        Route {
            method: Method::PUT,
            path: format!("/v1/incidents/{incident}/consent"),
            decodes: decodes::<ConsentRequest>,
        },
        Route {
            method: Method::POST,
            path: format!("/v1/incidents/{incident}/device-views"),
            decodes: decodes::<DeviceViewReport>,
        },
        Route {
            method: Method::POST,
            path: format!("/v1/incidents/{incident}/handoff"),
            decodes: decodes::<HandoffRequest>,
        },
    ];
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(0..routes.len(), body()),
            |(route, body): (usize, String)| {
                let route = &routes[route];
                let before = edge.access_log().len();
                let (status, answer) = runtime.block_on(edge.call(
                    route.method.clone(),
                    &route.path,
                    Some(DEVICE),
                    Some(body.clone()),
                ));
                prop_assert!(!status.is_server_error(), "{status} {answer}");
                if !(route.decodes)(&body) {
                    prop_assert!(status.is_client_error(), "{status} {answer}");
                    prop_assert_eq!(edge.access_log().len(), before, "{}", answer);
                }
                Ok(())
            },
        )
        .unwrap();
}
