//! The `edge-agent` binary started from the production example (`deploy/edge-agent.toml`)
//! with its paths moved into a temporary directory and certificates from a test deployment
//! CA: it serves over mutual TLS (a registered tablet's certificate gets in, no
//! certificate gets 401), keeps its data directory private, and the same file with a
//! development credential makes it refuse to start, naming the key.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use myna_domain::client_identity::ClientIdentity;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use reqwest::StatusCode;

use crate::support::signed_crl;

const EXAMPLE: &str = include_str!("../../../deploy/edge-agent.toml");

/// A CA of the test deployment.
struct Ca {
    certificate: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(vec![]).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let certificate = params.self_signed(&key).unwrap();
        Ca { certificate, key }
    }

    /// A leaf (certificate PEM, key PEM) for `names` (DNS/IP) or naming `identity`.
    fn issue(&self, names: Vec<String>, identity: Option<&ClientIdentity>) -> (String, String) {
        let mut params = CertificateParams::new(names).unwrap();
        match identity {
            Some(identity) => {
                params.subject_alt_names =
                    vec![SanType::URI(identity.to_uri().try_into().unwrap())];
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            }
            None => params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth],
        }
        let key = KeyPair::generate().unwrap();
        let certificate = params
            .signed_by(&key, &self.certificate, &self.key)
            .unwrap();
        (certificate.pem(), key.serialize_pem())
    }

    fn crl(&self) -> Vec<u8> {
        signed_crl(&self.certificate, &self.key, &[], (2025, 2099))
    }
}

/// The edge process, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write(path: &Path, bytes: impl AsRef<[u8]>, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The test deployment: certificates and the example file, rewritten.
struct Deployment {
    _root: tempfile::TempDir,
    config: PathBuf,
    data_dir: PathBuf,
    text: String,
    port: u16,
    metrics_port: u16,
    ca_pem: String,
    device: (String, String),
}

fn deployment() -> Deployment {
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc");
    let data_dir = root.path().join("var/lib/myna-edge");
    let ca = Ca::new("Test deployment CA");
    let card_ca = Ca::new("Test JPKI User Authentication CA");
    let log_origin = "edge.myna.example.jp/access-log";
    let server = ca.issue(vec!["127.0.0.1".into(), "localhost".into()], None);
    let device = ca.issue(
        vec![],
        Some(&ClientIdentity::Device {
            fire_department: "fd-tokyo".into(),
            unit: "世田谷救急1 Setagaya Ambulance 1".into(),
            device_id: "tablet-tfd-0001".into(),
        }),
    );
    let edge = ca.issue(
        vec![],
        Some(&ClientIdentity::Edge {
            edge_id: log_origin.into(),
        }),
    );
    let ca_pem = ca.certificate.pem();
    write(&etc.join("tls/server-chain.pem"), &server.0, 0o644);
    write(&etc.join("tls/server-key.pem"), &server.1, 0o600);
    write(&etc.join("tls/clients-ca.pem"), &ca_pem, 0o644);
    write(&etc.join("tls/clients-ca.crl"), ca.crl(), 0o644);
    write(&etc.join("tls/hospitals-ca.pem"), &ca_pem, 0o644);
    write(&etc.join("tls/edge-client.pem"), &edge.0, 0o644);
    write(&etc.join("tls/edge-client-key.pem"), &edge.1, 0o600);
    write(
        &etc.join("jpki/user-authentication-ca.pem"),
        card_ca.certificate.pem(),
        0o644,
    );
    write(
        &etc.join("jpki/user-authentication-ca.crl"),
        card_ca.crl(),
        0o644,
    );
    let (port, metrics_port) = (free_port(), free_port());
    assert!(EXAMPLE.contains("listen = \"0.0.0.0:8443\""));
    assert!(EXAMPLE.contains("listen = \"127.0.0.1:9464\""));
    let text = EXAMPLE
        .replace("/etc/myna/edge/", &format!("{}/", etc.display()))
        .replace("/var/lib/myna-edge", &data_dir.display().to_string())
        .replace("0.0.0.0:8443", &format!("127.0.0.1:{port}"))
        // Metrics are off in the example until enabled: enable them, on a free port.
        .replace(
            "# [metrics]\n# listen = \"127.0.0.1:9464\"",
            &format!("[metrics]\nlisten = \"127.0.0.1:{metrics_port}\""),
        );
    let config = root.path().join("edge-agent.toml");
    write(&config, &text, 0o644);
    Deployment {
        _root: root,
        config,
        data_dir,
        text,
        port,
        metrics_port,
        ca_pem,
        device,
    }
}

fn start(config: &Path, log: &Path) -> Running {
    let stdout = std::fs::File::create(log.with_extension("out")).unwrap();
    let log = std::fs::File::create(log).unwrap();
    Running(
        Command::new(env!("CARGO_BIN_EXE_edge-agent"))
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "warn")
            .env_remove("EDGE_CARD_CA")
            .env_remove("EDGE_CARD_CRL")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(log)
            .spawn()
            .unwrap(),
    )
}

