//! The edge-agent command line: serve the API on embedded local defaults, trusting the card
//! CAs given with `--card-ca` (and their CRLs, `--card-crl`). Without a card CA every card
//! is refused. Plain HTTP by default; `--tls` serves HTTPS with development certificates
//! kept in `<data-dir>/tls/` and requires client certificates (mTLS) of tablets and
//! hospital-views: issued by the development CA (written to `<data-dir>/tls/clients/` for
//! every configured device and hospital at start), or by the CAs given with `--client-ca`
//! (and their CRLs, `--client-crl`). The relay to hospital-views presents the edge's own
//! client certificate (development: `<data-dir>/tls/clients/edge.pem`; or `--relay-cert`
//! and `--relay-key`) and trusts only the development CA and `--hospital-ca` for `https://`
//! hospital URLs.
//!
//! The edge serves the patients its database holds and makes none up: a new data directory
//! has none until they are imported (`Store::import`).
//!
//! [`main`] is the whole `edge-agent` binary. It lives in the library so that other
//! packages can build the same binary under their own name: the simulations package's
//! `myna-edge` (which its crash tests and `myna-bench crash` start and SIGKILL: Cargo only
//! gives tests the path of binaries of their own package) adds `--patients` and loads the
//! synthetic population through [`main_with`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Parser;

use crate::state::AppState;

/// The edge-agent service's command line. Public so that a binary built around this one
/// can flatten it into its own (the simulations package's `myna-edge` adds `--patients`).
#[derive(Parser)]
#[command(version, about)]
pub struct Args {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory for the SQLite file.
    #[arg(long, default_value = "./.myna-local")]
    data_dir: PathBuf,
    /// Receiving hospitals as `id=base_url` (repeatable), served by hospital-view.
    #[arg(long = "hospital", value_name = "ID=URL")]
    hospitals: Vec<String>,
    /// Prefix of each hospital's bearer token: hospital ID's token is `PREFIX-ID`, presented
    /// by the edge when it delivers and by that hospital-view when it answers.
    #[arg(long, env = "HOSPITAL_EDGE_TOKEN", default_value = "dev-edge-token")]
    hospital_token: String,
    /// JPKI card CA certificates to trust (DER, or PEM with one or more certificates).
    /// Repeatable; the variable takes a comma-separated list. None: every card is refused.
    #[arg(
        long = "card-ca",
        value_name = "FILE",
        env = "EDGE_CARD_CA",
        value_delimiter = ','
    )]
    card_cas: Vec<PathBuf>,
    /// CRLs published by those CAs (DER or PEM). Each must verify with one of them.
    #[arg(
        long = "card-crl",
        value_name = "FILE",
        env = "EDGE_CARD_CRL",
        value_delimiter = ','
    )]
    card_crls: Vec<PathBuf>,
    /// Serve HTTPS with development certificates from `<data-dir>/tls/` (created at first
    /// start, then kept: give tablets its `ca.pem`), requiring client certificates from
    /// tablets and hospital-views (bearer tokens are refused for them).
    #[arg(long)]
    tls: bool,
    /// Turn the request rate limits off (load tests: thousands of requests per second
    /// from a few tablets). Default: 20 at once and 5 per second per device, hospital,
    /// staff token or portal session; 60 and 20 per second per client address.
    #[arg(long)]
    no_rate_limit: bool,
    /// CA certificates that issue client certificates (DER or PEM; repeatable; the variable
    /// takes a comma-separated list), instead of the development CA. Needs `--tls`.
    #[arg(
        long = "client-ca",
        value_name = "FILE",
        env = "EDGE_CLIENT_CA",
        value_delimiter = ','
    )]
    client_cas: Vec<PathBuf>,
    /// Revocation lists of those CAs (DER or PEM; repeatable). With any CRL given, every
    /// client certificate's issuer must have one.
    #[arg(
        long = "client-crl",
        value_name = "FILE",
        env = "EDGE_CLIENT_CRL",
        value_delimiter = ','
    )]
    client_crls: Vec<PathBuf>,
    /// CA certificates (DER or PEM; repeatable) that issue hospital-views' TLS server
    /// certificates: the relay trusts only these for `https://` hospital URLs. With `--tls`
    /// the development CA is trusted too.
    #[arg(
        long = "hospital-ca",
        value_name = "FILE",
        env = "EDGE_HOSPITAL_CA",
        value_delimiter = ','
    )]
    hospital_cas: Vec<PathBuf>,
    /// The edge's client certificate (PEM, naming `urn:myna:edge:<id>`) that the relay
    /// presents to hospital-views. With `--tls` and without it: the development one,
    /// `<data-dir>/tls/clients/edge.pem`.
    #[arg(long, env = "EDGE_RELAY_CERT", requires = "relay_key")]
    relay_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(long, env = "EDGE_RELAY_KEY", requires = "relay_cert")]
    relay_key: Option<PathBuf>,
}

