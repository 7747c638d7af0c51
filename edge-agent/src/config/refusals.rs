//! What stops the edge from starting in production: every development credential, and
//! every way tablets or hospitals could reach it without TLS and client certificates.
//!
//! `edge-agent --config FILE` calls [`Config::production_refusals`] before it opens
//! anything and refuses to start when the list is not empty, printing each refusal: the key
//! to fix and how. `edge-agent --dev` skips it (development mode, loopback only).

use std::fmt;

use crate::config::Config;

/// One reason the edge refuses to start in production.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The configuration key to fix, e.g. `tls.client_cas` or `devices[0].token`.
    pub key: String,
    /// What is wrong and how to fix it.
    pub fix: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.fix)
    }
}

/// The bearer tokens the development setup publishes (`Config::local`, hospital-view's
/// development edge token). Every one starts with `dev-`, which is refused anyway; they are
/// listed so that the check holds should one ever be renamed.
pub const PUBLISHED_DEV_TOKENS: &[&str] = &[
    "dev-device-token-1",
    "dev-device-token-2",
    "dev-device-token-3",
    "dev-privacy-officer-token",
    "dev-operator-token",
    "dev-edge-token",
];

/// Common name of the development JPKI card CA the synthetic population's software cards
/// chain to (`population::CARD_ISSUER_CN`, which production code does not depend on).
pub const DEV_CARD_CA_NAME: &str = "JPKI Development User Authentication CA";

/// A development token: starts with `dev-` or is one of [`PUBLISHED_DEV_TOKENS`].
pub fn is_development_token(token: &str) -> bool {
    let token = token.trim();
    token.to_ascii_lowercase().starts_with("dev-") || PUBLISHED_DEV_TOKENS.contains(&token)
}

/// The certificate (DER) is a development CA's: its common name starts with the
/// development CA's (`myna_service::dev_tls::DEV_CA_NAME`) or the development card CA's.
fn is_development_ca(der: &[u8]) -> bool {
    use x509_parser::prelude::FromDer;
    let Ok((_, certificate)) = x509_parser::certificate::X509Certificate::from_der(der) else {
        return false;
    };
    certificate
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok())
        .any(|cn| cn.starts_with(myna_service::dev_tls::DEV_CA_NAME) || cn == DEV_CARD_CA_NAME)
}

impl Config {
    /// Everything that must not run in production, each with the key to fix: development
    /// portal sign-in; any bearer token of a tablet, hospital, privacy officer or operator
    /// (development ones named as such); serving without TLS, with the development
    /// certificates, or without verifying client certificates; a development CA trusted
    /// anywhere; a plain `http://` hospital URL; hospitals without the relay's client
    /// certificate; every rate limit turned off. Empty: the configuration may serve.
    pub fn production_refusals(&self) -> Vec<Refusal> {
        let mut refusals = Vec::new();
        let mut refuse = |key: String, fix: &str| {
            refusals.push(Refusal {
                key,
                fix: fix.to_string(),
            })
        };
        if self.rate_limits == crate::config::RateLimits::OFF {
            refuse(
                "rate_limits".into(),
                "every rate limit is off (`off = true` or --no-rate-limit, for load tests): \
                 one runaway tablet or one address could take the edge from every crew; \
                 remove `off = true` and --no-rate-limit",
            );
        }
        if self.dev_portal_sign_in {
            refuse(
                "dev_portal_sign_in".into(),
                "development portal sign-in lets anyone sign in as any patient by id; set \
                 `dev_portal_sign_in = false` (patients sign in with their card)",
            );
        }
        let token_fix = |token: &str, who: &str| {
            if is_development_token(token) {
                format!(
                    "a development token (`dev-...` or published); production identifies \
                     {who} by client certificate only: remove the token"
                )
            } else {
                format!(
                    "a bearer token; production identifies {who} by client certificate \
                     only: remove the token"
                )
            }
        };
        for (n, device) in self.devices.iter().enumerate() {
            if !device.token.is_empty() {
                refuse(
                    format!("devices[{n}].token"),
                    &token_fix(&device.token, "tablets"),
                );
            }
        }
        for (n, hospital) in self.hospitals.iter().enumerate() {
            if !hospital.token.is_empty() {
                refuse(
                    format!("hospitals[{n}].token"),
                    &token_fix(&hospital.token, "hospitals"),
                );
            }
            if !hospital.base_url.starts_with("https://") {
                refuse(
                    format!("hospitals[{n}].url"),
                    "not an https:// URL: arrival notices carry patient data; serve that \
                     hospital-view over TLS and write its https:// URL",
                );
            }
        }
        for (n, officer) in self.privacy_officers.iter().enumerate() {
            if !officer.token.is_empty() {
                refuse(
                    format!("privacy_officers[{n}].token"),
                    &token_fix(
                        &officer.token,
                        "privacy officers (accounts or certificates)",
                    ),
                );
            }
        }
        for (n, token) in self.operator_tokens.iter().enumerate() {
            if !token.is_empty() {
                refuse(
                    format!("operator_tokens[{n}]"),
                    &token_fix(token, "operators (accounts or certificates)"),
                );
            }
        }
        match &self.server_tls {
            None => refuse(
                "tls".into(),
                "missing: the edge would serve tablets and hospitals over plain HTTP; add a \
                 [tls] section with certificate_chain, private_key and client_cas",
            ),
            Some(tls) => {
                if tls.certificate.is_none() {
                    refuse(
                        "tls.development".into(),
                        "the development certificates (and CA) are for development only; set \
                         `development = false` and give tls.certificate_chain and \
                         tls.private_key",
                    );
                }
                // The development certificates verify clients against the development CA,
                // refused just above.
                if tls.certificate.is_some() && tls.client_ca_ders.is_empty() {
                    refuse(
                        "tls.client_cas".into(),
                        "empty: tablets' and hospitals' client certificates would not be \
                         verified; list the CA certificates that issue them",
                    );
                }
                if !self.require_client_certificates {
                    refuse(
                        "tls".into(),
                        "client certificates are not required: tablets and hospitals would \
                         be identified by bearer tokens; serve with tls.client_cas",
                    );
                }
                if tls.client_ca_ders.iter().any(|der| is_development_ca(der)) {
                    refuse(
                        "tls.client_cas".into(),
                        "the development CA: anyone with the development setup can mint \
                         client certificates; list the deployment's CA instead",
                    );
                }
            }
        }
        match &self.relay_tls {
            None if !self.hospitals.is_empty() => refuse(
                "relay".into(),
                "missing: hospital-views identify the edge by its client certificate; add a \
                 [relay] section with hospital_cas, client_certificate and client_key",
            ),
            Some(relay)
                if relay
                    .hospital_ca_ders
                    .iter()
                    .any(|der| is_development_ca(der)) =>
            {
                refuse(
                    "relay.hospital_cas".into(),
                    "the development CA; list the CA that issues hospital-views' server \
                     certificates",
                )
            }
            None | Some(_) => {}
        }
        if self
            .card_trust
            .authority_names()
            .any(|name| name.contains(DEV_CARD_CA_NAME))
        {
            refuse(
                "card_trust.ca_certificates".into(),
                "the development card CA (software cards of the synthetic population); list \
                 the JPKI CA certificates",
            );
        }
        refusals
    }
}

#[cfg(test)]
mod tests;
