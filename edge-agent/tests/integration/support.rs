//! Test fixtures: an edge on a temp dir with a fixed clock, trusting a test card CA (named
//! like the development CA) with a CRL; cards for seeded patients, with or without an RSA
//! key to sign PIN challenges; forged cards from a look-alike CA.

use std::sync::{Arc, LazyLock};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::{NaiveDate, TimeZone, Utc};
use edge_agent::clock::ManualClock;
use edge_agent::config::Config;
use edge_agent::store::{CardLink, Dataset, ImportedPatient};
use edge_agent::{AppState, app};
use http_body_util::BodyExt;
use myna_domain::access::{AccessOutcome, AccessRecord, DenialReason, IncidentId};
use myna_domain::identity::ChallengeId;
use myna_domain::wire::{IdentityChallenge, IdentityEvidenceDto, OpenIncidentRequest};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams, SerialNumber,
};
use rsa::pkcs8::EncodePrivateKey;
use serde_json::Value;
use tower::ServiceExt;

pub const DEVICE: &str = "dev-device-token-1";
pub const OTHER_DEVICE: &str = "dev-device-token-2";
pub const PATIENTS: u64 = 60;

pub struct TestEdge {
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
}

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

impl TestEdge {
    /// An edge trusting [`CARD_CA`], whose CRL revokes the card of [`revoked_patient`].
    pub fn new() -> Self {
        let revoked = population::patient(edge_seed(), revoked_patient(), today())
            .card
            .unwrap()
            .serial;
        Self::with_trust(vec![CARD_CA.der()], vec![CARD_CA.crl(&[&revoked])])
    }

    /// An edge configured with no card CA: it must refuse every card.
    pub fn without_card_trust() -> Self {
        Self::with_trust(vec![], vec![])
    }

    /// An edge trusting exactly these CA certificates and CRLs.
    pub fn with_trust(ca_ders: Vec<Vec<u8>>, crl_ders: Vec<Vec<u8>>) -> Self {
        Self::configured(|config| config.with_card_trust(ca_ders, crl_ders).unwrap())
    }

    /// An edge trusting [`CARD_CA`] (no CRL), with `configure` applied to its configuration.
    pub fn with(configure: impl FnOnce(Config) -> Config) -> Self {
        Self::configured(|config| {
            configure(config.with_card_trust(vec![CARD_CA.der()], vec![]).unwrap())
        })
    }

    /// An edge trusting [`CARD_CA`] with a current CRL (revoking nothing), with
    /// `configure` applied: ready, as far as card trust goes.
    pub fn configured_with_crl(configure: impl FnOnce(Config) -> Config) -> Self {
        Self::configured(|config| {
            configure(
                config
                    .with_card_trust(vec![CARD_CA.der()], vec![CARD_CA.crl(&[])])
                    .unwrap(),
            )
        })
    }

