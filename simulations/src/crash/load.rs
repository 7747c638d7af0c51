//! The load: tablet tasks running incidents over HTTP back to back (open with a card and
//! photo check, record consent, fetch the summary one to three times), noting in the
//! [`Ledger`] each access record the edge acknowledges.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError};

use anyhow::Context;
use myna_domain::consent::{ConsentState, DifficultyReason};
use myna_domain::wire::{ConsentRequest, IdentityEvidenceDto, OpenIncidentRequest};
use rand::Rng;
use rand::rngs::StdRng;
use soft_card::{DevCardIssuer, generate_card_key};

use super::ledger::Ledger;
use crate::scenario::carded_patients;

/// Card certificates the tablets present (one per carded patient, all with one key: the
/// harness never signs).
const CARDS: usize = 24;

/// What the tablets need to talk to the edge.
pub(super) struct Tablets {
    cards: Vec<Vec<u8>>,
    tokens: Vec<String>,
}

/// Certificates of the process's development CA for the first carded patients (one
/// throw-away key for all: the tablets never ask the card to sign), the CA written to
/// `ca_file` for `--card-ca`.
pub(super) fn issue_cards(
    seed: u64,
    tokens: Vec<String>,
    ca_file: &Path,
) -> anyhow::Result<Tablets> {
    let issuer = DevCardIssuer::new()?;
    std::fs::write(ca_file, issuer.ca_certificate_der()).context("writing the card CA")?;
    let today = chrono::Utc::now().date_naive();
    let key = generate_card_key()?;
    let cards = carded_patients(seed, today, CARDS)
        .into_iter()
        .map(|index| {
            let card = population::patient(seed, index, today)
                .card
                .context("carded patient without a card")?;
            Ok(issuer.issue_for_key(&key, &card.serial, card.not_before, card.not_after)?)
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Tablets { cards, tokens })
}

/// One tablet: incidents back to back until `stop`. Errors are requests the kill cut off.
pub(super) async fn tablet(
    client: reqwest::Client,
    url: String,
    tablets: Arc<Tablets>,
    n: usize,
    ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
    mut rng: StdRng,
) {
    let token = &tablets.tokens[n % tablets.tokens.len()];
    while !stop.load(Ordering::SeqCst) {
        let card = &tablets.cards[rng.random_range(0..tablets.cards.len())];
        let plan = IncidentPlan {
            incident: uuid::Builder::from_random_bytes(rng.random()).into_uuid(),
            consent: match rng.random_range(0..10) {
                0 => ConsentState::Refused,
                1 | 2 => ConsentState::Difficult {
                    reason: DifficultyReason::Unconscious,
                },
                _ => ConsentState::Given,
            },
            summaries: rng.random_range(1..=3),
        };
        let call = Call {
            client: &client,
            url: &url,
            token,
            ledger: &ledger,
        };
        if call.incident(card, &plan).await.is_err() {
            ledger.cut_off.fetch_add(1, Ordering::SeqCst);
        }
    }
}

struct IncidentPlan {
    incident: uuid::Uuid,
    consent: ConsentState,
    summaries: u32,
}

struct Call<'a> {
    client: &'a reqwest::Client,
    url: &'a str,
    token: &'a str,
    ledger: &'a Ledger,
}

impl Call<'_> {
    /// Runs one incident, acknowledging each access record the edge confirms. `Err`: a
    /// request got no answer.
    async fn incident(&self, card: &[u8], plan: &IncidentPlan) -> reqwest::Result<()> {
        let id = plan.incident.to_string();
        let open = OpenIncidentRequest {
            incident_id: myna_domain::access::IncidentId(plan.incident),
            crew_member_id: "crew-crash".into(),
            identity: IdentityEvidenceDto::card_with_photo(card, true),
        };
        let response = self
            .client
            .post(format!("{}/v1/incidents", self.url))
            .bearer_auth(self.token)
            .json(&open)
            .send()
            .await?;
        if !self.expect(response, 201, "open").await? {
            return Ok(());
        }
        let response = self
            .client
            .put(format!("{}/v1/incidents/{id}/consent", self.url))
            .bearer_auth(self.token)
            .json(&ConsentRequest::from_domain(&plan.consent))
            .send()
            .await?;
        if !self.expect(response, 200, "consent").await? {
            return Ok(());
        }
        let refused = plan.consent == ConsentState::Refused;
        if refused {
            self.ledger.acknowledge(&id, |a| a.refused += 1);
        }
        for _ in 0..plan.summaries {
            let response = self
                .client
                .get(format!("{}/v1/incidents/{id}/summary", self.url))
                .bearer_auth(self.token)
                .send()
                .await?;
            let expected = if refused { 403 } else { 200 };
            if !self.expect(response, expected, "summary").await? {
                return Ok(());
            }
            self.ledger.acknowledge(&id, |a| {
                if refused {
                    a.denied += 1;
                } else {
                    a.disclosed += 1;
                }
            });
        }
        Ok(())
    }

    /// Whether the response has `status` (its whole body read: the answer is complete).
    /// Any other status is noted as unexpected.
    async fn expect(
        &self,
        response: reqwest::Response,
        status: u16,
        step: &str,
    ) -> reqwest::Result<bool> {
        let got = response.status().as_u16();
        let body = response.bytes().await?;
        if got == status {
            return Ok(true);
        }
        let code = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_string))
            .unwrap_or_default();
        self.ledger
            .unexpected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(format!("{step}: expected {status}, got {got} {code}"));
        Ok(false)
    }
}
