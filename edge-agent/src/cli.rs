//! The edge-agent command line. Two ways to start, one of which must be given:
//!
//! - `edge-agent --config FILE`: production. The file (TOML, `docs/configuration.md`,
//!   example `deploy/edge-agent.toml`) says everything; the edge refuses to start while it
//!   holds any development credential or would serve tablets or hospitals without TLS and
//!   client certificates ([`Config::production_refusals`], each refusal naming the key).
//! - `edge-agent --dev`: development mode, loopback only: the built-in development setup
//!   ([`Config::local`]: dev device tokens, dev portal sign-in, dev officer and operator
//!   tokens), plain HTTP, or with `--tls` the development certificates kept in
//!   `<data-dir>/tls/` (client certificates for every configured tablet and hospital in
//!   `<data-dir>/tls/clients/`); metrics on `127.0.0.1:9464`. `--dev --config FILE` reads
//!   a development file (`deploy/edge-agent.dev.toml`) and skips the refusals.
//!
//! - `edge-agent admin --config FILE [--by NAME] <command>` (or `--dev [--data-dir DIR]`):
//!   staff accounts, log-key rotation, the record of administrative actions
//!   ([`crate::admin`]); it works beside the running service.
//!
//! A start refused in production exits with status [`REFUSED_EXIT_STATUS`] (3), which the
//! systemd unit does not restart.
//!
//! Flags override the file: `--listen`, `--data-dir`, `--log-format`, `--metrics-listen`,
//! `--card-ca`/`--card-crl`, `--no-rate-limit`.
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
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use myna_service::LogFormat;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::admin::AdminCommand;
use crate::config::file::build::read_der_objects;
use crate::config::{Config, ServerTls};
use crate::state::AppState;

/// Metrics address of development mode when none is given.
pub const DEV_METRICS_LISTEN: &str = "127.0.0.1:9464";

/// The edge-agent service's command line. Public so that a binary built around this one
/// can flatten it into its own (the simulations package's `myna-edge` adds `--patients`).
#[derive(Parser)]
#[command(version, about, after_help = "Administration: edge-agent admin --help")]
pub struct Args {
    /// The configuration file (TOML; see docs/configuration.md and deploy/edge-agent.toml).
    /// Without --dev the edge runs in production and refuses development settings.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Development mode, loopback only: development tokens, portal sign-in, certificates
    /// (with --tls) and metrics. Alone, the built-in development setup; with --config, that
    /// file without the production refusals.
    #[arg(long)]
    dev: bool,
    /// Address to listen on (overrides the file; development default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Directory of the database and keys (overrides the file; development default
    /// ./.myna-local).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Log lines: `text` or `json` (overrides the file).
    #[arg(long, value_name = "FORMAT")]
    log_format: Option<LogFormat>,
    /// Address of the Prometheus endpoint (overrides the file's [metrics]).
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
    /// Development: receiving hospitals as `id=base_url` (repeatable).
    #[arg(long = "hospital", value_name = "ID=URL", requires = "dev")]
    hospitals: Vec<String>,
    /// Development: prefix of each --hospital's bearer token (`PREFIX-ID`).
    #[arg(long, env = "HOSPITAL_EDGE_TOKEN", default_value = "dev-edge-token")]
    hospital_token: String,
    /// JPKI card CA certificates to trust (DER, or PEM with one or more certificates),
    /// replacing the file's [card_trust]. Repeatable; the variable takes a comma-separated
    /// list.
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
    /// Development: serve HTTPS with the development certificates of `<data-dir>/tls/`,
    /// requiring client certificates from tablets and hospital-views.
    #[arg(long, requires = "dev")]
    tls: bool,
    /// Turn the request rate limits off (load tests).
    #[arg(long)]
    no_rate_limit: bool,
}

/// What the command line and the file resolve to.
struct Start {
    dev: bool,
    listen: SocketAddr,
    /// The metrics address, and whether it was asked for (a development default that is
    /// taken only warns).
    metrics: Option<(SocketAddr, bool)>,
    log_format: LogFormat,
    config: Config,
}

fn read_all(paths: &[PathBuf]) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut objects = Vec::new();
    for path in paths {
        objects.extend(read_der_objects(path).map_err(anyhow::Error::msg)?);
    }
    Ok(objects)
}

/// The message of a start with neither `--config` nor `--dev`.
pub const NO_MODE: &str = "give --config FILE (production; example: deploy/edge-agent.toml) \
     or --dev (development mode on loopback, with development credentials)";

