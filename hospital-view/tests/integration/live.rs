//! `GET /events` over a real socket: new and answered arrivals arrive as events with ids,
//! a reconnect with `Last-Event-ID` gets exactly what it missed, also across a restart of
//! the server, and the stream needs a staff session.

use std::time::Duration;

use eventsource_stream::{Event, Eventsource};
use futures_util::StreamExt;
use hospital_view::stream::CardEvent;
use hospital_view::{AppState, Clock};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::{Fixture, TOKEN, fixture, notice};

/// A hospital-view serving on a real loopback socket.
struct Running {
    url: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<hospital_view::Result<()>>,
}

async fn serve(state: AppState) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(hospital_view::run(listener, state, async {
        let _ = stopped.await;
    }));
    Running { url, stop, task }
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("task").expect("clean stop");
    }
}

type Events = std::pin::Pin<
    Box<
        dyn futures_util::Stream<
                Item = Result<Event, eventsource_stream::EventStreamError<reqwest::Error>>,
            > + Send,
    >,
>;

async fn connect(url: &str, cookie: &str, last_event_id: Option<&str>) -> Events {
    let mut request = reqwest::Client::new()
        .get(format!("{url}/events?after=0"))
        .header(reqwest::header::COOKIE, cookie);
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id);
    }
    let response = request.send().await.expect("connect");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert!(
        response.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    Box::pin(response.bytes_stream().eventsource())
}

/// The next `arrival` event, within 5 s.
async fn next_arrival(events: &mut Events) -> (String, CardEvent) {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("an event within 5 s")
            .expect("stream open")
            .expect("well-formed event");
        if event.event == "arrival" {
            let card: CardEvent = serde_json::from_str(&event.data).expect("card json");
            return (event.id, card);
        }
    }
}

/// Asserts no `arrival` event comes within `wait`.
async fn quiet(events: &mut Events, wait: Duration) {
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(next) = tokio::time::timeout_at(deadline, events.next()).await {
        let event = next.expect("stream open").expect("event");
        assert_ne!(event.event, "arrival", "unexpected {event:?}");
    }
}

async fn post(url: &str, n: u128) {
    let response = reqwest::Client::new()
        .post(format!("{url}/v1/arrivals"))
        .bearer_auth(TOKEN)
        .json(&notice(n, 10 + n as i64))
        .send()
        .await
        .expect("post");
    assert!(response.status().is_success());
}

