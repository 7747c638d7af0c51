//! The configuration file of the `hospital-view` binary (TOML; every field documented in
//! `docs/configuration.md`) and what it becomes: a [`Config`], the TLS
//! server configuration, the listen addresses and the facts the production checks
//! ([`crate::production`]) judge.
//!
//! Unknown keys and bad values stop the start with the key named
//! (`myna_service::config::load_toml`). Secrets (the TOTP key, private keys, the edge
//! token) are never in the file: each is a `{ file = "..." }` (mode checked) or
//! `{ env = "VARIABLE" }` reference ([`SecretField`]); a plain value there is refused,
//! naming the key, without echoing it.
//!
//! [`ConfigFile::facts`] judges the file alone (nothing read, nothing created), so a start
//! the production checks refuse leaves no trace on disk.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use myna_service::LogFormat;
use myna_service::config::{ConfigError, SecretField};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use serde::Deserialize;

use crate::config::{Config, EdgeTls};
use crate::error::{Error, Result};
use crate::production::Facts;
use crate::staff::SignInPolicy;
use crate::staff::sealing::TotpKey;

/// The metrics port on loopback in `--dev` when none is configured.
pub const DEV_METRICS_LISTEN: &str = "127.0.0.1:9182";

/// The file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Address the dashboard and the edge routes listen on.
    pub listen: SocketAddr,
    /// Institution id of this hospital, as the edge knows it.
    pub hospital_id: String,
    /// Display name of this hospital.
    pub hospital_name: String,
    /// Directory of the SQLite file (0700).
    pub data_dir: PathBuf,
    /// `text` or `json`.
    #[serde(default)]
    pub log_format: LogFormat,
    /// The key TOTP secrets are sealed under (32 bytes, hex or base64). Required outside
    /// `--dev`; in `--dev` without it, `<data_dir>/totp.key`.
    #[serde(default)]
    pub totp_key: Option<SecretField>,
    /// Seed the development staff accounts (published password and TOTP secret): refused
    /// outside `--dev`, where they are always seeded.
    #[serde(default)]
    pub dev_staff: bool,
    /// How this service serves.
    #[serde(default)]
    pub tls: TlsSection,
    /// The edge-agent.
    #[serde(default)]
    pub edge: EdgeSection,
    /// Sign-in limits.
    #[serde(default)]
    pub sign_in: SignInSection,
    /// The Prometheus endpoint.
    #[serde(default)]
    pub metrics: MetricsSection,
}

/// `[tls]`: the server certificate and the CAs the edge's client certificate must chain to.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// Server certificate chain (PEM, leaf first).
    pub cert: Option<PathBuf>,
    /// Its private key (PEM), as a secret reference.
    pub key: Option<SecretField>,
    /// CA certificates (PEM or DER) that issue the edge's client certificate.
    #[serde(default)]
    pub edge_client_cas: Vec<PathBuf>,
    /// Their revocation lists (PEM or DER).
    #[serde(default)]
    pub edge_client_crls: Vec<PathBuf>,
    /// Development certificates directory (`myna_service::dev_tls`; `--dev` only).
    pub dev_dir: Option<PathBuf>,
}

/// `[edge]`: where the ER's answers go and how this hospital is known there.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSection {
    /// Base URL of the edge-agent (`https://` outside `--dev`).
    pub url: Option<String>,
    /// The CA (PEM) of the edge's server certificate.
    pub ca: Option<PathBuf>,
    /// This hospital's client certificate (PEM) for the edge.
    pub client_cert: Option<PathBuf>,
    /// Its private key (PEM), as a secret reference.
    pub client_key: Option<SecretField>,
    /// Bearer token over plain HTTP (development only): refused outside `--dev`, where
    /// the edge is identified by its client certificate.
    pub token: Option<SecretField>,
}

/// `[sign_in]`: lockout, sessions and stale accounts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignInSection {
    /// Consecutive failures that lock an account.
    pub max_failures: u32,
    /// The first lock, in minutes (doubling with each further failure).
    pub first_lockout_minutes: u32,
    /// The longest lock, in minutes.
    pub longest_lockout_minutes: u32,
    /// A session's lifetime, in minutes.
    pub session_lifetime_minutes: u32,
    /// A session ends after this many minutes without a request.
    pub session_idle_minutes: u32,
    /// Accounts not signed in for this many days are disabled.
    pub stale_after_days: u32,
}

