//! Test fixtures: an edge on a temp dir with a fixed clock, cards for seeded patients.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::{NaiveDate, TimeZone, Utc};
use edge_agent::clock::ManualClock;
use edge_agent::config::Config;
use edge_agent::{AppState, app};
use http_body_util::BodyExt;
use myna_domain::access::{AccessRecord, IncidentId};
use myna_domain::wire::{IdentityEvidenceDto, OpenIncidentRequest};
use serde_json::Value;
use tower::ServiceExt;

pub const DEVICE: &str = "dev-device-token-1";
pub const OTHER_DEVICE: &str = "dev-device-token-2";
pub const PATIENTS: u64 = 60;

pub struct TestEdge {
    pub state: AppState,
    pub dir: tempfile::TempDir,
}

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

impl TestEdge {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::local(dir.path().to_path_buf());
        config.dataset.patients = PATIENTS;
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap(),
        ));
        let state = AppState::open(config, clock).unwrap();
        TestEdge { state, dir }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(body.map(Body::from).unwrap_or_else(Body::empty))
            .unwrap();
        let response = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, json)
    }

    pub async fn post<T: serde::Serialize>(
        &self,
        path: &str,
        token: &str,
        body: &T,
    ) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            path,
            Some(token),
            Some(serde_json::to_string(body).unwrap()),
        )
        .await
    }

    pub async fn put_json(&self, path: &str, token: &str, json: &str) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(token), Some(json.to_string()))
            .await
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// Every access record, oldest first, read straight from the SQLite file.
    pub fn access_log(&self) -> Vec<AccessRecord> {
        let conn = rusqlite::Connection::open(self.dir.path().join("edge.sqlite3")).unwrap();
        let mut stmt = conn
            .prepare("SELECT record_json FROM access_log ORDER BY seq")
            .unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|j| serde_json::from_str(&j.unwrap()).unwrap())
            .collect()
    }

    pub fn raw_connection(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("edge.sqlite3")).unwrap()
    }

    /// Opens an incident for seeded patient `index` with a valid card and a matching photo.
    pub async fn open_for(&self, index: u64) -> IncidentId {
        let incident = IncidentId(uuid::Uuid::new_v4());
        let (status, body) = self
            .post(
                "/v1/incidents",
                DEVICE,
                &open_request(incident, &card_for(index)),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        incident
    }
}

pub fn open_request(incident: IncidentId, certificate_der: &[u8]) -> OpenIncidentRequest {
    OpenIncidentRequest {
        incident_id: incident,
        crew_member_id: "crew-0042".into(),
        identity: IdentityEvidenceDto::card_with_photo(certificate_der, true),
    }
}

/// Index of the `n`th seeded patient who has a valid card.
pub fn carded_patient(n: usize) -> u64 {
    (0..PATIENTS)
        .filter(|i| {
            population::patient(edge_seed(), *i, today())
                .card
                .is_some_and(|c| c.not_after > today() && c.not_before < today())
        })
        .nth(n)
        .expect("enough carded patients")
}

pub fn edge_seed() -> u64 {
    Config::local(".".into()).dataset.seed
}

pub fn patient_id(index: u64) -> String {
    population::patient(edge_seed(), index, today()).header.id.0
}

/// A certificate with the card serial of seeded patient `index`.
pub fn card_for(index: u64) -> Vec<u8> {
    let card = population::patient(edge_seed(), index, today())
        .card
        .expect("patient has a card");
    certificate(&card.serial, 2024, 2029)
}

/// A self-signed certificate valid from January 1st of `from_year` to that of `to_year`.
pub fn certificate(serial: &[u8], from_year: i32, to_year: i32) -> Vec<u8> {
    let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
    params.serial_number = Some(rcgen::SerialNumber::from_slice(serial));
    params.not_before = rcgen::date_time_ymd(from_year, 1, 1);
    params.not_after = rcgen::date_time_ymd(to_year, 1, 1);
    let key = rcgen::KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().der().to_vec()
}
