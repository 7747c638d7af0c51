//! A canned HTTP server for tests: answers a fixed script of requests over a real
//! socket and records what it received.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A request as received.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    /// `METHOD /path`.
    pub(crate) line: String,
    /// Value of the `authorization` header.
    pub(crate) authorization: Option<String>,
    /// Body.
    pub(crate) body: String,
}

/// One scripted exchange: expected `METHOD /path` (with any query), then status and body
/// to answer. The body's content type follows its first character: `{` or `[` is
/// `application/json`, `<` is `text/html`, anything else `text/plain; charset=utf-8`.
pub(crate) struct Exchange {
    pub(crate) expect: String,
    pub(crate) status: u16,
    pub(crate) body: String,
}

pub(crate) struct FakeEdge {
    pub(crate) base_url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl FakeEdge {
    /// Serves `script` in order on 127.0.0.1 and a random port.
    pub(crate) async fn start(script: Vec<Exchange>) -> FakeEdge {
        Self::slow(script, std::time::Duration::ZERO).await
    }

    /// Like [`Self::start`], each answer sent `delay` after its request was read.
    pub(crate) async fn slow(script: Vec<Exchange>, delay: std::time::Duration) -> FakeEdge {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(std::collections::VecDeque::from(script)));
        let log = received.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let (script, log) = (script.clone(), log.clone());
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut read = BufReader::new(read);
                    loop {
                        let mut line = String::new();
                        if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let mut parts = line.split_whitespace();
                        let request_line = format!(
                            "{} {}",
                            parts.next().unwrap_or_default(),
                            parts.next().unwrap_or_default()
                        );
                        let (mut length, mut authorization) = (0usize, None);
                        loop {
                            let mut header = String::new();
                            read.read_line(&mut header).await.unwrap();
                            let header = header.trim_end();
                            if header.is_empty() {
                                break;
                            }
                            let (name, value) = header.split_once(':').unwrap();
                            match name.to_ascii_lowercase().as_str() {
                                "content-length" => length = value.trim().parse().unwrap(),
                                "authorization" => authorization = Some(value.trim().to_string()),
                                _ => {}
                            }
                        }
                        let mut body = vec![0; length];
                        read.read_exact(&mut body).await.unwrap();
                        let exchange = script.lock().unwrap().pop_front();
                        let exchange = exchange.expect("request beyond the script");
                        assert_eq!(request_line, exchange.expect);
                        log.lock().unwrap().push(Received {
                            line: request_line,
                            authorization,
                            body: String::from_utf8(body).unwrap(),
                        });
                        let response = format!(
                            "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\n\r\n{}",
                            exchange.status,
                            content_type(&exchange.body),
                            exchange.body.len(),
                            exchange.body
                        );
                        tokio::time::sleep(delay).await;
                        write.write_all(response.as_bytes()).await.unwrap();
                    }
                });
            }
        });
        FakeEdge { base_url, received }
    }

    /// Requests received so far.
    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn content_type(body: &str) -> &'static str {
    match body.chars().next() {
        Some('{' | '[') => "application/json",
        Some('<') => "text/html",
        _ => "text/plain; charset=utf-8",
    }
}
