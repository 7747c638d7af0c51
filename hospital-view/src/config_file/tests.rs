//! The configuration file: the examples parse, keys are named in errors, secrets never sit
//! in the file.

use super::*;

fn parse(text: &str) -> std::result::Result<ConfigFile, String> {
    myna_service::config::parse_toml(text)
}

const MINIMAL: &str = r#"
listen = "127.0.0.1:8081"
hospital_id = "hosp-1"
hospital_name = "H"
data_dir = "/tmp/x"
"#;

#[test]
fn unknown_keys_and_bad_values_name_the_key() {
    assert!(parse(MINIMAL).is_ok());
    let unknown = parse(&format!("{MINIMAL}\n[edge]\nurll = \"x\"\n")).unwrap_err();
    assert!(unknown.contains("urll"), "{unknown}");
    let bad = parse(&MINIMAL.replace("127.0.0.1:8081", "nowhere")).unwrap_err();
    assert!(bad.contains("listen"), "{bad}");
    let format = parse(&format!("log_format = \"xml\"\n{MINIMAL}")).unwrap_err();
    assert!(format.contains("log_format"), "{format}");
}

#[test]
fn production_requires_the_totp_key_and_dev_makes_the_defaults() {
    let file = parse(MINIMAL).unwrap();
    let error = file.clone().into_startup(false).err().unwrap().to_string();
    assert!(error.contains("totp_key"), "{error}");
    let dev = file.into_startup(true).unwrap();
    assert_eq!(
        dev.config.edge_token.as_deref(),
        Some("dev-edge-token-hosp-1")
    );
    assert_eq!(dev.config.staff.len(), 2);
    assert!(dev.metrics_listen.is_some());
}

#[test]
fn production_an_inline_secret_is_refused_naming_the_key_not_the_value() {
    for (text, key) in [
        (format!("totp_key = \"abc-hunter2\"\n{MINIMAL}"), "totp_key"),
        (
            format!("{MINIMAL}\n[tls]\nkey = \"-----BEGIN PRIVATE KEY-----hunter2\"\n"),
            "tls.key",
        ),
        (
            format!("{MINIMAL}\n[edge]\nclient_key = \"hunter2\"\n"),
            "edge.client_key",
        ),
        (
            format!("{MINIMAL}\n[edge]\ntoken = \"hunter2\"\n"),
            "edge.token",
        ),
        (
            format!("{MINIMAL}\n[edge]\ntoken = 12345678\n"),
            "edge.token",
        ),
    ] {
        let error = parse(&text).unwrap_err();
        assert!(error.starts_with(&format!("key `{key}`")), "{error}");
        assert!(error.contains("file = "), "{error}");
        assert!(
            !error.contains("hunter2") && !error.contains("12345678"),
            "the value is echoed: {error}"
        );
    }
    let referenced = parse(&format!("totp_key = {{ env = \"X\" }}\n{MINIMAL}")).unwrap();
    assert!(referenced.totp_key.is_some());
}

#[test]
fn production_the_file_alone_is_judged_without_reading_or_creating() {
    let dir = tempfile::tempdir().unwrap();
    let tls_dir = dir.path().join("tls");
    let file = parse(&format!(
            "dev_staff = true\n{MINIMAL}\n[tls]\ndev_dir = {:?}\n[edge]\ntoken = {{ file = \"/nonexistent\" }}\n",
            tls_dir.to_str().unwrap()
        ))
        .unwrap();
    let facts = file.facts();
    assert!(facts.dev_staff && facts.dev_tls && facts.edge_token);
    assert!(!tls_dir.exists());
}

#[test]
fn sign_in_limits_must_be_positive() {
    let file = parse(&format!("{MINIMAL}\n[sign_in]\nmax_failures = 0\n")).unwrap();
    let error = file.into_startup(true).err().unwrap().to_string();
    assert!(error.contains("sign_in.max_failures"), "{error}");
}

#[test]
fn dev_certificates_verify_the_edge_and_partial_tls_names_the_missing_key() {
    let dir = tempfile::tempdir().unwrap();
    let tls_dir = dir.path().join("tls");
    let dev = parse(&format!(
        "{MINIMAL}\n[tls]\ndev_dir = {:?}\n",
        tls_dir.to_str().unwrap()
    ))
    .unwrap()
    .into_startup(true)
    .unwrap();
    assert!(dev.server_tls.is_some());
    assert!(dev.facts.tls && dev.facts.edge_client_verified && dev.facts.dev_tls);
    assert!(tls_dir.join("ca.pem").exists());
    for (section, missing) in [
        ("[tls]\ncert = \"c.pem\"\n", "tls.key"),
        (
            "[tls]\nedge_client_cas = [\"ca.pem\"]\n",
            "tls.edge_client_cas",
        ),
        ("[edge]\nclient_cert = \"c.pem\"\n", "edge.ca"),
        ("[edge]\nca = \"ca.pem\"\n", "edge.client_cert"),
        ("[edge]\nurl = \"ftp://e\"\n", "edge.url"),
    ] {
        let error = parse(&format!("{MINIMAL}\n{section}"))
            .unwrap()
            .into_startup(true)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains(missing), "{section}: {error}");
    }
}

#[test]
fn overrides_replace_the_files_values() {
    let file = parse(MINIMAL).unwrap().with_overrides(&Overrides {
        listen: Some("127.0.0.1:9".parse().unwrap()),
        data_dir: Some("/d".into()),
        log_format: Some(LogFormat::Json),
        metrics_listen: Some("127.0.0.1:10".parse().unwrap()),
    });
    assert_eq!(file.listen.port(), 9);
    assert_eq!(file.data_dir, PathBuf::from("/d"));
    assert_eq!(file.log_format, LogFormat::Json);
    assert_eq!(file.metrics.listen.unwrap().port(), 10);
}