/// The DER objects in `path`: every PEM block if it is PEM, else the whole file.
fn read_der_objects(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if !bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        return Ok(vec![bytes]);
    }
    let objects = x509_parser::pem::Pem::iter_from_buffer(&bytes)
        .map(|pem| pem.map(|p| p.contents))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading PEM from {}", path.display()))?;
    anyhow::ensure!(!objects.is_empty(), "no PEM block in {}", path.display());
    Ok(objects)
}

fn read_all(paths: &[PathBuf]) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut objects = Vec::new();
    for path in paths {
        objects.extend(read_der_objects(path)?);
    }
    Ok(objects)
}

/// What runs on the opened state before the edge serves (see [`main_with`]).
pub type Prepare = Box<dyn FnOnce(&AppState) -> anyhow::Result<()> + Send>;

/// Parses the command line and serves until Ctrl-C: the whole `edge-agent` binary. Builds
/// the multi-threaded tokio runtime `#[tokio::main]` would.
pub fn main() -> anyhow::Result<()> {
    main_with(Args::parse(), Box::new(|_| Ok(())))
}

/// [`main`] with `args` parsed already, running `prepare` on the opened state before
/// serving: the simulations package's `myna-edge` loads its synthetic population there.
pub fn main_with(args: Args, prepare: Prepare) -> anyhow::Result<()> {
    myna_service::init_tracing("info");
    myna_service::raise_open_file_limit()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?
        .block_on(serve(args, prepare))
}

async fn serve(args: Args, prepare: Prepare) -> anyhow::Result<()> {
    // Development credentials (fixed device tokens, portal sign-in by patient id) are always
    // on in this binary until device certificates and card sign-in land: loopback only.
    myna_service::require_loopback(args.listen, "this build uses development credentials")?;
    anyhow::ensure!(
        args.tls || (args.client_cas.is_empty() && args.client_crls.is_empty()),
        "--client-ca and --client-crl need --tls"
    );
    anyhow::ensure!(
        args.client_crls.is_empty() || !args.client_cas.is_empty(),
        "--client-crl needs --client-ca (the development CA publishes no CRL)"
    );
    let tls = if args.tls {
        let dir = args.data_dir.join("tls");
        let tls = myna_service::dev_tls::DevTls::load_or_create(&dir).with_context(|| {
            format!(
                "loading the development TLS certificates in {}",
                dir.display()
            )
        })?;
        Some(tls)
    } else {
        None
    };
    let mut config = crate::config::Config::local(args.data_dir.clone())
        .with_card_trust(read_all(&args.card_cas)?, read_all(&args.card_crls)?)
        .context("loading the card CAs and CRLs")?;
    if args.no_rate_limit {
        tracing::warn!("request rate limits are off (--no-rate-limit)");
        config.rate_limits = crate::config::RateLimits::OFF;
    }
    config.require_client_certificates = args.tls;
    for (n, spec) in args.hospitals.iter().enumerate() {
        let (id, url) = spec.split_once('=').context("--hospital must be ID=URL")?;
        config = config.with_hospital(
            id,
            id,
            if n == 0 { 3 } else { 2 },
            url,
            // Each hospital has its own token: it identifies the hospital's answers.
            &format!("{}-{id}", args.hospital_token),
            None,
        );
    }
    let server_config = match &tls {
        None => None,
        Some(tls) if args.client_cas.is_empty() => {
            crate::client_certs::issue_for_config(tls, &config)
                .context("issuing development client certificates")?;
            Some(tls.mtls_server_config())
        }
        Some(tls) => {
            let roots = read_all(&args.client_cas)?
                .into_iter()
                .map(Into::into)
                .collect();
            let crls = read_all(&args.client_crls)?
                .into_iter()
                .map(Into::into)
                .collect();
            Some(
                tls.server_config_with_client_auth(roots, crls)
                    .context("loading the client CAs and CRLs")?,
            )
        }
    };
    config.relay_tls = relay_tls(&args, tls.as_ref(), &config)?;
    let state = AppState::open(config, myna_service::clock::system())?;
    prepare(&state)?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match (tls, server_config) {
        (Some(tls), Some(server_config)) => {
            tracing::info!(%addr, "edge-agent listening (TLS, client certificates required)");
            println!(
                "edge-agent serving https://{addr}\n  development CA (for clients to trust): {}\n  \
                 client certificates: {}",
                tls.ca_path().display(),
                if args.client_cas.is_empty() {
                    format!(
                        "development CA; tablets' and hospitals' in {}",
                        tls.ca_path()
                            .with_file_name(myna_service::dev_tls::CLIENTS_DIR)
                            .display()
                    )
                } else {
                    "from --client-ca".to_string()
                }
            );
            crate::server::run_tls(listener, state, server_config, shutdown).await?;
        }
        _ => {
            tracing::info!(%addr, "edge-agent listening");
            crate::server::run(listener, state, shutdown).await?;
        }
    }
    Ok(())
}

