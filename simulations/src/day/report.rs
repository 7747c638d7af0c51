//! What the day produced: the checks against the services' own files (nothing lost, each
//! handoff delivered once), the mix as the edge and the hospitals recorded it, latencies
//! and delays.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDate;
use myna_domain::access::{AccessAction, AccessRecord};
use myna_domain::consent::ConsentState;
use myna_domain::handoff::SceneKind;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use super::faults::Fault;
use super::scene::SceneOutcome;

/// One sample of the queues, every simulated minute.
#[derive(Debug, Clone, Serialize)]
pub struct QueueSample {
    /// Simulated ms from midnight.
    pub at_ms: u64,
    /// Writes waiting in tablets' outboxes.
    pub tablet_outbox: u64,
    /// Arrival notices waiting in the edge's outbox to hospitals.
    pub relay_outbox: u64,
    /// Incidents in progress.
    pub active_incidents: u64,
}

/// The privacy officer's open review items at a simulated time.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewSample {
    /// Simulated ms from midnight.
    pub at_ms: u64,
    /// Open items.
    pub open: u64,
    /// Findings recorded so far.
    pub reviewed: u64,
}

/// The mix of card uses as the system recorded it: elderly from the patients' dates of
/// birth and no-consent from the consent stored with each incident (the edge), at home
/// from where the crew said it found the patient (`scene`) in the arrival notices the
/// hospitals stored.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Mix {
    /// Incidents on the edge.
    pub incidents: u64,
    /// Share of them with a patient 65 or older.
    pub elderly: f64,
    /// Share with consent difficult to obtain (unconscious, cannot communicate).
    pub no_consent: f64,
    /// Share with consent refused.
    pub refused: f64,
    /// Share of card uses at home: of our handoffs stored by a hospital, those whose notice
    /// says `scene: home`.
    pub at_home: f64,
    /// Our handoffs whose stored notice says where the patient was found (the at-home
    /// share's denominator).
    pub scenes_recorded: u64,
}

/// The end-of-day checks.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verification {
    /// Card uses (taps) the crews made.
    pub card_uses: u64,
    /// Access records in the edge's log.
    pub access_records: u64,
    /// Records every scene must have left: its incident with the consent (on the edge's
    /// incident), and in the access log each refusal, view, relay and view on the tablet.
    pub expected_records: u64,
    /// Expected records missing from the log, by incident and action.
    pub missing_records: Vec<String>,
    /// Handoffs made.
    pub handoffs: u64,
    /// Handoffs stored by the chosen hospital exactly once.
    pub delivered_once: u64,
    /// Handoffs missing at their hospital.
    pub undelivered: Vec<String>,
    /// Handoffs stored by more than one hospital (never expected).
    pub duplicated: Vec<String>,
    /// Writes left in tablets' outboxes at the end.
    pub tablet_outbox_left: u64,
    /// Notices left in the edge's outbox at the end.
    pub relay_outbox_left: u64,
    /// Real seconds from the edge taking a handoff to the hospital storing it: p50, p99,
    /// max.
    pub delivery_real_s: [f64; 3],
}

impl Verification {
    /// Nothing lost, nothing delivered twice, nothing left waiting.
    pub fn ok(&self) -> bool {
        self.missing_records.is_empty()
            && self.undelivered.is_empty()
            && self.duplicated.is_empty()
            && self.tablet_outbox_left == 0
            && self.relay_outbox_left == 0
    }
}

/// The whole day.
#[derive(Debug, Clone, Serialize)]
pub struct DayReport {
    /// Dispatches simulated.
    pub dispatches: usize,
    /// Units and headquarters.
    pub units: usize,
    /// Headquarters.
    pub hqs: usize,
    /// Synthetic patients loaded.
    pub patients: u64,
    /// Speed-up.
    pub speedup: f64,
    /// Real seconds the day took.
    pub real_seconds: f64,
    /// The faults.
    pub faults: Vec<Fault>,
    /// Each call.
    pub scenes: Vec<SceneOutcome>,
    /// Queue samples.
    pub queues: Vec<QueueSample>,
    /// Review-queue samples.
    pub review: Vec<ReviewSample>,
    /// The mix the edge recorded.
    pub mix: Mix,
    /// The checks.
    pub verification: Verification,
}

