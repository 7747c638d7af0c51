//! Every production refusal, each seen failing: a clean production configuration passes,
//! and breaking one thing in it gives exactly the refusal naming that thing.

use myna_service::config::Secret;
use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair};

use super::*;
use crate::config::{RelayTls, ServerCertificate, ServerTls};

fn ca_der(name: &str) -> Vec<u8> {
    let mut params = CertificateParams::new(vec![]).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .self_signed(&KeyPair::generate().unwrap())
        .unwrap()
        .der()
        .to_vec()
}

/// What a deployment runs with: no tokens, TLS from its own CA, https hospitals.
fn production() -> Config {
    let mut config = Config::local("/nonexistent".into()).with_hospital(
        "hosp-1",
        "Hospital 1",
        3,
        "https://hospital-1.example",
        "",
        None,
    );
    for device in &mut config.devices {
        device.token.clear();
    }
    config.dev_portal_sign_in = false;
    config.privacy_officers.clear();
    config.operator_tokens.clear();
    config.require_client_certificates = true;
    config.server_tls = Some(ServerTls {
        certificate: Some(ServerCertificate {
            chain_pem: "chain".into(),
            key_pem: Secret::new("key"),
        }),
        client_ca_ders: vec![ca_der("Deployment CA")],
        client_crl_ders: Vec::new(),
    });
    config.relay_tls = Some(RelayTls {
        hospital_ca_ders: vec![ca_der("Hospital CA")],
        client_certificate_pem: "cert".into(),
        client_key_pem: "key".into(),
    });
    config
}

/// `config` is refused exactly once, under `key`, with a fix mentioning `says`.
fn check(config: &Config, key: &str, says: &str) {
    let refusals = config.production_refusals();
    assert_eq!(refusals.len(), 1, "{refusals:#?}");
    assert_eq!(refusals[0].key, key, "{refusals:#?}");
    assert!(refusals[0].fix.contains(says), "{refusals:#?}");
    assert!(refusals[0].to_string().starts_with(key));
}

#[test]
fn production_a_clean_configuration_is_not_refused() {
    assert_eq!(production().production_refusals(), Vec::new());
}

#[test]
fn production_refuses_the_development_defaults() {
    let keys: Vec<String> = Config::local("/nonexistent".into())
        .production_refusals()
        .into_iter()
        .map(|r| r.key)
        .collect();
    for key in [
        "dev_portal_sign_in",
        "devices[0].token",
        "privacy_officers[0].token",
        "operator_tokens[0]",
        "tls",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} in {keys:?}");
    }
}

#[test]
fn production_refuses_rate_limits_turned_off() {
    let mut config = production();
    config.rate_limits = crate::config::RateLimits::OFF;
    check(&config, "rate_limits", "--no-rate-limit");
}

#[test]
fn production_refuses_dev_portal_sign_in() {
    let mut config = production();
    config.dev_portal_sign_in = true;
    check(&config, "dev_portal_sign_in", "dev_portal_sign_in = false");
}

#[test]
fn production_refuses_development_device_tokens() {
    let mut config = production();
    config.devices[1].token = "dev-device-token-2".into();
    check(&config, "devices[1].token", "development token");
}

#[test]
fn production_refuses_any_device_token() {
    let mut config = production();
    config.devices[0].token = "a-real-looking-secret".into();
    check(&config, "devices[0].token", "client certificate only");
}

#[test]
fn production_refuses_hospital_tokens() {
    let mut config = production();
    config.hospitals[0].token = "dev-edge-token-hosp-1".into();
    check(&config, "hospitals[0].token", "development token");
    config.hospitals[0].token = "s3cret".into();
    check(&config, "hospitals[0].token", "bearer token");
}

#[test]
fn production_refuses_privacy_officer_tokens() {
    let mut config = production();
    config.privacy_officers = vec![crate::config::PrivacyOfficerAccount {
        id: "officer-1".into(),
        token: "officer-secret".into(),
    }];
    check(&config, "privacy_officers[0].token", "bearer token");
}

#[test]
fn production_refuses_operator_tokens() {
    let mut config = production();
    config.operator_tokens = vec!["dev-operator-token".into()];
    check(&config, "operator_tokens[0]", "development token");
}

#[test]
fn production_refuses_published_development_tokens() {
    for token in PUBLISHED_DEV_TOKENS {
        assert!(is_development_token(token), "{token}");
    }
    assert!(is_development_token(" DEV-anything"));
    assert!(!is_development_token("device-token"));
}

#[test]
fn production_refuses_plain_http_hospital_urls() {
    let mut config = production();
    config.hospitals[0].base_url = "http://hospital-1.example".into();
    check(&config, "hospitals[0].url", "https://");
}

#[test]
fn production_refuses_serving_without_tls() {
    let mut config = production();
    config.server_tls = None;
    check(&config, "tls", "plain HTTP");
}

#[test]
fn production_refuses_the_development_certificates() {
    let mut config = production();
    if let Some(tls) = &mut config.server_tls {
        tls.certificate = None;
    }
    check(&config, "tls.development", "development only");
}

#[test]
fn production_refuses_tls_without_client_certificate_verification() {
    let mut config = production();
    if let Some(tls) = &mut config.server_tls {
        tls.client_ca_ders.clear();
    }
    check(&config, "tls.client_cas", "not be verified");
}

#[test]
fn production_refuses_not_requiring_client_certificates() {
    let mut config = production();
    config.require_client_certificates = false;
    check(&config, "tls", "bearer tokens");
}

#[test]
fn production_refuses_the_development_ca_for_clients() {
    let mut config = production();
    if let Some(tls) = &mut config.server_tls {
        let dev_ca = format!("{} 1a2b3c4d", myna_service::dev_tls::DEV_CA_NAME);
        tls.client_ca_ders.push(ca_der(&dev_ca));
    }
    check(&config, "tls.client_cas", "development CA");
}

#[test]
fn production_refuses_the_development_ca_for_hospitals() {
    let mut config = production();
    if let Some(relay) = &mut config.relay_tls {
        relay.hospital_ca_ders = vec![ca_der(myna_service::dev_tls::DEV_CA_NAME)];
    }
    check(&config, "relay.hospital_cas", "development CA");
}

#[test]
fn production_refuses_hospitals_without_the_relays_client_certificate() {
    let mut config = production();
    config.relay_tls = None;
    check(&config, "relay", "client certificate");
    config.hospitals.clear();
    assert_eq!(
        config.production_refusals(),
        Vec::new(),
        "no hospital, no relay"
    );
}

#[test]
fn production_refuses_the_development_card_ca() {
    assert_eq!(DEV_CARD_CA_NAME, population::CARD_ISSUER_CN);
    let config = production()
        .with_card_trust(vec![ca_der(DEV_CARD_CA_NAME)], Vec::new())
        .unwrap();
    check(&config, "card_trust.ca_certificates", "development card CA");
    let real = production()
        .with_card_trust(vec![ca_der("JPKI User Authentication CA")], Vec::new())
        .unwrap();
    assert_eq!(real.production_refusals(), Vec::new());
}
