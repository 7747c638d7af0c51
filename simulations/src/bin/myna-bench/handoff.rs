//! Handoff to dashboard: the time from the tablet's handoff call (mobile-core's
//! `EmergencyIncident::hand_off`, through the edge, to hospital-view) to the `arrival`
//! event reaching each of many connected dashboards (`GET /events`, the stream a browser
//! reads), against the baseline of a plain loopback HTTP round trip to the same
//! hospital-view measured in the same run.
//!
//! The whole local stack runs in this process (`LocalStack`: edge-agent and two
//! hospital-views on loopback, SQLite files with `synchronous=FULL`). Each handoff is a
//! fresh incident (card tap, photo check, consent, summary) so the edge sees real work;
//! only the handoff call is timed. Handoffs go one at a time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use hospital_view::stream::CardEvent;
use myna_domain::consent::ConsentState;
use myna_domain::wire::{HandoffRequest, Vitals};
use simulations::scenario::{carded_patients, tap};
use simulations::stack::{LocalStack, StackConfig};

use crate::measure::{Sample, ms};

/// When each dashboard received each handoff's card.
type Arrivals = Arc<Mutex<HashMap<uuid::Uuid, Vec<Instant>>>>;

pub fn run(handoffs: usize, dashboards: usize) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench(handoffs, dashboards))
}

async fn staff_cookie(url: &str) -> anyhow::Result<String> {
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?
        .post(format!("{url}/sign-in"))
        .form(&[
            ("staff_id", "er-nurse"),
            ("password", hospital_view::DEV_STAFF_PASSWORD),
            ("code", &hospital_view::dev_totp_code(chrono::Utc::now())),
        ])
        .send()
        .await?;
    let cookie = response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .context("sign-in gave no session")?
        .to_str()?;
    Ok(cookie.split(';').next().unwrap_or_default().to_string())
}

/// One dashboard: reads the event stream and notes when each card arrives.
async fn dashboard(url: String, cookie: String, arrivals: Arrivals) -> anyhow::Result<()> {
    let response = reqwest::Client::new()
        .get(format!("{url}/events"))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await?
        .error_for_status()?;
    let mut events = response.bytes_stream().eventsource();
    while let Some(event) = events.next().await {
        let event = event?;
        if event.event != "arrival" {
            continue;
        }
        let at = Instant::now();
        let card: CardEvent = serde_json::from_str(&event.data)?;
        arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(card.handoff_id)
            .or_default()
            .push(at);
    }
    Ok(())
}

async fn bench(handoffs: usize, dashboards: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let patients = 2_000;
    let stack =
        LocalStack::start(StackConfig::ephemeral(dir.path().to_path_buf(), patients)).await?;
    let hospital = stack.hospitals[0].clone();
    let cookie = staff_cookie(&hospital.url).await?;
    let arrivals: Arrivals = Arc::default();
    let readers: Vec<_> = (0..dashboards)
        .map(|_| {
            tokio::spawn(dashboard(
                hospital.url.clone(),
                cookie.clone(),
                Arc::clone(&arrivals),
            ))
        })
        .collect();
    // Let every dashboard connect before the first handoff.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let http = reqwest::Client::new();
    let mut round_trips = Vec::with_capacity(handoffs);
    for _ in 0..handoffs.div_ceil(10) + handoffs {
        let start = Instant::now();
        http.get(format!("{}/healthz", hospital.url))
            .send()
            .await?
            .error_for_status()?;
        round_trips.push(start.elapsed());
    }
    // The first tenth warmed up connections; they are not counted.
    let baseline = sample(
        "loopback GET /healthz (baseline)",
        round_trips.split_off(handoffs.div_ceil(10)),
    );

    let dispatcher = stack.dispatcher(1);
    let carded = carded_patients(stack.cards.seed(), stack.cards.today(), 200);
    let mut calls = Vec::with_capacity(handoffs);
    let mut sent = Vec::with_capacity(handoffs);
    for n in 0..handoffs {
        let incident = dispatcher.incident("crew-bench")?;
        tap(&incident, dispatcher.card(carded[n % carded.len()]).await?).await?;
        incident.confirm_identity(true).await?;
        incident.record_consent(ConsentState::Given).await?;
        incident.fetch_summary().await?;
        let request = HandoffRequest {
            hospital_id: hospital.id.clone(),
            chief_complaint: "胸痛 Chest pain".into(),
            eta_minutes: 10,
            vitals: Vitals::default(),
            handoff_id: None,
            scene: None,
        };
        let start = Instant::now();
        let response = incident.hand_off(request).await?;
        calls.push(start.elapsed());
        anyhow::ensure!(response.delivered, "handoff {n} was not delivered at once");
        sent.push((response.handoff_id, start));
        incident.close()?;
        if (n + 1) % 100 == 0 {
            eprintln!("  {} / {handoffs} handoffs", n + 1);
        }
    }
    // Give the last events a moment to reach every dashboard.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for reader in &readers {
        reader.abort();
    }

    let received = arrivals
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let mut every = Vec::with_capacity(handoffs * dashboards);
    let mut slowest = Vec::with_capacity(handoffs);
    let mut missing = 0;
    for (id, start) in &sent {
        let times = received.get(id).map(Vec::as_slice).unwrap_or_default();
        missing += dashboards.saturating_sub(times.len());
        let latencies: Vec<Duration> = times.iter().map(|t| t.duration_since(*start)).collect();
        slowest.extend(latencies.iter().max().copied());
        every.extend(latencies);
    }
    let call = sample("handoff call (tablet → edge → hospital ack)", calls);
    let every = sample("handoff call → event at each dashboard", every);
    let slowest = sample(
        "handoff call → event at the last of the dashboards",
        slowest,
    );

    println!(
        "handoff benchmark: {handoffs} handoffs, {dashboards} dashboards on GET /events, local stack in-process (edge rate limits off)"
    );
    println!(
        "{:<55} {:>8} {:>9} {:>9} {:>11}",
        "measurement", "count", "p50 ms", "p99 ms", "p50 ratio"
    );
    for s in [&baseline, &call, &every, &slowest] {
        println!(
            "{:<55} {:>8} {:>9.2} {:>9.2} {:>10.1}x",
            s.name,
            s.sorted.len(),
            ms(s.percentile(50.0)),
            ms(s.percentile(99.0)),
            s.percentile(50.0).as_secs_f64() / baseline.percentile(50.0).as_secs_f64()
        );
    }
    println!("events missing: {missing} of {}", handoffs * dashboards);
    stack.stop().await?;
    Ok(())
}

fn sample(name: &'static str, mut sorted: Vec<Duration>) -> Sample {
    sorted.sort_unstable();
    if sorted.is_empty() {
        sorted.push(Duration::ZERO);
    }
    Sample { name, sorted }
}
