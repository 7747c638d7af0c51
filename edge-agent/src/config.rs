//! Configuration: registered devices, receiving hospitals, the synthetic dataset, and the
//! JPKI card CAs the edge trusts.
//!
//! Devices and hospitals authenticate with a client certificate (mTLS) naming them
//! (`myna_domain::client_identity`), or, when [`Config::require_client_certificates`] is
//! off (plain-HTTP development and tests), with a bearer token.
//! No card CA is trusted unless one is configured ([`Config::with_card_trust`]): until then
//! every card certificate is refused.

use std::path::PathBuf;

use myna_domain::access::{Institution, InstitutionKind};
use myna_domain::disaster::AreaCode;
use myna_domain::handoff::GeoPoint;

use crate::Result;
use crate::card_trust::CardTrust;

/// Which synthetic population to load at first start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetConfig {
    /// Generator seed.
    pub seed: u64,
    /// Number of patients.
    pub patients: u64,
}

/// A tablet allowed to call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRegistration {
    /// Bearer token the device presents.
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

/// A receiving hospital and where its hospital-view listens.
#[derive(Debug, Clone, PartialEq)]
pub struct HospitalEndpoint {
    /// The hospital (kind must be `EmergencyHospital`).
    pub institution: Institution,
    /// Base URL of its hospital-view, e.g. `http://127.0.0.1:8081`.
    pub base_url: String,
    /// Bearer token hospital-view expects from the edge, and the edge from it (decisions).
    /// Each hospital must have its own.
    pub token: String,
    /// Where the hospital is, to list the nearest first.
    pub location: Option<GeoPoint>,
}

impl HospitalEndpoint {
    /// Tier of the hospital (0 if misconfigured as a non-hospital).
    pub fn tier(&self) -> u8 {
        match self.institution.kind {
            InstitutionKind::EmergencyHospital { tier } => tier,
            InstitutionKind::FireDepartment => 0,
        }
    }
}

/// The edge-agent's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Directory of the SQLite file.
    pub data_dir: PathBuf,
    /// Synthetic dataset.
    pub dataset: DatasetConfig,
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
    /// Bearer tokens of privacy officers, who read the review queue
    /// (`GET /v1/review-queue`). The development default is one token,
    /// `dev-privacy-officer-token`; real staff roles replace this later.
    pub privacy_officer_tokens: Vec<String>,
    /// Bearer tokens of operators, who declare disasters (`POST /v1/disasters`). The
    /// development default is `dev-operator-token`; real accounts replace this later.
    pub operator_tokens: Vec<String>,
    /// Tablets and hospital-views must present a client certificate (mTLS) naming them;
    /// their bearer tokens are refused. On when the edge serves TLS with client
    /// authentication; off (the default) for plain HTTP, where only tokens exist.
    pub require_client_certificates: bool,
}

fn fire_department(id: &str, name: &str) -> Institution {
    Institution {
        id: id.into(),
        name: name.into(),
        kind: InstitutionKind::FireDepartment,
    }
}

impl Config {
    /// Local development defaults: three dev tablets in two fire departments, 2,000
    /// synthetic patients, dev portal sign-in on, one privacy-officer token
    /// (`dev-privacy-officer-token`), no hospitals (add them with their URLs),
    /// no trusted card CA (add the development CA with [`Config::with_card_trust`]).
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
            dataset: DatasetConfig {
                seed: 20_251_001,
                patients: 2_000,
            },
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
            privacy_officer_tokens: vec!["dev-privacy-officer-token".into()],
            operator_tokens: vec!["dev-operator-token".into()],
            require_client_certificates: false,
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
        self.devices
            .iter()
            .find(|d| myna_service::constant_time_eq(d.token.as_bytes(), token.as_bytes()))
    }

    /// Whether `token` is a privacy officer's.
    pub fn is_privacy_officer(&self, token: &str) -> bool {
        self.privacy_officer_tokens.iter().any(|t| {
            !t.is_empty() && myna_service::constant_time_eq(t.as_bytes(), token.as_bytes())
        })
    }

    /// Whether `token` is an operator's.
    pub fn is_operator(&self, token: &str) -> bool {
        self.operator_tokens.iter().any(|t| {
            !t.is_empty() && myna_service::constant_time_eq(t.as_bytes(), token.as_bytes())
        })
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
}
