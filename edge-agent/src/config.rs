//! Configuration: registered devices, receiving hospitals, and the JPKI card CAs the edge
//! trusts. No patients: they come through `Store::import`.
//!
//! Devices and hospitals authenticate with a client certificate (mTLS) naming them
//! (`myna_domain::client_identity`), or, when [`Config::require_client_certificates`] is
//! off (plain-HTTP development and tests), with a bearer token.
//! No card CA is trusted unless one is configured ([`Config::with_card_trust`]): until then
//! every card certificate is refused.
//!
//! # Layout
//! - this module: [`Config`], what a running edge is configured with, and
//!   [`Config::local`], the development defaults (`edge-agent --dev`).
//! - [`file`](mod@file): the configuration file (`edge-agent --config FILE`, TOML) read into a
//!   [`file::build::Deployment`].
//! - [`refusals`](mod@refusals): [`Config::production_refusals`], what stops a production start.

pub mod file;
pub mod refusals;

use std::num::NonZeroU32;
use std::path::PathBuf;

use myna_domain::access::{Institution, InstitutionKind};
use myna_domain::disaster::AreaCode;
use myna_domain::handoff::GeoPoint;

use crate::card_trust::CardTrust;
use crate::error::Result;
use crate::review::ReviewThresholds;

/// A tablet allowed to call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRegistration {
    /// Bearer token the device presents in development (plain HTTP). Empty: none (a
    /// production tablet is identified by its client certificate only); an empty token
    /// never matches, not even an empty bearer.
    pub token: String,
    /// Device id, written into access records.
    pub device_id: String,
    /// Ambulance unit the tablet belongs to.
    pub unit: String,
    /// Fire department.
    pub fire_department: Institution,
    /// The area the unit serves (local-government code), for disaster declarations.
    pub area: AreaCode,
    /// Serial (hex) of the verified client certificate of the current request. Always
    /// `None` in the configuration: the `Device` extractor sets it on its per-request copy,
    /// and the flows copy it into every access record they write
    /// (`Viewer::certificate_serial`).
    pub certificate_serial: Option<String>,
}

/// A privacy officer (個人情報保護担当者) and the bearer token they present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyOfficerAccount {
    /// Officer id, written into the access records of their findings (never shown to
    /// patients).
    pub id: String,
    /// Bearer token.
    pub token: String,
}

/// A receiving hospital and where its hospital-view listens.
#[derive(Debug, Clone, PartialEq)]
pub struct HospitalEndpoint {
    /// The hospital (kind must be `EmergencyHospital`).
    pub institution: Institution,
    /// Base URL of its hospital-view, e.g. `http://127.0.0.1:8081`.
    pub base_url: String,
    /// Bearer token hospital-view expects from the edge, and the edge from it (decisions),
    /// in development (plain HTTP). Each hospital must have its own. Empty: none (a
    /// production hospital-view is identified by its client certificate only, and
    /// identifies the edge by its own); an empty token never matches.
    pub token: String,
    /// Where the hospital is, to list the nearest first.
    pub location: Option<GeoPoint>,
}

impl HospitalEndpoint {
    /// Tier of the hospital (0 if misconfigured as a non-hospital).
    pub fn tier(&self) -> u8 {
        match self.institution.kind {
            InstitutionKind::EmergencyHospital { tier } => tier,
            InstitutionKind::FireDepartment
            | InstitutionKind::Clinic
            | InstitutionKind::Pharmacy
            | InstitutionKind::PrivacyOffice => 0,
        }
    }
}

/// One rate limit: `burst` requests at once, refilled at `per_second` (GCRA, as the
/// `governor` crate implements it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed back to back after a quiet spell.
    pub burst: NonZeroU32,
    /// Sustained requests per second.
    pub per_second: NonZeroU32,
}

impl RateLimit {
    /// `burst` at once, `per_second` sustained; `None` if either is zero.
    pub fn new(burst: u32, per_second: u32) -> Option<Self> {
        Some(RateLimit {
            burst: NonZeroU32::new(burst)?,
            per_second: NonZeroU32::new(per_second)?,
        })
    }
}

/// Request rate limits (see `api::rate_limit`). `None` turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Per authenticated caller: each tablet, hospital, officer or operator token, and
    /// each portal session.
    pub per_caller: Option<RateLimit>,
    /// Per client address (IPv4 address, IPv6 /64), for every request not made with a
    /// configured device, hospital or staff token: portal sessions, sign-ins, the public
    /// log endpoints, and unknown tokens.
    pub per_address: Option<RateLimit>,
}

