//! `myna-local`: the whole system on this machine, in development mode (embedded
//! development defaults: credentials, certificates, portal sign-in).
//!
//! Starts edge-agent and two hospital dashboards on loopback, loads the synthetic
//! population into SQLite files under `--data-dir`, drives a few incidents through the
//! tablet core with software cards, prints the URLs, and serves until Ctrl-C. With
//! `--insert-card`, the first simulated patient's software card also sits in the vpcd
//! virtual reader of the local pcscd ("Virtual PCD 00 00"; `scripts/pcscd.sh start`) while
//! serving, for PC/SC tools and a desktop tablet build.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use simulations::scenario::{carded_patients, demo_plans};
use simulations::stack::{LocalStack, StackConfig};
use soft_card::dev_pin;
use soft_card::vpicc::{VPCD_READER_NAME, VirtualCardSlot};

/// Run My Number emergency locally, in development mode (development credentials).
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Directory for the SQLite files.
    #[arg(long, default_value = "./.myna-local")]
    data_dir: PathBuf,
    /// edge-agent port.
    #[arg(long, default_value_t = 8080)]
    edge_port: u16,
    /// First hospital dashboard port (the second uses the next one).
    #[arg(long, default_value_t = 8081)]
    hospital_port: u16,
    /// Synthetic patients to load at first start.
    #[arg(long, default_value_t = 2_000)]
    patients: u64,
    /// Incidents to simulate after start.
    #[arg(long, default_value_t = 4)]
    incidents: usize,
    /// Exit after the incidents instead of serving until Ctrl-C.
    #[arg(long)]
    exit: bool,
    /// Insert the first simulated patient's card into the local pcscd's vpcd reader.
    #[arg(long)]
    insert_card: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    myna_service::init_tracing("warn");
    myna_service::raise_open_file_limit()?;
    let args = Args::parse();
    let at = |port| SocketAddr::from(([127, 0, 0, 1], port));
    // The edge as deployed: HTTPS with development certificates (made once in
    // `<data-dir>/tls`, then kept), tablets and hospital-views identified by client
    // certificates from the same development CA.
    let stack = LocalStack::start_with_edge_tls(StackConfig {
        data_dir: args.data_dir.clone(),
        edge_addr: at(args.edge_port),
        hospital_addrs: [at(args.hospital_port), at(args.hospital_port + 1)],
        patients: args.patients,
        revoked_patients: Vec::new(),
        hospital_fronts: [None, None],
        more_devices: Vec::new(),
    })
    .await?;
    let (seed, today) = (stack.cards.seed(), stack.cards.today());
    let dispatcher = stack.dispatcher(1);
    let hospital_ids: Vec<String> = stack.hospitals.iter().map(|h| h.id.clone()).collect();
    let offset = rand_offset();
    let patients: Vec<u64> =
        carded_patients(seed, today, offset + args.incidents).split_off(offset);

    println!(
        "\nMy Number emergency — local stack in development mode (development credentials, \
         certificates and sign-in; data in {}). For production see deploy/ and \
         docs/configuration.md.\n",
        args.data_dir.display()
    );
    println!("Simulated incidents:");
    let mut portal_links = Vec::new();
    for plan in demo_plans(&patients, &hospital_ids) {
        let consent = consent_text(&plan.consent);
        let hospital = plan.hospital_id.clone();
        let report = dispatcher.run(plan).await?;
        println!(
            "  {}  {:<36} records shown {:>3}  → {} (delivered: {})",
            report.patient_id,
            consent,
            report.summary.as_ref().map_or(0, |s| s.records.len()),
            hospital,
            report.handoff.delivered
        );
        portal_links.push(format!(
            "{}/portal/dev-sign-in?patient={}",
            stack.edge_url, report.patient_id
        ));
    }
    println!(
        "\nER dashboards (sign in as er-nurse or er-doctor, password {}, and the 6-digit code of \
         TOTP secret {} in any authenticator app; `oathtool --totp -b {}` prints it):",
        hospital_view::DEV_STAFF_PASSWORD,
        hospital_view::DEV_TOTP_SECRET,
        hospital_view::DEV_TOTP_SECRET
    );
    for h in &stack.hospitals {
        println!("  {:<55} {}/", h.name, h.url);
    }
    let tls_dir = args.data_dir.join("tls");
    println!(
        "\nPatient portal (viewing history), development sign-in (HTTPS with the development \
         CA {}: your browser warns until you trust it):",
        tls_dir.join("ca.pem").display()
    );
    for link in &portal_links {
        println!("  {link}");
    }
    println!(
        "\nTablet API: {}/v1 — mutual TLS: trust {} and present a dev tablet's client \
         certificate from {} (e.g. tablet-tfd-0001.pem and tablet-tfd-0001-key.pem)",
        stack.edge_url,
        tls_dir.join("ca.pem").display(),
        tls_dir.join("clients").display()
    );
    println!(
        "\nAccess log (tamper-evident): {}/v1/log/checkpoint\n  verifier key: {}\n  check it:     cargo run -p edge-agent --bin myna-log -- verify --db {} --key {}",
        stack.edge_url,
        stack.log_key,
        stack.edge_database().display(),
        stack.log_key
    );
    let inserted = match (args.insert_card, patients.first()) {
        (true, Some(&index)) => {
            let card = dispatcher.card(index).await?;
            let inserted =
                tokio::task::spawn_blocking(move || VirtualCardSlot::FIRST.insert(card)).await??;
            let patient = population::patient(seed, index, today);
            println!(
                "\nCard of {} inserted in PC/SC reader \"{VPCD_READER_NAME}\" (test PINs {}).",
                patient.header.id,
                dev_pin(&patient)
            );
            Some(inserted)
        }
        _ => None,
    };
    if !args.exit {
        println!("\nServing until Ctrl-C.");
        tokio::signal::ctrl_c().await?;
    }
    if let Some(inserted) = inserted {
        tokio::task::spawn_blocking(move || inserted.remove()).await??;
    }
    stack.stop().await
}

/// Starts each run's incidents at a different patient so repeated runs show new arrivals.
fn rand_offset() -> usize {
    (chrono::Utc::now().timestamp() % 50) as usize
}

/// "Consent difficult (unconscious)" and the like, from the shared labels.
fn consent_text(consent: &myna_domain::consent::ConsentState) -> String {
    use myna_domain::consent::ConsentState;
    use myna_domain::labels;
    let (_, en) = labels::consent(consent);
    match consent {
        ConsentState::Difficult { reason } => {
            let why = labels::difficulty(reason).map_or(reason.label(), |(_, en)| en);
            format!("{en} ({why})")
        }
        _ => en.to_string(),
    }
}
