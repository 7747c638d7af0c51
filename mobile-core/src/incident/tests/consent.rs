//! `consent` tests: the scene's order through the public API. At every step an incident can
//! reach, every action the crew can take is tried on a fresh incident. The spec is the
//! table in [`allowed`], written out by hand (not derived from `IncidentStep::allows`):
//! an action not in it must fail with `IllegalStep`, leave the step as it was, and reach
//! neither the card nor the network; an action in it must get past the step check (and,
//! for the network actions, actually try the edge). After a refusal nothing about the
//! records is ever asked for.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use myna_domain::identity::{AddressOrInsurer, BasicFacts};

use super::*;

/// An edge that counts connections and answers none of them.
struct CountingEdge {
    url: String,
    connections: Arc<AtomicUsize>,
}

impl CountingEdge {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(socket);
            }
        });
        CountingEdge { url, connections }
    }

    fn count(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    ReadCard,
    ConfirmPhoto,
    Pin,
    BasicFacts,
    ConsentGiven,
    ConsentRefused,
    ConsentDifficult,
    FetchSummary,
    SummaryAgain,
    HandOff,
    Close,
}

const ACTIONS: [Action; 11] = [
    Action::ReadCard,
    Action::ConfirmPhoto,
    Action::Pin,
    Action::BasicFacts,
    Action::ConsentGiven,
    Action::ConsentRefused,
    Action::ConsentDifficult,
    Action::FetchSummary,
    Action::SummaryAgain,
    Action::HandOff,
    Action::Close,
];

impl Action {
    /// Whether an allowed call of this action goes to the edge.
    fn uses_network(self) -> bool {
        !matches!(
            self,
            Action::ReadCard | Action::SummaryAgain | Action::Close
        )
    }

    /// Runs the action; a card exchange panics (the card's script is empty).
    async fn run(self, incident: &EmergencyIncident) -> Result<(), MobileError> {
        let untouched = ScriptedCard::new(vec![]);
        let consent = |c| async move { incident.record_consent(c).await.map(drop) };
        match self {
            Action::ReadCard => incident.read_card(&untouched).map(drop),
            Action::ConfirmPhoto => incident.confirm_identity(true).await.map(drop),
            Action::Pin => incident
                .identify_with_pin(&untouched, pin())
                .await
                .map(drop),
            Action::BasicFacts => incident
                .identify_by_basic_facts(BasicFacts {
                    name: "山田 太郎".into(),
                    birth_date: NaiveDate::from_ymd_opt(1950, 4, 1).unwrap(),
                    sex: Sex::Male,
                    address_or_insurer: AddressOrInsurer::Address("東京都世田谷区".into()),
                })
                .await
                .map(drop),
            Action::ConsentGiven => consent(ConsentState::Given).await,
            Action::ConsentRefused => consent(ConsentState::Refused).await,
            Action::ConsentDifficult => {
                consent(ConsentState::Difficult {
                    reason: DifficultyReason::Unconscious,
                })
                .await
            }
            Action::FetchSummary => incident.fetch_summary().await.map(drop),
            Action::SummaryAgain => incident.summary_again().map(drop),
            Action::HandOff => incident.hand_off(handoff_request()).await.map(drop),
            Action::Close => incident.close(),
        }
    }
}

/// The steps each reachable state is reached by (after `Started`).
fn states() -> Vec<(&'static str, Vec<IncidentStep>)> {
    use IncidentStep::*;
    let given = ConsentRecorded(ConsentState::Given);
    let refused = ConsentRecorded(ConsentState::Refused);
    let difficult = ConsentRecorded(ConsentState::Difficult {
        reason: DifficultyReason::Unconscious,
    });
    vec![
        ("started", vec![]),
        ("card read", vec![CardRead]),
        ("identified", vec![CardRead, Identified]),
        ("given", vec![CardRead, Identified, given.clone()]),
        ("refused", vec![CardRead, Identified, refused.clone()]),
        ("difficult", vec![CardRead, Identified, difficult]),
        (
            "summary fetched",
            vec![CardRead, Identified, given.clone(), SummaryFetched],
        ),
        (
            "handed off after refusal",
            vec![CardRead, Identified, refused, HandedOff],
        ),
        (
            "handed off after summary",
            vec![
                CardRead,
                Identified,
                given.clone(),
                SummaryFetched,
                HandedOff,
            ],
        ),
        ("closed", vec![CardRead, Identified, given, Closed]),
    ]
}

