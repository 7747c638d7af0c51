//! HTML pages, rendered with maud (every interpolated value is HTML-escaped).
//!
//! Pure functions of the stored notices and `now`: no I/O, no clock reads, so tests pass
//! plain data. Designed for a wall screen read from 3 m: large type, Japanese and English
//! labels side by side, and colour never the only signal (every alert carries a text tag
//! such as `⚠ ALLERGY`, every abnormal lab an `H` or `L`).
//!
//! # Layout
//! - [`labels`]: bilingual labels of coded values.
//! - [`card`]: one arrival card (head, alerts, vitals, short history); also the fragment a
//!   later live-update channel will push.
//! - [`alerts`]: the alerts block (allergies, infections, high-risk drugs, abnormal labs,
//!   blood type).
//! - [`detail`]: the detail page with every record and its provenance.
//! - this file: the page frame, the dashboard, error pages, time formatting.

pub mod alerts;
pub mod card;
pub mod detail;
pub mod labels;

use chrono::{DateTime, FixedOffset, Offset, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

pub use card::arrival_card;
pub use detail::detail_page;

use crate::store::Listing;

/// Japan Standard Time (UTC+9, no daylight saving): the ER's wall clock.
pub fn jst() -> FixedOffset {
    // 9 h is within FixedOffset's ±24 h range, so the fallback is never taken.
    FixedOffset::east_opt(9 * 3600).unwrap_or(Utc.fix())
}

/// `14:32` in JST.
pub fn clock_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&jst()).format("%H:%M").to_string()
}

/// `2026-11-25 14:32 JST`.
pub fn date_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&jst())
        .format("%Y-%m-%d %H:%M JST")
        .to_string()
}

/// "あと 12 分 in 12 min", "まもなく到着 arriving now" or "8 分経過 8 min ago".
pub fn eta_relative(eta: DateTime<Utc>, now: DateTime<Utc>) -> Markup {
    let seconds = (eta - now).num_seconds();
    html! {
        @if seconds > 0 {
            @let minutes = (seconds + 59) / 60;
            span.ja lang="ja" { "あと " (minutes) " 分" } " " span.en { "in " (minutes) " min" }
        } @else if seconds > -60 {
            span.ja lang="ja" { "まもなく到着" } " " span.en { "arriving now" }
        } @else {
            @let minutes = -seconds / 60;
            span.ja lang="ja" { "予定を " (minutes) " 分経過" } " " span.en { (minutes) " min ago" }
        }
    }
}

