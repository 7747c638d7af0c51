//! The file format: the examples parse, every error names its key, secrets never sit in
//! the file.

use myna_service::config::parse_toml;

use super::build::*;
use super::*;
use crate::config::RateLimits;
use crate::review::ReviewThresholds;

const PRODUCTION: &str = include_str!("../../../../deploy/edge-agent.toml");
const DEVELOPMENT: &str = include_str!("../../../../deploy/edge-agent.dev.toml");

/// The smallest file that loads (no file names in it).
const MINIMAL: &str = r#"
listen = "127.0.0.1:0"
data_dir = "/nonexistent"
log_origin = "edge.example/log"
"#;

fn error(text: &str) -> String {
    match parse_toml::<ConfigFile>(text) {
        Err(message) => message,
        Ok(file) => match file.into_deployment() {
            Err(Problem::Invalid(message)) => message,
            Err(Problem::Secret(error)) => error.to_string(),
            Ok(deployment) => panic!("loaded: {deployment:?}"),
        },
    }
}

#[test]
fn production_example_config_parses_and_the_development_one_loads() {
    let production: ConfigFile = parse_toml(PRODUCTION).unwrap();
    assert_eq!(production.devices.len(), 2);
    assert!(
        production
            .hospitals
            .iter()
            .all(|h| h.url.starts_with("https://"))
    );
    assert!(production.tls.as_ref().is_some_and(|t| !t.development));
    assert!(!production.dev_portal_sign_in);
    assert!(
        production.metrics.is_none(),
        "metrics are off until enabled"
    );
    let development = parse_toml::<ConfigFile>(DEVELOPMENT)
        .unwrap()
        .into_deployment()
        .unwrap_or_else(|_| panic!("the development example loads"));
    assert_eq!(development.config.devices.len(), 3);
    assert!(development.metrics_listen.is_some());
    let refused: Vec<String> = development
        .config
        .production_refusals()
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert!(
        refused.contains(&"dev_portal_sign_in".to_string()),
        "{refused:?}"
    );
    assert!(
        refused.contains(&"tls.development".to_string()),
        "{refused:?}"
    );
}

#[test]
fn a_minimal_file_loads_with_the_defaults() {
    let deployment = parse_toml::<ConfigFile>(MINIMAL)
        .unwrap()
        .into_deployment()
        .unwrap_or_else(|_| panic!("loads"));
    let config = deployment.config;
    assert!(!config.dev_portal_sign_in);
    assert!(config.privacy_officers.is_empty() && config.operator_tokens.is_empty());
    assert_eq!(config.rate_limits, RateLimits::default());
    assert_eq!(config.review, ReviewThresholds::default());
    assert!(
        deployment.metrics_listen.is_none(),
        "metrics are off unless set"
    );
    assert_eq!(deployment.log_format, LogFormat::Text);
}

#[test]
fn production_unknown_keys_stop_the_start_naming_the_key() {
    let top = error(&format!("{MINIMAL}lisen = \"x\""));
    assert!(top.contains("lisen"), "{top}");
    let nested = error(&format!(
        "{MINIMAL}[tls]\ndevelopment = true\nclient_ca = []"
    ));
    assert!(
        nested.contains("tls") && nested.contains("client_ca"),
        "{nested}"
    );
    let device = error(&format!(
        "{MINIMAL}[[devices]]\nid = \"t\"\nunit = \"u\"\nfire_department = {{ id = \"f\", name = \"F\" }}\narea = \"13112\"\ncolour = \"red\""
    ));
    assert!(
        device.contains("devices[0]") && device.contains("colour"),
        "{device}"
    );
}

