//! Production mode: private files, TOTP secrets sealed at rest, the example configuration
//! files, and the `hospital-view` binary started from the production example (test
//! certificates from a throwaway CA) serving over mTLS and refusing development
//! credentials.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hospital_view::config_file::ConfigFile;
use hospital_view::store::{NewStaff, Store};
use hospital_view::{AppState, Config, DEV_TOTP_SECRET, Error, TotpKey};
use myna_domain::client_identity::ClientIdentity;
use myna_service::dev_tls::{ClientCredentials, ClientSubject, DevTls};

use crate::{config, notice};

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn keyed(dir: &tempfile::TempDir, key: &TotpKey) -> Config {
    Config {
        totp_key: Some(key.clone()),
        ..config(dir)
    }
}

/// Every file of the data directory, read whole (the database, its WAL and SHM).
fn raw_files(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            bytes.extend(std::fs::read(path).unwrap());
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn production_data_dir_database_wal_and_shm_are_private() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = Config {
        data_dir: dir.clone(),
        totp_key: Some(TotpKey::generate()),
        ..config(&root)
    };
    let state = AppState::open(config.clone()).unwrap();
    assert_eq!(mode_of(&dir), 0o700);
    let db = config.database_path();
    for file in [
        db.clone(),
        PathBuf::from(format!("{}-wal", db.display())),
        PathBuf::from(format!("{}-shm", db.display())),
    ] {
        assert!(file.exists(), "{}", file.display());
        assert_eq!(mode_of(&file), 0o600, "{}", file.display());
    }
    drop(state);
    // A directory others can write: refused, naming the fix.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let error = AppState::open(config).err().unwrap().to_string();
    assert!(error.contains("chmod 0700"), "{error}");
}

#[test]
fn production_the_database_holds_no_plain_totp_secret() {
    let dir = tempfile::tempdir().unwrap();
    let key = TotpKey::generate();
    let config = keyed(&dir, &key);
    // The fixture's development staff have the published secret: sealed like any other.
    let state = AppState::open(config.clone()).unwrap();
    let issued = hospital_view::admin::add(
        state.store(),
        &hospital_view::store::Actor {
            name: "alice",
            now: chrono::Utc::now(),
        },
        "h",
        "er-nurse-5",
        "N",
        None,
    )
    .unwrap();
    let raw = raw_files(dir.path());
    assert!(!raw.is_empty());
    assert!(!contains(&raw, DEV_TOTP_SECRET));
    assert!(!contains(&raw, &issued.totp_secret));
    assert!(contains(&raw, "sealed:v1:"));
    assert_eq!(
        state.store().enabled_staff_with_dev_totp_secret().unwrap(),
        ["er-doctor", "er-nurse"]
    );
}

#[test]
fn production_plain_text_secrets_are_sealed_on_the_first_start_with_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir);
    std::fs::create_dir_all(&config.data_dir).unwrap();
    {
        // A file from before secrets were sealed.
        let old = Store::open(&config.database_path()).unwrap();
        drop(old);
        let conn = rusqlite::Connection::open(config.database_path()).unwrap();
        conn.execute(
            "INSERT INTO staff_accounts (id, display_name, password_phc, totp_secret, created_at)
             VALUES ('er-old', 'Old', 'x', ?1, '2026-01-01T00:00:00.000000Z')",
            [DEV_TOTP_SECRET],
        )
        .unwrap();
    }
    assert!(contains(&raw_files(dir.path()), DEV_TOTP_SECRET));
    let key = TotpKey::generate();
    let store = Store::open_with_totp_key(&config.database_path(), key.clone()).unwrap();
    assert_eq!(
        store.staff_account("er-old").unwrap().unwrap().totp_secret,
        DEV_TOTP_SECRET
    );
    drop(store);
    assert!(!contains(&raw_files(dir.path()), DEV_TOTP_SECRET));
    // And the key is held to: another one is refused.
    assert!(matches!(
        Store::open_with_totp_key(&config.database_path(), TotpKey::generate()),
        Err(Error::WrongTotpKey(_))
    ));
}

#[test]
fn production_a_wrong_totp_key_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    AppState::open(keyed(&dir, &TotpKey::generate())).unwrap();
    let error = AppState::open(keyed(&dir, &TotpKey::generate()))
        .err()
        .unwrap();
    assert!(matches!(error, Error::WrongTotpKey(_)), "{error}");
    assert!(error.to_string().contains("totp_key"), "{error}");
}