    fn configured(configure: impl FnOnce(Config) -> Config) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = configure(Config::local(dir.path().to_path_buf()));
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap(),
        ));
        let state = AppState::open(config, clock.clone()).unwrap();
        import_population(&state);
        TestEdge { state, clock, dir }
    }

    /// `POST /v1/identity-challenges` as `token`; panics unless 201.
    pub async fn challenge(&self, token: &str) -> IdentityChallenge {
        let (status, body) = self
            .call(Method::POST, "/v1/identity-challenges", Some(token), None)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        serde_json::from_value(body).unwrap()
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

    /// Sends `POST /v1/incidents` and asserts the answer's status and error code.
    pub async fn expect_open(
        &self,
        token: &str,
        request: &OpenIncidentRequest,
        status: StatusCode,
        code: &str,
    ) {
        let (got, body) = self.post("/v1/incidents", token, request).await;
        assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{body}");
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

/// An open request identifying by PIN: the card's signature over challenge `challenge_id`.
pub fn pin_request(
    incident: IncidentId,
    certificate_der: &[u8],
    challenge_id: ChallengeId,
    signature: &[u8],
) -> OpenIncidentRequest {
    OpenIncidentRequest {
        incident_id: incident,
        crew_member_id: "crew-0042".into(),
        identity: IdentityEvidenceDto::pin_verified(certificate_der, challenge_id, signature),
    }
}

/// The denial of an access record, if it is one.
pub fn denial(record: &AccessRecord) -> Option<DenialReason> {
    match record.outcome {
        AccessOutcome::Denied { reason } => Some(reason),
        _ => None,
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

/// The seed of the tests' synthetic population (the local development one's).
pub fn edge_seed() -> u64 {
    20_251_001
}

/// Imports the first [`PATIENTS`] patients of the synthetic population as of [`today`],
/// their cards linked under the issuer [`CARD_CA`] is named after, as the simulations'
/// loader does: the edge makes no patients up.
fn import_population(state: &AppState) {
    let issuer = format!("CN={}", population::CARD_ISSUER_CN);
    let patients = population::patients(edge_seed(), PATIENTS, today()).map(move |p| {
        let card = p.card.as_ref().map(|card| CardLink {
            issuer: issuer.clone(),
            serial_hex: card.serial_hex(),
        });
        let (header, address, insurer, records) = (p.header, p.address, p.insurer, p.records);
        ImportedPatient {
            header,
            address,
            insurer,
            card,
            records,
        }
    });
    let dataset = Dataset {
        seed: edge_seed(),
        generated_on: today(),
    };
    assert_eq!(state.store.import(dataset, patients).unwrap(), PATIENTS);
}

pub fn patient_id(index: u64) -> String {
    population::patient(edge_seed(), index, today()).header.id.0
}

/// The seeded patient whose card [`TestEdge::new`]'s CRL revokes.
pub fn revoked_patient() -> u64 {
    carded_patient(5)
}

/// The card serial of seeded patient `index`.
pub fn serial_of(index: u64) -> Vec<u8> {
    population::patient(edge_seed(), index, today())
        .card
        .expect("patient has a card")
        .serial
}

/// A genuine certificate with the card serial of seeded patient `index`.
pub fn card_for(index: u64) -> Vec<u8> {
    certificate(&serial_of(index), 2024, 2029)
}

/// A genuine certificate (issued by [`CARD_CA`]) valid from January 1st of `from_year` to
/// that of `to_year`.
pub fn certificate(serial: &[u8], from_year: i32, to_year: i32) -> Vec<u8> {
    CARD_CA.issue(serial, &KeyPair::generate().unwrap(), from_year, to_year)
}

/// A genuine certificate for seeded patient `index` whose key is [`CARD_KEY`], so the test
/// can sign challenges as the card would after PIN entry.
pub fn pin_card_for(index: u64) -> Vec<u8> {
    CARD_CA.issue(&serial_of(index), &CARD_KEY.key_pair(), 2024, 2029)
}

/// A forgery: the same issuer name and a real patient's serial, signed by another CA,
/// for a key the forger holds ([`OTHER_KEY`]).
pub fn forged_card_for(index: u64) -> Vec<u8> {
    FORGER_CA.issue(&serial_of(index), &OTHER_KEY.key_pair(), 2024, 2029)
}

/// A test certification authority named like the development JPKI CA.
pub struct TestCa {
    certificate: rcgen::Certificate,
    key: KeyPair,
}

/// The CA the test edge trusts.
pub static CARD_CA: LazyLock<TestCa> = LazyLock::new(TestCa::new);
/// A look-alike CA with the same name and another key.
pub static FORGER_CA: LazyLock<TestCa> = LazyLock::new(TestCa::new);
/// A genuine CA with another name, whose serials link to no seeded patient.
pub static OTHER_ISSUER_CA: LazyLock<TestCa> =
    LazyLock::new(|| TestCa::named("JPKI Other User Authentication CA"));

fn name(cn: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, cn);
    name
}

impl TestCa {
    fn new() -> Self {
        Self::named(population::CARD_ISSUER_CN)
    }

    fn named(cn: &str) -> Self {
        let mut params = CertificateParams::new(vec![]).unwrap();
        params.distinguished_name = name(cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = rcgen::date_time_ymd(2014, 1, 1);
        params.not_after = rcgen::date_time_ymd(2060, 1, 1);
        let key = KeyPair::generate().unwrap();
        let certificate = params.self_signed(&key).unwrap();
        TestCa { certificate, key }
    }

    pub fn der(&self) -> Vec<u8> {
        self.certificate.der().to_vec()
    }

    /// A card certificate with `serial` for `card_key`, valid from January 1st of
    /// `from_year` to that of `to_year`.
    pub fn issue(
        &self,
        serial: &[u8],
        card_key: &KeyPair,
        from_year: i32,
        to_year: i32,
    ) -> Vec<u8> {
        let mut params = CertificateParams::new(vec![]).unwrap();
        params.serial_number = Some(SerialNumber::from_slice(serial));
        params.distinguished_name = name("JPKI user authentication");
        params.not_before = rcgen::date_time_ymd(from_year, 1, 1);
        params.not_after = rcgen::date_time_ymd(to_year, 1, 1);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params
            .signed_by(card_key, &self.certificate, &self.key)
            .unwrap()
            .der()
            .to_vec()
    }

    /// A CRL revoking `serials`, current from 2026-01-01 to 2027-01-01.
    pub fn crl(&self, serials: &[&[u8]]) -> Vec<u8> {
        signed_crl(&self.certificate, &self.key, serials, (2026, 2027))
    }
}

/// An RSA-2048 card key, like a JPKI user-authentication key.
pub struct CardKey(rsa::PrivateKey);

/// The key of [`pin_card_for`] cards.
pub static CARD_KEY: LazyLock<CardKey> = LazyLock::new(CardKey::generate);
/// The key of [`forged_card_for`] cards.
pub static OTHER_KEY: LazyLock<CardKey> = LazyLock::new(CardKey::generate);

impl CardKey {
    fn generate() -> Self {
        CardKey(rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap())
    }

    fn key_pair(&self) -> KeyPair {
        let pkcs8 = self.0.to_pkcs8_der().unwrap();
        KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8.as_bytes().into(), &rcgen::PKCS_RSA_SHA256)
            .unwrap()
    }

    /// What the card does after PIN entry: pad and sign the SHA-256 DigestInfo of the
    /// challenge the tablet sends.
    pub fn sign(&self, challenge: &[u8]) -> Vec<u8> {
        let digest_info = myna_domain::certificate::sha256_digest_info(challenge);
        self.0
            .sign(rsa::Pkcs1v15Sign::new_unprefixed(), &digest_info)
            .unwrap()
    }
}

/// Token of hospital A in [`two_hospital_edge`].
pub const HOSPITAL_A_TOKEN: &str = "hospital-a-token";
/// Token of hospital B in [`two_hospital_edge`].
pub const HOSPITAL_B_TOKEN: &str = "hospital-b-token";

/// An edge with two hospitals on closed loopback ports (every delivery fails at once):
/// `hosp-a` (tier 3, located) and `hosp-b` (tier 2, no location).
pub fn two_hospital_edge() -> TestEdge {
    TestEdge::with(with_two_hospitals)
}

/// `config` with the hospitals of [`two_hospital_edge`].
pub fn with_two_hospitals(config: Config) -> Config {
    config
        .with_hospital(
            "hosp-a",
            "Hospital A",
            3,
            "http://127.0.0.1:9",
            HOSPITAL_A_TOKEN,
            myna_domain::handoff::GeoPoint::new(35.65, 139.65),
        )
        .with_hospital(
            "hosp-b",
            "Hospital B",
            2,
            "http://127.0.0.1:9",
            HOSPITAL_B_TOKEN,
            None,
        )
}

/// Opens an incident of seeded patient `index` from `device` and records `consent` (the
/// request body, e.g. `{"decision":"given"}`); returns the incident id.
pub async fn open_with_consent(edge: &TestEdge, device: &str, index: u64, consent: &str) -> String {
    let incident = IncidentId(uuid::Uuid::new_v4());
    let (status, body) = edge
        .post(
            "/v1/incidents",
            device,
            &open_request(incident, &card_for(index)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = edge
        .put_json(
            &format!("/v1/incidents/{incident}/consent"),
            device,
            consent,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    incident.to_string()
}

/// A CRL of `issuer` (signed with `key`) revoking `serials` since January of the first
/// year, current from January of the first year to January of the second.
pub fn signed_crl(
    issuer: &rcgen::Certificate,
    key: &KeyPair,
    serials: &[&[u8]],
    (from_year, to_year): (i32, i32),
) -> Vec<u8> {
    CertificateRevocationListParams {
        this_update: rcgen::date_time_ymd(from_year, 1, 1),
        next_update: rcgen::date_time_ymd(to_year, 1, 1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: serials
            .iter()
            .map(|serial| RevokedCertParams {
                serial_number: SerialNumber::from_slice(serial),
                revocation_time: rcgen::date_time_ymd(from_year, 1, 1),
                reason_code: None,
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(issuer, key)
    .unwrap()
    .der()
    .to_vec()
}
