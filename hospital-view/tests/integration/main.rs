//! Integration tests of hospital-view: the router through `tower::ServiceExt::oneshot`
//! against a real SQLite file in a temporary directory, plus real-socket tests.

mod accounts;
mod arrivals;
mod dashboard;
mod hardening;
mod live;
mod production;
mod readyz;
mod server;
mod signin;
mod tls;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use std::sync::Arc;

use hospital_view::{AppState, Clock, Config, ManualClock, SignInPolicy};
use http_body_util::BodyExt;
use myna_domain::access::IncidentId;
use myna_domain::consent::ConsentState;
use myna_domain::identity::{PatientId, Sex};
use myna_domain::records::{
    Allergy, AllergySeverity, Analyte, DrugClass, InfectionMarker, InfectionResult, LabResult,
    LabValue, MedicalRecord, Medication, QualitativeResult, RecordSource, ReferenceRange,
};
use myna_domain::summary::{EmergencySummary, PatientHeader};
use myna_domain::wire::ArrivalNotice;
use tempfile::TempDir;
use tower::ServiceExt;

pub const TOKEN: &str = "test-edge-token";

/// A hospital-view on a fresh data directory, with its own clock: each sign-in moves it
/// one TOTP step on, so no two sign-ins use the same code (a replay is refused).
pub struct Fixture {
    pub dir: TempDir,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
}

pub fn config(dir: &TempDir) -> Config {
    Config {
        hospital_id: "hosp-test-3".into(),
        hospital_name: "テスト救命救急センター Test Critical Care Center".into(),
        data_dir: dir.path().to_path_buf(),
        edge_token: Some(TOKEN.into()),
        edge_url: None,
        edge_tls: None,
        staff: hospital_view::dev_staff(),
        sign_in: SignInPolicy::default(),
        totp_key: None,
    }
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::new(Utc::now().trunc_subsecs(0)));
    let state = open(&dir, &clock);
    Fixture { dir, state, clock }
}

/// Opens (or reopens) the state on `dir` with `clock`.
pub fn open(dir: &TempDir, clock: &Arc<ManualClock>) -> AppState {
    AppState::open_with_clock(config(dir), clock.clone()).expect("open state")
}

/// The form body of a sign-in as `staff_id` with the development password and `code`.
pub fn sign_in_form(staff_id: &str, password: &str, code: &str) -> String {
    format!("staff_id={staff_id}&password={password}&code={code}&next=%2F")
}

/// A response, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

impl Fixture {
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = hospital_view::app(self.state.clone())
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Answer {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// A staff session cookie (`name=value`), signed in as `er-nurse` through the form
    /// with the development password and the current code (after moving the clock one step
    /// on).
    pub async fn staff_cookie(&self) -> String {
        self.clock.advance(Duration::seconds(30));
        let code = hospital_view::dev_totp_code(self.clock.now());
        let form = sign_in_form("er-nurse", hospital_view::DEV_STAFF_PASSWORD, &code);
        let response = hospital_view::app(self.state.clone())
            .oneshot(
                Request::post("/sign-in")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(form))
                    .expect("request"),
            )
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "signed in");
        let set_cookie = response
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .expect("session cookie");
        set_cookie
            .split(';')
            .next()
            .expect("name=value")
            .to_string()
    }

    /// GET with the edge token (the JSON API needs it) and a staff session (pages do).
    pub async fn get(&self, uri: &str) -> Answer {
        let request = Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(header::COOKIE, self.staff_cookie().await);
        self.send(request.body(Body::empty()).expect("request"))
            .await
    }

    /// GET without credentials.
    pub async fn get_anonymous(&self, uri: &str) -> Answer {
        self.send(Request::get(uri).body(Body::empty()).expect("request"))
            .await
    }

    pub async fn post_raw(&self, token: Option<&str>, body: impl Into<Body>) -> Answer {
        let mut request =
            Request::post("/v1/arrivals").header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(request.body(body.into()).expect("request")).await
    }

    pub async fn post(&self, notice: &ArrivalNotice) -> Answer {
        let json = serde_json::to_vec(notice).expect("serialize");
        self.post_raw(Some(TOKEN), json).await
    }
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

/// A small summary: a drug allergy, HBs antigen positive, an anticoagulant, high K.
pub fn summary(now: DateTime<Utc>) -> EmergencySummary {
    EmergencySummary {
        patient: PatientHeader {
            id: PatientId("P-7".into()),
            name: "佐藤 花子".into(),
            birth_date: d(1950, 4, 1),
            sex: Sex::Female,
        },
        records: vec![
            MedicalRecord::DrugAllergy(Allergy {
                substance: "Cefazolin".into(),
                reaction: "anaphylaxis".into(),
                severity: AllergySeverity::Severe,
                recorded_on: d(2024, 1, 10),
            }),
            MedicalRecord::Infection(InfectionResult {
                marker: InfectionMarker::HbsAntigen,
                result: QualitativeResult::Positive,
                tested_on: d(2025, 3, 3),
            }),
            MedicalRecord::DrugInformation(Medication {
                drug: "Eliquis".into(),
                ingredient: "apixaban".into(),
                class: DrugClass::Anticoagulant,
                dosage: "5 mg twice daily".into(),
                days_supplied: 30,
                date: d(2025, 10, 20),
                institution: "Hanamizuki Pharmacy".into(),
                source: RecordSource::Claims,
            }),
            MedicalRecord::LabResult(LabResult {
                analyte: Analyte::Potassium,
                value: LabValue::Quantity {
                    value: 6.4,
                    unit: "mmol/L".into(),
                    reference: ReferenceRange {
                        low: Some(3.5),
                        high: Some(5.0),
                    },
                },
                observed_on: d(2025, 9, 1),
            }),
        ],
        assembled_at: now,
    }
}

/// A notice from "Setagaya Ambulance 7", `eta_minutes` from now, with records.
pub fn notice(n: u128, eta_minutes: i64) -> ArrivalNotice {
    let now = Utc::now();
    ArrivalNotice {
        handoff_id: uuid::Uuid::from_u128(n),
        incident_id: IncidentId(uuid::Uuid::from_u128(10_000 + n)),
        fire_department: "東京消防庁 Tokyo FD".into(),
        unit: "Setagaya Ambulance 7".into(),
        chief_complaint: "Chest pain 胸痛".into(),
        eta: now + Duration::minutes(eta_minutes),
        vitals: myna_domain::fixtures::shock_vitals(),
        consent: Some(ConsentState::Given),
        summary: Some(summary(now)),
        sent_at: now,
        scene: None,
    }
}

/// The same, after a refusal: consent refused, no summary (what the edge sends).
pub fn refused_notice(n: u128, eta_minutes: i64) -> ArrivalNotice {
    ArrivalNotice {
        consent: Some(ConsentState::Refused),
        summary: None,
        chief_complaint: "転倒 Fall".into(),
        ..notice(n, eta_minutes)
    }
}
