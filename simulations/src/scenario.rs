//! One ambulance incident driven through `mobile-core`, exactly as the tablet app would:
//! tap the (software) card, confirm the face photo, record consent, fetch the summary if
//! allowed, pick a hospital and hand off.

use std::sync::Arc;

use anyhow::Context;
use chrono::NaiveDate;
use mobile_core::{EdgeClient, EmergencyIncident};
use myna_domain::consent::{ConsentState, DifficultyReason};
use myna_domain::identity::PatientId;
use myna_domain::summary::EmergencySummary;
use myna_domain::wire::{HandoffRequest, HandoffResponse, Vitals};

use crate::soft_card::{DevCardIssuer, SoftwareCard};

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
    pub handoff: HandoffResponse,
}

/// Drives incidents for one tablet against one edge.
pub struct Dispatcher {
    seed: u64,
    today: NaiveDate,
    issuer: DevCardIssuer,
    edge_url: String,
    device_token: String,
}

impl Dispatcher {
    /// A dispatcher for the population `seed` as of `today`.
    pub fn new(
        seed: u64,
        today: NaiveDate,
        edge_url: String,
        device_token: String,
    ) -> anyhow::Result<Self> {
        Ok(Dispatcher {
            seed,
            today,
            issuer: DevCardIssuer::new()?,
            edge_url,
            device_token,
        })
    }

    /// The software card of synthetic patient `index` (fails if they have none).
    pub fn card_for(&self, index: u64) -> anyhow::Result<SoftwareCard> {
        let patient = population::patient(self.seed, index, self.today);
        let card = patient.card.context("this patient has no My Number card")?;
        Ok(SoftwareCard::new(self.issuer.issue(
            &card.serial,
            card.not_before,
            card.not_after,
        )?))
    }

    /// A fresh incident on this dispatcher's tablet.
    pub fn incident(&self, crew_member_id: &str) -> anyhow::Result<Arc<EmergencyIncident>> {
        let edge = EdgeClient::new(self.edge_url.clone(), self.device_token.clone())?;
        Ok(Arc::new(EmergencyIncident::new(
            edge,
            crew_member_id.to_string(),
        )))
    }

    /// Runs one incident from card tap to handoff.
    pub async fn run(&self, plan: IncidentPlan) -> anyhow::Result<IncidentReport> {
        let patient_id = population::patient(self.seed, plan.patient_index, self.today)
            .header
            .id;
        let card = self.card_for(plan.patient_index)?;
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
            })
            .await?;
        incident.close();
        Ok(IncidentReport {
            incident_id: incident.incident_id(),
            patient_id,
            summary,
            handoff,
        })
    }
}

/// Reads the card on a blocking thread, as card I/O must never block the async runtime.
pub async fn tap(
    incident: &Arc<EmergencyIncident>,
    card: SoftwareCard,
) -> anyhow::Result<mobile_core::CardReading> {
    let incident = Arc::clone(incident);
    Ok(tokio::task::spawn_blocking(move || incident.read_card(&card)).await??)
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
