//! The ER's answer on a card: the accept / decline buttons while it is open, then what
//! was answered, by whom, and whether the crew has heard it. Each state has its own
//! symbol and words (✓ accepted, ✕ declined, ⊘ withdrawn, … sending, ⚠ not delivered):
//! colour is never the only signal.

use maud::{Markup, html};
use myna_domain::handoff::DeclineReason;

use super::time::clock_time;
use crate::store::{Answer, CrewNotice, StoredArrival};

/// CSS class of the card for its answer (`answer-pending`, `answer-accepted`, ...).
pub fn answer_class(answer: &Answer) -> &'static str {
    match answer {
        Answer::Pending => "answer-pending",
        Answer::Accepted { .. } => "answer-accepted",
        Answer::Declined { .. } => "answer-declined",
        Answer::Withdrawn { .. } => "answer-withdrawn",
    }
}

/// The answer section. `back` is `dashboard` or `detail`: where the form returns.
pub fn answer_block(arrival: &StoredArrival, back: &str) -> Markup {
    let id = arrival.notice.handoff_id;
    html! {
        section.answer aria-live="polite" {
            @match &arrival.answer {
                Answer::Pending => {
                    form.answer method="post" action={ "/arrivals/" (id) "/answer" } {
                        input type="hidden" name="back" value=(back);
                        button.accept type="submit" name="decision" value="accepted" {
                            "✓ 受入 " span.en { "Accept" }
                        }
                        span.decline {
                            label {
                                span.label { "理由 Reason " }
                                select name="reason" {
                                    @for reason in DeclineReason::ALL {
                                        option value=(reason.as_str()) {
                                            (reason.label_ja()) " " (reason.label_en())
                                        }
                                    }
                                }
                            }
                            button.decline type="submit" name="decision" value="declined" {
                                "✕ お断り " span.en { "Decline" }
                            }
                        }
                    }
                }
                Answer::Accepted { by, at } => {
                    p.answered.accepted {
                        strong { "✓ 受入可 ACCEPTED" } " · " (clock_time(*at)) " · " (by)
                    }
                    (crew_notice(arrival.crew_notice))
                }
                Answer::Declined { reason, by, at } => {
                    p.answered.declined {
                        strong { "✕ お断り DECLINED" } ": " (reason.label_ja()) " " (reason.label_en())
                        " · " (clock_time(*at)) " · " (by)
                    }
                    (crew_notice(arrival.crew_notice))
                }
                Answer::Withdrawn { at } => {
                    p.answered.withdrawn {
                        strong { "⊘ 搬送取り消し WITHDRAWN" } " · " (clock_time(*at)) " · "
                        span.ja lang="ja" { "救急隊が取り消しました" } " " span.en { "by the crew" }
                    }
                }
            }
        }
    }
}

fn crew_notice(notice: Option<CrewNotice>) -> Markup {
    html! {
        @match notice {
            Some(CrewNotice::Delivered) => p.crew-notice { "✓ " span.ja lang="ja" { "救急隊に通知済み" } " " span.en { "Crew notified" } },
            Some(CrewNotice::Sending { attempts }) => p.crew-notice.sending {
                "… " span.ja lang="ja" { "救急隊へ送信中" } " " span.en { "Sending to the crew" }
                @if attempts > 0 { " (" (attempts) "×)" }
            },
            Some(CrewNotice::Rejected) => p.crew-notice.warning role="alert" {
                "⚠ " span.ja lang="ja" { "救急隊に届いていません（取り消し済み）。電話で確認してください。" } " "
                span.en { "Not delivered: the crew had closed this handoff. Call them." }
            },
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::render::fixtures;

    fn rendered(answer: Answer, crew_notice: Option<CrewNotice>) -> String {
        let mut arrival = fixtures::stored(fixtures::notice_without_summary(1, fixtures::now()));
        arrival.answer = answer;
        arrival.crew_notice = crew_notice;
        answer_block(&arrival, "dashboard").into_string()
    }

    #[test]
    fn each_answer_state_has_its_own_symbol_and_words() {
        let at = Utc.with_ymd_and_hms(2026, 11, 25, 5, 32, 0).unwrap();
        let pending = rendered(Answer::Pending, None);
        assert!(pending.contains(r#"value="accepted""#) && pending.contains(r#"value="declined""#));
        assert!(pending.contains(r#"<option value="no_beds">満床 No beds</option>"#));
        let accepted = rendered(
            Answer::Accepted {
                by: "er-nurse".into(),
                at,
            },
            Some(CrewNotice::Sending { attempts: 2 }),
        );
        assert!(accepted.contains("✓ 受入可 ACCEPTED") && accepted.contains("14:32"));
        assert!(accepted.contains("Sending to the crew") && accepted.contains("(2×)"));
        assert!(!accepted.contains("<form"), "answered: no second answer");
        let declined = rendered(
            Answer::Declined {
                reason: DeclineReason::StaffBusy,
                by: "er-doctor".into(),
                at,
            },
            Some(CrewNotice::Delivered),
        );
        assert!(declined.contains("✕ お断り DECLINED") && declined.contains("処置中 Staff busy"));
        assert!(declined.contains("Crew notified"));
        let rejected = rendered(
            Answer::Accepted {
                by: "er-nurse".into(),
                at,
            },
            Some(CrewNotice::Rejected),
        );
        assert!(rejected.contains("⚠") && rejected.contains("Call them"));
        let withdrawn = rendered(Answer::Withdrawn { at }, None);
        assert!(withdrawn.contains("⊘ 搬送取り消し WITHDRAWN"));
        assert_eq!(answer_class(&Answer::Withdrawn { at }), "answer-withdrawn");
    }
}
