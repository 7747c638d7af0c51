//! One arrival card (`<article id="arrival-{handoff_id}" data-eta=…>`, also the fragment
//! the event stream sends), in reading order for the first minutes: ETA (with a live
//! countdown), chief complaint, crew, where the patient was found, sex and age, alerts (or the no-records notice),
//! vitals, the ER's answer (accept / decline), then a short history (active diagnoses
//! first, medications, recent visits, surgeries) with a link to the full detail page.
//!
//! The card shows no patient name: the dashboard is a wall screen.

use std::collections::HashSet;

use chrono::{DateTime, SecondsFormat, Utc};
use maud::{Markup, html};
use myna_domain::consent::ConsentState;
use myna_domain::records::{Diagnosis, MedicalRecord, Medication, Surgery, Visit};
use myna_domain::summary::EmergencySummary;
use myna_domain::time::jst_day;
use myna_domain::wire::{ArrivalNotice, Vitals};

use super::alerts::alerts_block;
use super::answer::{answer_block, answer_class};
use super::labels::{self, bi};
use super::time::{clock_time, eta_relative};
use crate::store::StoredArrival;

/// Most items per history list on a card; the detail page has them all.
const CARD_LIST_MAX: usize = 5;

/// The card of one arrival.
pub fn arrival_card(arrival: &StoredArrival, now: DateTime<Utc>) -> Markup {
    let n = &arrival.notice;
    html! {
        article.arrival.(answer_class(&arrival.answer)) id={ "arrival-" (n.handoff_id) }
            data-eta=(n.eta.to_rfc3339_opts(SecondsFormat::Secs, true)) {
            (arrival_head(n, now))
            @match &n.summary {
                Some(summary) => (alerts_block(summary)),
                None => (no_records_notice(n.consent.as_ref())),
            }
            (vitals(&n.vitals))
            (answer_block(arrival, "dashboard"))
            @if let Some(summary) = &n.summary {
                (history_brief(summary))
            }
            p { a.details href={ "/arrivals/" (n.handoff_id) } { "詳細 Details →" } }
        }
    }
}

/// ETA, chief complaint, crew, where the patient was found (when the crew said), sex and
/// age, consent basis.
pub fn arrival_head(n: &ArrivalNotice, now: DateTime<Utc>) -> Markup {
    let today = jst_day(now);
    html! {
        header.arrival-head {
            div.eta {
                span.label { "到着予定 ETA " } strong { (clock_time(n.eta)) } " · "
                span.countdown data-eta=(n.eta.to_rfc3339_opts(SecondsFormat::Secs, true)) { (eta_relative(n.eta, now)) }
            }
            h2.complaint { span.label { "主訴 Chief complaint: " } (n.chief_complaint) }
            p.crew { span.label { "救急隊 Unit: " } (n.unit) " · " (n.fire_department) }
            @if let Some(scene) = n.scene {
                p.scene { span.label { "発生場所 Scene: " } (bi(labels::scene_kind(scene))) }
            }
            p.patient {
                @match &n.summary {
                    Some(s) => {
                        strong { (bi(labels::sex(s.patient.sex))) }
                        " · " strong { (s.patient.age_on(today)) " 歳" } " " span.en { "years" }
                    }
                    None => {
                        span.ja lang="ja" { "性別・年齢: 記録なし" } " " span.en { "Sex/age: not shared" }
                    }
                }
                @if let Some(consent) = &n.consent {
                    " · " (consent_basis(consent))
                }
            }
        }
    }
}

/// The consent basis, e.g. "同意取得困難 Consent difficult: 意識障害 unconscious".
pub fn consent_basis(consent: &ConsentState) -> Markup {
    html! {
        span.consent {
            (bi(labels::consent(consent)))
            @if let ConsentState::Difficult { reason } = consent {
                ": "
                @match labels::difficulty(reason) {
                    Some(label) => (bi(label)),
                    None => (reason.label()),
                }
            }
        }
    }
}

