//! From the parsed file to a [`Deployment`]: checking values the types cannot, reading the
//! certificates, CRLs and secrets the file names. Every error names its key.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use myna_domain::access::{Institution, InstitutionKind};
use myna_domain::disaster::AreaCode;
use myna_domain::handoff::GeoPoint;
use myna_service::LogFormat;
use myna_service::config::{ConfigError, load_toml};

use super::{ConfigFile, RateLimitFile, SecretField, TlsFile};
use crate::card_trust::CardTrust;
use crate::config::{
    Config, DeviceRegistration, HospitalEndpoint, PrivacyOfficerAccount, RateLimit, RateLimits,
    RelayTls, ServerCertificate, ServerTls,
};
use crate::review::ReviewThresholds;

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
