//! What the binary refuses to start with outside `--dev`: every development credential
//! and every way of serving the edge without certificates. [`refusals`] is pure: it judges
//! plain [`Facts`]. The binary gathers them in two steps: first from the configuration
//! file alone ([`crate::config_file::ConfigFile::facts`]), refusing before anything is
//! created; only then does it open the store and add the enabled accounts that still
//! hold a published credential ([`stored_facts`]).
//!
//! # Refusals
//! - the development staff accounts configured (`dev_staff = true`);
//! - an enabled account with the published development TOTP secret (named);
//! - an enabled development account (`er-doctor`, `er-nurse`) whose password is still the
//!   published development password (named);
//! - any edge token (in production the edge is identified by its client certificate);
//! - the development certificates (`tls.dev_dir`);
//! - serving without TLS, or over TLS without verifying the edge's client certificate
//!   (`tls.edge_client_cas`);
//! - a plain `http://` edge URL.

use crate::error::Result;
use crate::staff::{DEV_STAFF_PASSWORD, password};
use crate::store::Store;

/// What the production checks look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// `dev_staff = true` in the file.
    pub dev_staff: bool,
    /// The enabled accounts whose TOTP secret is [`crate::staff::DEV_TOTP_SECRET`], by id.
    pub dev_totp_secret_staff: Vec<String>,
    /// The enabled development accounts whose password is
    /// [`crate::staff::DEV_STAFF_PASSWORD`], by id.
    pub dev_password_staff: Vec<String>,
    /// An edge token is configured (`edge.token`).
    pub edge_token: bool,
    /// Served over TLS.
    pub tls: bool,
    /// The TLS server verifies the edge's client certificate against configured CAs.
    pub edge_client_verified: bool,
    /// The development certificates serve.
    pub dev_tls: bool,
    /// The edge's base URL, if any.
    pub edge_url: Option<String>,
}

/// One reason not to start in production; its `Display` says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `dev_staff = true`.
    #[error(
        "the development staff accounts (published password and TOTP secret) are configured: \
         remove `dev_staff = true` and add accounts with `hospital-view admin add`"
    )]
    DevStaff,
    /// Enabled accounts (their ids) have the published TOTP secret.
    #[error(
        "enabled accounts have the published development TOTP secret: {}: run \
         `hospital-view admin reset-totp --id ID` (or `admin disable --id ID`) for each",
        .0.join(", ")
    )]
    DevTotpSecret(Vec<String>),
    /// Enabled development accounts (their ids) have the published password.
    #[error(
        "enabled development accounts have the published development password: {}: run \
         `hospital-view admin disable --id ID` for each and add real accounts with \
         `admin add`",
        .0.join(", ")
    )]
    DevPassword(Vec<String>),
    /// An edge token is configured.
    #[error(
        "an edge token is configured: remove `edge.token`; in production the edge is \
         identified by its client certificate only (`tls.edge_client_cas`)"
    )]
    EdgeToken,
    /// `tls.dev_dir`.
    #[error(
        "the development certificates (`tls.dev_dir`) are configured: give `tls.cert`, \
         `tls.key` and `tls.edge_client_cas` from your deployment CA"
    )]
    DevTls,
    /// No TLS.
    #[error(
        "the service would serve without TLS: give `tls.cert` and `tls.key` (and \
         `tls.edge_client_cas`)"
    )]
    NoTls,
    /// TLS without client certificates.
    #[error(
        "the edge's client certificate would not be verified: give `tls.edge_client_cas` \
         (the CA issuing the edge's `urn:myna:edge:` certificate)"
    )]
    EdgeNotVerified,
    /// `http://` edge URL.
    #[error(
        "the edge URL is plain `http://`: give its `https://` address in `edge.url` (with \
         `edge.ca`, `edge.client_cert` and `edge.client_key`)"
    )]
    PlainHttpEdgeUrl,
}

/// Every refusal `facts` earn, in a fixed order; empty: production may start.
pub fn refusals(facts: &Facts) -> Vec<Refusal> {
    let mut found = Vec::new();
    if facts.dev_staff {
        found.push(Refusal::DevStaff);
    }
    if !facts.dev_totp_secret_staff.is_empty() {
        found.push(Refusal::DevTotpSecret(facts.dev_totp_secret_staff.clone()));
    }
    if !facts.dev_password_staff.is_empty() {
        found.push(Refusal::DevPassword(facts.dev_password_staff.clone()));
    }
    if facts.edge_token {
        found.push(Refusal::EdgeToken);
    }
    if facts.dev_tls {
        found.push(Refusal::DevTls);
    }
    if !facts.tls {
        found.push(Refusal::NoTls);
    } else if !facts.edge_client_verified {
        found.push(Refusal::EdgeNotVerified);
    }
    if facts
        .edge_url
        .as_deref()
        .is_some_and(|url| url.to_ascii_lowercase().starts_with("http://"))
    {
        found.push(Refusal::PlainHttpEdgeUrl);
    }
    found
}