/// Reads the edge's and hospitals' files after the day and checks every scene against
/// them.
pub fn verify(
    edge_db: &Path,
    hospital_dbs: &[(String, std::path::PathBuf)],
    scenes: &[SceneOutcome],
    today: NaiveDate,
) -> anyhow::Result<(Verification, Mix)> {
    let edge = read_only(edge_db)?;
    let mut by_incident: HashMap<String, Vec<AccessAction>> = HashMap::new();
    let mut access_records = 0;
    {
        let mut stmt = edge.prepare("SELECT record_json FROM access_log ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            access_records += 1;
            let record: AccessRecord = serde_json::from_str(&row.get::<_, String>(0)?)?;
            if let Some(incident) = record.incident {
                by_incident
                    .entry(incident.to_string())
                    .or_default()
                    .push(record.action);
            }
        }
    }
    let consents: HashMap<String, Option<String>> = {
        let mut stmt = edge.prepare("SELECT id, consent_json FROM incidents")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut v = Verification {
        access_records,
        ..Verification::default()
    };
    let mut handoffs = Vec::new();
    for scene in scenes.iter().filter(|s| s.tapped) {
        let Some(incident) = &scene.incident_id else {
            continue;
        };
        v.card_uses += 1;
        let actions = by_incident.get(incident).map(Vec::as_slice).unwrap_or(&[]);
        let mut expect = |what: &str, found: bool| {
            v.expected_records += 1;
            if !found {
                v.missing_records.push(format!("{incident}: {what}"));
            }
        };
        // Opening the incident and a consent given or difficult read no records, so the
        // edge keeps them with the incident, not in the access log; a refusal is logged.
        let stored = consents.get(incident);
        expect(
            "incident with its consent",
            stored.is_some_and(|c| c.is_some()),
        );
        if scene.consent == "refused" {
            expect("refusal", actions.contains(&AccessAction::RecordConsent));
        }
        if scene.summary_call_ms.is_some() {
            expect("view", actions.contains(&AccessAction::ViewSummary));
        }
        if let (Some(handoff), Some(hospital)) = (&scene.handoff_id, &scene.hospital_id) {
            let relayed = actions.iter().any(|a| {
                matches!(a, AccessAction::RelayToHospital { hospital_id } if hospital_id == hospital)
            });
            expect("relay", relayed);
            handoffs.push((handoff.clone(), hospital.clone()));
        }
        if scene.shown_again {
            let shown = actions
                .iter()
                .any(|a| matches!(a, AccessAction::ViewOnDevice { .. }));
            expect("view on tablet", shown);
        }
    }
    // Each handoff at its hospital exactly once, nowhere else; and where the crew found
    // the patient, as the stored notice says.
    let mut stored: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut scenes_at_hospitals: HashMap<String, Option<SceneKind>> = HashMap::new();
    for (hospital, path) in hospital_dbs {
        let db = read_only(path)?;
        let mut stmt = db.prepare(
            "SELECT handoff_id, received_at, json_extract(notice_json, '$.scene') FROM arrivals",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        for row in rows {
            let (handoff, received, scene) = row?;
            let scene = scene
                .map(|s| serde_json::from_value::<SceneKind>(serde_json::Value::String(s)))
                .transpose()?;
            scenes_at_hospitals.insert(handoff.clone(), scene);
            stored
                .entry(handoff)
                .or_default()
                .push((hospital.clone(), received));
        }
    }
    let created: HashMap<String, String> = {
        let mut stmt = edge.prepare("SELECT id, created_at FROM handoffs")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut delivery = Vec::new();
    v.handoffs = handoffs.len() as u64;
    for (handoff, hospital) in &handoffs {
        match stored.get(handoff).map(Vec::as_slice) {
            Some([(at, received)]) if at == hospital => {
                v.delivered_once += 1;
                if let (Some(created), Ok(received)) = (
                    created.get(handoff).and_then(|c| parse_time(c)),
                    chrono::DateTime::parse_from_rfc3339(received),
                ) {
                    delivery.push((received.to_utc() - created).as_seconds_f64().max(0.0));
                }
            }
            Some(many) if many.len() > 1 => v.duplicated.push(handoff.clone()),
            _ => v.undelivered.push(handoff.clone()),
        }
    }
    delivery.sort_by(f64::total_cmp);
    v.delivery_real_s = [
        percentile(&delivery, 50.0),
        percentile(&delivery, 99.0),
        delivery.last().copied().unwrap_or(0.0),
    ];
    v.relay_outbox_left = relay_outbox(&edge)?;
    let mix = mix(&edge, scenes, &scenes_at_hospitals, today)?;
    Ok((v, mix))
}

/// Notices in the edge's outbox not yet delivered.
pub fn relay_outbox(edge: &Connection) -> anyhow::Result<u64> {
    Ok(edge.query_row(
        "SELECT COUNT(*) FROM hospital_outbox WHERE delivered_at IS NULL",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64)
}

/// The mix of our scenes: from the edge's incidents and, for at home, from the scene in
/// the hospitals' stored notices (`at_hospitals`: handoff id → scene).
fn mix(
    edge: &Connection,
    scenes: &[SceneOutcome],
    at_hospitals: &HashMap<String, Option<SceneKind>>,
    today: NaiveDate,
) -> anyhow::Result<Mix> {
    let ours: HashSet<&str> = scenes
        .iter()
        .filter_map(|s| s.incident_id.as_deref())
        .collect();
    let mut stmt = edge.prepare(
        "SELECT i.id, p.birth_date, i.consent_json FROM incidents i
         JOIN patients p ON p.id = i.patient_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    let (mut n, mut elderly, mut difficult, mut refused) = (0u64, 0u64, 0u64, 0u64);
    for row in rows {
        let (id, birth, consent) = row?;
        if !ours.contains(id.as_str()) {
            continue;
        }
        n += 1;
        let born = NaiveDate::parse_from_str(&birth, "%Y-%m-%d")?;
        if today.years_since(born).unwrap_or(0) >= 65 {
            elderly += 1;
        }
        match consent
            .map(|c| serde_json::from_str::<ConsentState>(&c))
            .transpose()?
        {
            Some(ConsentState::Difficult { .. }) => difficult += 1,
            Some(ConsentState::Refused) => refused += 1,
            _ => {}
        }
    }
    let recorded: Vec<SceneKind> = scenes
        .iter()
        .filter_map(|s| s.handoff_id.as_ref())
        .filter_map(|h| at_hospitals.get(h).copied().flatten())
        .collect();
    let at_home = recorded.iter().filter(|&&k| k == SceneKind::Home).count();
    let share = |k: u64| if n == 0 { 0.0 } else { k as f64 / n as f64 };
    Ok(Mix {
        incidents: n,
        elderly: share(elderly),
        no_consent: share(difficult),
        refused: share(refused),
        at_home: at_home as f64 / recorded.len().max(1) as f64,
        scenes_recorded: recorded.len() as u64,
    })
}

/// `path` opened read-only, waiting up to 5 s for a writer.
pub(super) fn read_only(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.to_utc())
}

/// Nearest-rank percentile of sorted `values` (0 when empty).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl DayReport {
    /// The report as Markdown: what ran, the mix, the checks, latencies, each fault's
    /// effect.
    pub fn markdown(&self) -> String {
        use std::fmt::Write;
        let mut md = String::new();
        let v = &self.verification;
        let _ = writeln!(
            md,
            "National day: {} dispatches, {} units in {} HQs, {} patients, {}× speed-up, {:.0} s real\n",
            self.dispatches, self.units, self.hqs, self.patients, self.speedup, self.real_seconds
        );
        let _ = writeln!(
            md,
            "| mix (card uses) | simulated | pilot |\n|---|---:|---:|"
        );
        let pct = |x: f64| format!("{:.1}%", x * 100.0);
        let _ = writeln!(
            md,
            "| elderly (65+), from the edge's records | {} | 62.6% |",
            pct(self.mix.elderly)
        );
        let _ = writeln!(
            md,
            "| at home, from the hospitals' notices ({} recorded) | {} | 74.4% |",
            self.mix.scenes_recorded,
            pct(self.mix.at_home)
        );
        let _ = writeln!(
            md,
            "| no consent needed (unconscious, cannot communicate), from the edge | {} | 7.4% |",
            pct(self.mix.no_consent)
        );
        let _ = writeln!(
            md,
            "| refused, from the edge | {} | — |\n",
            pct(self.mix.refused)
        );
        let _ = writeln!(md, "| check | result |\n|---|---|");
        let _ = writeln!(
            md,
            "| card uses | {} of {} dispatches |",
            v.card_uses, self.dispatches
        );
        let _ = writeln!(
            md,
            "| records expected / missing | {} / {} (access log holds {}) |",
            v.expected_records,
            v.missing_records.len(),
            v.access_records
        );
        let _ = writeln!(
            md,
            "| handoffs delivered exactly once | {} of {} (undelivered {}, duplicated {}) |",
            v.delivered_once,
            v.handoffs,
            v.undelivered.len(),
            v.duplicated.len()
        );
        let _ = writeln!(
            md,
            "| left in outboxes at the end | tablets {}, edge {} |",
            v.tablet_outbox_left, v.relay_outbox_left
        );
        let _ = writeln!(
            md,
            "| edge → hospital delivery, real s | p50 {:.3}, p99 {:.3}, max {:.1} |",
            v.delivery_real_s[0], v.delivery_real_s[1], v.delivery_real_s[2]
        );
        let _ = writeln!(
            md,
            "| verdict | {} |\n",
            if v.ok() {
                "nothing lost"
            } else {
                "LOST OR DUPLICATED: see the report"
            }
        );
        for missing in v.missing_records.iter().take(10) {
            let _ = writeln!(md, "- missing record: {missing}");
        }
        for handoff in v.undelivered.iter().take(10) {
            let _ = writeln!(md, "- handoff not at its hospital: {handoff}");
        }
        for handoff in v.duplicated.iter().take(10) {
            let _ = writeln!(md, "- handoff at more than one hospital: {handoff}");
        }
        let calls = self.latencies(|s| s.summary_call_ms, |_| true);
        let taps = self.latencies(|s| s.tap_to_summary_ms, |s| !s.open_queued);
        let _ = writeln!(
            md,
            "| real latency | n | p50 ms | p99 ms | p99.9 ms |\n|---|---:|---:|---:|---:|"
        );
        for (name, sorted) in [
            ("summary call (tablet → edge, durable audit)", &calls),
            ("tap → summary on screen", &taps),
        ] {
            let _ = writeln!(
                md,
                "| {name} | {} | {:.1} | {:.1} | {:.1} |",
                sorted.len(),
                percentile(sorted, 50.0),
                percentile(sorted, 99.0),
                percentile(sorted, 99.9)
            );
        }
        let _ = writeln!(
            md,
            "\n| fault | card uses during it | summaries delayed > 1 min | max delay (sim min) | missed | handoffs queued | summary call p99 ms (during / rest of day) |\n|---|---:|---:|---:|---:|---:|---:|"
        );
        for fault in &self.faults {
            let during = |s: &SceneOutcome| s.tapped && tapped_during(s, fault);
            let scenes: Vec<&SceneOutcome> = self.scenes.iter().filter(|s| during(s)).collect();
            let delayed: Vec<f64> = scenes
                .iter()
                .filter_map(|s| s.summary_delay_s)
                .filter(|d| *d > 60.0)
                .collect();
            let max = delayed.iter().copied().fold(0.0, f64::max) / 60.0;
            let inside = self.latencies(|s| s.summary_call_ms, during);
            let outside = self.latencies(|s| s.summary_call_ms, |s| !during(s));
            let _ = writeln!(
                md,
                "| {} | {} | {} | {:.1} | {} | {} | {:.1} / {:.1} |",
                fault.describe(),
                scenes.len(),
                delayed.len(),
                max,
                scenes.iter().filter(|s| s.summary_missed).count(),
                scenes.iter().filter(|s| s.handoff_queued).count(),
                percentile(&inside, 99.0),
                percentile(&outside, 99.0)
            );
        }
        md
    }

    /// Sorted values of `value` over scenes matching `keep`.
    pub fn latencies(
        &self,
        value: impl Fn(&SceneOutcome) -> Option<f64>,
        keep: impl Fn(&SceneOutcome) -> bool,
    ) -> Vec<f64> {
        let mut values: Vec<f64> = self
            .scenes
            .iter()
            .filter(|s| keep(s))
            .filter_map(value)
            .collect();
        values.sort_by(f64::total_cmp);
        values
    }
}

/// Whether `scene`'s card was tapped while `fault` held (the tap is ten simulated minutes
/// after the call), or within the twelve minutes at the scene before it began.
/// For a headquarters' network loss, only its own units count.
fn tapped_during(scene: &SceneOutcome, fault: &Fault) -> bool {
    if let super::faults::FaultKind::TabletsOffline { hq } = fault.kind
        && scene.hq != hq
    {
        return false;
    }
    let tap = std::time::Duration::from_millis(scene.at_ms) + super::scene::RESPONSE;
    let scene_end = tap + super::scene::AT_SCENE;
    tap < fault.to && scene_end > fault.from
}