/// Shown instead of alerts and history when no summary came with the notice.
///
/// The edge sends the consent state with every notice: `Refused` gets the refusal wording,
/// anything else (no decision recorded) the neutral wording.
pub fn no_records_notice(consent: Option<&ConsentState>) -> Markup {
    let refused = matches!(consent, Some(ConsentState::Refused));
    html! {
        section.no-records role="note" {
            @if refused {
                p.no-records {
                    "⊘ " span.ja lang="ja" { "記録の共有なし（同意拒否）" } " / "
                    span.en { "No records shared (patient refused consent)" }
                }
            } @else {
                p.no-records {
                    "⊘ " span.ja lang="ja" { "記録の共有なし" } " / " span.en { "No records shared" }
                }
            }
            p {
                span.ja lang="ja" { "アレルギー・服薬・既往は不明です。通常どおり対応してください。" } " "
                span.en { "Allergies, medications and history are unknown: proceed as usual." }
            }
        }
    }
}

fn vital(ja: &str, en: &str, value: Option<String>, unit: &str) -> Markup {
    html! {
        div {
            dt { span.ja lang="ja" { (ja) } " " span.en { (en) } }
            dd {
                @match value {
                    Some(v) => { (v) " " span.label { (unit) } }
                    None => span.label { "— 未測定 n/a" },
                }
            }
        }
    }
}

/// The crew's vital signs; unmeasured ones say so.
pub fn vitals(v: &Vitals) -> Markup {
    let bp = match (v.systolic_mmhg, v.diastolic_mmhg) {
        (Some(s), Some(d)) => Some(format!("{s}/{d}")),
        (Some(s), None) => Some(format!("{s}/—")),
        (None, Some(d)) => Some(format!("—/{d}")),
        (None, None) => None,
    };
    html! {
        section.vitals-block aria-label="Vitals" {
            dl.vitals {
                (vital("心拍数", "HR", v.heart_rate.map(|x| x.to_string()), "/min"))
                (vital("血圧", "BP", bp, "mmHg"))
                (vital("SpO₂", "SpO₂", v.spo2_percent.map(|x| x.to_string()), "%"))
                (vital("呼吸数", "RR", v.respiratory_rate.map(|x| x.to_string()), "/min"))
                (vital("意識", "GCS", v.gcs.map(|x| x.to_string()), "/15"))
                (vital("体温", "Temp", v.temperature_c.map(|x| x.to_string()), "°C"))
            }
        }
    }
}

/// Diagnoses with active ones first (stable within each group).
pub fn diagnoses_active_first(summary: &EmergencySummary) -> Vec<&Diagnosis> {
    let mut list: Vec<&Diagnosis> = summary
        .records
        .iter()
        .filter_map(|r| match r {
            MedicalRecord::Diagnosis(d) => Some(d),
            _ => None,
        })
        .collect();
    list.sort_by_key(|d| !d.active);
    list
}

/// Diagnosis status as text.
pub fn diagnosis_status(d: &Diagnosis) -> Markup {
    if d.active {
        bi(("治療中", "ACTIVE"))
    } else {
        bi(("既往", "past"))
    }
}

fn list_section<T>(
    title: (&'static str, &'static str),
    items: &[T],
    item: impl Fn(&T) -> Markup,
) -> Markup {
    html! {
        @if !items.is_empty() {
            h3 { (bi(title)) }
            ul {
                @for x in items.iter().take(CARD_LIST_MAX) { li { (item(x)) } }
                @if items.len() > CARD_LIST_MAX {
                    li.label { "+" (items.len() - CARD_LIST_MAX) " 件 more" }
                }
            }
        }
    }
}