/// The relay's TLS to hospital-views: `--relay-cert`/`--relay-key` with the CAs of
/// `--hospital-ca` (and the development CA under `--tls`), or under `--tls` alone the
/// development CA and the edge's development certificate. `None`: no client certificate.
fn relay_tls(
    args: &Args,
    dev: Option<&myna_service::dev_tls::DevTls>,
    config: &crate::config::Config,
) -> anyhow::Result<Option<crate::config::RelayTls>> {
    let mut hospital_cas = read_all(&args.hospital_cas)?;
    if let Some(dev) = dev {
        hospital_cas.push(dev.ca_der().to_vec());
    }
    let (certificate, key) = match (&args.relay_cert, &args.relay_key, dev) {
        (Some(cert), Some(key), _) => {
            let read = |path: &PathBuf| {
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
            };
            (read(cert)?, read(key)?)
        }
        (_, _, Some(dev)) => {
            let issued = crate::client_certs::edge_credentials(dev, config)
                .context("issuing the edge's development client certificate")?;
            (issued.cert_pem, issued.key_pem)
        }
        _ => {
            anyhow::ensure!(
                hospital_cas.is_empty(),
                "--hospital-ca needs --relay-cert and --relay-key (or --tls)"
            );
            return Ok(None);
        }
    };
    anyhow::ensure!(
        !hospital_cas.is_empty(),
        "--relay-cert needs --hospital-ca (or --tls)"
    );
    Ok(Some(crate::config::RelayTls {
        hospital_ca_ders: hospital_cas,
        client_certificate_pem: certificate,
        client_key_pem: key,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate() -> rcgen::Certificate {
        let params = rcgen::CertificateParams::new(vec![]).unwrap();
        params
            .self_signed(&rcgen::KeyPair::generate().unwrap())
            .unwrap()
    }

    #[test]
    fn tls_is_off_unless_asked_for() {
        let parse = |args: &[&str]| Args::try_parse_from(args).unwrap();
        assert!(!parse(&["edge-agent"]).tls);
        assert!(parse(&["edge-agent", "--tls"]).tls);
        let production = parse(&[
            "edge-agent",
            "--tls",
            "--client-ca",
            "a.pem",
            "--client-ca",
            "b.pem",
            "--client-crl",
            "a.crl",
        ]);
        assert_eq!(
            production.client_cas,
            [PathBuf::from("a.pem"), "b.pem".into()]
        );
        assert_eq!(production.client_crls, [PathBuf::from("a.crl")]);
        let relay = parse(&[
            "edge-agent",
            "--hospital-ca",
            "h.pem",
            "--relay-cert",
            "edge.pem",
            "--relay-key",
            "edge-key.pem",
        ]);
        assert_eq!(relay.hospital_cas, [PathBuf::from("h.pem")]);
        assert_eq!(relay.relay_cert, Some("edge.pem".into()));
        assert!(Args::try_parse_from(["edge-agent", "--relay-cert", "edge.pem"]).is_err());
    }

    #[test]
    fn dev_tls_gives_the_relay_the_dev_ca_and_the_edges_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let dev = myna_service::dev_tls::DevTls::load_or_create(dir.path()).unwrap();
        let config = crate::config::Config::local(dir.path().into());
        let args = Args::try_parse_from(["edge-agent", "--tls"]).unwrap();
        let tls = relay_tls(&args, Some(&dev), &config).unwrap().unwrap();
        assert_eq!(tls.hospital_ca_ders, vec![dev.ca_der().to_vec()]);
        assert_eq!(
            tls.client_certificate_pem,
            crate::client_certs::edge_credentials(&dev, &config)
                .unwrap()
                .cert_pem
        );
        let plain = Args::try_parse_from(["edge-agent"]).unwrap();
        assert!(relay_tls(&plain, None, &config).unwrap().is_none());
        let ca = dir.path().join("h.pem");
        std::fs::write(&ca, certificate().pem()).unwrap();
        let pinned_only =
            Args::try_parse_from(["edge-agent", "--hospital-ca", ca.to_str().unwrap()]).unwrap();
        assert!(relay_tls(&pinned_only, None, &config).is_err());
    }

    #[test]
    fn trust_files_may_be_der_or_pem_with_several_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (certificate(), certificate());
        let der = dir.path().join("ca.der");
        std::fs::write(&der, a.der()).unwrap();
        let pem = dir.path().join("cas.pem");
        std::fs::write(&pem, format!("\n{}{}", a.pem(), b.pem())).unwrap();
        assert_eq!(read_der_objects(&der).unwrap(), vec![a.der().to_vec()]);
        assert_eq!(
            read_all(&[pem, der]).unwrap(),
            vec![a.der().to_vec(), b.der().to_vec(), a.der().to_vec()]
        );
        let broken = dir.path().join("broken.pem");
        std::fs::write(&broken, "-----BEGIN CERTIFICATE-----\n%%%\n").unwrap();
        assert!(read_der_objects(&broken).is_err());
        assert!(read_der_objects(&dir.path().join("missing.der")).is_err());
    }
}
