//! What one hospital-view instance is configured with: its hospital, data directory, the
//! edge's token and address, the client certificate for an mTLS edge, the staff accounts to
//! create, the sign-in policy and the key TOTP secrets are sealed under. The binary builds
//! it from a configuration file ([`crate::config_file`]).

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::staff::sealing::TotpKey;
use crate::staff::{SignInPolicy, StaffAccount};

/// Configuration of one hospital-view instance.
#[derive(Clone)]
pub struct Config {
    /// Institution id of this hospital, e.g. `hosp-setagaya-3`. Also names the SQLite file,
    /// so only ASCII letters, digits, `-`, `_` and `.` are accepted.
    pub hospital_id: String,
    /// Display name shown in the dashboard header.
    pub hospital_name: String,
    /// Directory holding `hospital-<id>.sqlite3`; created if missing.
    pub data_dir: PathBuf,
    /// Bearer token the edge-agent must present on `POST /v1/arrivals` when served over
    /// plain HTTP; this hospital-view presents the same token when it sends the ER's
    /// answers to the edge. `None`: over TLS the edge's client certificate is its only
    /// credential (production), and plain HTTP admits no edge.
    pub edge_token: Option<String>,
    /// Base URL of the edge-agent, for the ER's answers (`None`: answers stay queued).
    pub edge_url: Option<String>,
    /// The deployment CA and this hospital's client certificate, for an edge served over
    /// TLS that requires client certificates (mTLS); `None`: public roots, no certificate.
    pub edge_tls: Option<EdgeTls>,
    /// Staff accounts to create at start when their id is not stored yet (the
    /// development accounts, [`crate::staff::dev_staff`]); stored accounts are never changed by this.
    pub staff: Vec<StaffAccount>,
    /// Lockout, session and stale-account limits.
    pub sign_in: SignInPolicy,
    /// The key staff TOTP secrets are sealed under in the database. `None`: the
    /// development key `<data_dir>/totp.key`, generated on first start (mode 0600).
    pub totp_key: Option<TotpKey>,
}

/// How hospital-view reaches an edge that requires client certificates.
#[derive(Clone)]
pub struct EdgeTls {
    /// The deployment CA (DER) the edge's server certificate chains to; the only root
    /// trusted.
    pub ca_der: Vec<u8>,
    /// This hospital's client certificate (PEM), naming it (`urn:myna:hospital:<id>`).
    pub client_certificate_pem: String,
    /// Its private key (PEM).
    pub client_key_pem: String,
}

impl std::fmt::Debug for EdgeTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeTls").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("hospital_id", &self.hospital_id)
            .field("hospital_name", &self.hospital_name)
            .field("data_dir", &self.data_dir)
            .field("edge_token", &"<redacted>")
            .field("edge_url", &self.edge_url)
            .field("edge_tls", &self.edge_tls)
            .field("staff", &self.staff)
            .field("sign_in", &self.sign_in)
            .field("totp_key", &self.totp_key)
            .finish()
    }
}

impl Config {
    /// Path of this hospital's SQLite file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir
            .join(format!("hospital-{}.sqlite3", self.hospital_id))
    }

    /// Path of the development TOTP key, used when [`Config::totp_key`] is `None`.
    pub fn dev_totp_key_path(&self) -> PathBuf {
        self.data_dir.join("totp.key")
    }

    /// Refuses an id that could leave `data_dir` and an empty edge token.
    pub(crate) fn validate(&self) -> Result<()> {
        let id = &self.hospital_id;
        let id_ok = !id.is_empty()
            && !id.starts_with('.')
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !id_ok {
            return Err(Error::Config(
                "hospital id must be non-empty ASCII letters, digits, '-', '_' or '.'".into(),
            ));
        }
        if self
            .edge_token
            .as_deref()
            .is_some_and(|token| token.trim().is_empty())
        {
            return Err(Error::Config("edge token must not be empty".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::staff::DEV_TOTP_SECRET;

    /// A configuration of hospital `id` with edge token `token` and one staff account.
    pub(crate) fn config(id: &str, token: &str) -> Config {
        Config {
            hospital_id: id.into(),
            hospital_name: "H".into(),
            data_dir: "/nonexistent".into(),
            edge_token: Some(token.into()),
            edge_url: None,
            edge_tls: None,
            staff: vec![StaffAccount {
                id: "nurse".into(),
                name: "N".into(),
                password: "pw-s3cret".into(),
                totp_secret: DEV_TOTP_SECRET.into(),
            }],
            sign_in: SignInPolicy::default(),
            totp_key: None,
        }
    }

    #[test]
    fn hospital_id_cannot_escape_the_data_dir() {
        assert!(config("hosp-a_1.x", "t").validate().is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "a b", "病院"] {
            assert!(config(bad, "t").validate().is_err(), "{bad:?}");
        }
        assert!(config("a", " ").validate().is_err());
    }

    #[test]
    fn debug_redacts_the_token() {
        let text = format!("{:?}", config("a", "s3cret"));
        assert!(!text.contains("s3cret"));
        assert!(text.contains("nurse"));
    }
}