impl RateLimits {
    /// No limits: for load tools and tests that drive thousands of requests per second
    /// from a few tablets.
    pub const OFF: RateLimits = RateLimits {
        per_caller: None,
        per_address: None,
    };
}

impl Default for RateLimits {
    /// A crew makes a few requests a minute, in bursts (identify, consent, summary,
    /// hospitals, handoff, polling its status): 20 at once and 5 per second sustained per
    /// caller is far above that and still stops a runaway or stolen tablet. An address
    /// may carry several portal users (a hospital or carrier NAT): 60 at once, 20 per
    /// second.
    fn default() -> Self {
        RateLimits {
            per_caller: RateLimit::new(20, 5),
            per_address: RateLimit::new(60, 20),
        }
    }
}

/// The edge-agent's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Directory of the SQLite file.
    pub data_dir: PathBuf,
    /// Registered tablets.
    pub devices: Vec<DeviceRegistration>,
    /// Receiving hospitals.
    pub hospitals: Vec<HospitalEndpoint>,
    /// Allow the development portal sign-in (patient id only). Never in production.
    pub dev_portal_sign_in: bool,
    /// Lifetime of a portal session.
    pub portal_session_ttl: chrono::Duration,
    /// The JPKI CA certificates and CRLs card certificates are checked against. Empty
    /// (the default) refuses every card.
    pub card_trust: CardTrust,
    /// Lifetime of an identification challenge (PIN-verified card).
    pub challenge_ttl: chrono::Duration,
    /// Name of the access log (checkpoint origin and signing-key name): no spaces, no `+`.
    pub log_origin: String,
    /// How often a checkpoint is signed when the log grew.
    pub checkpoint_interval: std::time::Duration,
    /// How often expired medical records are purged (access records never are).
    pub retention_interval: std::time::Duration,
    /// Privacy officers, who read the review queue (`GET /v1/review-queue`) and record
    /// findings, each with their own bearer token. The development default is one officer,
    /// `dev-privacy-officer`, with the token `dev-privacy-officer-token`; real staff
    /// accounts replace this later.
    pub privacy_officers: Vec<PrivacyOfficerAccount>,
    /// The institution privacy officers act for, written into the access records of their
    /// findings (patients see its name). Default `privacy-office`.
    pub privacy_office: Institution,
    /// Thresholds of the review queue's anomaly flags ([`crate::review`]).
    pub review: ReviewThresholds,
    /// Bearer tokens of operators, who declare disasters (`POST /v1/disasters`). The
    /// development default is `dev-operator-token`; real accounts replace this later.
    pub operator_tokens: Vec<String>,
    /// Request rate limits; [`RateLimits::default`] unless a load tool turns them off.
    pub rate_limits: RateLimits,
    /// Tablets and hospital-views must present a client certificate (mTLS) naming them;
    /// their bearer tokens are refused. On when the edge serves TLS with client
    /// authentication; off (the default) for plain HTTP, where only tokens exist.
    pub require_client_certificates: bool,
    /// How the relay reaches hospital-views served over TLS with client authentication:
    /// the CA their server certificates chain to (the only root trusted) and the edge's
    /// own client certificate. `None` (the default): public roots, no client certificate
    /// (and plain `http://` hospital URLs work either way).
    pub relay_tls: Option<RelayTls>,
    /// How the edge serves TLS; `None`: plain HTTP (development and tests only).
    pub server_tls: Option<ServerTls>,
}

/// The edge's own TLS ([`Config::server_tls`]).
#[derive(Clone)]
pub struct ServerTls {
    /// The server certificate; `None`: the development certificates kept in
    /// `<data-dir>/tls` (`myna_service::dev_tls`), development only.
    pub certificate: Option<ServerCertificate>,
    /// CA certificates (DER) that issue tablets' and hospital-views' client certificates.
    /// Empty with the development certificate: the development CA.
    pub client_ca_ders: Vec<Vec<u8>>,
    /// Their revocation lists (DER).
    pub client_crl_ders: Vec<Vec<u8>>,
}

/// A deployment's server certificate chain and key ([`ServerTls::certificate`]).
#[derive(Clone)]
pub struct ServerCertificate {
    /// The chain (PEM, leaf first).
    pub chain_pem: String,
    /// Its private key (PEM).
    pub key_pem: myna_service::config::Secret,
}

impl ServerTls {
    /// The development certificates, with client certificates from the development CA.
    pub fn development() -> Self {
        ServerTls {
            certificate: None,
            client_ca_ders: Vec::new(),
            client_crl_ders: Vec::new(),
        }
    }
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("development", &self.certificate.is_none())
            .field("client_cas", &self.client_ca_ders.len())
            .field("client_crls", &self.client_crl_ders.len())
            .finish()
    }
}

