//! Tap-to-summary through the exported API: what the paramedic waits for between laying the
//! card on the tablet and seeing the emergency summary.
//!
//! The whole stack runs in this process (edge-agent served over loopback TLS with the
//! development CA, two hospital-views, SQLite files on disk). The tablet is a
//! [`mobile_ffi::Tablet`] with its store on disk, trusting only that CA; the card is a
//! software My Number card behind an implementation of the exported [`CardTransport`]
//! trait, as the apps implement it over NFC. Each incident: `read_card` (JPKI over APDUs)
//! → `confirm_identity` (face photo) → `record_consent(Given)` → `fetch_summary`; every
//! step that writes is durable on both sides (the edge fsyncs its access log, the tablet
//! its store) before it returns.
//!
//! Baseline, measured in the same run on the same tablet and connection: one
//! `hospitals()` call (a TLS round trip to the edge, no write). The ratio says how many
//! such round trips the whole tap-to-summary costs.
//!
//! `cargo bench -p mobile-ffi --bench tap_to_summary -- --incidents 300`

use std::sync::Arc;
use std::time::{Duration, Instant};

use mobile_ffi::{CardTransport, Consent, Tablet, TabletConfig, TransportError};
use simulations::scenario::carded_patients;
use simulations::stack::{LocalStack, StackConfig};
use soft_card::SoftwareCard;

/// The software card behind the exported transport trait.
struct SoftTransport(Arc<SoftwareCard>);

impl CardTransport for SoftTransport {
    fn transmit(&self, command: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        Ok(mobile_core::CardTransport::transmit(&*self.0, command)?)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> anyhow::Result<()> {
    let mut incidents = 200usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--incidents" {
            incidents = args
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(incidents);
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(incidents))
}

async fn run(incidents: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let stack =
        LocalStack::start_with_edge_tls(StackConfig::ephemeral(dir.path().join("stack"), 200))
            .await?;
    anyhow::ensure!(stack.edge_url.starts_with("https://"), "edge not on TLS");
    // The edge requires the tablet's client certificate (mTLS).
    let tablet_tls = stack.tablet_tls(1);
    let tablet = Tablet::open(TabletConfig {
        store_path: dir.path().join("tablet.sqlite3").display().to_string(),
        storage_key: vec![7; 32],
        edge_base_url: stack.edge_url.clone(),
        device_token: stack.device_token(1),
        edge_ca_der: stack.edge_ca_der(),
        client_certificate_pem: tablet_tls.as_ref().map(|t| t.certificate_pem.clone()),
        client_key_pem: tablet_tls.map(|t| t.key_pem),
    })?;

    // Twenty patients' cards (an RSA key each), made before any timing.
    let dispatcher = stack.dispatcher(1);
    let mut cards = Vec::new();
    for index in carded_patients(stack.cards.seed(), stack.cards.today(), 20) {
        cards.push(dispatcher.card(index).await?);
    }

    // Warm-up: the TLS session and both databases' first pages.
    let warm = tablet.start_incident("crew-bench".into())?;
    warm.hospitals(None).await?;

    let mut baseline = Vec::with_capacity(incidents);
    let mut tap = Vec::with_capacity(incidents);
    for n in 0..incidents {
        let started = Instant::now();
        warm.hospitals(None).await?;
        baseline.push(started.elapsed());

        let card = Arc::clone(&cards[n % cards.len()]);
        card.put_back();
        let incident = tablet.start_incident("crew-bench".into())?;
        let started = Instant::now();
        incident.read_card(Arc::new(SoftTransport(card))).await?;
        let confirmed = incident.confirm_identity(true).await?;
        anyhow::ensure!(!confirmed.queued, "the edge is up: nothing may be queued");
        incident.record_consent(Consent::Given).await?;
        let summary = incident.fetch_summary().await?;
        tap.push(started.elapsed());
        anyhow::ensure!(!summary.records.is_empty(), "a carded patient has records");
        incident.close()?;
    }
    warm.close()?;
    stack.stop().await?;

    baseline.sort();
    tap.sort();
    let (b50, b99) = (percentile(&baseline, 0.50), percentile(&baseline, 0.99));
    let (t50, t99) = (percentile(&tap, 0.50), percentile(&tap, 0.99));
    println!(
        "tap-to-summary through the exported API, edge on loopback TLS, {incidents} incidents"
    );
    println!(
        "  baseline  hospitals() round trip   p50 {:7.2} ms   p99 {:7.2} ms",
        ms(b50),
        ms(b99)
    );
    println!(
        "  tap → summary (read, photo, consent, fetch) p50 {:7.2} ms   p99 {:7.2} ms   ({:.1}× / {:.1}× baseline)",
        ms(t50),
        ms(t99),
        ms(t50) / ms(b50),
        ms(t99) / ms(b99)
    );
    Ok(())
}
