//! The edge's real request path: the axum router on a temporary SQLite, with an arbitrary
//! method, route (one of the tablet's, portal's and log's, with a fuzzed tail) and body,
//! as an authenticated tablet. It must never panic or answer 500.
#![no_main]

use std::sync::{Arc, LazyLock};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::{TimeZone, Utc};
use edge_agent::clock::ManualClock;
use edge_agent::config::Config;
use edge_agent::store::{Dataset, ImportedPatient};
use edge_agent::{AppState, app};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct Edge {
    runtime: tokio::runtime::Runtime,
    state: AppState,
    _dir: tempfile::TempDir,
}

static EDGE: LazyLock<Edge> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::local(dir.path().to_path_buf());
    // Millions of requests from one tablet: the limits would answer most of them.
    config.rate_limits = edge_agent::config::RateLimits::OFF;
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap(),
    ));
    let state = runtime
        .block_on(async { AppState::open(config, clock) })
        .unwrap();
    // 20 synthetic patients, no card linked: no card CA is trusted here.
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let patients = population::patients(20_251_001, 20, today).map(|p| ImportedPatient {
        header: p.header,
        address: p.address,
        insurer: p.insurer,
        card: None,
        records: p.records,
    });
    let dataset = Dataset {
        seed: 20_251_001,
        generated_on: today,
    };
    state.store.import(dataset, patients).unwrap();
    Edge {
        runtime,
        state,
        _dir: dir,
    }
});

const ROUTES: &[&str] = &[
    "/v1/identity-challenges",
    "/v1/incidents",
    "/v1/incidents/0192f0c0-0000-7000-8000-000000000001/consent",
    "/v1/incidents/0192f0c0-0000-7000-8000-000000000001/summary",
    "/v1/incidents/0192f0c0-0000-7000-8000-000000000001/device-views",
    "/v1/incidents/0192f0c0-0000-7000-8000-000000000001/handoff",
    "/v1/hospitals?",
    "/v1/handoffs/",
    "/portal/v1/dev-sign-in",
    "/portal/v1/history?",
    "/v1/log/proof/inclusion?",
    "/v1/log/proof/consistency?",
    "/v1/disasters",
    "/v1/incidents/",
];
const METHODS: [Method; 4] = [Method::GET, Method::POST, Method::PUT, Method::DELETE];

fuzz_target!(|data: &[u8]| {
    let [selector, route, tail_len, rest @ ..] = data else {
        return;
    };
    let tail_len = usize::from(*tail_len % 32).min(rest.len());
    let (tail, body) = rest.split_at(tail_len);
    let Ok(tail) = std::str::from_utf8(tail) else {
        return;
    };
    let path = format!("{}{tail}", ROUTES[usize::from(*route) % ROUTES.len()]);
    let mut request = Request::builder()
        .method(METHODS[usize::from(selector & 3)].clone())
        .uri(path.as_str());
    if selector & 4 == 0 {
        request = request.header("authorization", "Bearer dev-device-token-1");
    }
    if selector & 8 == 0 {
        request = request.header("content-type", "application/json");
    }
    let Ok(request) = request.body(Body::from(body.to_vec())) else {
        return;
    };
    let edge = &*EDGE;
    let status = edge.runtime.block_on(async {
        app(edge.state.clone())
            .oneshot(request)
            .await
            .unwrap()
            .status()
    });
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
});
