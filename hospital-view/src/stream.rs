//! `GET /events`: the live dashboard's server-sent event stream.
//!
//! Every change to an arrival is a row in `events` with an increasing id. The stream sends,
//! for each event after the client's resume point, the arrival's card as it is *now*
//! (`event: arrival`, `id: <seq>`, data: [`CardEvent`] JSON), then waits for the next
//! committed event. The resume point is the browser's `Last-Event-ID` (sent by
//! `EventSource` on every reconnect), else `?after=` (the page's last event when it was
//! rendered). So a dashboard that lost its connection, or whose server restarted, gets
//! exactly what it missed; and since a card replaces the card with the same id, an event
//! seen twice shows nothing twice.
//!
//! A resume point beyond the newest event (the database was replaced) gets one
//! `event: reload`. The stream re-checks its session every few minutes, which keeps it from
//! idling out, and ends when the staff session expires or ends (the browser's
//! reconnect then gets 401 and the page asks to sign in again) and when the server shuts
//! down (so the drain does not wait on it; the browser reconnects to the next instance).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::http_error::PageError;
use crate::pages::STILL_INCOMING;
use crate::render;
use crate::session::Staff;
use crate::state::AppState;
use crate::store::ArrivalEvent;

/// Events read from the store per query.
const BATCH: u32 = 100;
/// Comment line sent when idle, so proxies keep the connection and the browser notices a
/// dead one.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often an open stream re-checks its session (and so marks it used).
const SESSION_RECHECK: Duration = Duration::from_secs(5 * 60);
/// How long a browser waits before reconnecting (the `retry:` field).
const RECONNECT: Duration = Duration::from_secs(1);

/// `?after=` of `GET /events`.
#[derive(Debug, Default, Deserialize)]
pub struct EventsQuery {
    /// Resume after this event id (ignored when `Last-Event-ID` is sent).
    after: Option<i64>,
}

/// The data of one `arrival` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardEvent {
    /// The arrival.
    pub handoff_id: uuid::Uuid,
    /// Its ETA, for ordering the cards.
    pub eta: DateTime<Utc>,
    /// `incoming` (a card in the main grid) or `earlier` (ETA long past).
    pub section: String,
    /// The card's HTML (`<article id="arrival-…">`).
    pub html: String,
}

/// One open event stream, counted in the gauge `hospital_sse_streams_open` while it lives.
struct OpenStream;

impl OpenStream {
    fn new() -> Self {
        metrics::gauge!("hospital_sse_streams_open").increment(1.0);
        OpenStream
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        metrics::gauge!("hospital_sse_streams_open").decrement(1.0);
    }
}

struct Cursor {
    _open: OpenStream,
    state: AppState,
    after: i64,
    changes: tokio::sync::watch::Receiver<i64>,
    closing: tokio::sync::watch::Receiver<bool>,
    ready: VecDeque<Event>,
    session_ends: tokio::time::Instant,
    staff: Staff,
    next_session_check: tokio::time::Instant,
}

/// The resume point: `Last-Event-ID`, else `?after=`, else "from now on".
fn resume_point(headers: &HeaderMap, query: &EventsQuery, newest: i64) -> i64 {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .or(query.after)
        .unwrap_or(newest)
        .max(0)
}

