//! The configuration file of `edge-agent --config FILE`: TOML, read into the serde types
//! below (every table refuses unknown keys), then into a [`Deployment`]: where to listen and
//! the [`Config`] the edge runs with. Every error names the key to fix.
//!
//! Secrets (private keys, any token) are never written in the file: a key that holds one
//! takes `{ file = "PATH" }` (a file readable by its owner only) or `{ env = "VARIABLE" }`
//! ([`SecretField`]); a plain string there is refused, naming the key, without echoing it.
//! `docs/configuration.md` documents every key; `deploy/edge-agent.toml` (production) and
//! `deploy/edge-agent.dev.toml` (development) are examples.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use myna_domain::access::{Institution, InstitutionKind};
use myna_domain::disaster::AreaCode;
use myna_domain::handoff::GeoPoint;
use myna_service::LogFormat;
use myna_service::config::{ConfigError, SecretRef, load_toml};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::card_trust::CardTrust;
use crate::config::{
    Config, DeviceRegistration, HospitalEndpoint, PrivacyOfficerAccount, RateLimit, RateLimits,
    RelayTls, ServerCertificate, ServerTls,
};
use crate::review::ReviewThresholds;

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

/// `[review]`: the anomaly thresholds ([`ReviewThresholds`]); each defaults.
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

/// A secret named in the file: `{ file = "PATH" }` or `{ env = "VARIABLE" }`. Any other
/// value (a string, a number) is refused without being echoed.
#[derive(Debug, Clone)]
pub struct SecretField(pub SecretRef);

const INLINE_SECRET: &str = "a secret never sits in the configuration file: write \
     `{ file = \"PATH\" }` (a file readable by the service only) or `{ env = \"VARIABLE\" }`";

