//! `myna-bench card`: the card read a tablet does at every tap (token info, then the
//! user-authentication certificate in chunks, then X.509 parsing), once through the
//! in-process transport (the baseline: the software card answers in the same thread) and
//! once through the real PC/SC stack (mobile-core's `PcscTransport` → pcsc-lite → pcscd →
//! vsmartcard vpcd driver → TCP → the same software card). Also the PIN-verified
//! signature over a challenge, the step that costs the card an RSA operation. Needs a
//! running pcscd with the vpcd driver: `scripts/pcscd.sh start`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, ensure};
use chrono::{Days, Utc};
use mobile_core::card::jpki::{read_auth_certificate, read_token_info, sign_challenge};
use mobile_core::card::pcsc::{PcscReaders, PcscTransport};
use mobile_core::{CardKind, CardTransport, Pin};
use myna_domain::certificate::CardCertificate;
use simulations::soft_card::{DEFAULT_TEST_PIN, DevCardIssuer, SoftwareCard, generate_card_key};
use simulations::vpicc::{VPCD_READER_NAME, VirtualCardSlot};

use crate::measure::Sample;

/// Runs the card benchmark and prints its table.
pub fn run(iterations: usize) -> anyhow::Result<()> {
    let issuer = DevCardIssuer::new()?;
    let today = Utc::now().date_naive();
    let key = generate_card_key()?;
    let certificate = issuer.issue_for_key(
        &key,
        &[0x4d, 0x79, 0x4e, 0x61, 0x01],
        today - Days::new(365),
        today + Days::new(365 * 4),
    )?;
    let card = Arc::new(
        SoftwareCard::builder(certificate.clone())
            .ca_certificate(issuer.ca_certificate_der())
            .key(key)
            .auth_pin(DEFAULT_TEST_PIN)
            .build()?,
    );
    let read_and_parse = |link: &dyn CardTransport| -> anyhow::Result<()> {
        ensure!(
            read_token_info(link)? == CardKind::MyNumberCard,
            "wrong card kind"
        );
        let der = read_auth_certificate(link)?;
        ensure!(der == certificate, "read a different certificate");
        CardCertificate::from_der(&der)?;
        Ok(())
    };
    let challenge = [0x5a; 32];
    let sign = |link: &dyn CardTransport| -> anyhow::Result<()> {
        let signature = sign_challenge(link, &Pin::new(DEFAULT_TEST_PIN)?, &challenge)?;
        CardCertificate::verify_signature(&certificate, &challenge, &signature)?;
        Ok(())
    };

    let in_process: &dyn CardTransport = card.as_ref();
    let read_local = Sample::measure("certificate read + parse, in-process", iterations, || {
        read_and_parse(in_process)
    })?;
    let sign_local = Sample::measure("PIN verify + signature, in-process", iterations, || {
        sign(in_process)
    })?;

    let inserted = VirtualCardSlot::FIRST
        .insert(card.clone())
        .context("inserting the software card into vpcd")?;
    let readers = PcscReaders::establish()?;
    readers.wait_for_card(Some(VPCD_READER_NAME), Duration::from_secs(10))?;
    let link = PcscTransport::connect_reader(&readers, VPCD_READER_NAME, Duration::from_secs(5))?;
    let read_pcsc = Sample::measure("certificate read + parse, PC/SC", iterations, || {
        read_and_parse(&link)
    })?;
    let sign_pcsc = Sample::measure("PIN verify + signature, PC/SC", iterations, || sign(&link))?;
    drop(link);
    let tap_pcsc = Sample::measure(
        "connect + read + parse + disconnect, PC/SC",
        iterations,
        || {
            let link =
                PcscTransport::connect_reader(&readers, VPCD_READER_NAME, Duration::from_secs(5))?;
            read_and_parse(&link)
        },
    )?;
    inserted.remove()?;
    ensure!(
        card.pin_tries_left(simulations::soft_card::CardPin::UserAuthentication) == 3,
        "the benchmark spent a PIN try"
    );

    println!(
        "card benchmark: {iterations} iterations each, certificate of {} bytes",
        certificate.len()
    );
    println!(
        "{:<44} {:>10} {:>10} {:>12}",
        "operation", "p50 ms", "p99 ms", "p50 ratio"
    );
    let rows = [
        (&read_local, &read_local),
        (&read_pcsc, &read_local),
        (&tap_pcsc, &read_local),
        (&sign_local, &sign_local),
        (&sign_pcsc, &sign_local),
    ];
    for (sample, baseline) in rows {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{:<44} {:>10.3} {:>10.3} {:>11.1}x",
            sample.name,
            ms(sample.percentile(50.0)),
            ms(sample.percentile(99.0)),
            ms(sample.percentile(50.0)) / ms(baseline.percentile(50.0)),
        );
    }
    println!("(ratios: PC/SC rows against the in-process row of the same operation)");
    Ok(())
}
