//! HTML pages, rendered with maud (every interpolated value is HTML-escaped).
//!
//! Pure functions of the stored notices and `now`: no I/O, no clock reads, so tests pass
//! plain data. Designed for a wall screen read from 3 m: large type, Japanese and English
//! labels side by side, and colour never the only signal (every alert carries a text tag
//! such as `⚠ ALLERGY`, every abnormal lab an `H` or `L`).
//!
//! # Layout
//! - [`labels`]: bilingual labels of coded values.
//! - [`card`]: one arrival card (head, answer, alerts, vitals, short history); also the
//!   fragment the event stream pushes.
//! - [`answer`]: the ER's answer on a card (accept / decline, then its state).
//! - [`alerts`]: the alerts block (allergies, infections, high-risk drugs, contraindication
//!   and duplicate-medication warnings, abnormal labs,
//!   blood type).
//! - [`detail`]: the detail page with every record and its provenance.
//! - [`frame`]: the page frame, stylesheet, scripts and content security policy.
//! - [`time`]: clock times and ETAs in JST, the ER's wall clock
//!   ([`myna_domain::time::jst`]).
//! - this file: the dashboard, sign-in and error pages, and re-exports.

pub mod alerts;
pub mod answer;
pub mod card;
pub mod detail;
pub mod frame;
pub mod labels;
pub mod time;

use chrono::{DateTime, Utc};
use maud::{Markup, PreEscaped, html};

pub use card::arrival_card;
pub use detail::detail_page;
pub use frame::{content_security_policy, page};
pub use time::{clock_time, date_time, eta_relative};

use crate::store::Listing;
use frame::LIVE_JS;

/// Who and what the dashboard is for.
pub struct Dashboard<'a> {
    /// Hospital name for the header.
    pub hospital_name: &'a str,
    /// The signed-in staff member.
    pub staff_id: &'a str,
    /// The newest event when the lists were read: the live stream resumes after it.
    pub last_event: i64,
}

/// The dashboard: incoming patients soonest first, then a short list of earlier ones,
/// kept live by the live script ([`frame`]).
pub fn dashboard_page(
    dashboard: &Dashboard<'_>,
    incoming: &Listing,
    earlier: &Listing,
    now: DateTime<Utc>,
) -> Markup {
    let hospital_name = dashboard.hospital_name;
    let unreadable = incoming.unreadable.len() + earlier.unreadable.len();
    let body = html! {
        header.top {
            h1 { (hospital_name) }
            p { span.ja lang="ja" { "救急受入予定" } " " span.en { "Incoming patients" } }
            p { span.label { "表示 Loaded " } (clock_time(now)) " JST · "
                span #live-status .live role="status" { "… 接続中 Connecting" } }
            form method="post" action="/sign-out" {
                span.label { (dashboard.staff_id) " " }
                button type="submit" { "サインアウト " span.en { "Sign out" } }
            }
        }
        @if unreadable > 0 {
            p.warning role="alert" {
                "⚠ " span.ja lang="ja" { "表示できない受入情報が " (unreadable) " 件あります" } " "
                span.en { (unreadable) " stored arrival(s) could not be displayed — see the server log" }
            }
        }
        p.empty #no-arrivals hidden[!incoming.arrivals.is_empty()] {
            span.ja lang="ja" { "受入予定の患者はいません" } " " span.en { "No incoming patients" }
        }
        main.arrivals data-last-event=(dashboard.last_event) {
            @for arrival in &incoming.arrivals {
                (arrival_card(arrival, now))
            }
        }
        @if !earlier.arrivals.is_empty() {
            section.earlier {
                h2 { span.ja lang="ja" { "過去の受入" } " " span.en { "Earlier arrivals" } }
                table {
                    thead { tr {
                        th { "到着予定 ETA" } th { "救急隊 Unit" } th { "主訴 Chief complaint" } th { "" }
                    } }
                    tbody {
                        @for arrival in &earlier.arrivals {
                            @let n = &arrival.notice;
                            tr {
                                td { (date_time(n.eta)) }
                                td { (n.unit) " · " (n.fire_department) }
                                td { (n.chief_complaint) }
                                td { a href={ "/arrivals/" (n.handoff_id) } { "詳細 Details" } }
                            }
                        }
                    }
                }
            }
        }
        script { (PreEscaped(LIVE_JS)) }
    };
    page(
        &format!("救急受入 ER arrivals — {hospital_name}"),
        false,
        body,
    )
}