impl Default for SignInSection {
    fn default() -> Self {
        let policy = SignInPolicy::default();
        let minutes = |d: chrono::Duration| u32::try_from(d.num_minutes()).unwrap_or(u32::MAX);
        SignInSection {
            max_failures: policy.max_failures,
            first_lockout_minutes: minutes(policy.first_lockout),
            longest_lockout_minutes: minutes(policy.longest_lockout),
            session_lifetime_minutes: minutes(policy.session_lifetime),
            session_idle_minutes: minutes(policy.session_idle),
            stale_after_days: u32::try_from(policy.stale_after.num_days()).unwrap_or(90),
        }
    }
}

/// `[metrics]`: the Prometheus endpoint, off unless `listen` is set (on at
/// [`DEV_METRICS_LISTEN`] in `--dev`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// Address of `GET /metrics` (keep it off the public network).
    pub listen: Option<SocketAddr>,
}

/// Command-line values that replace the file's.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--log-format`.
    pub log_format: Option<LogFormat>,
    /// `--metrics-listen`.
    pub metrics_listen: Option<SocketAddr>,
}

/// Everything the binary starts from.
pub struct Startup {
    /// The service's configuration.
    pub config: Config,
    /// Where it listens.
    pub listen: SocketAddr,
    /// HTTPS, when configured.
    pub server_tls: Option<Arc<rustls::ServerConfig>>,
    /// Where `/metrics` listens, if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// How it logs.
    pub log_format: LogFormat,
    /// What the production checks judge (the stored secrets are added once the store is
    /// open).
    pub facts: Facts,
}

impl ConfigFile {
    /// Reads `path`; errors name the key.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        myna_service::config::load_toml(path)
    }

    /// Applies `overrides`.
    pub fn with_overrides(mut self, overrides: &Overrides) -> Self {
        if let Some(listen) = overrides.listen {
            self.listen = listen;
        }
        if let Some(dir) = &overrides.data_dir {
            self.data_dir = dir.clone();
        }
        if let Some(format) = overrides.log_format {
            self.log_format = format;
        }
        if let Some(listen) = overrides.metrics_listen {
            self.metrics.listen = Some(listen);
        }
        self
    }

    /// The TOTP key `totp_key` names, if it names one.
    pub fn totp_key(&self) -> Result<Option<TotpKey>> {
        let Some(reference) = &self.totp_key else {
            return Ok(None);
        };
        let secret = reference.resolve("totp_key").map_err(config)?;
        TotpKey::parse(secret.expose())
            .map(Some)
            .map_err(|message| Error::Config(format!("key `totp_key`: {message}")))
    }

    /// What the production checks judge, from the file alone: nothing is read or created
    /// (the stored accounts are judged once the store is open).
    pub fn facts(&self) -> Facts {
        let dev_tls = self.tls.dev_dir.is_some();
        Facts {
            dev_staff: self.dev_staff,
            edge_token: self.edge.token.is_some(),
            tls: dev_tls || self.tls.cert.is_some() || self.tls.key.is_some(),
            edge_client_verified: dev_tls || !self.tls.edge_client_cas.is_empty(),
            dev_tls,
            edge_url: self
                .edge
                .url
                .as_deref()
                .map(|url| url.trim_end_matches('/').to_string()),
            ..Facts::default()
        }
    }

    /// Reads the files and secrets the file names and builds the [`Startup`]. `dev`
    /// turns on the development staff, the development edge token default, the
    /// development TOTP key file and metrics on loopback.
    pub fn into_startup(self, dev: bool) -> Result<Startup> {
        let policy = self.sign_in.policy()?;
        let totp_key = match self.totp_key()? {
            Some(key) => Some(key),
            None if dev => None,
            None => {
                return Err(Error::Config(
                    "key `totp_key`: missing; give the TOTP encryption key as \
                     `totp_key = { file = \"/etc/myna/hospital-view/totp.key\" }` (32 bytes, \
                     hex or base64: `openssl rand -hex 32`)"
                        .into(),
                ));
            }
        };
        let configured_token = match &self.edge.token {
            Some(reference) => Some(
                reference
                    .resolve("edge.token")
                    .map_err(config)?
                    .expose()
                    .to_string(),
            ),
            None => None,
        };
        let edge_token = match configured_token {
            Some(token) => Some(token),
            None if dev => Some(format!("dev-edge-token-{}", self.hospital_id)),
            None => None,
        };
        let edge_url = self
            .edge
            .url
            .as_deref()
            .map(|url| url.trim_end_matches('/').to_string());
        if let Some(url) = &edge_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(Error::Config(format!(
                "key `edge.url`: `{url}` is not an http(s) URL"
            )));
        }
        let edge_tls = self.edge.tls()?;
        let (server_tls, edge_client_verified) = self.tls.server_config()?;
        let metrics_listen = match self.metrics.listen {
            Some(listen) => Some(listen),
            None if dev => Some(DEV_METRICS_LISTEN.parse().expect("a socket address")),
            None => None,
        };
        let facts = Facts {
            tls: server_tls.is_some(),
            edge_client_verified,
            ..self.facts()
        };
        Ok(Startup {
            config: Config {
                hospital_id: self.hospital_id,
                hospital_name: self.hospital_name,
                data_dir: self.data_dir,
                edge_token,
                edge_url,
                edge_tls,
                // Outside --dev the development accounts are refused, never seeded.
                staff: if dev { crate::dev_staff() } else { Vec::new() },
                sign_in: policy,
                totp_key,
            },
            listen: self.listen,
            server_tls,
            metrics_listen,
            log_format: self.log_format,
            facts,
        })
    }
}

