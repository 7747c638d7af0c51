//! Server-rendered portal pages (maud escapes every value), in Japanese or English.
//!
//! Written for a patient, often elderly, on a phone: large type, one card per entry,
//! nothing wider than the screen, and every state said in words and a symbol (✓ ✗ ⚠ …),
//! never by colour alone. Links keep the language and the filters.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use myna_domain::access::{AccessAction, AccessOutcome, InstitutionKind};
use myna_domain::consent::ConsentState;
use myna_domain::identity::PatientId;
use myna_domain::labels;
use myna_domain::wire::{PortalEntry, PortalHistory, ProofStatus};

use myna_domain::time::jst;

use super::portal_query::HistoryParams;
use super::portal_text::{Lang, Text};

const STYLE: &str = "*{box-sizing:border-box}
body{font-family:system-ui,'Noto Sans JP',sans-serif;margin:0 auto;padding:1rem;max-width:46rem;font-size:1.15rem;line-height:1.6;color:#1a1a1a;overflow-wrap:anywhere}
h1{font-size:1.5rem;margin:.5rem 0}h2{font-size:1.2rem;margin:0 0 .3rem}
a{color:#0b4f9c}.lang{float:right;font-size:1rem}
.filters,.card,.notice,.pager{margin:1rem 0}.filters{border:2px solid #999;border-radius:.5rem;padding:.5rem 1rem 1rem}
label{display:block;margin:.4rem 0}input,select,textarea,button{font:inherit;max-width:100%}
input,select{width:100%;padding:.4rem;min-height:2.8rem}
button{min-height:3rem;padding:.4rem 1rem;border:2px solid #333;border-radius:.4rem;background:#f2f2f2;cursor:pointer}
ol.entries{list-style:none;padding:0;margin:0}
.card{border:2px solid #888;border-radius:.6rem;padding:.8rem 1rem}
.card dl{margin:.5rem 0}.card dt{font-weight:700;margin-top:.4rem}.card dd{margin:0 0 0 .2rem}
.kinds{margin:.2rem 0;padding-left:1.3rem}
.glass{border:3px solid #8a1c00;color:#8a1c00;font-weight:700;padding:.3rem .6rem;border-radius:.4rem;margin:.3rem 0}
.verified{color:#1b5e20}.pending{color:#6b4e00}
.failed{border:3px solid #b00020;color:#b00020;font-weight:700;padding:.4rem .6rem;border-radius:.4rem}
.reported{font-weight:700;border-left:6px solid #444;padding-left:.6rem}
.notice{border:3px solid #1b5e20;padding:.6rem 1rem;border-radius:.5rem;font-weight:700}
.error{border:3px solid #b00020;padding:.6rem 1rem;border-radius:.5rem;font-weight:700}
.pager{display:flex;flex-wrap:wrap;gap:1rem;justify-content:space-between;font-size:1.2rem}
details{margin-top:.6rem;font-size:1rem}";

fn page(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
}

fn when(lang: Lang, entry: &PortalEntry) -> String {
    japan_time(lang, entry.at)
}

fn japan_time(lang: Lang, at: chrono::DateTime<chrono::Utc>) -> String {
    let local = at.with_timezone(&jst());
    let format = match lang {
        Lang::Ja => "%Y年%-m月%-d日 %H:%M",
        Lang::En => "%Y-%m-%d %H:%M",
    };
    format!("{} ({})", local.format(format), lang.t(Text::JapanTime))
}

fn institution(lang: Lang, entry: &PortalEntry) -> Markup {
    let kind = lang.pick(labels::institution_kind(entry.institution_kind));
    let tier = match (entry.institution_kind, lang) {
        (InstitutionKind::EmergencyHospital { tier }, Lang::Ja) => format!("・{tier}次救急"),
        (InstitutionKind::EmergencyHospital { tier }, Lang::En) => format!(", tier {tier}"),
        (
            InstitutionKind::FireDepartment
            | InstitutionKind::Clinic
            | InstitutionKind::Pharmacy
            | InstitutionKind::PrivacyOffice,
            _,
        ) => String::new(),
    };
    html! {
        p { strong { (entry.institution) } br; (kind) (tier)
            @if let Some(unit) = &entry.unit { br; (unit) } }
    }
}

fn consent(lang: Lang, consent: &Option<ConsentState>) -> Markup {
    match consent {
        None => html! { (lang.t(Text::ConsentNotAsked)) },
        Some(state @ ConsentState::Given) => {
            html! { "✓ " (lang.pick(labels::consent(state))) }
        }
        Some(state @ ConsentState::Refused) => {
            html! { "✗ " (lang.pick(labels::consent(state))) }
        }
        Some(state @ ConsentState::Difficult { reason }) => {
            let why = labels::difficulty(reason).map_or_else(|| reason.label(), |l| lang.pick(l));
            html! { "⚠ " (lang.pick(labels::consent(state))) ": " (why) }
        }
    }
}

fn outcome(lang: Lang, entry: &PortalEntry) -> Markup {
    let result = match &entry.outcome {
        AccessOutcome::Disclosed { .. } => lang.t(Text::Shown).to_string(),
        AccessOutcome::RelayedWithoutRecords => lang.t(Text::NotShared).to_string(),
        AccessOutcome::Refused => lang.t(Text::RefusedNothingShown).to_string(),
        AccessOutcome::Denied { reason } => format!(
            "{}: {}",
            lang.t(Text::DeniedNothingShown),
            lang.pick(labels::denial_reason(*reason))
        ),
        // The finding on the reviewed access; the officer is never named.
        AccessOutcome::Reviewed => match &entry.action {
            AccessAction::ReviewAccess { outcome, .. } => format!(
                "{}: {}",
                lang.t(Text::ReviewedNothingShown),
                lang.pick(labels::review_outcome(*outcome))
            ),
            _ => lang.t(Text::ReviewedNothingShown).to_string(),
        },
    };
    html! {
        (lang.pick(labels::access_action(&entry.action))) br;
        // A view on the tablet is reported later: the card's time is when it arrived.
        @if let AccessAction::ViewOnDevice { viewed_at } = &entry.action {
            (lang.t(Text::TabletTime)) ": " (japan_time(lang, *viewed_at)) br;
        }
        (result)
    }
}

fn proof(lang: Lang, status: ProofStatus) -> Markup {
    match status {
        ProofStatus::Verified => html! { span.verified { (lang.t(Text::Verified)) } },
        ProofStatus::Pending => html! { span.pending { (lang.t(Text::Pending)) } },
        ProofStatus::Failed => html! { div.failed role="alert" { (lang.t(Text::Failed)) } },
    }
}

fn entry_card(lang: Lang, entry: &PortalEntry, params: &HistoryParams) -> Markup {
    let id = entry.access_id.0;
    let flag_action = format!(
        "/portal/history/{id}/flag?{}",
        params.query_string(lang.code(), params.before)
    );
    html! {
        li.card id=(format!("entry-{id}")) {
            h2 { (when(lang, entry)) }
            (institution(lang, entry))
            @if entry.without_consent && entry.outcome.disclosed_records() {
                p.glass { (lang.t(Text::WithoutConsent)) }
            }
            dl {
                dt { (lang.t(Text::Role)) }
                dd { (lang.pick(labels::viewer_role(entry.role))) }
                dt { (lang.t(Text::Consent)) }
                dd { (consent(lang, &entry.consent)) }
                dt { (lang.t(Text::Outcome)) }
                dd { (outcome(lang, entry)) }
                @if !entry.kinds.is_empty() {
                    dt { (lang.t(Text::RecordsShown)) }
                    dd { ul.kinds { @for kind in &entry.kinds { li { (lang.pick(labels::record_kind(*kind))) } } } }
                }
                dt { (lang.t(Text::LogCheck)) }
                dd { (proof(lang, entry.proof)) }
            }
            @if let Some(at) = entry.flagged_at {
                p.reported { (lang.t(Text::Reported)) " " (at.with_timezone(&jst()).format("%Y-%m-%d %H:%M")) }
            } @else {
                form method="post" action=(flag_action) {
                    label { (lang.t(Text::FlagNote))
                        input name="note" maxlength="500" autocomplete="off"; }
                    button type="submit" { "⚑ " (lang.t(Text::Flag)) }
                }
            }
            details {
                summary { (lang.t(Text::Technical)) }
                p { (lang.t(Text::EntryNumber)) ": " (entry.leaf_index) }
                p { a href=(format!("/portal/v1/history/{id}/proof")) { (lang.t(Text::ProofLink)) } }
                p { a href=(format!("/portal/v1/history/{id}/audit-event")) { (lang.t(Text::AuditEventLink)) } }
            }
        }
    }
}

fn filters(lang: Lang, history: &PortalHistory, params: &HistoryParams) -> Markup {
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    html! {
        form.filters method="get" action="/portal" {
            input type="hidden" name="lang" value=(lang.code());
            h2 { (lang.t(Text::Filter)) }
            label { (lang.t(Text::From)) input type="date" name="from" value=(date(params.from)); }
            label { (lang.t(Text::To)) input type="date" name="to" value=(date(params.to)); }
            label { (lang.t(Text::Institution))
                select name="institution" {
                    option value="" { (lang.t(Text::AllInstitutions)) }
                    @for i in &history.institutions {
                        option value=(i.id) selected[params.institution.as_deref() == Some(i.id.as_str())] {
                            (i.name)
                        }
                    }
                }
            }
            button type="submit" { (lang.t(Text::Apply)) }
            " "
            @if params.filtered() {
                a href=(format!("/portal?lang={}", lang.code())) { (lang.t(Text::ClearFilters)) }
            }
        }
    }
}

/// The viewing history page: one page of entries with filters and paging links.
pub fn history(
    lang: Lang,
    patient: &PatientId,
    history: &PortalHistory,
    params: &HistoryParams,
    reported: bool,
) -> Markup {
    let switch = format!(
        "/portal?{}",
        params.query_string(lang.other().code(), params.before)
    );
    page(
        lang,
        lang.t(Text::Title),
        html! {
            a.lang href=(switch) lang=(lang.other().code()) { (lang.t(Text::SwitchLanguage)) }
            h1 { (lang.t(Text::Heading)) }
            p { (lang.t(Text::Intro)) }
            p { (lang.t(Text::PatientId)) ": " code { (patient) } }
            @if reported {
                p.notice role="status" { "⚑ " (lang.t(Text::ReportReceived)) }
            }
            (filters(lang, history, params))
            @if history.entries.is_empty() {
                p id="no-entries" {
                    @if params.filtered() || params.before.is_some() { (lang.t(Text::NoMatches)) }
                    @else { (lang.t(Text::NoEntries)) }
                }
            } @else {
                ol.entries id="history" {
                    @for entry in &history.entries { (entry_card(lang, entry, params)) }
                }
            }
            nav.pager {
                @if params.before.is_some() {
                    a href=(format!("/portal?{}", params.query_string(lang.code(), None))) { (lang.t(Text::Newest)) }
                }
                @if let Some(next) = history.next_before {
                    a rel="next" href=(format!("/portal?{}", params.query_string(lang.code(), Some(next)))) { (lang.t(Text::Older)) }
                }
            }
        },
    )
}

/// A page saying what went wrong, with a way back.
pub fn problem(lang: Lang, message: Text) -> Markup {
    page(
        lang,
        lang.t(Text::Title),
        html! {
            h1 { (lang.t(Text::Heading)) }
            p.error role="alert" { (lang.t(message)) }
            p { a href=(format!("/portal?lang={}", lang.code())) { (lang.t(Text::BackToHistory)) } }
        },
    )
}

/// The sign-in page: how a patient signs in (with their card, through the app), and the
/// development form by patient id when `dev_form` (development sign-in is on).
pub fn sign_in(lang: Lang, error: Option<Text>, dev_form: bool) -> Markup {
    page(
        lang,
        lang.t(Text::SignInTitle),
        html! {
            a.lang href=(format!("/portal/sign-in?lang={}", lang.other().code())) lang=(lang.other().code()) {
                (lang.t(Text::SwitchLanguage))
            }
            h1 { (lang.t(Text::SignInWithCard)) }
            p { (lang.t(Text::SignInCardHow)) }
            p { (lang.t(Text::SignInPinGuard)) }
            @if dev_form {
                h2 { (lang.t(Text::SignInHeading)) }
                p { (lang.t(Text::SignInProduction)) }
                @if let Some(error) = error { p.error role="alert" { (lang.t(error)) } }
                form method="get" action="/portal/dev-sign-in" {
                    input type="hidden" name="lang" value=(lang.code());
                    label { (lang.t(Text::PatientId)) input name="patient" placeholder="P0000001" required; }
                    button type="submit" { (lang.t(Text::SignInShow)) }
                }
            }
        },
    )
}