/// The TLS settings of the relay to hospital-views ([`Config::relay_tls`]).
#[derive(Clone)]
pub struct RelayTls {
    /// CA certificates (DER) hospital-views' server certificates chain to: pinned, no
    /// public root is trusted besides them.
    pub hospital_ca_ders: Vec<Vec<u8>>,
    /// The edge's client certificate (PEM, leaf first), naming it `urn:myna:edge:<id>`.
    pub client_certificate_pem: String,
    /// Its private key (PEM).
    pub client_key_pem: String,
}

impl std::fmt::Debug for RelayTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayTls")
            .field("hospital_cas", &self.hospital_ca_ders.len())
            .finish_non_exhaustive()
    }
}

fn fire_department(id: &str, name: &str) -> Institution {
    Institution {
        id: id.into(),
        name: name.into(),
        kind: InstitutionKind::FireDepartment,
    }
}

impl Config {
    /// Local development defaults (`edge-agent --dev`): three dev tablets in two fire departments, dev portal
    /// sign-in on, one privacy-officer token (`dev-privacy-officer-token`), no hospitals
    /// (add them with their URLs), no trusted card CA (add the development CA with
    /// [`Config::with_card_trust`]). Patients are not configuration: they are imported
    /// ([`crate::store::Store::import`]).
    pub fn local(data_dir: PathBuf) -> Self {
        let tokyo = fire_department("fd-tokyo", "東京消防庁 Tokyo Fire Department");
        let osaka = fire_department("fd-osaka", "大阪市消防局 Osaka Municipal Fire Department");
        let device =
            |n: u32, id: &str, unit: &str, fd: &Institution, area: &str| DeviceRegistration {
                token: format!("dev-device-token-{n}"),
                device_id: id.into(),
                unit: unit.into(),
                fire_department: fd.clone(),
                area: AreaCode::parse(area).unwrap_or_else(|| unreachable!("a valid code")),
                certificate_serial: None,
            };
        Config {
            data_dir,
            devices: vec![
                // Setagaya (13112), Meguro (13110), Osaka Kita ward (27127).
                device(
                    1,
                    "tablet-tfd-0001",
                    "世田谷救急1 Setagaya Ambulance 1",
                    &tokyo,
                    "13112",
                ),
                device(
                    2,
                    "tablet-tfd-0002",
                    "目黒救急2 Meguro Ambulance 2",
                    &tokyo,
                    "13110",
                ),
                device(
                    3,
                    "tablet-ofd-0001",
                    "北救急1 Kita Ambulance 1",
                    &osaka,
                    "27127",
                ),
            ],
            hospitals: Vec::new(),
            dev_portal_sign_in: true,
            portal_session_ttl: chrono::Duration::minutes(30),
            card_trust: CardTrust::default(),
            challenge_ttl: chrono::Duration::minutes(2),
            log_origin: "localhost/myna-edge/access-log".into(),
            checkpoint_interval: std::time::Duration::from_secs(10),
            retention_interval: std::time::Duration::from_secs(24 * 3600),
            privacy_officers: vec![PrivacyOfficerAccount {
                id: "dev-privacy-officer".into(),
                token: "dev-privacy-officer-token".into(),
            }],
            privacy_office: Institution {
                id: "privacy-office".into(),
                name: "個人情報保護担当 Privacy office".into(),
                kind: InstitutionKind::PrivacyOffice,
            },
            review: ReviewThresholds::default(),
            operator_tokens: vec!["dev-operator-token".into()],
            rate_limits: RateLimits::default(),
            require_client_certificates: false,
            relay_tls: None,
            server_tls: None,
        }
    }

    /// Trusts the card CA certificates `ca_ders` (DER) with their CRLs `crl_ders` (DER),
    /// replacing any trust configured before. Fails on an unreadable certificate or CRL,
    /// a non-CA certificate, or a CRL that does not verify with one of these CAs.
    pub fn with_card_trust(
        mut self,
        ca_ders: Vec<Vec<u8>>,
        crl_ders: Vec<Vec<u8>>,
    ) -> Result<Self> {
        self.card_trust = CardTrust::new(ca_ders, crl_ders)?;
        Ok(self)
    }

    /// Adds a receiving hospital.
    pub fn with_hospital(
        mut self,
        id: &str,
        name: &str,
        tier: u8,
        base_url: &str,
        token: &str,
        location: Option<GeoPoint>,
    ) -> Self {
        self.hospitals.push(HospitalEndpoint {
            institution: Institution {
                id: id.into(),
                name: name.into(),
                kind: InstitutionKind::EmergencyHospital { tier },
            },
            base_url: base_url.trim_end_matches('/').into(),
            token: token.into(),
            location,
        });
        self
    }