fn resolve(args: &Args) -> anyhow::Result<Start> {
    let mut start = match (&args.config, args.dev) {
        (None, false) => anyhow::bail!(NO_MODE),
        (Some(path), dev) => {
            let deployment = crate::config::file::build::load(path)?;
            let metrics = deployment.metrics_listen.map(|a| (a, true));
            Start {
                dev,
                listen: deployment.listen,
                metrics,
                log_format: deployment.log_format,
                config: deployment.config,
            }
        }
        (None, true) => {
            let data_dir = args.data_dir.clone().unwrap_or("./.myna-local".into());
            let mut config = Config::local(data_dir);
            if args.tls {
                config.server_tls = Some(ServerTls::development());
                config.require_client_certificates = true;
            }
            Start {
                dev: true,
                listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
                metrics: DEV_METRICS_LISTEN.parse().ok().map(|a| (a, false)),
                log_format: LogFormat::Text,
                config,
            }
        }
    };
    if let Some(listen) = args.listen {
        start.listen = listen;
    }
    if let Some(dir) = &args.data_dir {
        start.config.data_dir = dir.clone();
    }
    if let Some(format) = args.log_format {
        start.log_format = format;
    }
    if let Some(addr) = args.metrics_listen {
        start.metrics = Some((addr, true));
    }
    if !args.card_cas.is_empty() || !args.card_crls.is_empty() {
        start.config = start
            .config
            .with_card_trust(read_all(&args.card_cas)?, read_all(&args.card_crls)?)
            .context("loading the card CAs and CRLs")?;
    }
    if args.no_rate_limit {
        start.config.rate_limits = crate::config::RateLimits::OFF;
    }
    let first_new = start.config.hospitals.len();
    for (n, spec) in args.hospitals.iter().enumerate() {
        let (id, url) = spec.split_once('=').context("--hospital must be ID=URL")?;
        start.config = start.config.with_hospital(
            id,
            id,
            if n + first_new == 0 { 3 } else { 2 },
            url,
            // Each hospital has its own token: it identifies the hospital's answers.
            &format!("{}-{id}", args.hospital_token),
            None,
        );
    }
    Ok(start)
}

/// Refuses a production start on any refusal, listing them all.
/// Exit status of a start refused in production: a configuration to fix, not a crash to
/// restart (`RestartPreventExitStatus=3` in `deploy/edge-agent.service`).
pub const REFUSED_EXIT_STATUS: u8 = 3;

/// A start refused in production; its message lists each refusal.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(String);

fn check_production(config: &Config) -> anyhow::Result<()> {
    let refusals = config.production_refusals();
    if refusals.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = refusals.iter().map(|r| format!("  - {r}")).collect();
    Err(Refused(format!(
        "refusing to start in production; fix these in the configuration file (or run \
         with --dev for development):\n{}",
        list.join("\n")
    ))
    .into())
}

/// `edge-agent admin`: administration beside the running service.
#[derive(Parser)]
#[command(
    name = "edge-agent admin",
    about = "Staff accounts, log-key rotation and the record of administrative actions"
)]
pub struct AdminArgs {
    /// The service's configuration file (its data directory and log origin are used).
    #[arg(long, value_name = "FILE", required_unless_present = "dev")]
    config: Option<PathBuf>,
    /// Administer a development data directory (`--data-dir`, default ./.myna-local).
    #[arg(long, conflicts_with = "config")]
    dev: bool,
    /// Development data directory (with --dev).
    #[arg(long, requires = "dev")]
    data_dir: Option<PathBuf>,
    /// Who is acting, as recorded with the action (default: $SUDO_USER, else $USER).
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    #[command(subcommand)]
    command: AdminCommand,
}

/// What `edge-agent admin` reads of the service's configuration file (every other key is
/// left alone, and checked by the service when it starts).
#[derive(serde::Deserialize)]
struct AdminKeys {
    data_dir: PathBuf,
    log_origin: String,
}

/// Runs `edge-agent admin …` and prints its answer.
pub fn admin_main(args: AdminArgs) -> anyhow::Result<()> {
    let (data_dir, origin) = match &args.config {
        Some(path) => {
            // Only the two keys it needs: the service's secrets (often environment
            // variables only systemd sets) and certificates are none of its business.
            let keys: AdminKeys = myna_service::config::load_toml(path)?;
            (keys.data_dir, keys.log_origin)
        }
        None => {
            let dir = args
                .data_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("./.myna-local"));
            let config = Config::local(dir);
            (config.data_dir, config.log_origin)
        }
    };
    let actor = args
        .by
        .or_else(|| std::env::var("SUDO_USER").ok())
        .or_else(|| std::env::var("USER").ok())
        .filter(|name| !name.trim().is_empty());
    // `admin::run` refuses a change without an actor; reading needs none.
    let actor = actor.unwrap_or_default();
    let out = crate::admin::run(&data_dir, &origin, &actor, args.command)?;
    println!("{out}");
    Ok(())
}

