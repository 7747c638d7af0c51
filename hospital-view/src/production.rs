//! What the binary refuses to start with outside `--dev`: every development credential
//! and every way of serving the edge without certificates. Pure: [`refusals`] judges
//! plain [`Facts`]; the binary gathers them from the configuration file and the store.
//!
//! # Refusals
//! - the development staff accounts configured (`dev_staff = true`);
//! - the published development TOTP secret stored for any account;
//! - a `dev-` edge token (in production the edge is identified by its client certificate);
//! - the development certificates (`tls.dev_dir`);
//! - serving without TLS, or over TLS without verifying the edge's client certificate
//!   (`tls.edge_client_cas`);
//! - a plain `http://` edge URL.

/// What the production checks look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// `dev_staff = true` in the file.
    pub dev_staff: bool,
    /// An account's TOTP secret is [`crate::staff::DEV_TOTP_SECRET`].
    pub dev_totp_secret_stored: bool,
    /// The edge token, if any.
    pub edge_token: Option<String>,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `dev_staff = true`.
    #[error(
        "the development staff accounts (published password and TOTP secret) are configured: \
         remove `dev_staff = true` and add accounts with `hospital-view admin add`"
    )]
    DevStaff,
    /// The published TOTP secret is stored.
    #[error(
        "an account has the published development TOTP secret: run `hospital-view admin \
         reset-totp --id ID` for it (or `admin disable --id ID`), see `admin list`"
    )]
    DevTotpSecret,
    /// A `dev-` token.
    #[error(
        "the edge token is a development token (`dev-...`): remove `edge.token`; in \
         production the edge is identified by its client certificate (`tls.edge_client_cas`)"
    )]
    DevEdgeToken,
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
    if facts.dev_totp_secret_stored {
        found.push(Refusal::DevTotpSecret);
    }
    if facts
        .edge_token
        .as_deref()
        .is_some_and(|token| token.trim().starts_with("dev-"))
    {
        found.push(Refusal::DevEdgeToken);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A production deployment that starts.
    fn good() -> Facts {
        Facts {
            dev_staff: false,
            dev_totp_secret_stored: false,
            edge_token: None,
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
                edge_token: Some("a-real-token".into()),
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
    fn production_refuses_the_published_totp_secret() {
        check(
            Facts {
                dev_totp_secret_stored: true,
                ..good()
            },
            &[Refusal::DevTotpSecret],
        );
    }

    #[test]
    fn production_refuses_a_dev_edge_token() {
        check(
            Facts {
                edge_token: Some("dev-edge-token-hosp-1".into()),
                ..good()
            },
            &[Refusal::DevEdgeToken],
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
            dev_totp_secret_stored: true,
            edge_token: Some("dev-x".into()),
            tls: false,
            edge_client_verified: false,
            dev_tls: true,
            edge_url: Some("http://e".into()),
        });
        assert_eq!(all.len(), 6);
        for refusal in all {
            let text = refusal.to_string();
            assert!(
                text.contains('`'),
                "{text} names a key or command to fix it"
            );
        }
    }
}
