//! The page frame every page shares: the stylesheet (large type for a wall screen read
//! from 3 m, a print stylesheet), the two scripts (the dashboard's live feed, the detail
//! page's print button) and the `Content-Security-Policy` that allows exactly them.

use maud::{DOCTYPE, Markup, PreEscaped, html};

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
pub(super) const LIVE_JS: &str = r#"
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
pub(super) const PRINT_JS: &str =
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
