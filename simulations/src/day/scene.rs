//! One call, as the crew works it on the unit's tablet: arrive, tap the card, check the
//! face photo, ask consent, fetch the summary (retrying while there is no signal), hand
//! off, look at the summary again on the way, close on arrival.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mobile_core::{EmergencyIncident, MobileError};
use myna_domain::consent::ConsentState;
use myna_domain::handoff::SceneKind;
use myna_domain::wire::HandoffRequest;
use serde::Serialize;
use soft_card::PopulationCards;

use super::clock::SimClock;
use super::load::Dispatch;
use super::tablets::Tablets;

/// Call to arrival at the scene (national average about 10 minutes).
pub(super) const RESPONSE: Duration = Duration::from_secs(10 * 60);
/// Card tap to the handoff call (assessment, hospital selection).
pub(super) const AT_SCENE: Duration = Duration::from_secs(12 * 60);
/// Handoff to looking at the summary again on the way.
const SHOWN_AGAIN_AFTER: Duration = Duration::from_secs(5 * 60);
/// Handoff to arrival at the hospital.
const TRANSPORT: Duration = Duration::from_secs(20 * 60);
/// How often the crew tries again without signal.
const RETRY: Duration = Duration::from_secs(60);

/// What one call produced, for the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SceneOutcome {
    /// Dispatch number.
    pub n: usize,
    /// Call time, simulated ms from midnight.
    pub at_ms: u64,
    /// Unit index.
    pub unit: usize,
    /// Headquarters index.
    pub hq: usize,
    /// 65 or older (the plan).
    pub elderly: bool,
    /// At home (the plan; the handoff records it as the scene, and the report counts it
    /// from the hospitals' notices).
    pub at_home: bool,
    /// `given`, `refused` or `difficult`.
    pub consent: &'static str,
    /// The card was tapped (the patient had one).
    pub tapped: bool,
    /// The incident id, once started.
    pub incident_id: Option<String>,
    /// The open and consent waited in the outbox (no signal at the tap).
    pub open_queued: bool,
    /// The summary call that succeeded, real ms.
    pub summary_call_ms: Option<f64>,
    /// Tap to summary on screen, real ms (card read, photo, consent, fetch; retries).
    pub tap_to_summary_ms: Option<f64>,
    /// Tap to summary in simulated seconds (what the crew waited, retries included).
    pub summary_delay_s: Option<f64>,
    /// Consent allowed a view, but no summary came before arrival at hospital.
    pub summary_missed: bool,
    /// Handoff id.
    pub handoff_id: Option<String>,
    /// Hospital chosen.
    pub hospital_id: Option<String>,
    /// The handoff waited in the outbox.
    pub handoff_queued: bool,
    /// The summary was shown again from the tablet's copy.
    pub shown_again: bool,
    /// What failed (error kinds, no personal data).
    pub errors: Vec<String>,
}

/// Everything a scene needs.
pub struct Crew {
    /// The clock.
    pub clock: SimClock,
    /// The tablets.
    pub tablets: Arc<Tablets>,
    /// Software cards of the population.
    pub cards: Arc<PopulationCards>,
    /// Hospital ids, in the stack's order.
    pub hospitals: Vec<String>,
    /// Unit index → headquarters index.
    pub unit_hq: Vec<usize>,
}

impl Crew {
    /// Works `dispatch` from the call to arrival at hospital.
    pub async fn respond(&self, dispatch: Dispatch) -> SceneOutcome {
        let mut out = SceneOutcome {
            n: dispatch.n,
            at_ms: dispatch.at.as_millis() as u64,
            unit: dispatch.unit,
            hq: self.unit_hq.get(dispatch.unit).copied().unwrap_or(0),
            elderly: dispatch.elderly,
            at_home: dispatch.at_home,
            consent: match dispatch.consent {
                ConsentState::Given => "given",
                ConsentState::Refused => "refused",
                ConsentState::Difficult { .. } => "difficult",
            },
            ..SceneOutcome::default()
        };
        let tap_at = dispatch.at + RESPONSE;
        self.clock.until(tap_at).await;
        let Some(patient) = dispatch.patient else {
            return out; // No card at hand: the crew works the usual way.
        };
        let tablet = match self.tablets.checkout(dispatch.unit) {
            Ok(tablet) => tablet,
            Err(e) => {
                out.errors.push(format!("tablet: {e}"));
                return out;
            }
        };
        if let Err(e) = self
            .work(&dispatch, patient, tap_at, &tablet, &mut out)
            .await
        {
            out.errors.push(error_kind(&e));
        }
        self.tablets.release(dispatch.unit);
        out
    }

