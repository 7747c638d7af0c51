//! [`Front`]: a TCP proxy put in front of a service to take its network away (the e2e
//! tests' dropped connections, the national day's tablets without signal). It forwards
//! bytes, so TLS passes through it untouched: the certificate names `127.0.0.1`, not a port.
//!
//! Modes: [`FrontMode::Up`] forwards; [`FrontMode::Down`] accepts and closes at once (no
//! signal); [`FrontMode::LoseAnswers`] forwards the request and cuts the connection the
//! moment the service starts answering, so the service has done the work and the caller
//! never hears of it. Changing the mode cuts every open connection, so a pooled keep-alive
//! connection cannot carry a request past the new mode.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the front does with a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontMode {
    /// Forward both ways.
    Up,
    /// Close at once.
    Down,
    /// Forward the request, cut at the first byte of the answer.
    LoseAnswers,
}

/// A running front.
pub struct Front {
    /// `http://127.0.0.1:port` of the front (`https://` in front of an HTTPS service).
    pub url: String,
    mode: watch::Sender<FrontMode>,
    lost: Arc<AtomicUsize>,
}

impl Front {
    /// Serves `listener`, forwarding to `upstream` (`http://host:port` or
    /// `https://host:port`), starting `Up`.
    pub fn start(listener: TcpListener, upstream: &str) -> Front {
        let (scheme, authority) = upstream.split_once("://").unwrap_or(("http", upstream));
        let url = match listener.local_addr() {
            Ok(addr) => format!("{scheme}://{addr}"),
            Err(_) => format!("{scheme}://unbound"),
        };
        let upstream = authority.trim_end_matches('/').to_string();
        let (mode, watching) = watch::channel(FrontMode::Up);
        let lost = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&lost);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mut watching = watching.clone();
                let mode = *watching.borrow_and_update();
                let (upstream, counter) = (upstream.clone(), Arc::clone(&counter));
                tokio::spawn(async move {
                    tokio::select! {
                        () = relay(client, &upstream, mode, &counter) => {}
                        _ = watching.changed() => {} // mode changed: cut
                    }
                });
            }
        });
        Front { url, mode, lost }
    }

    /// Switches mode (and cuts open connections).
    pub fn set(&self, mode: FrontMode) {
        self.mode.send_replace(mode);
    }

    /// Answers cut so far in [`FrontMode::LoseAnswers`].
    pub fn answers_lost(&self) -> usize {
        self.lost.load(Ordering::SeqCst)
    }
}

async fn relay(mut client: TcpStream, upstream: &str, mode: FrontMode, lost: &AtomicUsize) {
    if mode == FrontMode::Down {
        return;
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    if mode == FrontMode::Up {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        return;
    }
    let mut buf = vec![0; 64 * 1024];
    let mut first_byte = [0u8; 1];
    let (mut server_read, mut server_write) = server.split();
    let forward = async {
        loop {
            let n = client.read(&mut buf).await.unwrap_or(0);
            if n == 0 || server_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        () = forward => {}
        read = server_read.read(&mut first_byte) => {
            if read.is_ok_and(|n| n > 0) {
                lost.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    // Dropping both ends cuts the connection without an answer.
}
