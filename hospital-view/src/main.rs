//! `hospital-view` binary: one hospital's ER arrival dashboard.
//!
//! `hospital-view --config FILE` serves in production (refusing development credentials);
//! `hospital-view --dev` serves the development demo; `hospital-view admin --config FILE
//! ...` administers staff accounts. See `docs/configuration.md` and
//! `docs/accounts.md`.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use hospital_view::config_file::{ConfigFile, Overrides, Startup};
use hospital_view::store::Actor;
use myna_service::LogFormat;

/// The ER arrival dashboard of one hospital.
#[derive(Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

/// Serving: `--config FILE`, `--dev`, or both (a development file).
#[derive(clap::Args)]
struct ServeArgs {
    /// The configuration file (TOML; see docs/configuration.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Development mode: seeds the development staff accounts (published password and
    /// TOTP secret), the development edge token and TOTP key file, allows plain HTTP,
    /// serves metrics on loopback; loopback only.
    #[arg(long)]
    dev: bool,
    /// Listen address (overrides `listen`).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Data directory (overrides `data_dir`).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// `text` or `json` (overrides `log_format`).
    #[arg(long)]
    log_format: Option<LogFormat>,
    /// Address of the Prometheus endpoint (overrides `metrics.listen`).
    #[arg(long)]
    metrics_listen: Option<SocketAddr>,
    /// `--dev` without a file: institution id of this hospital.
    #[arg(long, env = "HOSPITAL_ID", requires = "dev")]
    hospital_id: Option<String>,
    /// `--dev` without a file: display name of this hospital.
    #[arg(long, env = "HOSPITAL_NAME", requires = "dev")]
    hospital_name: Option<String>,
    /// `--dev` without a file: base URL of the edge-agent.
    #[arg(long, env = "HOSPITAL_EDGE_URL", requires = "dev")]
    edge_url: Option<String>,
    /// `--dev`: serve HTTPS with the development certificates in DIR (created if missing;
    /// give the edge's `<data-dir>/tls` so both trust one CA).
    #[arg(long, value_name = "DIR", env = "HOSPITAL_DEV_TLS", requires = "dev")]
    dev_tls: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Administers staff accounts (works while the service runs).
    Admin(AdminArgs),
}