#[test]
fn production_bad_values_stop_the_start_naming_the_key() {
    let listen = error("listen = \"nowhere\"\ndata_dir = \"/x\"\nlog_origin = \"o\"");
    assert!(listen.starts_with("key `listen`"), "{listen}");
    let area = error(&format!(
        "{MINIMAL}[[devices]]\nid = \"t\"\nunit = \"u\"\nfire_department = {{ id = \"f\", name = \"F\" }}\narea = \"99999\""
    ));
    assert!(area.starts_with("key `devices[0].area`"), "{area}");
    let tier = error(&format!(
        "{MINIMAL}[[hospitals]]\nid = \"h\"\nname = \"H\"\ntier = 7\nurl = \"https://h\""
    ));
    assert!(tier.starts_with("key `hospitals[0].tier`"), "{tier}");
    let url = error(&format!(
        "{MINIMAL}[[hospitals]]\nid = \"h\"\nname = \"H\"\ntier = 1\nurl = \"ftp://h\""
    ));
    assert!(url.starts_with("key `hospitals[0].url`"), "{url}");
    let zero = error(&format!(
        "{MINIMAL}[rate_limits]\nper_caller = {{ burst = 0, per_second = 1 }}"
    ));
    assert!(
        zero.starts_with("key `rate_limits.per_caller.burst`"),
        "{zero}"
    );
    let format = error(&format!("log_format = \"xml\"\n{MINIMAL}"));
    assert!(format.starts_with("key `log_format`"), "{format}");
    let origin = error("listen = \"127.0.0.1:0\"\ndata_dir = \"/x\"\nlog_origin = \"a b\"");
    assert!(origin.starts_with("key `log_origin`"), "{origin}");
    let missing_key = error(&format!(
        "{MINIMAL}[tls]\ncertificate_chain = \"/x.pem\"\nclient_cas = []"
    ));
    assert!(
        missing_key.starts_with("key `tls.private_key`"),
        "{missing_key}"
    );
    let unreadable = error(&format!(
        "{MINIMAL}[card_trust]\nca_certificates = [\"/nonexistent/ca.pem\"]"
    ));
    assert!(
        unreadable.starts_with("key `card_trust.ca_certificates[0]`"),
        "{unreadable}"
    );
}

#[test]
fn production_an_inline_secret_is_refused_naming_the_key_not_the_value() {
    let inline = error(&format!(
        "{MINIMAL}[relay]\nhospital_cas = [\"/x\"]\nclient_certificate = \"/x\"\nclient_key = \"-----BEGIN PRIVATE KEY-----hunter2\""
    ));
    assert!(inline.starts_with("key `relay.client_key`"), "{inline}");
    assert!(
        inline.contains("file = ") && !inline.contains("hunter2"),
        "{inline}"
    );
    let number = error(&format!("operator_tokens = [123456]\n{MINIMAL}"));
    assert!(
        number.contains("operator_tokens[0]") && !number.contains("123456"),
        "{number}"
    );
    let both = error(&format!(
        "{MINIMAL}[[privacy_officers]]\nid = \"o\"\ntoken = {{ file = \"/a\", env = \"B\" }}"
    ));
    assert!(both.contains("privacy_officers[0].token"), "{both}");
}

#[test]
fn production_secrets_come_from_private_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "officer-secret\n").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = format!(
        "{MINIMAL}[[privacy_officers]]\nid = \"o\"\ntoken = {{ file = \"{}\" }}",
        token.display()
    );
    let open = error(&text);
    assert!(
        open.contains("privacy_officers[0].token") && open.contains("chmod"),
        "{open}"
    );
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let loaded = parse_toml::<ConfigFile>(&text)
        .unwrap()
        .into_deployment()
        .unwrap_or_else(|_| panic!("loads"));
    assert_eq!(loaded.config.privacy_officers[0].token, "officer-secret");
}

#[test]
fn production_example_config_has_a_hardened_systemd_unit() {
    let unit = include_str!("../../../../deploy/edge-agent.service");
    for line in [
        "User=myna-edge",
        "ExecStart=/usr/local/bin/edge-agent --config /etc/myna/edge/edge-agent.toml",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/myna-edge",
        "PrivateTmp=yes",
        "ProtectHome=yes",
        "CapabilityBoundingSet=",
        "UMask=0077",
    ] {
        assert!(unit.lines().any(|l| l == line), "{line}");
    }
    assert!(!unit.contains("--dev"));
    let production: ConfigFile = parse_toml(PRODUCTION).unwrap();
    assert_eq!(production.data_dir, PathBuf::from("/var/lib/myna-edge"));
}