fn config(error: ConfigError) -> Error {
    Error::Config(error.to_string())
}

impl SignInSection {
    fn policy(&self) -> Result<SignInPolicy> {
        let positive = |key: &str, value: u32| {
            if value == 0 {
                Err(Error::Config(format!(
                    "key `sign_in.{key}`: must be at least 1"
                )))
            } else {
                Ok(i64::from(value))
            }
        };
        let first = positive("first_lockout_minutes", self.first_lockout_minutes)?;
        let longest = positive("longest_lockout_minutes", self.longest_lockout_minutes)?;
        if longest < first {
            return Err(Error::Config(
                "key `sign_in.longest_lockout_minutes`: must not be shorter than \
                 `first_lockout_minutes`"
                    .into(),
            ));
        }
        Ok(SignInPolicy {
            max_failures: u32::try_from(positive("max_failures", self.max_failures)?)
                .unwrap_or(u32::MAX),
            first_lockout: chrono::Duration::minutes(first),
            longest_lockout: chrono::Duration::minutes(longest),
            session_lifetime: chrono::Duration::minutes(positive(
                "session_lifetime_minutes",
                self.session_lifetime_minutes,
            )?),
            session_idle: chrono::Duration::minutes(positive(
                "session_idle_minutes",
                self.session_idle_minutes,
            )?),
            stale_after: chrono::Duration::days(positive(
                "stale_after_days",
                self.stale_after_days,
            )?),
        })
    }
}

impl EdgeSection {
    /// The edge's CA and this hospital's client certificate, when `ca` is set.
    fn tls(&self) -> Result<Option<EdgeTls>> {
        let Some(ca) = &self.ca else {
            if self.client_cert.is_some() || self.client_key.is_some() {
                return Err(Error::Config(
                    "key `edge.ca`: missing; `edge.client_cert` and `edge.client_key` need \
                     the edge's CA"
                        .into(),
                ));
            }
            return Ok(None);
        };
        let (Some(cert), Some(key)) = (&self.client_cert, &self.client_key) else {
            return Err(Error::Config(
                "key `edge.client_cert`/`edge.client_key`: both are required with `edge.ca`".into(),
            ));
        };
        let ca_pem = read_text("edge.ca", ca)?;
        let ca_der = CertificateDer::from_pem_slice(ca_pem.as_bytes())
            .map_err(|_| {
                Error::Config(format!(
                    "key `edge.ca`: {} is not a PEM certificate",
                    ca.display()
                ))
            })?
            .to_vec();
        let client_key_pem = key
            .resolve("edge.client_key")
            .map_err(config)?
            .expose()
            .to_string();
        Ok(Some(EdgeTls {
            ca_der,
            client_certificate_pem: read_text("edge.client_cert", cert)?,
            client_key_pem,
        }))
    }
}