fn history_brief(summary: &EmergencySummary) -> Markup {
    let diagnoses = diagnoses_active_first(summary);
    let mut seen = HashSet::new();
    let medications: Vec<&Medication> = summary
        .medications()
        .filter(|m| seen.insert(m.drug.as_str()))
        .collect();
    let visits: Vec<&Visit> = summary
        .records
        .iter()
        .filter_map(|r| match r {
            MedicalRecord::Visit(v) => Some(v),
            _ => None,
        })
        .collect();
    let surgeries: Vec<&Surgery> = summary
        .records
        .iter()
        .filter_map(|r| match r {
            MedicalRecord::Surgery(s) => Some(s),
            _ => None,
        })
        .collect();
    html! {
        section.history {
            (list_section(("傷病名", "Diagnoses"), &diagnoses, |d| html! {
                (diagnosis_status(d)) ": " strong { (d.name) } " (" (d.icd10) ")"
            }))
            (list_section(("服薬", "Medications"), &medications, |m| html! {
                strong { (m.drug) } " " (m.dosage) " " span.date { (m.date) }
            }))
            (list_section(("最近の受診", "Recent visits"), &visits, |v| html! {
                span.date { (v.date) } " " (v.institution) " · " (v.department)
                @if v.inpatient { " · " (bi(("入院", "inpatient"))) }
            }))
            (list_section(("手術歴", "Surgeries"), &surgeries, |s| html! {
                span.date { (s.date) } " " (s.procedure) " · " (s.institution)
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures::{self, now};

    fn eta() -> DateTime<Utc> {
        now() + chrono::Duration::minutes(12)
    }

    #[test]
    fn card_leads_with_eta_complaint_and_alerts_before_history() {
        let arrival = fixtures::stored(fixtures::notice_with_summary(7, eta()));
        let html = arrival_card(&arrival, now()).into_string();
        assert!(html.contains(&format!(r#"id="arrival-{}""#, uuid::Uuid::from_u128(7))));
        let pos = |needle: &str| {
            html.find(needle)
                .unwrap_or_else(|| panic!("missing {needle:?}"))
        };
        // 01:12 UTC is 10:12 JST.
        assert!(pos("10:12") < pos("Chest pain"));
        assert!(pos("in 12 min") < pos("Chest pain"));
        assert!(pos("Chest pain") < pos(r#"class="alerts""#));
        assert!(pos("Penicillin") < pos("HR"));
        assert!(pos("HR") < pos("Diagnoses"));
        // Active diagnoses first.
        assert!(pos("Atrial fibrillation") < pos("Appendicitis"));
        assert!(
            html.contains("82 歳"),
            "age on 2026-11-25 of someone born 1944-03-01"
        );
        assert!(html.contains("Setagaya Ambulance 3"));
        assert!(pos("Setagaya Ambulance 3") < pos("発生場所 Scene: "));
        assert!(pos("発生場所 Scene: ") < pos("自宅"));
        assert!(pos("自宅") < pos("Home"));
        assert!(pos("Home") < pos(r#"class="alerts""#));
        assert!(html.contains("Chest pain &lt;script&gt;"), "escaped");
        assert!(!html.contains("山田"), "no name on the wall screen");
    }

    #[test]
    fn card_without_summary_shows_refusal_and_no_record_content() {
        let arrival = fixtures::stored(fixtures::notice_without_summary(8, eta()));
        let html = arrival_card(&arrival, now()).into_string();
        assert!(html.contains("No records shared (patient refused consent)"));
        assert!(html.contains("記録の共有なし（同意拒否）"));
        assert!(html.contains("Chest pain"));
        assert!(html.contains("112"), "vitals still shown");
        assert!(
            !html.contains("発生場所"),
            "no scene line when the crew did not say"
        );
        assert!(!html.contains(r#"class="alerts""#));
        for secret in ["Penicillin", "Warfarin", "Atrial", "Meguro Clinic", "山田"] {
            assert!(!html.contains(secret));
        }
    }

    #[test]
    fn difficult_consent_shows_its_reason() {
        let consent = ConsentState::Difficult {
            reason: myna_domain::consent::DifficultyReason::Unconscious,
        };
        let html = consent_basis(&consent).into_string();
        assert!(html.contains("同意取得困難") && html.contains("unconscious"));
    }
}