/// The spec: what the crew may do in each state.
fn allowed(state: &str) -> &'static [Action] {
    use Action::*;
    match state {
        "started" => &[ReadCard, BasicFacts, Close],
        // The basic facts after a card read: the fallback when the edge refused the card
        // (expired, revoked) within a declared disaster.
        "card read" => &[ReadCard, ConfirmPhoto, Pin, BasicFacts, Close],
        "identified" => &[ConsentGiven, ConsentRefused, ConsentDifficult, Close],
        "given" | "difficult" => &[FetchSummary, HandOff, Close],
        "refused" | "handed off after refusal" => &[HandOff, Close],
        "summary fetched" => &[FetchSummary, SummaryAgain, HandOff, Close],
        "handed off after summary" => &[SummaryAgain, HandOff, Close],
        "closed" => &[Close],
        other => panic!("no spec for {other}"),
    }
}

#[tokio::test]
async fn every_action_out_of_order_is_refused_on_the_tablet_without_any_io() {
    let edge = CountingEdge::start().await;
    let mut checked = 0;
    for (state, steps) in states() {
        for action in ACTIONS {
            let client = EdgeClient::new(edge.url.clone(), "tablet-token".into()).unwrap();
            let incident = EmergencyIncident::new(client, "crew-042".into());
            if !steps.is_empty() {
                at_steps(&incident, steps.clone());
            }
            let before = (incident.step(), edge.count());
            if action == Action::ReadCard && allowed(state).contains(&action) {
                // Allowed: it would talk to the card (the empty script would fail the test).
                continue;
            }
            let result = action.run(&incident).await;
            let label = format!("{action:?} at {state}");
            if allowed(state).contains(&action) {
                assert!(
                    !is_illegal_ref(&result),
                    "{label} must be allowed: {result:?}"
                );
                if action.uses_network() {
                    assert!(edge.count() > before.1, "{label} must try the edge");
                } else {
                    assert_eq!(edge.count(), before.1, "{label} needs no network");
                }
            } else {
                assert!(
                    is_illegal_ref(&result),
                    "{label} must be refused: {result:?}"
                );
                assert_eq!(
                    (incident.step(), edge.count()),
                    before,
                    "{label} changed the step or reached the edge"
                );
                assert!(
                    incident.queued_writes().unwrap().is_empty(),
                    "{label} queued a write"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        10 * ACTIONS.len() - 2,
        "every state × action was checked"
    );
}

#[tokio::test]
async fn after_a_refusal_the_records_are_never_asked_for() {
    let edge = CountingEdge::start().await;
    let client = EdgeClient::new(edge.url.clone(), "tablet-token".into()).unwrap();
    let incident = EmergencyIncident::new(client, "crew-042".into());
    at_steps(
        &incident,
        vec![IncidentStep::CardRead, IncidentStep::Identified],
    );
    // The refusal itself is recorded (queued here: the counting edge answers nothing).
    incident
        .record_consent(ConsentState::Refused)
        .await
        .unwrap();
    let after_refusal = edge.count();
    for _ in 0..3 {
        assert!(is_illegal(incident.fetch_summary().await));
        assert!(is_illegal(incident.summary_again()));
        // Changing one's mind on the tablet is not a way round it either.
        assert!(is_illegal(
            incident.record_consent(ConsentState::Given).await
        ));
    }
    assert_eq!(
        edge.count(),
        after_refusal,
        "nothing was sent after the refusal"
    );
    // Queued: only the refusal, no summary request of any kind.
    assert_eq!(queued_kinds(&incident), [crate::local::WriteKind::Consent]);
}

fn is_illegal_ref(result: &Result<(), MobileError>) -> bool {
    matches!(result, Err(MobileError::IllegalStep { .. }))
}
