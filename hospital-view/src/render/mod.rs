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
//! - this file: the page frame, the dashboard and its live script, sign-in, error pages,
//!   time formatting (in JST, the ER's wall clock: [`myna_domain::time::jst`]).

pub mod alerts;
pub mod answer;
pub mod card;
pub mod detail;
pub mod labels;

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use myna_domain::time::jst;

pub use card::arrival_card;
pub use detail::detail_page;

use crate::store::Listing;

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
main.arrivals { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(36rem, 100%), 1fr)); gap: 1rem; }
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
section.answer { margin: 0.4rem 0; }
form.answer { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; }
form.answer button, button.print, header.top button { font: inherit; font-weight: 800; padding: 0.3rem 1rem; border: 3px solid #111; border-radius: 6px; background: #fff; cursor: pointer; min-height: 2.6rem; }
form.answer button.accept { background: #e6f4ea; }
form.answer button.decline { background: #fdecea; }
form.answer select { font: inherit; font-size: 0.8em; max-width: 100%; }
article.arrival { min-width: 0; overflow-wrap: anywhere; }
@media (max-width: 600px) { body { font-size: 18px; padding: 0.4rem; } }
p.answered { margin: 0.2rem 0; font-size: 1.2rem; padding: 0.2rem 0.5rem; border-left: 8px solid #111; }
p.answered.accepted { border-color: #1e7e34; }
p.answered.declined, p.answered.withdrawn { border-color: #777; }
article.answer-declined, article.answer-withdrawn { opacity: 0.6; border-style: dashed; }
.crew-notice { margin: 0.1rem 0; font-size: 0.9em; }
article.fresh { outline: 8px solid #0645ad; }
article.fresh::before { content: "● 新着 NEW"; display: inline-block; font-weight: 800; color: #fff; background: #0645ad; padding: 0 0.5rem; }
.live { font-weight: 700; }
.live.down { color: #b00020; }
form.sign-in { display: grid; gap: 0.6rem; max-width: 28rem; }
form.sign-in input { font: inherit; padding: 0.3rem; }
@media print {
  body { font-size: 12pt; }
  .no-print, form.answer, header.top form, header.top button { display: none !important; }
  article.arrival { border: 2px solid #000; break-inside: avoid; }
  section.alerts { border: 2px solid #000; background: none; }
  section.registration, section.handoff, section.records { break-inside: avoid; }
  a { color: #000; text-decoration: none; }
}
"#;

/// The dashboard's script: keeps the cards live from `GET /events` (the browser's
/// EventSource reconnects by itself and resumes after the last event id it saw), keeps
/// the ETA countdowns ticking, and says on screen whether the feed is live. Small and
/// dependency-free on purpose: it runs on wall screens for days.
const LIVE_JS: &str = r#"
(function () {
  const grid = document.querySelector('main.arrivals');
  const status = document.getElementById('live-status');
  const empty = document.getElementById('no-arrivals');
  function say(text, down) { status.textContent = text; status.classList.toggle('down', down); }
  function countdown(el) {
    const s = Math.round((Date.parse(el.dataset.eta) - Date.now()) / 1000);
    if (s > 0) { const m = Math.ceil(s / 60);
      el.textContent = s < 300 ? 'あと ' + Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0') + ' in ' + Math.floor(s / 60) + ' min ' + (s % 60) + ' s'
                               : 'あと ' + m + ' 分 in ' + m + ' min'; }
    else if (s > -60) { el.textContent = 'まもなく到着 arriving now'; }
    else { const m = Math.floor(-s / 60); el.textContent = '予定を ' + m + ' 分経過 ' + m + ' min ago'; }
  }
  function tick() { document.querySelectorAll('.countdown[data-eta]').forEach(countdown); }
  function place(card) {
    const eta = Date.parse(card.dataset.eta);
    const later = Array.from(grid.children).find(c => Date.parse(c.dataset.eta) > eta);
    grid.insertBefore(card, later || null);
  }
  function upsert(data) {
    const tpl = document.createElement('template');
    tpl.innerHTML = data.html.trim();
    const card = tpl.content.firstElementChild;
    const old = document.getElementById(card.id);
    if (data.section !== 'incoming') { if (old) old.remove(); return; }
    if (old) { old.replaceWith(card); } else { place(card); card.classList.add('fresh'); setTimeout(() => card.classList.remove('fresh'), 30000); }
    if (empty) empty.hidden = grid.children.length > 0;
    tick();
  }
  const source = new EventSource('/events?after=' + encodeURIComponent(grid.dataset.lastEvent));
  source.addEventListener('open', () => say('● ライブ Live', false));
  source.addEventListener('arrival', e => upsert(JSON.parse(e.data)));
  source.addEventListener('reload', () => location.reload());
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) { say('⚠ 再サインインが必要 Sign in again — reload', true); }
    else { say('⚠ 再接続中 Reconnecting…', true); }
  });
  tick(); setInterval(tick, 1000);
})();
"#;

/// Prints the page from the detail view's print button (no inline handlers: the policy
/// allows only these scripts, by hash).
const PRINT_JS: &str =
    "document.getElementById('print').addEventListener('click', () => window.print());";

/// The `Content-Security-Policy` of every page: nothing but this origin's forms and event
/// stream, inline styles, and exactly the two scripts above (by SHA-256), so injected
/// markup can neither run script nor post anywhere else.
pub fn content_security_policy() -> &'static str {
    static POLICY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use base64::Engine;
        use sha2::{Digest, Sha256};
        let hash = |script: &str| {
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script))
            )
        };
        format!(
            "default-src 'none'; style-src 'unsafe-inline'; script-src {} {}; connect-src 'self'; \
             form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            hash(LIVE_JS),
            hash(PRINT_JS)
        )
    });
    &POLICY
}

/// The page frame. `refresh` adds a 15-second self-refresh (the 503 page retries itself).
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
/// kept live by [`LIVE_JS`].
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
