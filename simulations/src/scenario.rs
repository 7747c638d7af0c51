//! One ambulance incident driven through `mobile-core`, exactly as the tablet app would:
//! tap the (software) card, confirm the face photo, record consent, fetch the summary if
//! allowed, pick a hospital and hand off.

use std::sync::Arc;

use chrono::NaiveDate;
use mobile_core::{EdgeClient, EmergencyIncident};
use myna_domain::consent::{ConsentState, DifficultyReason};
use myna_domain::identity::PatientId;
use myna_domain::summary::EmergencySummary;
use myna_domain::wire::{HandoffRequest, Vitals};
use soft_card::{DevCardIssuer, PopulationCards, SoftwareCard};

/// What happens at one scene.
#[derive(Debug, Clone)]
pub struct IncidentPlan {
    /// Index of the synthetic patient.
    pub patient_index: u64,
    /// The consent answer at the scene.
    pub consent: ConsentState,
    /// Receiving hospital.
    pub hospital_id: String,
    /// Chief complaint.
    pub chief_complaint: String,
    /// Minutes to arrival.
    pub eta_minutes: u16,
    /// Vital signs.
    pub vitals: Vitals,
}

/// What the incident produced.
#[derive(Debug, Clone)]
pub struct IncidentReport {
    /// Incident id.
    pub incident_id: String,
    /// The patient.
    pub patient_id: PatientId,
    /// The summary the crew saw (none after a refusal).
    pub summary: Option<EmergencySummary>,
    /// The handoff.
    pub handoff: mobile_core::HandoffSent,
}

/// Drives incidents for one tablet against one edge.
#[derive(Debug)]
pub struct Dispatcher {
    cards: Arc<PopulationCards>,
    edge_url: String,
    device_token: String,
    tls: Option<TabletTls>,
}

/// The deployment CA and the tablet's client certificate, for an edge over mTLS.
#[derive(Clone)]
pub struct TabletTls {
    /// The CA (DER) the edge's certificate chains to.
    pub ca_der: Vec<u8>,
    /// The tablet's client certificate (PEM).
    pub certificate_pem: String,
    /// Its private key (PEM).
    pub key_pem: String,
}

impl std::fmt::Debug for TabletTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TabletTls").finish_non_exhaustive()
    }
}

impl TabletTls {
    /// A client of the edge at `edge_url` presenting this certificate.
    pub fn edge_client(
        &self,
        edge_url: String,
        device_token: String,
    ) -> anyhow::Result<EdgeClient> {
        Ok(EdgeClient::with_client_certificate(
            edge_url,
            device_token,
            self.ca_der.clone(),
            &self.certificate_pem,
            &self.key_pem,
        )?)
    }
}

impl Dispatcher {
    /// A dispatcher tapping the cards of `cards`' population, whose CA the edge at
    /// `edge_url` must trust (see [`crate::stack::LocalStack::dispatcher`]).
    pub fn new(cards: Arc<PopulationCards>, edge_url: String, device_token: String) -> Self {
        Dispatcher {
            cards,
            edge_url,
            device_token,
            tls: None,
        }
    }

