//! Shared fixture of the end-to-end tests in `tests/`: the whole system on loopback, a
//! tablet that drives incidents, and readers for what each service ended up holding.

pub use simulations::front::{Front, FrontMode};

use chrono::{NaiveDate, Utc};
use myna_domain::access::AccessRecord;
use myna_domain::consent::ConsentState;
use myna_domain::identity::AssuranceLevel;
use myna_domain::wire::{ArrivalNotice, PortalHistory, Vitals};
use simulations::scenario::{Dispatcher, IncidentPlan, carded_patients};
use simulations::stack::{LocalStack, StackConfig};

/// A client builder trusting the stack's development CA when it serves TLS.
fn client_builder(stack: &LocalStack) -> reqwest::ClientBuilder {
    stack.browser_client().unwrap()
}

/// A running stack on a temp dir, a tablet dispatcher, and an HTTP client.
pub struct Fixture {
    _dir: tempfile::TempDir,
    /// The running system.
    pub stack: LocalStack,
    /// Drives incidents on dev tablet 1.
    pub dispatcher: Dispatcher,
    /// Population seed.
    pub seed: u64,
    /// The population's today.
    pub today: NaiveDate,
    /// HTTP client for direct API calls (trusting the stack's CA over TLS; no client
    /// certificate).
    pub http: reqwest::Client,
    /// Client for hospital-views' edge routes (`GET /v1/arrivals`): over TLS it presents
    /// the edge's client certificate, which they require there.
    hospital_api: reqwest::Client,
    /// Staff session cookies by hospital index.
    staff_cookies: tokio::sync::Mutex<std::collections::HashMap<usize, String>>,
}

impl Fixture {
    /// Starts the stack with `patients` synthetic patients on free loopback ports.
    pub async fn start(patients: u64) -> Fixture {
        Fixture::start_revoking(patients, &[]).await
    }

    /// As [`Fixture::start`], with the cards of the carded patients at positions `revoked`
    /// (as [`Fixture::patient`] numbers them) on the revocation list the edge trusts.
    pub async fn start_revoking(patients: u64, revoked: &[usize]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let mut config = StackConfig::ephemeral(dir.path().to_path_buf(), patients);
        // The stack's population: the local population's seed, as of today.
        let expected_seed = simulations::load::LOCAL_SEED;
        if let Some(last) = revoked.iter().max() {
            let carded = carded_patients(expected_seed, Utc::now().date_naive(), last + 1);
            config.revoked_patients = revoked.iter().map(|n| carded[*n]).collect();
        }
        let f = Fixture::start_with(dir, config).await;
        assert_eq!(
            f.seed, expected_seed,
            "revoked the cards of another population"
        );
        f
    }

    /// A stack on `dir` with `config` (fault-injecting fronts, say).
    pub async fn start_with(dir: tempfile::TempDir, config: StackConfig) -> Fixture {
        Fixture::around(dir, LocalStack::start(config).await.unwrap())
    }

