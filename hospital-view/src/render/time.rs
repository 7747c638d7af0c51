//! Times as the ER reads them: in JST ([`myna_domain::time::jst`]), the ER's wall clock,
//! and ETAs relative to now.

use chrono::{DateTime, Utc};
use maud::{Markup, html};
use myna_domain::time::jst;

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
}