const CSS: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; padding: 0.5rem 1rem 2rem; font-family: "Hiragino Sans", "Noto Sans JP", "Noto Sans CJK JP", "Yu Gothic", system-ui, sans-serif; font-size: 26px; line-height: 1.35; background: #fff; color: #111; }
a { color: #0645ad; }
header.top { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 2rem; border-bottom: 4px solid #111; margin-bottom: 1rem; }
header.top h1 { font-size: 1.6rem; margin: 0.3rem 0; }
header.top p { margin: 0.2rem 0; }
.ja { font-weight: 600; }
.en { color: #333; }
main.arrivals { display: grid; grid-template-columns: repeat(auto-fill, minmax(36rem, 1fr)); gap: 1rem; }
article.arrival { border: 4px solid #111; border-radius: 8px; padding: 0.6rem 0.9rem; }
.arrival-head .eta { font-size: 1.9rem; font-weight: 700; }
.arrival-head .eta strong { font-size: 2.3rem; }
.arrival-head h2 { font-size: 1.7rem; margin: 0.2rem 0; }
.arrival-head p { margin: 0.15rem 0; }
.label { font-size: 0.8em; font-weight: 600; color: #333; }
section.alerts { border: 4px solid #b00020; background: #fff4f4; padding: 0.4rem 0.7rem; margin: 0.6rem 0; }
section.alerts h3 { margin: 0 0 0.3rem; font-size: 1.3rem; }
section.alerts ul { margin: 0; padding-left: 0; list-style: none; }
section.alerts li { margin: 0.25rem 0; }
.tag { display: inline-block; font-weight: 800; border: 2px solid currentColor; padding: 0 0.3rem; margin-right: 0.3rem; color: #b00020; }
.flag { display: inline-block; font-weight: 800; border: 2px solid #111; padding: 0 0.3rem; }
.date { color: #444; font-size: 0.85em; }
.no-alerts, .no-records { font-weight: 700; }
section.no-records { border: 4px dashed #111; background: #f2f2f2; padding: 0.5rem 0.7rem; margin: 0.6rem 0; }
dl.vitals { display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); gap: 0.2rem 1rem; margin: 0.4rem 0; }
dl.vitals div { border-left: 4px solid #888; padding-left: 0.4rem; }
dl.vitals dt { font-size: 0.8em; }
dl.vitals dd { margin: 0; font-size: 1.3em; font-weight: 700; }
section.history h3 { font-size: 1.1rem; margin: 0.5rem 0 0.1rem; }
section.history ul { margin: 0; padding-left: 1.2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: 0.2rem 0.4rem; text-align: left; vertical-align: top; }
.warning { border: 4px solid #b00020; padding: 0.4rem 0.7rem; font-weight: 700; }
.empty { font-size: 1.4rem; }
"#;

/// The page frame. `refresh` adds the 15-second self-refresh used until live push exists.
pub fn page(title: &str, refresh: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="ja" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if refresh {
                    meta http-equiv="refresh" content="15";
                }
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body { (body) }
        }
    }
}

/// The dashboard: incoming patients soonest first, then a short list of earlier ones.
pub fn dashboard_page(
    hospital_name: &str,
    incoming: &Listing,
    earlier: &Listing,
    now: DateTime<Utc>,
) -> Markup {
    let unreadable = incoming.unreadable.len() + earlier.unreadable.len();
    let body = html! {
        header.top {
            h1 { (hospital_name) }
            p { span.ja lang="ja" { "救急受入予定" } " " span.en { "Incoming patients" } }
            p { span.label { "更新 Updated " } (clock_time(now)) " JST" }
        }
        @if unreadable > 0 {
            p.warning role="alert" {
                "⚠ " span.ja lang="ja" { "表示できない受入情報が " (unreadable) " 件あります" } " "
                span.en { (unreadable) " stored arrival(s) could not be displayed — see the server log" }
            }
        }
        @if incoming.arrivals.is_empty() {
            p.empty { span.ja lang="ja" { "受入予定の患者はいません" } " " span.en { "No incoming patients" } }
        }
        main.arrivals {
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
    };
    page(
        &format!("救急受入 ER arrivals — {hospital_name}"),
        true,
        body,
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
    fn times_are_shown_in_jst() {
        assert_eq!(clock_time(at(5, 32, 0)), "14:32");
        assert_eq!(date_time(at(20, 0, 0)), "2026-11-26 05:00 JST");
    }

    #[test]
    fn eta_relative_rounds_up_future_minutes() {
        let now = at(10, 0, 0);
        let text = |eta| eta_relative(eta, now).into_string();
        assert!(text(at(10, 11, 59)).contains("in 12 min"));
        assert!(text(at(10, 12, 0)).contains("in 12 min"));
        assert!(text(at(10, 0, 0)).contains("arriving now"));
        assert!(text(at(9, 52, 0)).contains("8 min ago"));
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
        let html = dashboard_page("H <&>", &incoming, &Listing::default(), now).into_string();
        let first = html
            .find(&format!("arrival-{}", uuid::Uuid::from_u128(1)))
            .unwrap();
        let second = html
            .find(&format!("arrival-{}", uuid::Uuid::from_u128(2)))
            .unwrap();
        assert!(first < second);
        assert!(html.contains("H &lt;&amp;&gt;"), "hospital name is escaped");
        assert!(html.contains("could not be displayed"));
        assert!(html.contains(r#"http-equiv="refresh""#));
    }
}