    /// As [`Fixture::start`], with the edge over TLS requiring client certificates (mTLS):
    /// the dispatcher's tablet and the hospital-views present theirs.
    pub async fn start_with_edge_tls(patients: u64) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let config = StackConfig::ephemeral(dir.path().to_path_buf(), patients);
        let stack = LocalStack::start_with_edge_tls(config).await.unwrap();
        Fixture::around(dir, stack)
    }

    fn around(dir: tempfile::TempDir, stack: LocalStack) -> Fixture {
        let (seed, today) = (stack.cards.seed(), stack.cards.today());
        let dispatcher = stack.dispatcher(1);
        let mut hospital_api = client_builder(&stack);
        if let Some((certificate, key)) = stack.edge_client_certificate() {
            let pem = format!("{certificate}\n{key}");
            hospital_api =
                hospital_api.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
        }
        Fixture {
            _dir: dir,
            http: client_builder(&stack).build().unwrap(),
            hospital_api: hospital_api.build().unwrap(),
            stack,
            dispatcher,
            seed,
            today,
            staff_cookies: Default::default(),
        }
    }

    /// An incident for patient `patient_index` to the first hospital, with a chest-pain story.
    pub fn plan(&self, patient_index: u64, consent: ConsentState) -> IncidentPlan {
        IncidentPlan {
            patient_index,
            consent,
            hospital_id: self.stack.hospitals[0].id.clone(),
            chief_complaint: "胸痛 Chest pain".into(),
            eta_minutes: 8,
            vitals: Vitals {
                heart_rate: Some(110),
                ..Vitals::default()
            },
        }
    }

    /// Index of the `n`th synthetic patient with a currently valid card.
    pub fn patient(&self, n: usize) -> u64 {
        carded_patients(self.seed, self.today, n + 1)[n]
    }

    /// Every access record, oldest first, read straight from the edge's SQLite file.
    pub fn access_log(&self) -> Vec<AccessRecord> {
        let conn = rusqlite::Connection::open(self.stack.edge_database()).unwrap();
        let mut stmt = conn
            .prepare("SELECT record_json FROM access_log ORDER BY seq")
            .unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|j| serde_json::from_str(&j.unwrap()).unwrap())
            .collect()
    }

    /// The access records of one incident.
    pub fn log_for(&self, incident_id: &str) -> Vec<AccessRecord> {
        self.access_log()
            .into_iter()
            .filter(|r| r.incident.is_some_and(|i| i.to_string() == incident_id))
            .collect()
    }

    /// How strongly the edge identified the patient of `incident_id`, as stored with the
    /// incident; `None` when the edge has no such incident.
    pub fn incident_assurance(&self, incident_id: &str) -> Option<AssuranceLevel> {
        let conn = rusqlite::Connection::open(self.stack.edge_database()).unwrap();
        let mut stmt = conn
            .prepare("SELECT assurance FROM incidents WHERE id = ?1")
            .unwrap();
        let mut rows = stmt
            .query_map([incident_id], |r| r.get::<_, String>(0))
            .unwrap();
        rows.next()
            .map(|json| serde_json::from_str(&json.unwrap()).unwrap())
    }

    /// How many incidents the edge has opened.
    pub fn incident_count(&self) -> i64 {
        let conn = rusqlite::Connection::open(self.stack.edge_database()).unwrap();
        conn.query_row("SELECT COUNT(*) FROM incidents", [], |r| r.get(0))
            .unwrap()
    }

    /// A client builder for a browser: trusts the stack's development CA when it serves
    /// TLS, presents no client certificate.
    pub fn browser(&self) -> reqwest::ClientBuilder {
        client_builder(&self.stack)
    }

    /// A staff session cookie (`name=value`) on hospital `hospital`'s dashboard, signed in
    /// through its form as the development nurse (password and TOTP code) the first time,
    /// then kept: a second sign-in within one 30-second step would replay the code.
    pub async fn staff_cookie(&self, hospital: usize) -> String {
        let mut cookies = self.staff_cookies.lock().await;
        if let Some(cookie) = cookies.get(&hospital) {
            return cookie.clone();
        }
        let cookie = self.sign_in_nurse(hospital).await;
        cookies.insert(hospital, cookie.clone());
        cookie
    }

    async fn sign_in_nurse(&self, hospital: usize) -> String {
        let no_redirects = client_builder(&self.stack)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = no_redirects
            .post(format!("{}/sign-in", self.stack.hospitals[hospital].url))
            .form(&[
                ("staff_id", "er-nurse"),
                ("password", hospital_view::DEV_STAFF_PASSWORD),
                ("code", &hospital_view::dev_totp_code(Utc::now())),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            reqwest::StatusCode::SEE_OTHER,
            "signed in"
        );
        let set_cookie = response
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap();
        set_cookie.split(';').next().unwrap().to_string()
    }

    /// The first hospital's dashboard page.
    pub async fn dashboard_html(&self) -> String {
        self.http
            .get(format!("{}/", self.stack.hospitals[0].url))
            .header(reqwest::header::COOKIE, self.staff_cookie(0).await)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn arrivals(&self, hospital: usize) -> Vec<ArrivalNotice> {
        let url = format!("{}/v1/arrivals", self.stack.hospitals[hospital].url);
        self.hospital_api
            .get(url)
            .bearer_auth(&self.stack.hospitals[hospital].token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Signs in to the portal as `patient_id` (development sign-in) and reads the history.
    pub async fn portal_history(&self, patient_id: &str) -> PortalHistory {
        let session: serde_json::Value = self
            .http
            .post(format!("{}/portal/v1/dev-sign-in", self.stack.edge_url))
            .json(&serde_json::json!({ "patient_id": patient_id }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        self.http
            .get(format!("{}/portal/v1/history", self.stack.edge_url))
            .bearer_auth(session["token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}
