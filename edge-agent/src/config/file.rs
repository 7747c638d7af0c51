//! The configuration file of `edge-agent --config FILE`: TOML, read into the serde types
//! below (every table refuses unknown keys), then, in [`build`], into a [`build::Deployment`]: where to listen and
//! the [`Config`](crate::config::Config) the edge runs with. Every error names the key to fix.
//!
//! Secrets (private keys, any token) are never written in the file: a key that holds one
//! takes `{ file = "PATH" }` (a file readable by its owner only) or `{ env = "VARIABLE" }`
//! ([`SecretField`]); a plain string there is refused, naming the key, without echoing it.
//! `docs/configuration.md` documents every key; `deploy/edge-agent.toml` (production) and
//! `deploy/edge-agent.dev.toml` (development) are examples.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;

use myna_domain::disaster::AreaCode;
use myna_service::LogFormat;
pub use myna_service::config::SecretField;
use serde::Deserialize;
use serde::de::{self, Deserializer};

pub mod build;

/// The file, top level. Keys before the first table; tables after.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Address the API listens on (tablets, hospital-views, the portal), e.g.
    /// `0.0.0.0:8443`.
    pub listen: SocketAddr,
    /// Directory of the database and the log-signing key (created 0700; refused when
    /// others may write it).
    pub data_dir: PathBuf,
    /// Name of the access log: checkpoint origin, signing-key name and the edge's id in its
    /// client certificate (`urn:myna:edge:<log_origin>`). No spaces, no `+`.
    pub log_origin: String,
    /// `text` (default) or `json` (one object per line).
    #[serde(default)]
    pub log_format: LogFormat,
    /// Development portal sign-in by patient id. Default `false`; refused in production.
    #[serde(default)]
    pub dev_portal_sign_in: bool,
    /// Lifetime of a portal session, minutes. Default 30.
    pub portal_session_ttl_minutes: Option<NonZeroU32>,
    /// Lifetime of an identification challenge, seconds. Default 120.
    pub challenge_ttl_seconds: Option<NonZeroU32>,
    /// How often a checkpoint is signed when the log grew, seconds. Default 10.
    pub checkpoint_interval_seconds: Option<NonZeroU32>,
    /// How often expired medical records are purged, hours. Default 24.
    pub retention_interval_hours: Option<NonZeroU32>,
    /// The edge's TLS. Missing: plain HTTP (refused in production).
    pub tls: Option<TlsFile>,
    /// The JPKI card CAs. Missing: every card is refused.
    #[serde(default)]
    pub card_trust: CardTrustFile,
    /// Registered tablets.
    #[serde(default)]
    pub devices: Vec<DeviceFile>,
    /// Receiving hospitals.
    #[serde(default)]
    pub hospitals: Vec<HospitalFile>,
    /// The relay's TLS to hospital-views.
    pub relay: Option<RelayFile>,
    /// The institution privacy officers act for. Default `privacy-office`.
    pub privacy_office: Option<InstitutionFile>,
    /// Privacy officers with bearer tokens: development only (refused in production).
    #[serde(default)]
    pub privacy_officers: Vec<OfficerFile>,
    /// Operators' bearer tokens: development only (refused in production).
    #[serde(default)]
    pub operator_tokens: Vec<SecretField>,
    /// The review queue's anomaly thresholds.
    #[serde(default)]
    pub review: ReviewFile,
    /// Request rate limits.
    #[serde(default)]
    pub rate_limits: RateLimitsFile,
    /// The Prometheus endpoint. Missing: off.
    pub metrics: Option<MetricsFile>,
}

/// `[tls]`: the server certificate and the CAs of client certificates.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    /// Use the development certificates kept in `<data_dir>/tls` (development only).
    #[serde(default)]
    pub development: bool,
    /// The server certificate chain (PEM, leaf first).
    pub certificate_chain: Option<PathBuf>,
    /// Its private key (PEM): `{ file = ... }` or `{ env = ... }`.
    pub private_key: Option<SecretField>,
    /// CA certificates issuing tablets' and hospital-views' client certificates (DER or
    /// PEM files).
    #[serde(default)]
    pub client_cas: Vec<PathBuf>,
    /// Their CRLs (DER or PEM files).
    #[serde(default)]
    pub client_crls: Vec<PathBuf>,
}