#[tokio::test]
async fn production_example_config_serves_over_mtls_and_refuses_a_development_credential() {
    let d = deployment();
    let log = d.config.with_file_name("edge.log");
    let mut edge = start(&d.config, &log);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", d.port)).is_err() {
        if let Some(status) = edge.0.try_wait().unwrap() {
            panic!(
                "the edge exited ({status}): {}",
                std::fs::read_to_string(&log).unwrap()
            );
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no listener");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let client = |identity: Option<&(String, String)>| {
        let mut builder = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(d.ca_pem.as_bytes()).unwrap());
        if let Some((cert, key)) = identity {
            builder = builder
                .identity(reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).unwrap());
        }
        builder.build().unwrap()
    };
    let url = format!("https://127.0.0.1:{}/v1/hospitals", d.port);
    let tablet = client(Some(&d.device)).get(&url).send().await.unwrap();
    assert_eq!(tablet.status(), StatusCode::OK);
    let hospitals = tablet.text().await.unwrap();
    assert!(hospitals.contains("hosp-setagaya"), "{hospitals}");
    let anonymous = client(None).get(&url).send().await;
    assert!(
        anonymous.is_err() || anonymous.unwrap().status() == StatusCode::UNAUTHORIZED,
        "no certificate, no tablet route"
    );
    let plain = reqwest::get(format!("http://127.0.0.1:{}/healthz", d.port)).await;
    assert!(plain.is_err() || plain.is_ok_and(|r| !r.status().is_success()));
    let metrics = reqwest::get(format!("http://127.0.0.1:{}/metrics", d.metrics_port))
        .await
        .unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    // Files private, whatever the umask of whoever started it.
    assert_eq!(mode(&d.data_dir), 0o700);
    for file in ["edge.sqlite3", "edge.sqlite3-wal", "edge.sqlite3-shm"] {
        assert_eq!(mode(&d.data_dir.join(file)), 0o600, "{file}");
    }
    drop(edge);
    // The example's `log_format = "json"`: log lines are JSON objects.
    let out = std::fs::read_to_string(log.with_extension("out")).unwrap();
    assert!(
        out.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .any(|line| line["level"] == "WARN" && line["route"] == "/v1/hospitals"),
        "{out}"
    );
    for entry in std::fs::read_dir(&d.data_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }

    // The same deployment with development portal sign-in: refused, naming the key.
    let dev = d.config.with_file_name("edge-agent-dev.toml");
    assert!(d.text.contains("dev_portal_sign_in = false"));
    write(
        &dev,
        d.text
            .replace("dev_portal_sign_in = false", "dev_portal_sign_in = true"),
        0o644,
    );
    let output = run_to_exit(
        Command::new(env!("CARGO_BIN_EXE_edge-agent"))
            .arg("--config")
            .arg(&dev),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Status 3: a configuration to fix, which systemd does not restart.
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("refusing to start in production") && stderr.contains("dev_portal_sign_in"),
        "{stderr}"
    );
    // Neither mode given: told to give one.
    let output = run_to_exit(&mut Command::new(env!("CARGO_BIN_EXE_edge-agent")));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.code() == Some(1) && stderr.contains("--dev"),
        "{stderr}"
    );
}

/// Runs `command` to its exit; fails the test if it is still running after 30 s (it
/// started serving instead of refusing).
fn run_to_exit(command: &mut Command) -> std::process::Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = done.send(());
        output
    });
    if finished.recv_timeout(Duration::from_secs(30)).is_err() {
        let _ = Command::new("kill").arg(pid.to_string()).status();
        panic!("the edge did not refuse to start: {:?}", waiter.join());
    }
    waiter.join().unwrap().unwrap()
}

#[test]
fn production_refuses_a_world_writable_data_dir() {
    let d = deployment();
    std::fs::create_dir_all(&d.data_dir).unwrap();
    std::fs::set_permissions(&d.data_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let output = run_to_exit(
        Command::new(env!("CARGO_BIN_EXE_edge-agent"))
            .arg("--config")
            .arg(&d.config),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("chmod 0700"), "{stderr}");
}

#[test]
fn production_admin_command_adds_an_account_and_records_who() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let admin = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_edge-agent"))
            .args(["admin", "--dev", "--data-dir"])
            .arg(&data)
            .args(args)
            .env_remove("SUDO_USER")
            .env_remove("USER")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.success(), text)
    };
    let (ok, text) = admin(&["accounts", "add", "--id", "officer-7", "--role", "officer"]);
    assert!(!ok && text.contains("--by"), "nobody to record: {text}");
    let (ok, text) = admin(&[
        "--by",
        "alice",
        "accounts",
        "add",
        "--id",
        "officer-7",
        "--role",
        "officer",
    ]);
    assert!(
        ok && text.contains("urn:myna:staff:officer:officer-7"),
        "{text}"
    );
    let (ok, text) = admin(&["--by", "bob", "accounts", "disable", "--id", "officer-7"]);
    assert!(ok, "{text}");
    let (ok, text) = admin(&["accounts", "list"]);
    assert!(
        ok && text.contains("officer-7") && text.contains("no"),
        "{text}"
    );
    let (ok, text) = admin(&["actions"]);
    assert!(ok, "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("alice") && l.contains("account_added"))
            && text
                .lines()
                .any(|l| l.contains("bob") && l.contains("officer-7")),
        "{text}"
    );
}