/// The repository's `deploy/` folder.
fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

#[test]
fn production_example_configs_parse() {
    for name in ["hospital-view.toml", "hospital-view.dev.toml"] {
        let path = deploy_dir().join(name);
        ConfigFile::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let production = ConfigFile::load(&deploy_dir().join("hospital-view.toml")).unwrap();
    assert!(production.totp_key.is_some() && !production.dev_staff);
    assert!(production.edge.url.unwrap().starts_with("https://"));
    assert!(production.edge.token.is_none());
    assert!(!production.tls.edge_client_cas.is_empty());
}

/// A deployment made from `deploy/hospital-view.toml` with its paths moved into a
/// temporary directory and certificates from a throwaway CA.
struct Deployment {
    dir: tempfile::TempDir,
    config: PathBuf,
    edge: ClientCredentials,
    pki: DevTls,
}

fn credentials(tls: &DevTls, name: &str, identity: ClientIdentity) -> ClientCredentials {
    let subject = ClientSubject {
        organization: "test".into(),
        organizational_unit: String::new(),
        common_name: name.into(),
        uri: identity.to_uri(),
    };
    tls.client_certificate(name, &subject).expect("issue")
}

fn private_copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600)).unwrap();
}

impl Deployment {
    fn new() -> Deployment {
        let dir = tempfile::tempdir().unwrap();
        let etc = dir.path().join("etc");
        std::fs::create_dir(&etc).unwrap();
        // The deployment CA (rcgen): server certificate for 127.0.0.1, client certificates.
        let pki = DevTls::load_or_create(&dir.path().join("pki")).unwrap();
        let pki_dir = pki.ca_path().parent().unwrap().to_path_buf();
        let edge = credentials(
            &pki,
            "edge",
            ClientIdentity::Edge {
                edge_id: "edge.example.org/log".into(),
            },
        );
        let hospital = credentials(
            &pki,
            "hospital",
            ClientIdentity::Hospital {
                hospital_id: "hosp-setagaya-3".into(),
            },
        );
        std::fs::copy(pki.ca_path(), etc.join("edge-client-ca.pem")).unwrap();
        std::fs::copy(pki.ca_path(), etc.join("edge-ca.pem")).unwrap();
        std::fs::copy(pki_dir.join("server.pem"), etc.join("server.pem")).unwrap();
        private_copy(&pki_dir.join("server-key.pem"), &etc.join("server-key.pem"));
        std::fs::copy(&hospital.cert_path, etc.join("hospital.pem")).unwrap();
        private_copy(&hospital.key_path, &etc.join("hospital-key.pem"));
        std::fs::write(etc.join("totp.key"), "11".repeat(32)).unwrap();
        std::fs::set_permissions(etc.join("totp.key"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
        let text = std::fs::read_to_string(deploy_dir().join("hospital-view.toml"))
            .unwrap()
            .replace("/etc/myna/hospital-view", etc.to_str().unwrap())
            .replace(
                "/var/lib/myna-hospital",
                dir.path().join("data").to_str().unwrap(),
            );
        let config = dir.path().join("hospital-view.toml");
        std::fs::write(&config, text).unwrap();
        Deployment {
            dir,
            config,
            edge,
            pki,
        }
    }

    /// Edits the configuration file's text.
    fn edit(&self, change: impl FnOnce(String) -> String) {
        let text = std::fs::read_to_string(&self.config).unwrap();
        std::fs::write(&self.config, change(text)).unwrap();
    }

    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hospital-view"));
        command
            .arg("--config")
            .arg(&self.config)
            .args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs the binary to its exit (a refusal): status and standard error.
    fn refused(&self) -> (std::process::ExitStatus, String) {
        let mut child = self.command().spawn().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let output = child.wait_with_output().unwrap();
                return (status, String::from_utf8_lossy(&output.stderr).into_owned());
            }
            if std::time::Instant::now() > deadline {
                child.kill().unwrap();
                panic!("hospital-view kept running: it did not refuse");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn client(&self, identity: Option<&ClientCredentials>) -> reqwest::Client {
        let mut builder = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_der(self.pki.ca_der()).unwrap())
            .timeout(Duration::from_secs(10));
        if let Some(identity) = identity {
            let pem = format!("{}\n{}", identity.cert_pem, identity.key_pem);
            builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
        }
        builder.build().unwrap()
    }
}

/// A started binary, killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary and waits for its `serving https://ADDR` line; returns it with the
/// lines written before it (the log, JSON in the production example).
fn serve(deployment: &Deployment) -> (Running, String, Vec<String>) {
    let mut child = deployment.command().spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let running = Running(child);
    let mut log = Vec::new();
    loop {
        let line = receiver
            .recv_timeout(Duration::from_secs(30))
            .expect("hospital-view announced its address");
        if let Some(url) = line.strip_prefix("hospital-view serving ") {
            return (running, url.to_string(), log);
        }
        log.push(line);
    }
}

#[tokio::test]
async fn production_binary_serves_the_example_config_over_mtls_with_json_logs_and_metrics() {
    let deployment = Deployment::new();
    let (running, url, log) = serve(&deployment);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    // `log_format = "json"`: one object per line; the metrics endpoint says where it is.
    let lines: Vec<serde_json::Value> = log
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let metrics_addr = lines
        .iter()
        .find(|line| line["message"] == "metrics endpoint listening")
        .and_then(|line| line["addr"].as_str())
        .unwrap_or_else(|| panic!("no metrics line in {log:?}"))
        .to_string();
    let metrics = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(metrics.status(), reqwest::StatusCode::OK);
    let body = serde_json::to_vec(&notice(1, 10)).unwrap();
    let with_certificate = deployment
        .client(Some(&deployment.edge))
        .post(format!("{url}/v1/arrivals"))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert!(
        with_certificate.status().is_success(),
        "{}",
        with_certificate.status()
    );
    let without = deployment
        .client(None)
        .post(format!("{url}/v1/arrivals"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), reqwest::StatusCode::UNAUTHORIZED);
    drop(running);
    let data = deployment.dir.path().join("data");
    assert_eq!(mode_of(&data), 0o700);
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode_of(&path), 0o600, "{}", path.display());
    }
}