/// `GET /events`.
pub async fn events(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>, PageError> {
    let changes = state.watch_events();
    let closing = state.watch_closing();
    let newest = state.store().run(|s| s.last_event()).await?;
    let after = resume_point(&headers, &query, newest);
    let mut ready = VecDeque::new();
    ready.push_back(Event::default().retry(RECONNECT));
    let after = if after > newest {
        tracing::warn!(
            after,
            newest,
            "dashboard resumed past the newest event; asking it to reload"
        );
        ready.push_back(Event::default().event("reload").data("reload"));
        newest
    } else {
        after
    };
    let session_left = (staff.expires_at - state.now())
        .to_std()
        .unwrap_or(Duration::ZERO);
    let cursor = Cursor {
        _open: OpenStream::new(),
        state,
        after,
        changes,
        closing,
        ready,
        session_ends: tokio::time::Instant::now() + session_left,
        staff,
        next_session_check: tokio::time::Instant::now() + SESSION_RECHECK,
    };
    let stream = futures_util::stream::unfold(cursor, |mut cursor| async move {
        let event = next_event(&mut cursor).await?;
        Some((Ok(event), cursor))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// The next event to send; `None` ends the stream (session over, server stopping, or the
/// store failing: the browser reconnects and resumes).
async fn next_event(cursor: &mut Cursor) -> Option<Event> {
    loop {
        if let Some(event) = cursor.ready.pop_front() {
            return Some(event);
        }
        let after = cursor.after;
        let events = match cursor
            .state
            .store()
            .run(move |s| s.events_after(after, BATCH))
            .await
        {
            Ok(events) => events,
            Err(error) => {
                tracing::error!(%error, "event stream could not read events; closing it");
                return None;
            }
        };
        if events.is_empty() {
            // Marks the newest value seen, so only a later commit wakes us.
            cursor.changes.borrow_and_update();
            let recheck = tokio::select! {
                changed = cursor.changes.changed() => { changed.ok()?; false }
                () = tokio::time::sleep_until(cursor.session_ends) => return None,
                // An open stream keeps its session from idling out, and ends with it
                // (sign-out, a disabled account).
                () = tokio::time::sleep_until(cursor.next_session_check) => true,
                _ = cursor.closing.wait_for(|closing| *closing) => return None,
            };
            if recheck {
                cursor.next_session_check = tokio::time::Instant::now() + SESSION_RECHECK;
                let hash = cursor.staff.token_sha256.clone();
                match Staff::of_session(&cursor.state, hash).await {
                    Ok(Some(_)) => {}
                    Ok(None) => return None,
                    Err(error) => {
                        tracing::error!(%error, "event stream could not check its session; closing it");
                        return None;
                    }
                }
            }
            continue;
        }
        for event in coalesce(events) {
            cursor.after = cursor.after.max(event.seq);
            match card_event(&cursor.state, event).await {
                Ok(Some(sse)) => cursor.ready.push_back(sse),
                Ok(None) => {}
                Err(error) => {
                    tracing::error!(%error, "event stream could not render a card; closing it");
                    return None;
                }
            }
        }
    }
}

/// Keeps the last event of each arrival in a batch (its card is rendered as it is now, so
/// the earlier ones would send the same card), in event order.
fn coalesce(events: Vec<ArrivalEvent>) -> Vec<ArrivalEvent> {
    let mut kept: Vec<ArrivalEvent> = Vec::with_capacity(events.len());
    for event in events.into_iter().rev() {
        if !kept.iter().any(|k| k.handoff_id == event.handoff_id) {
            kept.push(event);
        }
    }
    kept.reverse();
    kept
}

async fn card_event(state: &AppState, event: ArrivalEvent) -> Result<Option<Event>> {
    let handoff_id = event.handoff_id;
    let Some(arrival) = state.store().run(move |s| s.get(handoff_id)).await? else {
        return Ok(None);
    };
    let now = Utc::now();
    let section = if arrival.notice.eta >= now - STILL_INCOMING {
        "incoming"
    } else {
        "earlier"
    };
    let data = CardEvent {
        handoff_id,
        eta: arrival.notice.eta,
        section: section.into(),
        html: render::arrival_card(&arrival, now).into_string(),
    };
    let json = serde_json::to_string(&data)?;
    Ok(Some(
        Event::default()
            .event("arrival")
            .id(event.seq.to_string())
            .data(json),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64, n: u128) -> ArrivalEvent {
        ArrivalEvent {
            seq,
            handoff_id: uuid::Uuid::from_u128(n),
        }
    }

    #[test]
    fn a_batch_sends_each_arrival_once_at_its_last_event() {
        let kept = coalesce(vec![event(1, 1), event(2, 2), event(3, 1), event(4, 3)]);
        assert_eq!(kept, vec![event(2, 2), event(3, 1), event(4, 3)]);
    }

    #[test]
    fn resume_prefers_last_event_id_then_after_then_now() {
        let mut headers = HeaderMap::new();
        let query = EventsQuery { after: Some(5) };
        assert_eq!(resume_point(&headers, &query, 9), 5);
        headers.insert("last-event-id", "7".parse().unwrap());
        assert_eq!(resume_point(&headers, &query, 9), 7);
        assert_eq!(
            resume_point(&HeaderMap::new(), &EventsQuery::default(), 9),
            9
        );
        headers.insert("last-event-id", "-3".parse().unwrap());
        assert_eq!(resume_point(&headers, &query, 9), 0);
    }
}
