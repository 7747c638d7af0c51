//! Carries the ER's answers to the edge-agent (`POST /v1/hospital/handoffs/{id}/decision`),
//! retrying with backoff (1 s doubling to 30 s) until the edge takes or refuses each one.
//!
//! The edge applies an answer at most once and answers a repeat of the same answer with
//! 200, so an answer whose acknowledgement was lost is safe to send again. A 404 or 409
//! means the edge will never take it (the crew withdrew, or the handoff is unknown): the
//! answer is marked rejected and the wall screen says the crew did not hear it.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;

use crate::error::Result;
use crate::state::AppState;
use crate::store::PendingAnswer;

use myna_service::{MAX_RETRY_BACKOFF as MAX_BACKOFF, retry_backoff as backoff};

/// How one attempt ended.
enum Sent {
    Delivered,
    Refused(u16),
    Failed(String),
}

async fn send(state: &AppState, edge_url: &str, answer: &PendingAnswer) -> Sent {
    let mut request = state.edge_client().post(format!(
        "{edge_url}/v1/hospital/handoffs/{}/decision",
        answer.handoff_id
    ));
    // Over mTLS the client certificate identifies this hospital; a token only when set.
    if let Some(token) = &state.config().edge_token {
        request = request.bearer_auth(token);
    }
    let response = request
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(answer.body_json.clone())
        .send()
        .await;
    match response {
        Ok(r) if r.status().is_success() => Sent::Delivered,
        Ok(r) if matches!(r.status().as_u16(), 404 | 409) => Sent::Refused(r.status().as_u16()),
        Ok(r) => Sent::Failed(format!("edge answered {}", r.status().as_u16())),
        Err(e) => Sent::Failed(e.without_url().to_string()),
    }
}

/// Attempts one answer and records the outcome.
async fn attempt(state: &AppState, edge_url: &str, answer: PendingAnswer) -> Result<()> {
    let handoff_id = answer.handoff_id;
    let now = Utc::now();
    let settled = match send(state, edge_url, &answer).await {
        Sent::Delivered => {
            tracing::info!(%handoff_id, "answer delivered to the edge");
            Some(true)
        }
        Sent::Refused(status) => {
            tracing::warn!(%handoff_id, status, "edge refused the answer: handoff closed there");
            Some(false)
        }
        Sent::Failed(error) => {
            let wait = backoff(answer.attempts);
            tracing::warn!(%handoff_id, %error, attempts = answer.attempts + 1, retry_in_s = wait.as_secs(), "answer not delivered; will retry");
            let next = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
            state
                .store()
                .run(move |s| s.answer_failed(handoff_id, next))
                .await?;
            None
        }
    };
    if let Some(delivered) = settled {
        let event = state
            .store()
            .run(move |s| s.answer_settled(handoff_id, delivered, now))
            .await?;
        if let Some(seq) = event {
            state.announce(seq);
        }
    }
    Ok(())
}

/// One pass: attempts every due answer. Returns how long to sleep.
async fn pass(state: &AppState) -> Result<Duration> {
    let Some(edge_url) = state.config().edge_url.clone() else {
        return Ok(MAX_BACKOFF);
    };
    let now = Utc::now();
    let due = state.store().run(move |s| s.due_answers(now, 32)).await?;
    for answer in due {
        attempt(state, &edge_url, answer).await?;
    }
    let next = state.store().run(|s| s.next_answer_due()).await?;
    Ok(next.map_or(MAX_BACKOFF, |due| {
        (due - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(MAX_BACKOFF)
    }))
}

/// Delivers answers until `shutdown` completes; storage errors are logged and retried.
pub async fn run(state: AppState, shutdown: impl Future<Output = ()> + Send) {
    tokio::pin!(shutdown);
    loop {
        let wait = pass(&state).await.unwrap_or_else(|error| {
            tracing::error!(%error, "answers outbox pass failed");
            MAX_BACKOFF
        });
        tokio::select! {
            () = &mut shutdown => return,
            () = state.answers_woken() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}
