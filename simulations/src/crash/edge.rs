//! The edge process under test: `myna-edge` started on a loopback port, waited for until
//! `/healthz` answers, and SIGKILLed.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Longest wait for `/healthz` after a start (the first start seeds the population).
const START_TIMEOUT: Duration = Duration::from_secs(180);
/// The edge process and how to start it again.
pub(super) struct Edge {
    pub(super) binary: PathBuf,
    pub(super) data_dir: PathBuf,
    pub(super) ca_file: PathBuf,
    pub(super) patients: u64,
    pub(super) addr: SocketAddr,
    pub(super) child: Option<Child>,
}

impl Edge {
    pub(super) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(super) fn database(&self) -> PathBuf {
        self.data_dir.join("edge.sqlite3")
    }

    /// Starts the process and waits for `/healthz`; returns how long that took. A start
    /// that fails (say the port was taken meanwhile) is retried on a new port.
    pub(super) async fn start(&mut self) -> anyhow::Result<Duration> {
        let mut last_error = None;
        for _ in 0..3 {
            match self.try_start().await {
                Ok(took) => return Ok(took),
                Err(error) => {
                    last_error = Some(error);
                    self.addr = free_port()?;
                }
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("edge did not start")))
    }

    async fn try_start(&mut self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data_dir.join("edge.log"))
            .context("opening the edge's log file")?;
        let mut child = Command::new(&self.binary)
            // Development mode: the built-in development setup (dev tablet tokens, plain
            // HTTP on loopback), which the load tablets use.
            .arg("--dev")
            // No metrics endpoint: the default port may be taken by another edge.
            .arg("--metrics-listen")
            .arg("127.0.0.1:0")
            .arg("--listen")
            .arg(self.addr.to_string())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--patients")
            .arg(self.patients.to_string())
            .arg("--card-ca")
            .arg(&self.ca_file)
            // The load tablets run flat out, far above a crew's pace.
            .arg("--no-rate-limit")
            .env_remove("EDGE_CARD_CA")
            .env_remove("EDGE_CARD_CRL")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        let health = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let url = format!("{}/healthz", self.url());
        loop {
            if let Some(status) = child.try_wait()? {
                bail!("the edge exited while starting ({status}); see edge.log");
            }
            if let Ok(response) = health.get(&url).send().await
                && response.status().is_success()
            {
                self.child = Some(child);
                return Ok(started.elapsed());
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                bail!("no /healthz answer within {START_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// SIGKILL, then reap.
    pub(super) fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().context("killing the edge")?;
            child.wait()?;
        }
        Ok(())
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// A loopback address with a port nobody listens on right now.
pub(super) fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).context("finding a free port")?;
    Ok(listener.local_addr()?)
}