/// What runs on the opened state before the edge serves (see [`main_with`]).
pub type Prepare = Box<dyn FnOnce(&AppState) -> anyhow::Result<()> + Send>;

/// Parses the command line and serves until Ctrl-C or SIGTERM: the whole `edge-agent`
/// binary. Builds the multi-threaded tokio runtime `#[tokio::main]` would.
/// `edge-agent admin …` goes to [`admin_main`].
pub fn main() -> anyhow::Result<()> {
    let mut raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if raw.get(1).is_some_and(|a| a == "admin") {
        raw.remove(0);
        return admin_main(AdminArgs::parse_from(raw));
    }
    main_with(Args::parse_from(raw), Box::new(|_| Ok(())))
}

/// [`main`] with `args` parsed already, running `prepare` on the opened state before
/// serving: the simulations package's `myna-edge` loads its synthetic population there.
/// First of all it makes every file the process creates private (umask 077).
pub fn main_with(args: Args, prepare: Prepare) -> anyhow::Result<()> {
    myna_service::private::restrict_umask();
    let start = resolve(&args)?;
    if start.dev {
        myna_service::require_loopback(
            start.listen,
            "development mode uses development credentials",
        )?;
    } else {
        check_production(&start.config)?;
    }
    myna_service::init_tracing_as("info", start.log_format);
    myna_service::raise_open_file_limit()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?
        .block_on(serve(start, prepare))
}

/// The server's TLS configuration, and the development certificates when they serve.
fn server_config(
    config: &Config,
) -> anyhow::Result<
    Option<(
        Arc<rustls::ServerConfig>,
        Option<myna_service::dev_tls::DevTls>,
    )>,