/// `facts` with the enabled accounts of `store` that hold a published credential: the
/// development TOTP secret, or (for the development account ids) the development
/// password. An error when a stored secret does not open with the TOTP key.
pub fn stored_facts(store: &Store, facts: Facts) -> Result<Facts> {
    let dev_ids: Vec<String> = crate::staff::dev_staff()
        .into_iter()
        .map(|account| account.id)
        .collect();
    let mut dev_password_staff = Vec::new();
    for (id, phc) in store.enabled_password_hashes(&dev_ids)? {
        if password::verify(DEV_STAFF_PASSWORD, &phc) {
            dev_password_staff.push(id);
        }
    }
    Ok(Facts {
        dev_totp_secret_staff: store.enabled_staff_with_dev_totp_secret()?,
        dev_password_staff,
        ..facts
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A production deployment that starts.
    fn good() -> Facts {
        Facts {
            dev_staff: false,
            dev_totp_secret_staff: Vec::new(),
            dev_password_staff: Vec::new(),
            edge_token: false,
            tls: true,
            edge_client_verified: true,
            dev_tls: false,
            edge_url: Some("https://edge.example:8443".into()),
        }
    }

    fn check(facts: Facts, expected: &[Refusal]) {
        assert_eq!(refusals(&facts), expected);
    }

    #[test]
    fn production_starts_without_development_credentials() {
        check(good(), &[]);
        check(
            Facts {
                edge_url: None,
                ..good()
            },
            &[],
        );
    }

    #[test]
    fn production_refuses_the_development_staff() {
        check(
            Facts {
                dev_staff: true,
                ..good()
            },
            &[Refusal::DevStaff],
        );
    }

    #[test]
    fn production_refuses_the_published_totp_secret_naming_the_accounts() {
        let ids = vec!["er-nurse".to_string(), "nurse-7".to_string()];
        check(
            Facts {
                dev_totp_secret_staff: ids.clone(),
                ..good()
            },
            &[Refusal::DevTotpSecret(ids.clone())],
        );
        let text = Refusal::DevTotpSecret(ids).to_string();
        assert!(text.contains("er-nurse, nurse-7"), "{text}");
    }

    #[test]
    fn production_refuses_the_published_password_naming_the_accounts() {
        let ids = vec!["er-doctor".to_string()];
        check(
            Facts {
                dev_password_staff: ids.clone(),
                ..good()
            },
            &[Refusal::DevPassword(ids)],
        );
    }

    #[test]
    fn production_refuses_any_edge_token() {
        check(
            Facts {
                edge_token: true,
                ..good()
            },
            &[Refusal::EdgeToken],
        );
    }

    #[test]
    fn production_refuses_the_development_certificates() {
        check(
            Facts {
                dev_tls: true,
                ..good()
            },
            &[Refusal::DevTls],
        );
    }

    #[test]
    fn production_refuses_serving_without_tls() {
        check(
            Facts {
                tls: false,
                edge_client_verified: false,
                ..good()
            },
            &[Refusal::NoTls],
        );
    }

    #[test]
    fn production_refuses_tls_without_edge_client_certificates() {
        check(
            Facts {
                edge_client_verified: false,
                ..good()
            },
            &[Refusal::EdgeNotVerified],
        );
    }

    #[test]
    fn production_refuses_a_plain_http_edge_url() {
        for url in ["http://edge.example:8080", "HTTP://edge"] {
            check(
                Facts {
                    edge_url: Some(url.into()),
                    ..good()
                },
                &[Refusal::PlainHttpEdgeUrl],
            );
        }
    }

    #[test]
    fn production_refusals_name_the_key_to_fix() {
        let all = refusals(&Facts {
            dev_staff: true,
            dev_totp_secret_staff: vec!["a".into()],
            dev_password_staff: vec!["er-nurse".into()],
            edge_token: true,
            tls: false,
            edge_client_verified: false,
            dev_tls: true,
            edge_url: Some("http://e".into()),
        });
        assert_eq!(all.len(), 7);
        for refusal in all {
            let text = refusal.to_string();
            assert!(
                text.contains('`'),
                "{text} names a key or command to fix it"
            );
        }
    }
}