impl<'de> Deserialize<'de> for SecretField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor;
        impl<'de> Visitor<'de> for SecretVisitor {
            type Value = SecretField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("{ file = \"PATH\" } or { env = \"VARIABLE\" }")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<SecretField, E> {
                Err(E::custom(INLINE_SECRET))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<SecretField, E> {
                Err(E::custom(INLINE_SECRET))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<SecretField, E> {
                Err(E::custom(INLINE_SECRET))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<SecretField, E> {
                Err(E::custom(INLINE_SECRET))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<SecretField, E> {
                Err(E::custom(INLINE_SECRET))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<SecretField, A::Error> {
                Err(de::Error::custom(INLINE_SECRET))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SecretField, A::Error> {
                SecretRef::deserialize(de::value::MapAccessDeserializer::new(map)).map(SecretField)
            }
        }
        deserializer.deserialize_any(SecretVisitor)
    }
}

/// What the file configures: where to listen, the metrics endpoint, the log format, and the
/// edge's [`Config`].
#[derive(Debug)]
pub struct Deployment {
    /// The API's listen address.
    pub listen: SocketAddr,
    /// The metrics endpoint's, if on.
    pub metrics_listen: Option<SocketAddr>,
    /// The log format.
    pub log_format: LogFormat,
    /// The edge's configuration.
    pub config: Config,
}

/// Reads the file at `path` into a [`Deployment`], reading the certificates, CRLs and
/// secrets it names. Errors name the file and the key.
pub fn load(path: &Path) -> Result<Deployment, ConfigError> {
    let file: ConfigFile = load_toml(path)?;
    file.into_deployment().map_err(|message| match message {
        Problem::Invalid(message) => ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        },
        Problem::Secret(error) => error,
    })
}

/// Why a parsed file does not make a deployment.
#[derive(Debug)]
pub enum Problem {
    /// A value is wrong (`key `x`: ...`).
    Invalid(String),
    /// A secret could not be read.
    Secret(ConfigError),
}

fn invalid(key: &str, what: impl fmt::Display) -> Problem {
    Problem::Invalid(format!("key `{key}`: {what}"))
}

/// The DER objects in `path`: every PEM block if it is PEM, else the whole file.
pub fn read_der_objects(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        return Ok(vec![bytes]);
    }
    let objects = x509_parser::pem::Pem::iter_from_buffer(&bytes)
        .map(|pem| pem.map(|p| p.contents))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("bad PEM in {}: {e}", path.display()))?;
    if objects.is_empty() {
        return Err(format!("no PEM block in {}", path.display()));
    }
    Ok(objects)
}

/// The DER objects of every file in `paths`, errors naming `key[n]`.
fn read_all(key: &str, paths: &[PathBuf]) -> Result<Vec<Vec<u8>>, Problem> {
    let mut objects = Vec::new();
    for (n, path) in paths.iter().enumerate() {
        objects.extend(read_der_objects(path).map_err(|e| invalid(&format!("{key}[{n}]"), e))?);
    }
    Ok(objects)
}

fn read_text(key: &str, path: &Path) -> Result<String, Problem> {
    std::fs::read_to_string(path)
        .map_err(|e| invalid(key, format!("cannot read {}: {e}", path.display())))
}

fn secret(key: &str, field: &SecretField) -> Result<String, Problem> {
    field
        .0
        .resolve(key)
        .map(|s| s.expose().to_string())
        .map_err(Problem::Secret)
}

fn minutes(value: Option<NonZeroU32>, default: chrono::Duration) -> chrono::Duration {
    value.map_or(default, |v| chrono::Duration::minutes(v.get().into()))
}

fn non_empty(key: &str, value: &str) -> Result<(), Problem> {
    if value.trim().is_empty() {
        return Err(invalid(key, "must not be empty"));
    }
    Ok(())
}

impl ConfigFile {
    /// The deployment this file describes (reads the files and secrets it names).
    pub fn into_deployment(self) -> Result<Deployment, Problem> {
        non_empty("log_origin", &self.log_origin)?;
        if self.log_origin.contains([' ', '+']) {
            return Err(invalid("log_origin", "no spaces and no `+`"));
        }
        let mut device_ids = HashSet::new();
        let mut devices = Vec::new();
        for (n, device) in self.devices.into_iter().enumerate() {
            let key = format!("devices[{n}]");
            non_empty(&format!("{key}.id"), &device.id)?;
            non_empty(&format!("{key}.unit"), &device.unit)?;
            non_empty(
                &format!("{key}.fire_department.id"),
                &device.fire_department.id,
            )?;
            if !device_ids.insert(device.id.clone()) {
                return Err(invalid(&format!("{key}.id"), "registered twice"));
            }
            let token = match &device.token {
                Some(field) => secret(&format!("{key}.token"), field)?,
                None => String::new(),
            };
            devices.push(DeviceRegistration {
                token,
                device_id: device.id,
                unit: device.unit,
                fire_department: Institution {
                    id: device.fire_department.id,
                    name: device.fire_department.name,
                    kind: InstitutionKind::FireDepartment,
                },
                area: AreaCode::parse(&device.area.0)
                    .ok_or_else(|| invalid(&format!("{key}.area"), "not an area code"))?,
                certificate_serial: None,
            });
        }
        let mut hospital_ids = HashSet::new();
        let mut hospitals = Vec::new();
        for (n, hospital) in self.hospitals.into_iter().enumerate() {
            let key = format!("hospitals[{n}]");
            non_empty(&format!("{key}.id"), &hospital.id)?;
            if !hospital_ids.insert(hospital.id.clone()) {
                return Err(invalid(&format!("{key}.id"), "registered twice"));
            }
            if !(1..=3).contains(&hospital.tier) {
                return Err(invalid(&format!("{key}.tier"), "must be 1, 2 or 3"));
            }
            if !(hospital.url.starts_with("https://") || hospital.url.starts_with("http://")) {
                return Err(invalid(&format!("{key}.url"), "must start with https://"));
            }
            let location = match hospital.location {
                None => None,
                Some(l) => Some(GeoPoint::new(l.lat, l.lon).ok_or_else(|| {
                    invalid(&format!("{key}.location"), "lat −90..90, lon −180..180")
                })?),
            };
            let token = match &hospital.token {
                Some(field) => secret(&format!("{key}.token"), field)?,
                None => String::new(),
            };
            hospitals.push(HospitalEndpoint {
                institution: Institution {
                    id: hospital.id,
                    name: hospital.name,
                    kind: InstitutionKind::EmergencyHospital {
                        tier: hospital.tier,
                    },
                },
                base_url: hospital.url.trim_end_matches('/').into(),
                token,
                location,
            });
        }
        let mut privacy_officers = Vec::new();
        for (n, officer) in self.privacy_officers.iter().enumerate() {
            privacy_officers.push(PrivacyOfficerAccount {
                id: officer.id.clone(),
                token: secret(&format!("privacy_officers[{n}].token"), &officer.token)?,
            });
        }
        let mut operator_tokens = Vec::new();
        for (n, token) in self.operator_tokens.iter().enumerate() {
            operator_tokens.push(secret(&format!("operator_tokens[{n}]"), token)?);
        }
        let server_tls = self.tls.map(tls_settings).transpose()?;
        let relay_tls = match self.relay {
            None => None,
            Some(relay) => {
                if relay.hospital_cas.is_empty() {
                    return Err(invalid("relay.hospital_cas", "must list at least one CA"));
                }
                Some(RelayTls {
                    hospital_ca_ders: read_all("relay.hospital_cas", &relay.hospital_cas)?,
                    client_certificate_pem: read_text(
                        "relay.client_certificate",
                        &relay.client_certificate,
                    )?,
                    client_key_pem: secret("relay.client_key", &relay.client_key)?,
                })
            }
        };
        let card_trust = CardTrust::new(
            read_all(
                "card_trust.ca_certificates",
                &self.card_trust.ca_certificates,
            )?,
            read_all("card_trust.crls", &self.card_trust.crls)?,
        )
        .map_err(|e| invalid("card_trust", e))?;
        let defaults = ReviewThresholds::default();
        let count = |v: Option<NonZeroU32>, d: u32| v.map_or(d, NonZeroU32::get);
        let r = &self.review;
        let review = ReviewThresholds {
            many_patients: count(r.many_patients, defaults.many_patients),
            many_patients_window: minutes(
                r.many_patients_window_minutes,
                defaults.many_patients_window,
            ),
            repeated_views: count(r.repeated_views, defaults.repeated_views),
            repeated_views_window: minutes(
                r.repeated_views_window_minutes,
                defaults.repeated_views_window,
            ),
            incident_active_for: minutes(
                r.incident_active_for_minutes,
                defaults.incident_active_for,
            ),
            after_acceptance_grace: minutes(
                r.after_acceptance_grace_minutes,
                defaults.after_acceptance_grace,
            ),
        };
        let limit = |l: &RateLimitFile| RateLimit {
            burst: l.burst,
            per_second: l.per_second,
        };
        let rate_limits = if self.rate_limits.off {
            RateLimits::OFF
        } else {
            let default = RateLimits::default();
            RateLimits {
                per_caller: self
                    .rate_limits
                    .per_caller
                    .as_ref()
                    .map(limit)
                    .or(default.per_caller),
                per_address: self
                    .rate_limits
                    .per_address
                    .as_ref()
                    .map(limit)
                    .or(default.per_address),
            }
        };
        let seconds = |v: Option<NonZeroU32>, d: u64| {
            std::time::Duration::from_secs(v.map_or(d, |v| v.get().into()))
        };
        let privacy_office = self.privacy_office.map_or_else(
            || Institution {
                id: "privacy-office".into(),
                name: "個人情報保護担当 Privacy office".into(),
                kind: InstitutionKind::PrivacyOffice,
            },
            |office| Institution {
                id: office.id,
                name: office.name,
                kind: InstitutionKind::PrivacyOffice,
            },
        );
        let config = Config {
            data_dir: self.data_dir,
            devices,
            hospitals,
            dev_portal_sign_in: self.dev_portal_sign_in,
            portal_session_ttl: minutes(
                self.portal_session_ttl_minutes,
                chrono::Duration::minutes(30),
            ),
            card_trust,
            challenge_ttl: chrono::Duration::seconds(
                self.challenge_ttl_seconds
                    .map_or(120, NonZeroU32::get)
                    .into(),
            ),
            log_origin: self.log_origin,
            checkpoint_interval: seconds(self.checkpoint_interval_seconds, 10),
            retention_interval: std::time::Duration::from_secs(
                u64::from(self.retention_interval_hours.map_or(24, NonZeroU32::get)) * 3600,
            ),
            privacy_officers,
            privacy_office,
            review,
            operator_tokens,
            rate_limits,
            require_client_certificates: server_tls
                .as_ref()
                .is_some_and(|tls| tls.certificate.is_none() || !tls.client_ca_ders.is_empty()),
            relay_tls,
            server_tls,
        };
        Ok(Deployment {
            listen: self.listen,
            metrics_listen: self.metrics.map(|m| m.listen),
            log_format: self.log_format,
            config,
        })
    }
}

/// `[tls]` into the settings the server is built from.
fn tls_settings(tls: TlsFile) -> Result<ServerTls, Problem> {
    let client_ca_ders = read_all("tls.client_cas", &tls.client_cas)?;
    let client_crl_ders = read_all("tls.client_crls", &tls.client_crls)?;
    if !client_crl_ders.is_empty() && client_ca_ders.is_empty() {
        return Err(invalid("tls.client_crls", "needs tls.client_cas"));
    }
    let certificate = match (tls.development, tls.certificate_chain, tls.private_key) {
        (true, None, None) => None,
        (true, _, _) => {
            return Err(invalid(
                "tls.development",
                "`development = true` uses the development certificates: remove \
                 certificate_chain and private_key, or set `development = false`",
            ));
        }
        (false, Some(chain), Some(key)) => Some(ServerCertificate {
            chain_pem: read_text("tls.certificate_chain", &chain)?,
            key_pem: myna_service::config::Secret::new(secret("tls.private_key", &key)?),
        }),
        (false, None, _) => return Err(invalid("tls.certificate_chain", "missing")),
        (false, Some(_), None) => return Err(invalid("tls.private_key", "missing")),
    };
    Ok(ServerTls {
        certificate,
        client_ca_ders,
        client_crl_ders,
    })
}

#[cfg(test)]
mod tests;