impl TlsSection {
    /// The server configuration and whether it verifies the edge's client certificate.
    fn server_config(&self) -> Result<(Option<Arc<rustls::ServerConfig>>, bool)> {
        if let Some(dir) = &self.dev_dir {
            if self.cert.is_some() || self.key.is_some() {
                return Err(Error::Config(
                    "key `tls.dev_dir`: give either `dev_dir` or `cert` and `key`".into(),
                ));
            }
            let tls = myna_service::dev_tls::DevTls::load_or_create(dir).map_err(|e| {
                Error::Config(format!(
                    "key `tls.dev_dir`: loading the development certificates in {}: {e}",
                    dir.display()
                ))
            })?;
            return Ok((Some(tls.mtls_server_config()), true));
        }
        let (cert, key) = match (&self.cert, &self.key) {
            (None, None) => {
                if !self.edge_client_cas.is_empty() {
                    return Err(Error::Config(
                        "key `tls.edge_client_cas`: needs `tls.cert` and `tls.key`".into(),
                    ));
                }
                return Ok((None, false));
            }
            (Some(cert), Some(key)) => (cert, key),
            (Some(_), None) => return Err(Error::Config("key `tls.key`: missing".into())),
            (None, Some(_)) => return Err(Error::Config("key `tls.cert`: missing".into())),
        };
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| {
                Error::Config(format!(
                    "key `tls.cert`: reading the certificate chain in {}: {e}",
                    cert.display()
                ))
            })?;
        let key_pem = key.resolve("tls.key").map_err(config)?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.expose().as_bytes())
            .map_err(|_| Error::Config("key `tls.key`: not a PEM private key".into()))?;
        let roots: Vec<CertificateDer<'static>> =
            read_all("tls.edge_client_cas", &self.edge_client_cas)?
                .into_iter()
                .map(CertificateDer::from)
                .collect();
        let verified = !roots.is_empty();
        let crls = read_all("tls.edge_client_crls", &self.edge_client_crls)?
            .into_iter()
            .map(CertificateRevocationListDer::from)
            .collect();
        let server = if verified {
            myna_service::tls::server_config_with_client_auth(chain, key, roots, crls)
        } else {
            myna_service::tls::server_config(chain, key)
        }
        .map_err(|e| {
            Error::Config(format!(
                "keys `tls.*`: loading the certificate, the edge client CAs and CRLs: {e}"
            ))
        })?;
        Ok((Some(server), verified))
    }
}

fn read_text(key: &str, path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("key `{key}`: reading {}: {e}", path.display())))
}

/// The DER objects in each file: every PEM block of a PEM file, else the whole file.
fn read_all(key: &str, paths: &[PathBuf]) -> Result<Vec<Vec<u8>>> {
    let mut objects = Vec::new();
    for path in paths {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::Config(format!("key `{key}`: reading {}: {e}", path.display())))?;
        if !bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            objects.push(bytes);
            continue;
        }
        let before = objects.len();
        for item in rustls_pki_types::pem::PemObject::pem_slice_iter(&bytes) {
            let (_, der): (rustls_pki_types::pem::SectionKind, Vec<u8>) = item.map_err(|e| {
                Error::Config(format!(
                    "key `{key}`: reading PEM from {}: {e}",
                    path.display()
                ))
            })?;
            objects.push(der);
        }
        if objects.len() == before {
            return Err(Error::Config(format!(
                "key `{key}`: no PEM block in {}",
                path.display()
            )));
        }
    }
    Ok(objects)
}

#[cfg(test)]
mod tests;
