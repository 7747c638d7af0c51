//! Server-rendered portal pages (maud escapes every value). Japanese and English side by side.

use chrono::FixedOffset;
use maud::{DOCTYPE, Markup, html};
use myna_domain::access::{AccessOutcome, InstitutionKind};
use myna_domain::consent::ConsentState;
use myna_domain::identity::PatientId;
use myna_domain::labels::{self, Label};
use myna_domain::wire::PortalEntry;

const STYLE: &str = "body{font-family:system-ui,'Noto Sans JP',sans-serif;margin:0;padding:1rem;max-width:60rem;margin:auto;font-size:1.05rem;line-height:1.5}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.5rem;border-bottom:1px solid #ccc;vertical-align:top}
.tag{display:inline-block;padding:0 .4rem;border:2px solid currentColor;border-radius:.3rem;font-weight:600}
.kinds{margin:.2rem 0;padding-left:1.2rem;font-size:.95rem}.nc{color:#8a1c00}.ok{color:#1b5e20}.no{color:#444}
@media (max-width:40rem){thead{display:none}td{display:block;border:0;padding:.15rem 0}tr{display:block;border-bottom:1px solid #ccc;padding:.5rem 0}}";

fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="ja" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (STYLE) }
            }
            body { (body) }
        }
    }
}

fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"))
}

/// "日本語 English" from a label pair.
fn bi((ja, en): Label) -> String {
    format!("{ja} {en}")
}

fn institution(entry: &PortalEntry) -> Markup {
    let kind = bi(labels::institution_kind(entry.institution_kind));
    let tier = match entry.institution_kind {
        InstitutionKind::EmergencyHospital { tier } => format!(" (tier {tier})"),
        InstitutionKind::FireDepartment => String::new(),
    };
    html! {
        strong { (entry.institution) } br; small { (kind) (tier) }
        @if let Some(unit) = &entry.unit { br; small { (unit) } }
    }
}

fn consent(consent: &Option<ConsentState>) -> Markup {
    match consent {
        None => html! { span.no { "未確認 Not asked" } },
        Some(ConsentState::Given) => {
            html! { span.tag.ok { (bi(labels::consent(&ConsentState::Given))) } }
        }
        Some(ConsentState::Refused) => {
            html! { span.tag.no { (bi(labels::consent(&ConsentState::Refused))) } }
        }
        Some(state @ ConsentState::Difficult { reason }) => {
            let why = labels::difficulty(reason).map_or_else(|| reason.label().to_string(), bi);
            html! { span.tag.nc { (bi(labels::consent(state))) ": " (why) } }
        }
    }
}

fn what(entry: &PortalEntry) -> Markup {
    let outcome = match &entry.outcome {
        AccessOutcome::Disclosed { .. } => "表示された Shown".to_string(),
        AccessOutcome::RelayedWithoutRecords => "記録は共有せず Records not shared".to_string(),
        AccessOutcome::Refused => "拒否により表示なし Nothing shown (refused)".to_string(),
        AccessOutcome::Denied { reason } => format!(
            "表示なし Nothing shown: {}",
            bi(labels::denial_reason(*reason))
        ),
    };
    html! {
        (bi(labels::access_action(&entry.action))) br; small { (outcome) }
        @if !entry.kinds.is_empty() {
            ul.kinds { @for kind in &entry.kinds { li { (bi(labels::record_kind(*kind))) } } }
        }
    }
}

/// The viewing history page.
pub fn history(patient: &PatientId, entries: &[PortalEntry]) -> Markup {
    page(
        "閲覧履歴 Viewing history",
        html! {
            h1 { "閲覧履歴 Who viewed your records" }
            p { "患者ID Patient ID: " code { (patient) } " — 新しい順 newest first" }
            @if entries.is_empty() {
                p id="no-entries" { "閲覧の記録はありません。No one has accessed your records." }
            } @else {
                table id="history" {
                    thead { tr { th { "日時 When (JST)" } th { "機関 Who" } th { "役割 Role" } th { "同意 Consent" } th { "内容 What" } } }
                    tbody {
                        @for e in entries {
                            tr.entry {
                                td { (e.at.with_timezone(&jst()).format("%Y-%m-%d %H:%M")) }
                                td { (institution(e)) }
                                td { (bi(labels::viewer_role(e.role))) }
                                td { (consent(&e.consent)) }
                                td { (what(e)) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The development sign-in page.
pub fn sign_in(error: Option<&str>) -> Markup {
    page(
        "サインイン Sign in (development)",
        html! {
            h1 { "閲覧履歴 Viewing history — 開発用サインイン development sign-in" }
            p { "本番ではマイナンバーカードで本人確認します。In production you sign in with your My Number card." }
            @if let Some(error) = error { p.nc { (error) } }
            form method="get" action="/portal/dev-sign-in" {
                label { "患者ID Patient ID " input name="patient" placeholder="P0000001" required; }
                " " button type="submit" { "表示 Show" }
            }
        },
    )
}