/// A refusal: a non-zero exit, with `expected` on standard error.
fn assert_refused(deployment: &Deployment, expected: &str) {
    let (status, stderr) = deployment.refused();
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("refused to start"), "{stderr}");
    assert!(stderr.contains(expected), "{stderr}");
}

#[test]
fn production_binary_refuses_the_development_staff() {
    let deployment = Deployment::new();
    deployment.edit(|text| format!("dev_staff = true\n{text}"));
    assert_refused(&deployment, "development staff");
}

#[test]
fn production_binary_refuses_any_edge_token() {
    for value in [
        "dev-edge-token-hosp-setagaya-3",
        "Dev-x",
        "a-real-looking-token",
    ] {
        let deployment = Deployment::new();
        let token = deployment.dir.path().join("etc/edge-token");
        std::fs::write(&token, value).unwrap();
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
        deployment.edit(|text| {
            text.replace(
                "[edge]\n",
                &format!("[edge]\ntoken = {{ file = \"{}\" }}\n", token.display()),
            )
        });
        assert_refused(&deployment, "`edge.token`");
    }
}

/// The binary's `admin` command on `deployment`: success, standard output and error.
fn admin(deployment: &Deployment, args: &[&str], stdin: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_hospital-view"))
        .arg("admin")
        .arg("--config")
        .arg(&deployment.config)
        .args(["--by", "carol"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn production_a_refused_start_creates_nothing() {
    let deployment = Deployment::new();
    let dev_tls = deployment.dir.path().join("dev-tls");
    let data = deployment.dir.path().join("data");
    deployment.edit(|text| {
        let text = format!("dev_staff = true\n{text}");
        let start = text.find("cert = ").unwrap();
        let end = text.find("edge_client_cas").unwrap();
        format!(
            "{}dev_dir = \"{}\"\n{}",
            &text[..start],
            dev_tls.display(),
            &text[end..]
        )
    });
    assert_refused(&deployment, "development staff");
    assert!(!data.exists(), "the data directory was created");
    assert!(!dev_tls.exists(), "the development CA was made");
}

#[test]
fn production_admin_add_refuses_a_short_or_published_password() {
    let deployment = Deployment::new();
    for given in ["\n", "short\n", "dev-password\n"] {
        let (ok, _, stderr) = admin(
            &deployment,
            &["add", "--id", "n1", "--name", "N", "--password-stdin"],
            given,
        );
        assert!(!ok, "{given:?} was accepted");
        assert!(stderr.contains("--password-stdin"), "{given:?}: {stderr}");
    }
    let (ok, listed, _) = admin(&deployment, &["list"], "");
    assert!(ok && !listed.contains("n1"), "{listed}");
    let (ok, _, stderr) = admin(
        &deployment,
        &["add", "--id", "n1", "--name", "N", "--password-stdin"],
        "a long private password\n",
    );
    assert!(ok, "{stderr}");
}

#[test]
fn production_binary_refuses_enabled_accounts_with_published_credentials_by_id() {
    let deployment = Deployment::new();
    // Accounts given the published secret or password (as `--dev` seeds them).
    let file = ConfigFile::load(&deployment.config).unwrap();
    let config = Config {
        hospital_id: file.hospital_id.clone(),
        data_dir: file.data_dir.clone(),
        totp_key: file.totp_key().unwrap(),
        staff: Vec::new(),
        ..config(&deployment.dir)
    };
    let store = hospital_view::open_store(&config).unwrap();
    let hash = hospital_view::staff::password::hash;
    let published = hash(hospital_view::DEV_STAFF_PASSWORD).unwrap();
    let private = hash("a private password").unwrap();
    let real_secret = hospital_view::admin::generate_totp_secret();
    for (id, phc, secret) in [
        ("er-nurse", published.as_str(), DEV_TOTP_SECRET),
        ("er-doctor", published.as_str(), real_secret.as_str()),
        ("nurse-7", private.as_str(), DEV_TOTP_SECRET),
        ("nurse-8", published.as_str(), real_secret.as_str()),
    ] {
        store
            .add_staff(
                &NewStaff {
                    id,
                    display_name: "N",
                    password_phc: phc,
                    totp_secret: secret,
                },
                chrono::Utc::now(),
            )
            .unwrap();
    }
    drop(store);
    let (_, stderr) = deployment.refused();
    let totp = stderr
        .lines()
        .find(|l| l.contains("published development TOTP secret"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(totp.contains("er-nurse, nurse-7"), "{totp}");
    let password = stderr
        .lines()
        .find(|l| l.contains("published development password"))
        .unwrap_or_else(|| panic!("{stderr}"));
    // Only the development ids are checked for the password.
    assert!(
        password.contains("er-doctor, er-nurse") && !password.contains("nurse-8"),
        "{password}"
    );
    // Disabling is the fix the message gives: disabled accounts are not counted.
    for id in ["er-nurse", "er-doctor", "nurse-7"] {
        let (ok, _, error) = admin(&deployment, &["disable", "--id", id], "");
        assert!(ok, "{error}");
    }
    let (running, url, _) = serve(&deployment);
    assert!(url.starts_with("https://"), "{url}");
    drop(running);
}

#[test]
fn production_binary_refuses_plain_http() {
    let deployment = Deployment::new();
    deployment.edit(|text| text.replace("https://edge.example.org", "http://edge.example.org"));
    assert_refused(&deployment, "plain `http://`");
}

#[test]
fn production_admin_command_adds_an_account_and_records_who() {
    let deployment = Deployment::new();
    let admin = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_hospital-view"))
            .arg("admin")
            .arg("--config")
            .arg(&deployment.config)
            .args(["--by", "carol"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.success(), stdout, stderr)
    };
    let (ok, added, stderr) = admin(&["add", "--id", "er-nurse-1", "--name", "看護師"]);
    assert!(ok, "{stderr}");
    assert!(added.contains("password: "), "{added}");
    assert!(added.contains("totp: otpauth://totp/"), "{added}");
    let (ok, _, _) = admin(&["add", "--id", "er-nurse-1", "--name", "again"]);
    assert!(!ok, "the id exists");
    let (ok, listed, _) = admin(&["list"]);
    assert!(ok && listed.contains("er-nurse-1\tenabled"), "{listed}");
    let (ok, actions, _) = admin(&["actions"]);
    assert!(
        ok && actions.contains("\tcarol\tadd\ter-nurse-1"),
        "{actions}"
    );
    assert_eq!(actions.lines().count(), 1, "{actions}");
}

#[test]
fn production_binary_needs_a_config_or_dev() {
    let output = Command::new(env!("CARGO_BIN_EXE_hospital-view"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--config") && stderr.contains("--dev"),
        "{stderr}"
    );
}

#[test]
fn production_binary_names_an_unknown_key() {
    let deployment = Deployment::new();
    deployment.edit(|text| text.replace("[sign_in]\n", "[sign_in]\nlisten_port = 1\n"));
    let (status, stderr) = deployment.refused();
    assert!(!status.success());
    assert!(stderr.contains("listen_port"), "{stderr}");
}