/// The staff sign-in page; `failed` after any refusal (one message whatever the reason).
pub fn sign_in_page(next: &str, failed: bool) -> Markup {
    page(
        "サインイン Sign in",
        false,
        html! {
            h1 { span.ja lang="ja" { "救急受入画面 サインイン" } " " span.en { "ER dashboard — sign in" } }
            @if failed {
                p.warning role="alert" {
                    "⚠ " span.ja lang="ja" { "サインインできません。職員ID・パスワード・確認コードを確かめてください（失敗が続くとしばらくロックされます）" } " "
                    span.en { "Sign-in refused: check staff id, password and code (repeated failures lock the account for a while)" }
                }
            }
            form.sign-in method="post" action="/sign-in" {
                input type="hidden" name="next" value=(next);
                label { span.ja lang="ja" { "職員ID" } " " span.en { "Staff id" }
                    input type="text" name="staff_id" autocomplete="username" required autofocus; }
                label { span.ja lang="ja" { "パスワード" } " " span.en { "Password" }
                    input type="password" name="password" autocomplete="current-password" minlength="8" required; }
                label { span.ja lang="ja" { "確認コード（6桁）" } " " span.en { "Code from the authenticator app (6 digits)" }
                    input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required; }
                button type="submit" { "サインイン " span.en { "Sign in" } }
            }
        },
    )
}

/// 403 page for a form posted from another site.
pub fn forbidden_page() -> Markup {
    page(
        "拒否 Forbidden",
        false,
        html! {
            h1 { span.ja lang="ja" { "他のサイトからの送信は受け付けません" } " " span.en { "Forms from other sites are refused" } }
            p { a href="/" { "← 受入一覧 Dashboard" } }
        },
    )
}

/// 409 page when an arrival was already answered differently or withdrawn.
pub fn already_answered_page() -> Markup {
    page(
        "回答済み Already answered",
        false,
        html! {
            h1 { span.ja lang="ja" { "この搬送はすでに回答済みか、取り消されています" } " "
                 span.en { "This handoff was already answered or withdrawn" } }
            p { span.ja lang="ja" { "変更が必要な場合は救急隊に電話してください。" } " "
                span.en { "To change it, call the crew." } }
            p { a href="/" { "← 受入一覧 Dashboard" } }
        },
    )
}

/// 404 page for an unknown arrival.
pub fn not_found_page() -> Markup {
    page(
        "見つかりません Not found",
        false,
        html! {
            h1 { span.ja lang="ja" { "該当する受入情報はありません" } " " span.en { "No such arrival" } }
            p { a href="/" { "← 受入一覧 Dashboard" } }
        },
    )
}

/// 503 page when storage fails.
pub fn unavailable_page() -> Markup {
    page(
        "一時的に利用できません Unavailable",
        true,
        html! {
            h1 { span.ja lang="ja" { "受入情報を一時的に表示できません" } " " span.en { "Arrivals temporarily unavailable" } }
            p { span.ja lang="ja" { "自動で再読み込みします。" } " " span.en { "This page retries automatically." } }
        },
    )
}

#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, h, m, s).unwrap()
    }

    #[test]
    fn dashboard_lists_soonest_first_and_reports_unreadable_rows() {
        let now = at(10, 0, 0);
        let soon = fixtures::stored(fixtures::notice_without_summary(1, at(10, 5, 0)));
        let later = fixtures::stored(fixtures::notice_with_summary(2, at(10, 20, 0)));
        let incoming = Listing {
            arrivals: vec![soon, later],
            unreadable: vec!["x".into()],
        };
        let dashboard = Dashboard {
            hospital_name: "H <&>",
            staff_id: "nurse-1",
            last_event: 42,
        };
        let html = dashboard_page(&dashboard, &incoming, &Listing::default(), now).into_string();
        let first = html
            .find(&format!("arrival-{}", uuid::Uuid::from_u128(1)))
            .unwrap();
        let second = html
            .find(&format!("arrival-{}", uuid::Uuid::from_u128(2)))
            .unwrap();
        assert!(first < second);
        assert!(html.contains("H &lt;&amp;&gt;"), "hospital name is escaped");
        assert!(html.contains("could not be displayed"));
        assert!(
            !html.contains(r#"http-equiv="refresh""#),
            "live, not reloading"
        );
        assert!(html.contains(r#"data-last-event="42""#));
        assert!(html.contains("new EventSource('/events?after='"));
    }
}