/// `[card_trust]`: the JPKI CA certificates and CRLs card certificates are checked against.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardTrustFile {
    /// CA certificates (DER or PEM files).
    #[serde(default)]
    pub ca_certificates: Vec<PathBuf>,
    /// CRLs (DER or PEM files), each signed by one of them.
    #[serde(default)]
    pub crls: Vec<PathBuf>,
}

/// `[[devices]]`: one tablet.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceFile {
    /// Device id (its certificate's CN and identity URI name it).
    pub id: String,
    /// Ambulance unit.
    pub unit: String,
    /// Fire department.
    pub fire_department: InstitutionFile,
    /// Local-government code of the area the unit serves (2 or 5 digits).
    pub area: AreaField,
    /// Bearer token: development only.
    pub token: Option<SecretField>,
}

/// An institution's id and name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstitutionFile {
    /// Id.
    pub id: String,
    /// Name (shown to patients).
    pub name: String,
}

/// `[[hospitals]]`: one receiving hospital.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HospitalFile {
    /// Hospital id (its hospital-view's certificate names it).
    pub id: String,
    /// Name.
    pub name: String,
    /// Emergency tier, 1 to 3.
    pub tier: u8,
    /// Base URL of its hospital-view (`https://` in production).
    pub url: String,
    /// Where it is: `{ lat = 35.6, lon = 139.7 }`.
    pub location: Option<LocationFile>,
    /// Bearer token: development only.
    pub token: Option<SecretField>,
}

/// A point on the map.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationFile {
    /// Latitude, −90 to 90.
    pub lat: f64,
    /// Longitude, −180 to 180.
    pub lon: f64,
}

/// `[relay]`: how the edge reaches hospital-views over TLS.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayFile {
    /// CA certificates hospital-views' server certificates chain to (pinned).
    pub hospital_cas: Vec<PathBuf>,
    /// The edge's client certificate (PEM, leaf first) naming `urn:myna:edge:<log_origin>`.
    pub client_certificate: PathBuf,
    /// Its private key (PEM): `{ file = ... }` or `{ env = ... }`.
    pub client_key: SecretField,
}

/// `[[privacy_officers]]`: an officer with a bearer token (development only).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficerFile {
    /// Officer id.
    pub id: String,
    /// Bearer token.
    pub token: SecretField,
}

/// `[review]`: the anomaly thresholds ([`ReviewThresholds`](crate::review::ReviewThresholds)); each defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewFile {
    /// Distinct patients without transport that flag a unit (default 4).
    pub many_patients: Option<NonZeroU32>,
    /// Their window, minutes (default 180).
    pub many_patients_window_minutes: Option<NonZeroU32>,
    /// Disclosures of one patient that flag the latest (default 10).
    pub repeated_views: Option<NonZeroU32>,
    /// Their window, minutes (default 1440).
    pub repeated_views_window_minutes: Option<NonZeroU32>,
    /// How long an incident counts as active, minutes (default 360).
    pub incident_active_for_minutes: Option<NonZeroU32>,
    /// Viewing grace after a hospital accepted, minutes (default 30).
    pub after_acceptance_grace_minutes: Option<NonZeroU32>,
}

/// `[rate_limits]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsFile {
    /// Turn both limits off (load tests). Default `false`.
    #[serde(default)]
    pub off: bool,
    /// Per caller (default 20 at once, 5 per second).
    pub per_caller: Option<RateLimitFile>,
    /// Per client address (default 60 at once, 20 per second).
    pub per_address: Option<RateLimitFile>,
}

/// One limit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitFile {
    /// Requests at once.
    pub burst: NonZeroU32,
    /// Sustained requests per second.
    pub per_second: NonZeroU32,
}

/// `[metrics]`: the Prometheus endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsFile {
    /// Its own listen address (keep it private: loopback or an internal network).
    pub listen: SocketAddr,
}

/// A local-government area code, checked as it is read.
#[derive(Debug, Clone)]
pub struct AreaField(pub String);

impl<'de> Deserialize<'de> for AreaField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match AreaCode::parse(&text) {
            Some(_) => Ok(AreaField(text)),
            None => Err(de::Error::custom(
                "not an area code: 2 or 5 digits, prefecture 01 to 47",
            )),
        }
    }
}

#[cfg(test)]
mod tests;
