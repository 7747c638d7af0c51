//! The detail page of one arrival: the card's head, alerts and vitals, the patient's
//! registration facts (name, birth date, patient id: for the ER desk, not the wall
//! screen), the handoff's ids and times, and every record of the summary with its kind,
//! date and source (provenance). A print button and the print stylesheet make it the
//! printable view (no buttons or forms on paper); a link downloads the FHIR IPS bundle.

use chrono::{DateTime, Utc};
use maud::{Markup, PreEscaped, html};
use myna_domain::records::MedicalRecord;
use myna_domain::summary::EmergencySummary;

use super::alerts::{alerts_block, lab_value};
use super::answer::answer_block;
use super::card::{arrival_head, consent_basis, diagnosis_status, no_records_notice, vitals};
use super::frame::{PRINT_JS, page};
use super::labels::{self, bi};
use super::time::date_time;
use crate::store::StoredArrival;

/// The detail page.
pub fn detail_page(hospital_name: &str, arrival: &StoredArrival, now: DateTime<Utc>) -> Markup {
    let n = &arrival.notice;
    let body = html! {
        header.top {
            h1 { (hospital_name) }
            p.no-print { a href="/" { "← 受入一覧 Dashboard" } }
            p.no-print {
                button.print #print type="button" { "🖨 印刷 " span.en { "Print" } }
                " "
                a href={ "/arrivals/" (n.handoff_id) "/fhir" } download={ "ips-" (n.handoff_id) ".json" } {
                    "FHIR (IPS) " span.en { "download" }
                }
            }
        }
        article.arrival.detail id={ "arrival-" (n.handoff_id) } {
            (arrival_head(n, now))
            (answer_block(arrival, "detail"))
            @match &n.summary {
                Some(summary) => (alerts_block(summary)),
                None => (no_records_notice(n.consent.as_ref())),
            }
            (vitals(&n.vitals))
            @if let Some(summary) = &n.summary {
                (registration(summary))
            }
            section.handoff {
                h3 { (bi(("引継ぎ情報", "Handoff"))) }
                table { tbody {
                    tr { th { "引継ぎID Handoff id" } td { (n.handoff_id) } }
                    tr { th { "事案ID Incident id" } td { (n.incident_id) } }
                    tr { th { "送信 Sent" } td { (date_time(n.sent_at)) } }
                    tr { th { "受信 Received" } td { (date_time(arrival.received_at)) } }
                    tr { th { "閲覧の根拠 Consent basis" } td {
                        @match &n.consent {
                            Some(c) => (consent_basis(c)),
                            None => "—",
                        }
                    } }
                } }
            }
            @if let Some(summary) = &n.summary {
                (all_records(summary))
            }
        }
        script { (PreEscaped(PRINT_JS)) }
    };
    page(&format!("受入詳細 Arrival — {hospital_name}"), false, body)
}

fn registration(summary: &EmergencySummary) -> Markup {
    let p = &summary.patient;
    html! {
        section.registration {
            h3 { (bi(("患者情報（受付用）", "Patient (for registration)"))) }
            table { tbody {
                tr { th { "氏名 Name" } td { strong { (p.name) } } }
                tr { th { "生年月日 Date of birth" } td { (p.birth_date) } }
                tr { th { "性別 Sex" } td { (bi(labels::sex(p.sex))) } }
                tr { th { "患者ID Patient id" } td { (p.id) } }
                tr { th { "記録取得 Summary assembled" } td { (date_time(summary.assembled_at)) } }
            } }
        }
    }
}

/// One record's content, for the provenance table.
pub fn record_details(record: &MedicalRecord) -> Markup {
    html! {
        @match record {
            MedicalRecord::DrugInformation(m) | MedicalRecord::Prescription(m) => {
                @if m.class.is_high_risk() {
                    span.tag { "⚠ " (labels::drug_class(m.class).1) } " "
                }
                strong { (m.drug) } " (" (m.ingredient) ") — " (m.dosage) ", "
                (m.days_supplied) " 日分 days — " (m.institution)
            }
            MedicalRecord::Visit(v) => {
                (v.institution) " — " (v.department) " — "
                @if v.inpatient { (bi(("入院", "Inpatient"))) } @else { (bi(("外来", "Outpatient"))) }
            }
            MedicalRecord::Diagnosis(d) => {
                strong { (d.name) } " (ICD-10 " (d.icd10) ") — " (diagnosis_status(d))
            }
            MedicalRecord::Surgery(s) => { strong { (s.procedure) } " — " (s.institution) }
            MedicalRecord::Checkup(c) => {
                "BMI " (c.bmi) ", 血圧 BP " (c.systolic_mmhg) "/" (c.diastolic_mmhg) " mmHg, HbA1c "
                (c.hba1c_percent) " %, LDL " (c.ldl_mg_dl) " mg/dL"
            }
            MedicalRecord::DrugAllergy(a) | MedicalRecord::OtherAllergy(a) => {
                span.tag { "⚠ ALLERGY" } " " strong { (a.substance) } " — " (a.reaction)
                " (" (bi(labels::severity(a.severity))) ")"
            }
            MedicalRecord::Infection(i) => {
                (bi(labels::marker(i.marker))) ": " strong { (bi(labels::qualitative(i.result))) }
            }
            MedicalRecord::LabResult(l) => {
                (bi(labels::analyte(l.analyte))) ": " (lab_value(l))
            }
        }
    }
}

fn all_records(summary: &EmergencySummary) -> Markup {
    html! {
        section.records {
            h3 { (bi(("全記録（出典付き）", "All records with provenance"))) " (" (summary.records.len()) ")" }
            @if summary.records.is_empty() {
                p { (bi(("保持期間内の記録なし", "No records within retention"))) }
            } @else {
                table {
                    thead { tr {
                        th { "種別 Kind" } th { "日付 Date" } th { "出典 Source" } th { "内容 Details" }
                    } }
                    tbody {
                        @for record in &summary.records {
                            tr class={ "record " (record.kind().as_str()) } {
                                td { (bi(labels::record_kind(record.kind()))) }
                                td { (record.date()) }
                                td { (bi(labels::record_source(record.source()))) }
                                td { (record_details(record)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures::{self, now};

    #[test]
    fn detail_lists_every_record_with_kind_date_and_source() {
        let notice = fixtures::notice_with_summary(3, now());
        let count = notice.summary.as_ref().map_or(0, |s| s.records.len());
        let html = detail_page("H", &fixtures::stored(notice), now()).into_string();
        assert_eq!(html.matches(r#"<tr class="record "#).count(), count);
        for expected in [
            "山田 太郎",
            "1944-03-01",
            "P-0042",
            "Dispensed drug",
            "e-Prescription",
            "EHR sharing",
            "Claims",
            "Checkup data",
            "Amlodipine",
            "HCV antibody",
            "Negative",
            "Appendectomy",
            "ICD-10 I48",
            "2025-06-01",
        ] {
            assert!(html.contains(expected), "missing {expected:?}");
        }
    }

    #[test]
    fn detail_without_summary_has_ids_but_no_records() {
        let notice = fixtures::notice_without_summary(4, now());
        let html = detail_page("H", &fixtures::stored(notice), now()).into_string();
        assert!(html.contains("No records shared"));
        assert!(html.contains(&uuid::Uuid::from_u128(1004).to_string()));
        assert!(!html.contains("All records"));
    }
}