> {
    let Some(tls) = &config.server_tls else {
        return Ok(None);
    };
    let roots: Vec<CertificateDer<'static>> =
        tls.client_ca_ders.iter().cloned().map(Into::into).collect();
    let crls = tls
        .client_crl_ders
        .iter()
        .cloned()
        .map(Into::into)
        .collect();
    match &tls.certificate {
        None => {
            let dir = config.data_dir.join("tls");
            let dev = myna_service::dev_tls::DevTls::load_or_create(&dir).with_context(|| {
                format!(
                    "loading the development TLS certificates in {}",
                    dir.display()
                )
            })?;
            let server = if roots.is_empty() {
                crate::client_certs::issue_for_config(&dev, config)
                    .context("issuing development client certificates")?;
                dev.mtls_server_config()
            } else {
                dev.server_config_with_client_auth(roots, crls)
                    .context("loading tls.client_cas and tls.client_crls")?
            };
            Ok(Some((server, Some(dev))))
        }
        Some(certificate) => {
            let chain = CertificateDer::pem_slice_iter(certificate.chain_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .context("tls.certificate_chain: not a PEM certificate chain")?;
            anyhow::ensure!(!chain.is_empty(), "tls.certificate_chain: no certificate");
            let key = PrivateKeyDer::from_pem_slice(certificate.key_pem.expose().as_bytes())
                .context("tls.private_key: not a PEM private key")?;
            let server = if roots.is_empty() {
                myna_service::tls::server_config(chain, key)
            } else {
                myna_service::tls::server_config_with_client_auth(chain, key, roots, crls)
            }
            .context("tls: the certificate chain, key, client CAs or CRLs were refused")?;
            Ok(Some((server, None)))
        }
    }
}

/// SIGINT (Ctrl-C) or SIGTERM (systemd's stop).
async fn stop_requested() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

async fn serve(start: Start, prepare: Prepare) -> anyhow::Result<()> {
    let mut config = start.config;
    let tls = server_config(&config)?;
    if config.relay_tls.is_none()
        && let Some((_, Some(dev))) = &tls
    {
        config.relay_tls = Some(
            crate::client_certs::dev_relay_tls(dev, &config)
                .context("issuing the edge's development client certificate")?,
        );
    }
    let state = AppState::open(config, myna_service::clock::system())?;
    prepare(&state)?;
    let listener = tokio::net::TcpListener::bind(start.listen)
        .await
        .with_context(|| format!("listening on {}", start.listen))?;
    let addr = listener.local_addr()?;
    let metrics = match start.metrics {
        None => None,
        Some((metrics_addr, asked)) => match tokio::net::TcpListener::bind(metrics_addr).await {
            Ok(listener) => Some(listener),
            Err(error) if !asked => {
                tracing::warn!(%metrics_addr, %error, "metrics endpoint off: its address is taken");
                None
            }
            Err(error) => {
                return Err(error).with_context(|| format!("metrics listen {metrics_addr}"));
            }
        },
    };
    let (metrics_stop, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics_task = match metrics {
        Some(listener) => {
            let metrics_addr = listener.local_addr()?;
            myna_service::metrics::install();
            println!("metrics: http://{metrics_addr}/metrics");
            Some(tokio::spawn(myna_service::metrics::serve(
                listener,
                async {
                    let _ = metrics_stopped.await;
                },
            )))
        }
        None => None,
    };
    let mode = if start.dev {
        "development mode"
    } else {
        "production"
    };
    let served = match tls {
        Some((server_config, dev)) => {
            tracing::info!(%addr, mode, "edge-agent listening (TLS, client certificates required)");
            println!("edge-agent serving https://{addr} ({mode})");
            if let Some(dev) = &dev {
                println!(
                    "  development CA (for clients to trust): {}\n  client certificates: {}",
                    dev.ca_path().display(),
                    dev.ca_path()
                        .with_file_name(myna_service::dev_tls::CLIENTS_DIR)
                        .display()
                );
            }
            crate::server::run_tls(listener, state, server_config, stop_requested()).await
        }
        None => {
            tracing::info!(%addr, mode, "edge-agent listening (plain HTTP)");
            println!("edge-agent serving http://{addr} ({mode})");
            crate::server::run(listener, state, stop_requested()).await
        }
    };
    let _ = metrics_stop.send(());
    if let Some(task) = metrics_task {
        let _ = task.await;
    }
    served?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Args {
        Args::try_parse_from(args).unwrap()
    }

    #[test]
    fn production_neither_config_nor_dev_says_to_give_one() {
        let error = resolve(&parse(&["edge-agent"])).err().unwrap().to_string();
        assert!(
            error.contains("--config") && error.contains("--dev"),
            "{error}"
        );
    }

    #[test]
    fn dev_alone_is_the_development_setup() {
        let start = resolve(&parse(&["edge-agent", "--dev"])).unwrap();
        assert!(start.dev && start.config.dev_portal_sign_in);
        assert!(start.config.server_tls.is_none());
        assert_eq!(
            start.metrics,
            Some((DEV_METRICS_LISTEN.parse().unwrap(), false))
        );
        let tls = resolve(&parse(&[
            "edge-agent",
            "--dev",
            "--tls",
            "--hospital",
            "h=http://x",
        ]))
        .unwrap();
        assert!(tls.config.require_client_certificates);
        assert!(
            tls.config
                .server_tls
                .as_ref()
                .is_some_and(|t| t.certificate.is_none())
        );
        assert_eq!(tls.config.hospitals[0].token, "dev-edge-token-h");
        assert!(check_production(&tls.config).is_err());
    }

    #[test]
    fn production_development_flags_need_dev() {
        for flags in [&["--tls"][..], &["--hospital", "h=http://x"]] {
            let mut argv = vec!["edge-agent", "--config", "x.toml"];
            argv.extend(flags);
            assert!(Args::try_parse_from(argv).is_err(), "{flags:?}");
        }
    }

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("edge.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:1\"\ndata_dir = \"/a\"\nlog_origin = \"o\"\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let start = resolve(&parse(&[
            "edge-agent",
            "--config",
            path,
            "--listen",
            "127.0.0.1:2",
            "--data-dir",
            "/b",
            "--log-format",
            "json",
            "--metrics-listen",
            "127.0.0.1:3",
        ]))
        .unwrap();
        assert!(!start.dev);
        assert_eq!(start.listen.port(), 2);
        assert_eq!(start.config.data_dir, PathBuf::from("/b"));
        assert_eq!(start.log_format, LogFormat::Json);
        assert_eq!(start.metrics, Some(("127.0.0.1:3".parse().unwrap(), true)));
        let plain = resolve(&parse(&["edge-agent", "--config", path])).unwrap();
        assert!(plain.metrics.is_none(), "metrics are off unless configured");
        let refused = check_production(&plain.config).unwrap_err().to_string();
        assert!(refused.contains("tls: missing"), "{refused}");
    }
}
