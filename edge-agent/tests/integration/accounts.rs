//! Staff accounts and the administration command, against an edge served over mTLS on a
//! real loopback socket with no staff tokens configured (as in production): a privacy
//! officer's or operator's client certificate gets in only with an enabled account of its
//! id and role, added by `edge_agent::admin` while the service runs; every administrative
//! action is recorded with who did it. And a log-key rotation keeps the checkpoints the old
//! key signed verifiable by `myna-log verify`, which still refuses a foreign key.

use std::process::Command;

use clap::Parser;
use edge_agent::AppState;
use edge_agent::admin::{self, AdminCommand};
use edge_agent::client_certs::staff_credentials;
use edge_agent::transparency::{VERIFIER_KEYS_FILE, publish};
use myna_domain::client_identity::StaffRole;
use myna_domain::fixtures::unknown_patient_denial;
use myna_domain::transparency::{LogSigner, LogVerifier};
use myna_service::dev_tls::DevTls;
use reqwest::{Method, StatusCode};
use tokio::net::TcpListener;

use crate::support::TestEdge;

#[derive(Parser)]
struct AdminCli {
    #[command(subcommand)]
    command: AdminCommand,
}

/// `edge-agent admin <args>` on `edge`'s data directory, as `actor`.
fn admin(edge: &TestEdge, actor: &str, args: &[&str]) -> anyhow::Result<String> {
    let cli = AdminCli::try_parse_from(std::iter::once("admin").chain(args.iter().copied()))?;
    admin::run(
        edge.dir.path(),
        &edge.state.config.log_origin,
        actor,
        cli.command,
    )
}

/// An edge over TLS verifying client certificates of its development CA, with no staff
/// tokens configured.
struct StaffEdge {
    url: String,
    tls: DevTls,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<edge_agent::Result<()>>,
    edge: TestEdge,
}

impl StaffEdge {
    async fn start() -> Self {
        let edge = TestEdge::with(|mut config| {
            config.require_client_certificates = true;
            config.privacy_officers.clear();
            config.operator_tokens.clear();
            config
        });
        let tls = DevTls::load_or_create(&edge.dir.path().join("tls")).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(edge_agent::run_tls(
            listener,
            edge.state.clone(),
            tls.mtls_server_config(),
            async move {
                let _ = stopped.await;
            },
        ));
        StaffEdge {
            url,
            tls,
            stop,
            server,
            edge,
        }
    }