    /// The device presenting `token`, if registered.
    pub fn device_by_token(&self, token: &str) -> Option<&DeviceRegistration> {
        self.devices.iter().find(|d| {
            !d.token.is_empty()
                && myna_service::constant_time_eq(d.token.as_bytes(), token.as_bytes())
        })
    }

    /// The privacy officer presenting `token`. A token shared by two officers identifies
    /// neither (a finding must name one officer).
    pub fn privacy_officer_by_token(&self, token: &str) -> Option<&PrivacyOfficerAccount> {
        let mut matching = self.privacy_officers.iter().filter(|o| {
            !o.token.is_empty()
                && myna_service::constant_time_eq(o.token.as_bytes(), token.as_bytes())
        });
        let first = matching.next()?;
        if matching.next().is_some() {
            tracing::error!(officer = %first.id, "two privacy officers share a token; refusing it");
            return None;
        }
        Some(first)
    }

    /// The operator presenting `token`: `operator-N`, N its 1-based place.
    pub fn operator_by_token(&self, token: &str) -> Option<String> {
        token_index(&self.operator_tokens, token).map(|n| format!("operator-{n}"))
    }

    /// The hospital presenting `token`. A token shared by two hospitals identifies neither.
    pub fn hospital_by_token(&self, token: &str) -> Option<&HospitalEndpoint> {
        let mut matching = self.hospitals.iter().filter(|h| {
            !h.token.is_empty()
                && myna_service::constant_time_eq(h.token.as_bytes(), token.as_bytes())
        });
        let first = matching.next()?;
        if matching.next().is_some() {
            tracing::error!(hospital = %first.institution.id, "two hospitals share a token; refusing it");
            return None;
        }
        Some(first)
    }

    /// The device registered under `device_id`.
    pub fn device(&self, device_id: &str) -> Option<&DeviceRegistration> {
        self.devices.iter().find(|d| d.device_id == device_id)
    }

    /// The hospital with this id.
    pub fn hospital(&self, id: &str) -> Option<&HospitalEndpoint> {
        self.hospitals.iter().find(|h| h.institution.id == id)
    }
}

/// 1-based place of `token` among `tokens` (empty tokens never match).
fn token_index(tokens: &[String], token: &str) -> Option<usize> {
    tokens
        .iter()
        .position(|t| {
            !t.is_empty() && myna_service::constant_time_eq(t.as_bytes(), token.as_bytes())
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hospital_token_identifies_one_hospital_or_none() {
        let config = Config::local("/nonexistent".into())
            .with_hospital("a", "A", 3, "http://a", "token-a", None)
            .with_hospital("b", "B", 2, "http://b", "token-b", None)
            .with_hospital("c", "C", 2, "http://c", "token-b", None)
            .with_hospital("d", "D", 1, "http://d", "", None);
        assert_eq!(
            config
                .hospital_by_token("token-a")
                .map(|h| h.institution.id.as_str()),
            Some("a")
        );
        assert!(
            config.hospital_by_token("token-b").is_none(),
            "shared by b and c"
        );
        assert!(
            config.hospital_by_token("").is_none(),
            "an empty token is no token"
        );
        assert!(config.hospital_by_token("token-x").is_none());
    }

    #[test]
    fn production_an_empty_device_token_never_matches() {
        let mut config = Config::local("/nonexistent".into());
        for device in &mut config.devices {
            device.token.clear();
        }
        assert!(config.device_by_token("").is_none());
        assert!(config.device_by_token("dev-device-token-1").is_none());
    }

    #[test]
    fn an_officer_token_identifies_one_officer_or_none() {
        let mut config = Config::local("/nonexistent".into());
        let officer = |id: &str, token: &str| PrivacyOfficerAccount {
            id: id.into(),
            token: token.into(),
        };
        assert_eq!(
            config
                .privacy_officer_by_token("dev-privacy-officer-token")
                .map(|o| o.id.as_str()),
            Some("dev-privacy-officer")
        );
        config.privacy_officers = vec![
            officer("a", "t-a"),
            officer("b", "t-b"),
            officer("c", "t-b"),
            officer("d", ""),
        ];
        assert!(config.privacy_officer_by_token("t-a").is_some());
        assert!(
            config.privacy_officer_by_token("t-b").is_none(),
            "shared by b and c"
        );
        assert!(
            config.privacy_officer_by_token("").is_none(),
            "an empty token is no token"
        );
        assert!(
            config
                .privacy_officer_by_token("dev-privacy-officer-token")
                .is_none()
        );
    }
}