#[tokio::test]
async fn live_events_carry_new_and_answered_cards_with_ids() {
    let f = fixture();
    let cookie = f.staff_cookie().await;
    let server = serve(f.state.clone()).await;
    let mut events = connect(&server.url, &cookie, None).await;

    post(&server.url, 1).await;
    let (id, card) = next_arrival(&mut events).await;
    assert_eq!(id, "1");
    assert_eq!(card.handoff_id, uuid::Uuid::from_u128(1));
    assert_eq!(card.section, "incoming");
    assert!(
        card.html.contains("Cefazolin"),
        "the card carries its alerts"
    );
    assert!(
        card.html.contains(r#"name="decision""#),
        "an open card has the answer form"
    );

    // A duplicate delivery is no event; the answer is one, with the card as it is now.
    post(&server.url, 1).await;
    let answered = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!(
            "{}/arrivals/{}/answer",
            server.url,
            uuid::Uuid::from_u128(1)
        ))
        .header(reqwest::header::COOKIE, &cookie)
        .form(&[("decision", "accepted")])
        .send()
        .await
        .expect("answer");
    assert_eq!(answered.status(), reqwest::StatusCode::SEE_OTHER);
    let (id, card) = next_arrival(&mut events).await;
    assert_eq!(id, "2");
    assert!(card.html.contains("ACCEPTED"));
    assert!(
        !card.html.contains(r#"name="decision""#),
        "no second answer"
    );
    quiet(&mut events, Duration::from_millis(300)).await;
    server.stop().await;
}

#[tokio::test]
async fn live_reconnect_resumes_after_the_last_event_even_across_a_restart() {
    let f = fixture();
    let cookie = f.staff_cookie().await;
    let server = serve(f.state.clone()).await;
    let mut events = connect(&server.url, &cookie, None).await;
    post(&server.url, 1).await;
    post(&server.url, 2).await;
    assert_eq!(next_arrival(&mut events).await.0, "1");
    assert_eq!(next_arrival(&mut events).await.0, "2");
    drop(events);

    // The dashboard saw event 1 only (say), then lost its connection: it gets 2 again.
    let mut events = connect(&server.url, &cookie, Some("1")).await;
    let (id, card) = next_arrival(&mut events).await;
    assert_eq!(
        (id.as_str(), card.handoff_id),
        ("2", uuid::Uuid::from_u128(2))
    );
    quiet(&mut events, Duration::from_millis(300)).await;

    // The server restarts; an arrival comes in while the dashboard is disconnected.
    server.stop().await;
    drop(events);
    let Fixture { dir, state, clock } = f;
    drop(state);
    let state = crate::open(&dir, &clock);
    let server = serve(state.clone()).await;
    post(&server.url, 3).await;
    let mut events = connect(&server.url, &cookie, Some("2")).await;
    let (id, card) = next_arrival(&mut events).await;
    assert_eq!(
        (id.as_str(), card.handoff_id),
        ("3", uuid::Uuid::from_u128(3))
    );
    quiet(&mut events, Duration::from_millis(300)).await;

    // A resume point beyond the newest event (another database) asks for a reload.
    let response = reqwest::Client::new()
        .get(format!("{}/events", server.url))
        .header(reqwest::header::COOKIE, &cookie)
        .header("Last-Event-ID", "999")
        .send()
        .await
        .expect("connect");
    let mut stream = response.bytes_stream().eventsource();
    let reload = loop {
        let event = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("event")
            .expect("open")
            .expect("well-formed");
        if !event.event.is_empty() && event.event != "message" {
            break event;
        }
    };
    assert_eq!(reload.event, "reload");
    drop(stream);
    server.stop().await;
    drop(dir);
}

#[tokio::test]
async fn live_stream_and_pages_need_a_staff_session() {
    let f = fixture();
    let server = serve(f.state.clone()).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let events = client
        .get(format!("{}/events", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), reqwest::StatusCode::UNAUTHORIZED);
    let forged = client
        .get(format!("{}/events", server.url))
        .header(reqwest::header::COOKIE, "hv_session=00ff")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), reqwest::StatusCode::UNAUTHORIZED);
    for page in ["/", "/arrivals/00000000-0000-0000-0000-000000000001"] {
        let response = client
            .get(format!("{}{page}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER, "{page}");
        let location = response.headers()[reqwest::header::LOCATION]
            .to_str()
            .unwrap();
        assert!(location.starts_with("/sign-in?next=%2F"), "{location}");
    }
    let wrong = client
        .post(format!("{}/sign-in", server.url))
        .form(&[
            ("staff_id", "er-nurse"),
            ("password", "not-the-password"),
            ("code", &hospital_view::dev_totp_code(f.clock.now())),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get(reqwest::header::SET_COOKIE).is_none());
    // A form from another site cannot answer for the ER.
    let cookie = f.staff_cookie().await;
    post(&server.url, 4).await;
    let cross_site = client
        .post(format!(
            "{}/arrivals/{}/answer",
            server.url,
            uuid::Uuid::from_u128(4)
        ))
        .header(reqwest::header::COOKIE, &cookie)
        .header(reqwest::header::ORIGIN, "http://evil.example")
        .form(&[("decision", "declined"), ("reason", "no_beds")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), reqwest::StatusCode::FORBIDDEN);
    // Signing out ends the session.
    let out = client
        .post(format!("{}/sign-out", server.url))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), reqwest::StatusCode::SEE_OTHER);
    let after = client
        .get(format!("{}/events", server.url))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), reqwest::StatusCode::UNAUTHORIZED);
    server.stop().await;
}