    /// A client presenting a development certificate naming `role` and `id`.
    fn staff(&self, role: StaffRole, id: &str) -> reqwest::Client {
        let issued = staff_credentials(&self.tls, role, id).unwrap();
        let pem = format!("{}{}", issued.cert_pem, issued.key_pem);
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_der(self.tls.ca_der()).unwrap())
            .identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap()
    }

    async fn status(&self, client: &reqwest::Client, method: Method, path: &str) -> StatusCode {
        client
            .request(method, format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
            .status()
    }

    fn admin(&self, actor: &str, args: &[&str]) -> anyhow::Result<String> {
        admin(&self.edge, actor, args)
    }

    /// The security log's rows as (role, principal, route, reason).
    fn denials(&self) -> Vec<(String, Option<String>, String, String)> {
        let conn = self.edge.raw_connection();
        let mut statement = conn
            .prepare("SELECT role, principal, route, reason FROM auth_denials ORDER BY seq")
            .unwrap();
        statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    async fn stop(self) {
        self.stop.send(()).unwrap();
        self.server.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn production_an_officer_certificate_with_an_enabled_account_reads_the_review_queue() {
    let edge = StaffEdge::start().await;
    let officer = edge.staff(StaffRole::Officer, "po-1");
    // The certificate chains to the CA, but no account exists yet.
    assert_eq!(
        edge.status(&officer, Method::GET, "/v1/review-queue").await,
        StatusCode::UNAUTHORIZED
    );
    edge.admin(
        "alice",
        &["accounts", "add", "--id", "po-1", "--role", "officer"],
    )
    .unwrap();
    assert_eq!(
        edge.status(&officer, Method::GET, "/v1/review-queue").await,
        StatusCode::OK
    );
    assert_eq!(
        edge.status(&officer, Method::GET, "/v1/auth-denials").await,
        StatusCode::OK
    );
    let operator = edge.staff(StaffRole::Operator, "op-1");
    edge.admin(
        "alice",
        &["accounts", "add", "--id", "op-1", "--role", "operator"],
    )
    .unwrap();
    assert_eq!(
        edge.status(&operator, Method::GET, "/v1/disasters").await,
        StatusCode::OK
    );
    edge.stop().await;
}

#[tokio::test]
async fn production_a_disabled_staff_account_is_refused_until_enabled_again() {
    let edge = StaffEdge::start().await;
    let officer = edge.staff(StaffRole::Officer, "po-1");
    edge.admin(
        "alice",
        &["accounts", "add", "--id", "po-1", "--role", "officer"],
    )
    .unwrap();
    assert_eq!(
        edge.status(&officer, Method::GET, "/v1/review-queue").await,
        StatusCode::OK
    );
    edge.admin("bob", &["accounts", "disable", "--id", "po-1"])
        .unwrap();
    assert_eq!(
        edge.status(&officer, Method::GET, "/v1/review-queue").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        edge.denials(),
        [(
            "anonymous".to_string(),
            None,
            "/v1/review-queue".to_string(),
            "unauthenticated".to_string()
        )]
    );
    edge.admin("bob", &["accounts", "enable", "--id", "po-1"])
        .unwrap();
    assert_eq!(
        edge.status(&officer, Method::GET, "/v1/review-queue").await,
        StatusCode::OK
    );
    edge.stop().await;
}

#[tokio::test]
async fn production_an_officer_certificate_is_refused_on_operator_routes() {
    let edge = StaffEdge::start().await;
    edge.admin(
        "alice",
        &["accounts", "add", "--id", "po-1", "--role", "officer"],
    )
    .unwrap();
    // The officer, as an officer, on an operator's route: 403, logged with their id.
    let officer = edge.staff(StaffRole::Officer, "po-1");
    assert_eq!(
        edge.status(&officer, Method::GET, "/v1/disasters").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        edge.status(&officer, Method::POST, "/v1/disasters").await,
        StatusCode::FORBIDDEN
    );
    // A certificate naming the officer's id with the operator role: no such account.
    let posing = edge.staff(StaffRole::Operator, "po-1");
    assert_eq!(
        edge.status(&posing, Method::GET, "/v1/disasters").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        edge.status(&posing, Method::GET, "/v1/review-queue").await,
        StatusCode::UNAUTHORIZED
    );
    let denials = edge.denials();
    let reasons: Vec<(&str, Option<&str>, &str)> = denials
        .iter()
        .map(|(role, principal, _, reason)| (role.as_str(), principal.as_deref(), reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("privacy_officer", Some("po-1"), "role_not_allowed"),
            ("privacy_officer", Some("po-1"), "role_not_allowed"),
            ("anonymous", None, "unauthenticated"),
            ("anonymous", None, "unauthenticated"),
        ]
    );
    edge.stop().await;
}

#[tokio::test]
async fn production_an_unknown_staff_id_is_refused_and_no_staff_token_works() {
    let edge = StaffEdge::start().await;
    edge.admin(
        "alice",
        &["accounts", "add", "--id", "po-1", "--role", "officer"],
    )
    .unwrap();
    let stranger = edge.staff(StaffRole::Officer, "po-2");
    assert_eq!(
        edge.status(&stranger, Method::GET, "/v1/review-queue")
            .await,
        StatusCode::UNAUTHORIZED
    );
    // With no tokens configured, the development officer token is just an unknown bearer.
    let no_certificate = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_der(edge.tls.ca_der()).unwrap())
        .build()
        .unwrap();
    let status = no_certificate
        .get(format!("{}/v1/review-queue", edge.url))
        .bearer_auth("dev-privacy-officer-token")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(edge.denials().len(), 2);
    edge.stop().await;
}

#[tokio::test]
async fn production_admin_actions_are_recorded_with_the_actor() {
    let edge = StaffEdge::start().await;
    edge.admin(
        "alice",
        &[
            "accounts", "add", "--id", "po-1", "--role", "officer", "--name", "Sato",
        ],
    )
    .unwrap();
    edge.admin("bob", &["accounts", "disable", "--id", "po-1"])
        .unwrap();
    edge.admin("carol", &["accounts", "enable", "--id", "po-1"])
        .unwrap();
    // A refused change records nothing.
    assert!(
        edge.admin("mallory", &["accounts", "disable", "--id", "nobody"])
            .is_err()
    );
    edge.admin("dave", &["rotate-log-key"]).unwrap();
    let conn = edge.edge.raw_connection();
    let rows: Vec<(String, String, String)> = conn
        .prepare("SELECT actor, action, subject FROM admin_actions ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let short: Vec<(&str, &str)> = rows
        .iter()
        .map(|(actor, action, _)| (actor.as_str(), action.as_str()))
        .collect();
    assert_eq!(
        short,
        [
            ("alice", "account_added"),
            ("bob", "account_disabled"),
            ("carol", "account_enabled"),
            ("dave", "log_key_rotated"),
        ]
    );
    assert_eq!(rows[0].2, "officer:po-1");
    assert!(rows[3].2.contains(" -> "), "{}", rows[3].2);
    let listed = edge.admin("erin", &["actions"]).unwrap();
    assert_eq!(listed.lines().count(), 5, "{listed}");
    assert!(
        listed.contains("\tcarol\taccount_enabled\tofficer:po-1"),
        "{listed}"
    );
    // The record cannot be rewritten.
    assert!(
        conn.execute("UPDATE admin_actions SET actor = 'mallory'", [])
            .is_err()
    );
    edge.stop().await;
}

fn myna_log(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_myna-log"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// Appends `count` access records, from `first` on, and signs a checkpoint.
async fn append_and_sign(state: &AppState, first: u64, count: u64) -> String {
    for n in first..first + count {
        let record = unknown_patient_denial(n);
        state
            .store
            .write(move |tx| tx.append_access(&record))
            .await
            .unwrap();
    }
    publish(state).await.unwrap().unwrap().note
}

#[tokio::test]
async fn production_a_rotated_log_key_keeps_old_checkpoints_verifiable_and_a_foreign_key_refused() {
    let TestEdge { state, clock, dir } = TestEdge::new();
    let old_key = state.log_signer.verifier_key().to_string();
    let old_note = append_and_sign(&state, 0, 3).await;
    let edge = TestEdge { state, clock, dir };
    let rotated = admin(&edge, "alice", &["rotate-log-key"]).unwrap();
    assert!(rotated.contains("Restart"), "{rotated}");
    // The running service signs with the key it loaded until it restarts; then the new one.
    let TestEdge { state, clock, dir } = edge;
    let config = (*state.config).clone();
    state.store.close();
    drop(state);
    let state = AppState::open(config, clock.clone()).unwrap();
    let new_key = state.log_signer.verifier_key().to_string();
    assert_ne!(new_key, old_key);
    let new_note = append_and_sign(&state, 3, 2).await;
    assert!(LogVerifier::new(&new_key).unwrap().open(&old_note).is_err());
    // GET /v1/log/key: the current key first, then the former one; the whole answer opens both.
    let edge = TestEdge { state, clock, dir };
    let (_, served) = edge
        .call(axum::http::Method::GET, "/v1/log/key", None, None)
        .await;
    let served = served.as_str().unwrap().to_string();
    assert_eq!(served, format!("{new_key}\n{old_key}\n"));
    let both = LogVerifier::new(&served).unwrap();
    assert_eq!(both.open(&old_note).unwrap().size, 3);
    assert_eq!(both.open(&new_note).unwrap().size, 5);
    let TestEdge {
        state,
        clock: _,
        dir,
    } = edge;
    state.store.close();
    drop(state);

    let db = dir.path().join("edge.sqlite3");
    let db = db.to_str().unwrap();
    let keys = dir.path().join(VERIFIER_KEYS_FILE);
    let keys = keys.to_str().unwrap();
    let (code, out, err) = myna_log(&["verify", "--db", db, "--key-file", keys]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("ok: 5 entries, 2 checkpoints"), "{out}");
    let (code, out, _) = myna_log(&["verify", "--db", db, "--key", &old_key, "--key", &new_key]);
    assert_eq!(code, 0, "{out}");
    // The new key alone does not vouch for what the old one signed.
    let (code, out, _) = myna_log(&["verify", "--db", db, "--key", &new_key]);
    assert_eq!(code, 1, "{out}");
    // A checkpoint kept elsewhere from before the rotation is still accepted.
    let kept = dir.path().join("kept-checkpoint");
    std::fs::write(&kept, &old_note).unwrap();
    let kept = kept.to_str().unwrap();
    let (code, out, err) = myna_log(&[
        "verify",
        "--db",
        db,
        "--key-file",
        keys,
        "--checkpoint",
        kept,
    ]);
    assert_eq!(code, 0, "{out}{err}");

    // A key of the same name that the log never had: its checkpoint is refused, whether
    // given from elsewhere or slipped into the file.
    let origin = LogVerifier::new(&old_key).unwrap().origin().to_string();
    let foreign = LogSigner::from_secret(&origin, [42; 32]).unwrap();
    let checkpoint = both.open(&new_note).unwrap();
    let forged = foreign.sign(5, checkpoint.root, checkpoint.time).unwrap();
    let forged_file = dir.path().join("forged-checkpoint");
    std::fs::write(&forged_file, &forged.note).unwrap();
    let forged_file = forged_file.to_str().unwrap();
    let (code, _, err) = myna_log(&[
        "verify",
        "--db",
        db,
        "--key-file",
        keys,
        "--checkpoint",
        forged_file,
    ]);
    assert_eq!(code, 2, "{err}");
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute(
        "INSERT INTO log_checkpoints (tree_size, root, signed_at, note) VALUES (5, ?1, ?2, ?3)",
        rusqlite::params![
            checkpoint.root.0.to_vec(),
            checkpoint.time.to_rfc3339(),
            forged.note
        ],
    )
    .unwrap();
    drop(conn);
    let (code, out, _) = myna_log(&["verify", "--db", db, "--key-file", keys]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("TAMPERED"), "{out}");
}
