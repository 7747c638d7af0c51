//! Arbitrary bodies on the tablet's routes: the edge answers every one without
//! a 5xx, a body it cannot decode is a 4xx, and such a body leaves no access record.
//! `fuzz/` runs the router under libFuzzer as well (target `edge_request`).

use axum::http::Method;
use myna_domain::fixtures::request_json;
use myna_domain::wire::{ConsentRequest, DeviceViewReport, HandoffRequest, OpenIncidentRequest};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::support::{DEVICE, TestEdge, open_with_consent};

/// A body: JSON from the vocabulary, or arbitrary text.
fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => request_json().prop_map(|v| v.to_string()),
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
