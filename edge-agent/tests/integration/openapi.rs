//! The OpenAPI document (`GET /openapi.json`, `docs/openapi.json`) against the route table,
//! the committed copy and the served one; request ids and the request span's fields.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use edge_agent::api::authz::{self, Access};
use edge_agent::api::openapi;
use edge_agent::app;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::support::{DEVICE, TestEdge};

/// The committed document, relative to the workspace.
const COMMITTED: &str = "docs/openapi.json";
/// The command that refreshes it.
const REFRESH: &str = "cargo run -p edge-agent --bin edge-openapi > docs/openapi.json";

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(COMMITTED)
}

/// `(METHOD, path)` of every operation in an OpenAPI document; HEAD counts as GET, as in
/// the route table.
fn operations(document: &Value) -> BTreeSet<(String, String)> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let mut out = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            let method = if *method == "head" { "get" } else { method };
            out.insert((method.to_uppercase(), path.clone()));
        }
    }
    out
}

fn route_table() -> BTreeSet<(String, String)> {
    authz::ROUTES
        .iter()
        .map(|rule| (rule.method.to_string(), rule.path.to_string()))
        .collect()
}

fn document() -> Value {
    serde_json::to_value(openapi::document()).unwrap()
}

#[test]
fn openapi_document_and_route_table_name_the_same_routes() {
    let documented = operations(&document());
    let table = route_table();
    let missing: Vec<_> = table.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&table).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the OpenAPI document and `authz::ROUTES` must list the same routes: in the table but \
         not documented (add #[utoipa::path] to the handler and list it in api::openapi's \
         `paths`): {missing:?}; documented but not in the table: {extra:?}"
    );
}

#[test]
fn openapi_document_states_who_may_call_each_route() {
    let document = document();
    for rule in authz::ROUTES {
        let operation = &document["paths"][rule.path][rule.method.to_lowercase()];
        let schemes: BTreeSet<&str> = operation["security"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|requirement| requirement.as_object().unwrap().keys())
            .map(String::as_str)
            .collect();
        let public = rule.access == Access::Public;
        assert_eq!(
            schemes.is_empty(),
            public,
            "{} {}: security {schemes:?}",
            rule.method,
            rule.path
        );
        for scheme in &schemes {
            assert!(
                document["components"]["securitySchemes"][scheme].is_object(),
                "{scheme} is not defined"
            );
        }
        if !public {
            let answers = &operation["responses"];
            let refused = ["401", "403"]
                .iter()
                .any(|status| answers.get(*status).is_some())
                || answers.get("303").is_some();
            assert!(
                refused,
                "{} {} documents no refusal",
                rule.method, rule.path
            );
        }
    }
    assert_eq!(document["openapi"], "3.1.0");
}

#[test]
fn openapi_committed_document_is_current() {
    let generated = openapi::document_json();
    let path = committed_path();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{COMMITTED} is not the document the code generates: refresh it with `{REFRESH}` \
         (or UPDATE_OPENAPI=1 cargo test -p edge-agent --test integration openapi_committed)"
    );
}

async fn send(
    edge: &TestEdge,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let response = app(edge.state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body.to_vec())
}

#[tokio::test]
async fn openapi_json_is_served_to_anyone_as_generated() {
    let edge = TestEdge::new();
    let request = Request::get("/openapi.json").body(Body::empty()).unwrap();
    let (status, headers, body) = send(&edge, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    let served: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(served, document());
    assert_eq!(
        String::from_utf8(body).unwrap(),
        openapi::document_json(),
        "served byte for byte as committed"
    );
}

#[tokio::test]
async fn request_id_is_made_when_absent_and_echoed() {
    let edge = TestEdge::new();
    let request = Request::get("/healthz").body(Body::empty()).unwrap();
    let (_, headers, _) = send(&edge, request).await;
    let id = headers
        .get("x-request-id")
        .expect("every answer carries x-request-id");
    assert!(
        uuid::Uuid::parse_str(id.to_str().unwrap()).is_ok(),
        "{id:?}"
    );

    // The caller's own id is kept, on refusals too.
    let request = Request::get("/v1/review-queue")
        .header("x-request-id", "tablet-42.7")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(&edge, request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers["x-request-id"], "tablet-42.7");

    // One that could smuggle text into the log is replaced.
    let request = Request::get("/healthz")
        .header("x-request-id", "a b\" patient=Yamada")
        .body(Body::empty())
        .unwrap();
    let (_, headers, _) = send(&edge, request).await;
    let id = headers["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

/// Everything written by the tracing subscriber, for one test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn request_span_carries_the_request_and_incident_ids_and_no_query() {
    let edge = TestEdge::new();
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let incident = uuid::Uuid::now_v7();
    let request = Request::get(format!(
        "/v1/incidents/{incident}/summary?patient=P-secret-0001"
    ))
    .header("authorization", format!("Bearer {DEVICE}"))
    .header("x-request-id", "req-summary-1")
    .body(Body::empty())
    .unwrap();
    let (status, headers, _) = send(&edge, request).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["x-request-id"], "req-summary-1");

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("request_id=req-summary-1"))
        .collect();
    assert!(!lines.is_empty(), "no line carries the request id:\n{log}");
    assert!(
        lines
            .iter()
            .all(|line| line.contains(&format!("incident_id={incident}"))),
        "every line of the request carries the incident id:\n{log}"
    );
    assert!(
        lines
            .iter()
            .all(|line| line.contains("route=/v1/incidents/{id}/summary")),
        "{log}"
    );
    assert!(
        !log.contains("P-secret-0001"),
        "the query string was logged:\n{log}"
    );

    // A route without an incident has no incident id.
    let request = Request::get("/v1/log/key")
        .header("x-request-id", "req-key-1")
        .body(Body::empty())
        .unwrap();
    send(&edge, request).await;
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let key_lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("request_id=req-key-1"))
        .collect();
    assert!(!key_lines.is_empty(), "{log}");
    assert!(
        key_lines.iter().all(|line| !line.contains("incident_id")),
        "{log}"
    );
}
