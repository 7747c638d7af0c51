//! `hospital-view` binary: one hospital's ER arrival dashboard.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};

/// The ER arrival dashboard of one hospital.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (loopback only while the seeded development accounts exist).
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
    /// Serve HTTPS with this certificate chain (PEM, leaf first). Needs `--tls-key` and
    /// `--edge-client-ca`: the edge must then present its client certificate.
    #[arg(long, env = "HOSPITAL_TLS_CERT", requires_all = ["tls_key", "edge_client_cas"], conflicts_with = "dev_tls")]
    tls_cert: Option<PathBuf>,
    /// The server certificate's private key (PEM).
    #[arg(long, env = "HOSPITAL_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// CA certificates (DER or PEM; repeatable) that issue the edge's client certificate
    /// (`urn:myna:edge:<id>`). Over TLS the edge routes accept only such a certificate.
    #[arg(
        long = "edge-client-ca",
        value_name = "FILE",
        env = "HOSPITAL_EDGE_CLIENT_CA",
        value_delimiter = ',',
        requires = "tls_cert"
    )]
    edge_client_cas: Vec<PathBuf>,
    /// Revocation lists of those CAs (DER or PEM; repeatable).
    #[arg(
        long = "edge-client-crl",
        value_name = "FILE",
        env = "HOSPITAL_EDGE_CLIENT_CRL",
        value_delimiter = ',',
        requires = "edge_client_cas"
    )]
    edge_client_crls: Vec<PathBuf>,
    /// Serve HTTPS with the development certificates in DIR (`myna_service::dev_tls`;
    /// created if missing), verifying client certificates issued by its CA. Give it the
    /// edge's directory (`edge-agent --tls`: `<edge data-dir>/tls`) so both trust one CA.
    #[arg(long, value_name = "DIR", env = "HOSPITAL_DEV_TLS")]
    dev_tls: Option<PathBuf>,
    /// Staff accounts not signed in for this many days are disabled.
    #[arg(long, env = "HOSPITAL_STAFF_STALE_DAYS", default_value_t = 90)]
    staff_stale_days: u32,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    myna_service::init_tracing("info");
    myna_service::raise_open_file_limit()?;
    let args = Args::parse();
    // The seeded development accounts have a published password and TOTP secret: loopback
    // only, with or without TLS.
    myna_service::require_loopback(
        args.listen,
        "the dashboard's development accounts are public",
    )?;
    let server_tls = server_tls(&args)?;
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
    let addr = listener.local_addr()?;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match server_tls {
        Some(tls) => {
            tracing::info!(%addr, hospital_id = %state.config().hospital_id, "hospital-view listening (TLS, edge client certificate required)");
            println!("hospital-view serving https://{addr}");
            hospital_view::run_tls(listener, state, tls, shutdown).await?;
        }
        None => {
            tracing::info!(%addr, hospital_id = %state.config().hospital_id, "hospital-view listening");
            hospital_view::run(listener, state, shutdown).await?;
        }
    }
    Ok(())
}

/// The TLS server configuration asked for: `--dev-tls DIR`, or `--tls-cert`/`--tls-key`
/// with `--edge-client-ca` (and CRLs); `None` for plain HTTP.
fn server_tls(args: &Args) -> anyhow::Result<Option<Arc<rustls::ServerConfig>>> {
    if let Some(dir) = &args.dev_tls {
        let tls = myna_service::dev_tls::DevTls::load_or_create(dir).with_context(|| {
            format!(
                "loading the development TLS certificates in {}",
                dir.display()
            )
        })?;
        return Ok(Some(tls.mtls_server_config()));
    }
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        return Ok(None);
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading the certificate chain in {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading the private key in {}", key.display()))?;
    let roots = read_all(&args.edge_client_cas)?
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    let crls = read_all(&args.edge_client_crls)?
        .into_iter()
        .map(CertificateRevocationListDer::from)
        .collect();
    Ok(Some(
        myna_service::tls::server_config_with_client_auth(chain, key, roots, crls)
            .context("loading the TLS certificate, the edge client CAs and CRLs")?,
    ))
}

/// The DER objects in each file: every PEM block of a PEM file, else the whole file.
fn read_all(paths: &[PathBuf]) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut objects = Vec::new();
    for path in paths {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        if !bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            objects.push(bytes);
            continue;
        }
        let before = objects.len();
        for item in rustls_pki_types::pem::PemObject::pem_slice_iter(&bytes) {
            let (_, der): (rustls_pki_types::pem::SectionKind, Vec<u8>) =
                item.with_context(|| format!("reading PEM from {}", path.display()))?;
            objects.push(der);
        }
        anyhow::ensure!(objects.len() > before, "no PEM block in {}", path.display());
    }
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_flags_come_together() {
        let base = [
            "hospital-view",
            "--hospital-id",
            "h",
            "--hospital-name",
            "H",
        ];
        let parse = |extra: &[&str]| Args::try_parse_from(base.iter().chain(extra));
        assert!(parse(&[]).unwrap().tls_cert.is_none());
        let production = parse(&[
            "--tls-cert",
            "c.pem",
            "--tls-key",
            "k.pem",
            "--edge-client-ca",
            "ca.pem",
            "--edge-client-crl",
            "ca.crl",
        ])
        .unwrap();
        assert_eq!(production.edge_client_cas, [PathBuf::from("ca.pem")]);
        assert_eq!(production.edge_client_crls, [PathBuf::from("ca.crl")]);
        // A server certificate without the edge's CA would let no edge deliver.
        assert!(parse(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]).is_err());
        assert!(parse(&["--tls-key", "k.pem"]).is_err());
        assert!(
            parse(&[
                "--dev-tls",
                "d",
                "--tls-cert",
                "c.pem",
                "--tls-key",
                "k.pem",
                "--edge-client-ca",
                "ca.pem"
            ])
            .is_err()
        );
        assert_eq!(
            parse(&["--dev-tls", "d"]).unwrap().dev_tls,
            Some("d".into())
        );
    }

    #[test]
    fn dev_tls_makes_a_client_verifying_server_config() {
        let dir = tempfile::tempdir().unwrap();
        let tls_dir = dir.path().join("tls");
        let args = Args::try_parse_from([
            "hospital-view",
            "--hospital-id",
            "h",
            "--hospital-name",
            "H",
            "--dev-tls",
            tls_dir.to_str().unwrap(),
        ])
        .unwrap();
        assert!(server_tls(&args).unwrap().is_some());
        assert!(tls_dir.join("ca.pem").exists());
        let broken = dir.path().join("broken.pem");
        std::fs::write(&broken, "-----BEGIN CERTIFICATE-----\n%%%\n").unwrap();
        assert!(read_all(&[broken]).is_err());
    }
}
