//! `edge-agent` binary: serve the API on embedded local defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

/// The edge-agent service.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory for the SQLite file.
    #[arg(long, default_value = "./.myna-local")]
    data_dir: PathBuf,
    /// Synthetic patients to load at first start.
    #[arg(long, default_value_t = 2_000)]
    patients: u64,
    /// Receiving hospitals as `id=base_url` (repeatable), served by hospital-view.
    #[arg(long = "hospital", value_name = "ID=URL")]
    hospitals: Vec<String>,
    /// Bearer token hospital-view instances expect from the edge.
    #[arg(long, env = "HOSPITAL_EDGE_TOKEN", default_value = "dev-edge-token")]
    hospital_token: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    myna_service::init_tracing("info");
    let args = Args::parse();
    // Development credentials (fixed device tokens, portal sign-in by patient id) are always
    // on in this binary until device certificates and card sign-in land: loopback only.
    myna_service::require_loopback(args.listen, "this build uses development credentials")?;
    let mut config = edge_agent::config::Config::local(args.data_dir);
    config.dataset.patients = args.patients;
    for (n, spec) in args.hospitals.iter().enumerate() {
        let (id, url) = spec.split_once('=').context("--hospital must be ID=URL")?;
        config = config.with_hospital(
            id,
            id,
            if n == 0 { 3 } else { 2 },
            url,
            &args.hospital_token,
        );
    }
    let state = edge_agent::AppState::open(config, edge_agent::clock::system())?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!(addr = %listener.local_addr()?, "edge-agent listening");
    edge_agent::run(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