    async fn work(
        &self,
        dispatch: &Dispatch,
        patient: u64,
        tap_at: Duration,
        tablet: &mobile_core::Tablet,
        out: &mut SceneOutcome,
    ) -> Result<(), MobileError> {
        let incident = Arc::new(tablet.start_incident(format!("crew-{:04}", dispatch.unit))?);
        out.incident_id = Some(incident.incident_id());
        let card = {
            let cards = Arc::clone(&self.cards);
            tokio::task::spawn_blocking(move || cards.card(patient))
                .await
                .map_err(|e| config_error(e.to_string()))?
                .map_err(|e| config_error(e.to_string()))?
        };
        let tapped = Instant::now();
        crate::scenario::tap(&incident, card)
            .await
            .map_err(|e| config_error(e.to_string()))?;
        out.tapped = true;
        let confirmed = incident.confirm_identity(true).await?;
        out.open_queued = confirmed.queued;
        let consent = incident.record_consent(dispatch.consent.clone()).await?;
        let handoff_at = tap_at + AT_SCENE;
        let arrival = handoff_at + TRANSPORT;
        if consent != ConsentState::Refused {
            self.fetch_summary(&incident, tapped, tap_at, arrival, out)
                .await?;
        }
        self.clock.until(handoff_at).await;
        let hospital_id = self.hospitals[dispatch.hospital % self.hospitals.len()].clone();
        let sent = incident
            .hand_off(HandoffRequest {
                hospital_id: hospital_id.clone(),
                chief_complaint: dispatch.complaint.into(),
                eta_minutes: (TRANSPORT.as_secs() / 60) as u16,
                vitals: dispatch.vitals.clone(),
                handoff_id: None,
                scene: Some(scene_kind(dispatch.at_home, dispatch.elderly, dispatch.n)),
            })
            .await?;
        out.handoff_id = Some(sent.handoff_id.to_string());
        out.hospital_id = Some(hospital_id);
        out.handoff_queued = sent.queued;
        // A third of the crews with a summary look at it again on the way (from the
        // tablet's copy, no signal needed; the view is queued for the edge's log).
        if out.summary_call_ms.is_some() && dispatch.n.is_multiple_of(3) {
            self.clock.until(handoff_at + SHOWN_AGAIN_AFTER).await;
            incident.summary_again()?;
            out.shown_again = true;
        }
        self.clock.until(arrival).await;
        incident.close()
    }

    /// Fetches the summary, trying again each simulated minute while the edge cannot be
    /// reached, until arrival at hospital.
    async fn fetch_summary(
        &self,
        incident: &EmergencyIncident,
        tapped: Instant,
        tap_at: Duration,
        give_up_at: Duration,
        out: &mut SceneOutcome,
    ) -> Result<(), MobileError> {
        loop {
            let call = Instant::now();
            match incident.fetch_summary().await {
                Ok(_) => {
                    out.summary_call_ms = Some(call.elapsed().as_secs_f64() * 1e3);
                    out.tap_to_summary_ms = Some(tapped.elapsed().as_secs_f64() * 1e3);
                    let waited = self.clock.now().saturating_sub(tap_at);
                    out.summary_delay_s = Some(waited.as_secs_f64());
                    return Ok(());
                }
                Err(MobileError::EdgeUnreachable { .. }) if self.clock.now() < give_up_at => {
                    self.clock.sleep(RETRY).await;
                }
                Err(MobileError::EdgeUnreachable { .. }) => {
                    out.summary_missed = true;
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Where the crew found the patient (発生場所), as it records it with the handoff: at home
/// as planned; elsewhere (the pilot gives only the share at home) a care facility for half
/// of the elderly, and public places, roads, workplaces or schools and other places for
/// the rest, spread by dispatch number.
fn scene_kind(at_home: bool, elderly: bool, n: usize) -> SceneKind {
    if at_home {
        return SceneKind::Home;
    }
    match n % 4 {
        0 | 1 if elderly => SceneKind::CareFacility,
        0 | 2 => SceneKind::PublicPlace,
        1 => SceneKind::Road,
        _ if elderly => SceneKind::Other,
        _ => SceneKind::Workplace,
    }
}

fn config_error(detail: String) -> MobileError {
    MobileError::Configuration { detail }
}

/// The error's kind for the report: its variant name, no details (they may name files).
fn error_kind(error: &MobileError) -> String {
    let debug = format!("{error:?}");
    debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("error")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_exactly_when_planned_at_home() {
        for n in 0..16 {
            for elderly in [false, true] {
                assert_eq!(scene_kind(true, elderly, n), SceneKind::Home);
                assert_ne!(
                    scene_kind(false, elderly, n),
                    SceneKind::Home,
                    "{n} {elderly}"
                );
            }
        }
        let away: std::collections::HashSet<_> = (0..8)
            .flat_map(|n| [scene_kind(false, false, n), scene_kind(false, true, n)])
            .collect();
        assert!(away.contains(&SceneKind::CareFacility) && away.contains(&SceneKind::Road));
        assert!((0..8).all(|n| scene_kind(false, false, n) != SceneKind::CareFacility));
    }
}