    /// This dispatcher, its tablet reaching the edge over mTLS with `tls`.
    pub fn with_tls(mut self, tls: TabletTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The software card of synthetic patient `index` (fails if they have none), created
    /// on first use and the same card afterwards; PINs are
    /// [`dev_pin`](soft_card::dev_pin). Blocks for RSA key generation the first
    /// time: in async code prefer [`Dispatcher::card`].
    pub fn card_for(&self, index: u64) -> anyhow::Result<Arc<SoftwareCard>> {
        Ok(self.cards.card(index)?)
    }

    /// [`Dispatcher::card_for`] on a blocking thread.
    pub async fn card(&self, index: u64) -> anyhow::Result<Arc<SoftwareCard>> {
        let cards = Arc::clone(&self.cards);
        Ok(tokio::task::spawn_blocking(move || cards.card(index)).await??)
    }

    /// The development CA of every card this dispatcher hands out.
    pub fn issuer(&self) -> &DevCardIssuer {
        self.cards.issuer()
    }

    /// A fresh incident on this dispatcher's tablet.
    pub fn incident(&self, crew_member_id: &str) -> anyhow::Result<Arc<EmergencyIncident>> {
        let edge = match &self.tls {
            Some(tls) => tls.edge_client(self.edge_url.clone(), self.device_token.clone())?,
            None => EdgeClient::new(self.edge_url.clone(), self.device_token.clone())?,
        };
        Ok(Arc::new(EmergencyIncident::new(
            edge,
            crew_member_id.to_string(),
        )))
    }

    /// Runs one incident from card tap to handoff.
    pub async fn run(&self, plan: IncidentPlan) -> anyhow::Result<IncidentReport> {
        let patient_id =
            population::patient(self.cards.seed(), plan.patient_index, self.cards.today())
                .header
                .id;
        let card = self.card(plan.patient_index).await?;
        let incident = self.incident("crew-0001")?;
        tap(&incident, card).await?;
        incident.confirm_identity(true).await?;
        let refused = plan.consent == ConsentState::Refused;
        incident.record_consent(plan.consent).await?;
        let summary = if refused {
            None
        } else {
            Some(incident.fetch_summary().await?)
        };
        let handoff = incident
            .hand_off(HandoffRequest {
                hospital_id: plan.hospital_id,
                chief_complaint: plan.chief_complaint,
                eta_minutes: plan.eta_minutes,
                vitals: plan.vitals,
                handoff_id: None,
                scene: None,
            })
            .await?;
        incident.close()?;
        Ok(IncidentReport {
            incident_id: incident.incident_id(),
            patient_id,
            summary,
            handoff,
        })
    }
}

/// Taps `card` on the tablet: the card powers up fresh in the reader's field (nothing
/// selected, no PIN verified; PIN counters kept) and is read on a blocking thread, as card
/// I/O must never block the async runtime. Takes a card or a shared `Arc` of one.
pub async fn tap(
    incident: &Arc<EmergencyIncident>,
    card: impl Into<Arc<SoftwareCard>>,
) -> anyhow::Result<mobile_core::CardReading> {
    let incident = Arc::clone(incident);
    let card = card.into();
    Ok(tokio::task::spawn_blocking(move || {
        card.reset();
        incident.read_card(&*card)
    })
    .await??)
}

/// A small demonstration mix: consent given, unconscious, refused, given.
pub fn demo_plans(patients: &[u64], hospitals: &[String]) -> Vec<IncidentPlan> {
    let complaints = [
        (
            "胸痛 Chest pain",
            ConsentState::Given,
            Vitals {
                heart_rate: Some(112),
                systolic_mmhg: Some(92),
                diastolic_mmhg: Some(60),
                spo2_percent: Some(94),
                respiratory_rate: Some(24),
                gcs: Some(15),
                temperature_c: Some(36.4),
            },
        ),
        (
            "意識障害 Unresponsive at home",
            ConsentState::Difficult {
                reason: DifficultyReason::Unconscious,
            },
            Vitals {
                heart_rate: Some(48),
                systolic_mmhg: Some(188),
                diastolic_mmhg: Some(102),
                spo2_percent: Some(91),
                respiratory_rate: Some(8),
                gcs: Some(6),
                temperature_c: Some(35.9),
            },
        ),
        (
            "転倒 Fall, hip pain",
            ConsentState::Refused,
            Vitals {
                heart_rate: Some(88),
                systolic_mmhg: Some(146),
                diastolic_mmhg: Some(84),
                spo2_percent: Some(97),
                respiratory_rate: Some(18),
                gcs: Some(15),
                temperature_c: Some(36.6),
            },
        ),
        (
            "呼吸困難 Shortness of breath",
            ConsentState::Given,
            Vitals {
                heart_rate: Some(124),
                systolic_mmhg: Some(104),
                diastolic_mmhg: Some(70),
                spo2_percent: Some(86),
                respiratory_rate: Some(30),
                gcs: Some(14),
                temperature_c: Some(38.2),
            },
        ),
    ];
    patients
        .iter()
        .zip(complaints.iter().cycle())
        .enumerate()
        .map(
            |(n, (patient, (complaint, consent, vitals)))| IncidentPlan {
                patient_index: *patient,
                consent: consent.clone(),
                hospital_id: hospitals[n % hospitals.len()].clone(),
                chief_complaint: (*complaint).into(),
                eta_minutes: 6 + 4 * n as u16,
                vitals: vitals.clone(),
            },
        )
        .collect()
}

/// Indices of the first `n` patients with a currently valid card.
pub fn carded_patients(seed: u64, today: NaiveDate, n: usize) -> Vec<u64> {
    (0..)
        .filter(|i| {
            population::patient(seed, *i, today)
                .card
                .is_some_and(|c| c.not_before <= today && today < c.not_after)
        })
        .take(n)
        .collect()
}