#[derive(clap::Args)]
struct AdminArgs {
    /// The service's configuration file (for the data directory and the TOTP key).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Data directory (overrides `data_dir`).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Who is acting, recorded with every action (default: $SUDO_USER, else $USER).
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    #[command(subcommand)]
    action: AdminCommand,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Adds an account; prints its password (generated unless --password-stdin) and its
    /// TOTP secret as an otpauth:// URI, once.
    Add {
        /// Staff id (typed at sign-in, shown next to answers).
        #[arg(long)]
        id: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Read the password from the first line of standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disables an account and ends its sessions.
    Disable {
        /// Staff id.
        #[arg(long)]
        id: String,
    },
    /// Enables a disabled account again.
    Enable {
        /// Staff id.
        #[arg(long)]
        id: String,
    },
    /// Lists the accounts.
    List,
    /// Gives an account a new TOTP secret (printed once); the old codes stop working.
    ResetTotp {
        /// Staff id.
        #[arg(long)]
        id: String,
    },
    /// Clears an account's lock after failed sign-ins.
    Unlock {
        /// Staff id.
        #[arg(long)]
        id: String,
    },
    /// Lists the administrative actions, oldest first.
    Actions,
}

/// Exit status when production refuses to start.
const REFUSED: u8 = 3;

#[tokio::main]
async fn main() -> ExitCode {
    // Before any file is created: the database, its WAL and SHM, keys.
    myna_service::private::restrict_umask();
    let args = Args::parse();
    let outcome = match args.command {
        Some(Command::Admin(admin)) => run_admin(admin),
        None => serve(args.serve).await,
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("hospital-view: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let overrides = Overrides {
        listen: args.listen,
        data_dir: args.data_dir.clone(),
        log_format: args.log_format,
        metrics_listen: args.metrics_listen,
    };
    let file = match (&args.config, args.dev) {
        (Some(path), _) => ConfigFile::load(path)?,
        (None, true) => dev_file(&args)?,
        (None, false) => anyhow::bail!(
            "give `--config FILE` (production; see deploy/hospital-view.toml) or `--dev` \
             (the development demo)"
        ),
    };
    let mut file = file.with_overrides(&overrides);
    if args.dev && args.config.is_some() {
        if let Some(id) = args.hospital_id.clone() {
            file.hospital_id = id;
        }
        if let Some(name) = args.hospital_name.clone() {
            file.hospital_name = name;
        }
        if let Some(url) = args.edge_url.clone() {
            file.edge.url = Some(url);
        }
        if let Some(dir) = args.dev_tls.clone() {
            file.tls.dev_dir = Some(dir);
        }
    }
    if !args.dev {
        // The file alone first: a refused start reads no secret and creates nothing
        // (no data directory, no database, no certificates).
        let refusals = hospital_view::production::refusals(&file.facts());
        if !refusals.is_empty() {
            return Ok(refuse(&refusals));
        }
    }
    let Startup {
        config,
        listen,
        server_tls,
        metrics_listen,
        log_format,
        facts,
    } = file.into_startup(args.dev)?;
    myna_service::init_tracing_as("info", log_format);
    myna_service::raise_open_file_limit()?;
    if args.dev {
        // The development accounts have a published password and TOTP secret.
        myna_service::require_loopback(listen, "--dev: the development accounts are public")?;
        tracing::warn!("development mode: development staff, token and TOTP key");
    } else {
        // Then the stored accounts, before the service seeds or serves anything.
        let store = hospital_view::open_store(&config)?;
        let facts = hospital_view::production::stored_facts(&store, facts)?;
        drop(store);
        let refusals = hospital_view::production::refusals(&facts);
        if !refusals.is_empty() {
            return Ok(refuse(&refusals));
        }
    }
    let state = hospital_view::AppState::open(config)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
    if let Some(metrics_addr) = metrics_listen {
        myna_service::metrics::install();
        let metrics_listener = tokio::net::TcpListener::bind(metrics_addr)
            .await
            .with_context(|| format!("listening on {metrics_addr} (metrics.listen)"))?;
        tracing::info!(addr = %metrics_listener.local_addr()?, "metrics endpoint listening");
        tokio::spawn(myna_service::metrics::serve(metrics_listener, async {
            let _ = metrics_stopped.await;
        }));
    }
    let hospital_id = state.config().hospital_id.clone();
    match server_tls {
        Some(tls) => {
            tracing::info!(%addr, %hospital_id, "hospital-view listening (TLS, edge client certificate required)");
            println!("hospital-view serving https://{addr}");
            hospital_view::run_tls(listener, state, tls, shutdown_signal()).await?;
        }
        None => {
            tracing::info!(%addr, %hospital_id, "hospital-view listening");
            println!("hospital-view serving http://{addr}");
            hospital_view::run(listener, state, shutdown_signal()).await?;
        }
    }
    let _ = stop_metrics.send(());
    Ok(ExitCode::SUCCESS)
}

/// Says why production will not start; the exit status for it.
fn refuse(refusals: &[hospital_view::production::Refusal]) -> ExitCode {
    for refusal in refusals {
        eprintln!("hospital-view: refused to start: {refusal}");
    }
    eprintln!("hospital-view: (`--dev` runs the development demo instead)");
    ExitCode::from(REFUSED)
}

/// `--dev` without a file: the flags, with today's defaults.
fn dev_file(args: &ServeArgs) -> anyhow::Result<ConfigFile> {
    let (Some(id), Some(name)) = (&args.hospital_id, &args.hospital_name) else {
        anyhow::bail!(
            "--dev without --config needs --hospital-id and --hospital-name (or \
             --config deploy/hospital-view.dev.toml)"
        );
    };
    let mut file: ConfigFile = myna_service::config::parse_toml(&format!(
        "listen = \"127.0.0.1:8081\"\nhospital_id = {}\nhospital_name = {}\ndata_dir = \"./.myna-local\"\n",
        toml_string(id),
        toml_string(name)
    ))
    .map_err(anyhow::Error::msg)?;
    file.edge.url = args.edge_url.clone();
    file.tls.dev_dir = args.dev_tls.clone();
    Ok(file)
}

fn toml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// Completes on Ctrl-C or SIGTERM (systemd's stop).
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

fn run_admin(args: AdminArgs) -> anyhow::Result<ExitCode> {
    let mut file = ConfigFile::load(&args.config)?;
    if let Some(dir) = args.data_dir {
        file.data_dir = dir;
    }
    let totp_key = file.totp_key()?;
    let config = hospital_view::Config {
        hospital_id: file.hospital_id.clone(),
        hospital_name: file.hospital_name.clone(),
        data_dir: file.data_dir.clone(),
        edge_token: None,
        edge_url: None,
        edge_tls: None,
        staff: Vec::new(),
        sign_in: hospital_view::SignInPolicy::default(),
        totp_key,
    };
    if config.totp_key.is_none() && !config.dev_totp_key_path().exists() {
        anyhow::bail!(
            "key `totp_key`: missing in {} (and no development key {})",
            args.config.display(),
            config.dev_totp_key_path().display()
        );
    }
    let store = hospital_view::open_store(&config)?;
    let by = args
        .by
        .or_else(|| std::env::var("SUDO_USER").ok())
        .or_else(|| std::env::var("USER").ok())
        .filter(|name| !name.trim().is_empty())
        .context("say who is acting with --by NAME")?;
    let actor = Actor {
        name: &by,
        now: chrono::Utc::now(),
    };
    let hospital = &config.hospital_id;
    match args.action {
        AdminCommand::Add {
            id,
            name,
            password_stdin,
        } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                Some(line.trim_end_matches(['\r', '\n']).to_string())
            } else {
                None
            };
            let given = password.is_some();
            let issued = hospital_view::admin::add(&store, &actor, hospital, &id, &name, password)?;
            println!("added {id}");
            if !given && let Some(password) = &issued.password {
                println!("password: {password}");
            }
            println!("totp: {}", issued.otpauth_uri);
            println!("(shown once: give them to {id} in person)");
        }
        AdminCommand::Disable { id } => {
            hospital_view::admin::set_disabled(&store, &actor, &id, true)?;
            println!("disabled {id}");
        }
        AdminCommand::Enable { id } => {
            hospital_view::admin::set_disabled(&store, &actor, &id, false)?;
            println!("enabled {id}");
        }
        AdminCommand::ResetTotp { id } => {
            let issued = hospital_view::admin::reset_totp(&store, &actor, hospital, &id)?;
            println!("new totp for {id}: {}", issued.otpauth_uri);
            println!("(shown once)");
        }
        AdminCommand::Unlock { id } => {
            hospital_view::admin::unlock(&store, &actor, &id)?;
            println!("unlocked {id}");
        }
        AdminCommand::List => {
            println!("id\tstate\tfailures\tlast sign-in\tname");
            for account in store.list_staff()? {
                let state = if account.disabled {
                    "disabled".to_string()
                } else if let Some(until) = account
                    .locked_until
                    .filter(|until| *until > chrono::Utc::now())
                {
                    format!("locked until {}", until.to_rfc3339())
                } else {
                    "enabled".to_string()
                };
                let last = account
                    .last_sign_in_at
                    .map_or_else(|| "never".to_string(), |t| t.to_rfc3339());
                println!(
                    "{}\t{state}\t{}\t{last}\t{}",
                    account.id, account.failed_attempts, account.display_name
                );
            }
        }
        AdminCommand::Actions => {
            for action in store.admin_actions()? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    action.seq,
                    action.at.to_rfc3339(),
                    action.actor,
                    action.action,
                    action.staff_id
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serving_and_admin_parse() {
        let parse = |args: &[&str]| Args::try_parse_from(args);
        assert!(parse(&["hospital-view", "--config", "f.toml"]).is_ok());
        assert!(parse(&["hospital-view", "--dev", "--hospital-id", "h"]).is_ok());
        assert!(
            parse(&["hospital-view", "--hospital-id", "h"]).is_err(),
            "the dev-only flags need --dev"
        );
        let admin = parse(&[
            "hospital-view",
            "admin",
            "--config",
            "f.toml",
            "--by",
            "alice",
            "add",
            "--id",
            "n1",
            "--name",
            "N",
        ])
        .unwrap();
        assert!(matches!(admin.command, Some(Command::Admin(_))));
        assert!(
            parse(&[
                "hospital-view",
                "admin",
                "--config",
                "f",
                "reset-totp",
                "--id",
                "x"
            ])
            .is_ok()
        );
        assert!(
            parse(&["hospital-view", "admin", "list"]).is_err(),
            "--config is required"
        );
    }
}
