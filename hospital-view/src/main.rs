//! `hospital-view` binary: one hospital's ER arrival dashboard.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The ER arrival dashboard of one hospital.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (loopback only until hospital-view speaks TLS).
    #[arg(long, default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// Institution id of this hospital, as the edge-agent knows it.
    #[arg(long, env = "HOSPITAL_ID")]
    hospital_id: String,
    /// Display name of this hospital.
    #[arg(long, env = "HOSPITAL_NAME")]
    hospital_name: String,
    /// Directory for the SQLite file `hospital-<id>.sqlite3`.
    #[arg(long, default_value = "./.myna-local")]
    data_dir: PathBuf,
    /// Base URL of the edge-agent, where the ER's answers go.
    #[arg(long, env = "HOSPITAL_EDGE_URL")]
    edge_url: Option<String>,
    /// Bearer token the edge-agent must present (and this service presents to it). Default:
    /// the development token `dev-edge-token-<hospital id>`, which `edge-agent --hospital
    /// ID=URL` uses with its default `--hospital-token` prefix.
    #[arg(long, env = "HOSPITAL_EDGE_TOKEN", hide_env_values = true)]
    edge_token: Option<String>,
    /// The CA (PEM) of an edge served over TLS with client certificates (`edge-agent --tls`:
    /// `<data-dir>/tls/ca.pem`). With it, `--client-cert` and `--client-key` are required.
    #[arg(long, env = "HOSPITAL_EDGE_CA", requires_all = ["client_cert", "client_key"])]
    edge_ca: Option<PathBuf>,
    /// This hospital's client certificate (PEM), e.g. `<data-dir>/tls/clients/hospital-<id>.pem`.
    #[arg(long, env = "HOSPITAL_CLIENT_CERT", requires = "edge_ca")]
    client_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(long, env = "HOSPITAL_CLIENT_KEY", requires = "edge_ca")]
    client_key: Option<PathBuf>,
    /// Staff accounts not signed in for this many days are disabled.
    #[arg(long, env = "HOSPITAL_STAFF_STALE_DAYS", default_value_t = 90)]
    staff_stale_days: u32,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    myna_service::init_tracing("info");
    let args = Args::parse();
    // The dashboard shows whole summaries and serves no TLS yet (and its seeded development
    // accounts have a published password and TOTP secret): loopback only.
    myna_service::require_loopback(args.listen, "the dashboard serves no TLS yet")?;
    let edge_token = args
        .edge_token
        .unwrap_or_else(|| format!("dev-edge-token-{}", args.hospital_id));
    let edge_tls = match (&args.edge_ca, &args.client_cert, &args.client_key) {
        (Some(ca), Some(cert), Some(key)) => {
            let read = |path: &PathBuf| {
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
            };
            let ca_der = CertificateDer::from_pem_slice(read(ca)?.as_bytes())
                .with_context(|| format!("{} is not a PEM certificate", ca.display()))?
                .to_vec();
            Some(hospital_view::EdgeTls {
                ca_der,
                client_certificate_pem: read(cert)?,
                client_key_pem: read(key)?,
            })
        }
        _ => None,
    };
    let state = hospital_view::AppState::open(hospital_view::Config {
        hospital_id: args.hospital_id,
        hospital_name: args.hospital_name,
        data_dir: args.data_dir,
        edge_token,
        edge_url: args.edge_url.map(|u| u.trim_end_matches('/').to_string()),
        edge_tls,
        // Created on first start (Argon2id hash, TOTP secret) when not stored yet.
        staff: hospital_view::dev_staff(),
        sign_in: hospital_view::SignInPolicy {
            stale_after: chrono::Duration::days(i64::from(args.staff_stale_days)),
            ..Default::default()
        },
    })?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!(addr = %listener.local_addr()?, hospital_id = %state.config().hospital_id, "hospital-view listening");
    hospital_view::run(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
