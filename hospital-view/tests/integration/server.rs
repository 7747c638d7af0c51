//! Real sockets and real restarts.

use std::time::Duration;

use myna_domain::wire::ArrivalNotice;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{fixture, notice};

#[tokio::test]
async fn serves_healthz_on_a_real_socket_and_shuts_down_on_signal() {
    let f = fixture();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hospital_view::run(listener, f.state.clone(), async {
        let _ = stopped.await;
    }));

    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("ok"), "{response}");

    stop.send(()).expect("server still running");
    let result = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops promptly")
        .expect("task not panicked");
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn arrivals_survive_a_restart() {
    let f = fixture();
    let sent = notice(1, 15);
    assert!(f.post(&sent).await.status.is_success());
    let (dir, clock) = (f.dir, f.clock);
    drop(f.state);

    let reopened = crate::open(&dir, &clock);
    let again = crate::Fixture {
        dir,
        state: reopened,
        clock,
    };
    let listed: Vec<ArrivalNotice> =
        serde_json::from_str(&again.get("/v1/arrivals").await.body).expect("json");
    assert_eq!(listed, vec![sent.clone()]);
    assert!(
        again
            .get("/")
            .await
            .body
            .contains(&format!("arrival-{}", sent.handoff_id))
    );
    // Still idempotent across the restart.
    assert_eq!(again.post(&sent).await.json()["stored"], false);
    assert!(
        again
            .dir
            .path()
            .join("hospital-hosp-test-3.sqlite3")
            .exists()
    );
}
