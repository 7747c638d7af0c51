//! The browser harness: [`Browser`] starts `chromedriver` on a free loopback port and
//! drives one Chromium session through it with fantoccini (WebDriver), waiting for
//! elements by polling (see [`WAIT`]) and resizing to a [`Viewport`]. Screenshots go to
//! [`artifacts_dir`].

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail, ensure};
use fantoccini::cookies::Cookie;
use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// How long a test should normally wait for something to appear.
pub const WAIT: Duration = Duration::from_secs(5);
/// How long chromedriver gets to answer `/status`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
const POLL_EVERY: Duration = Duration::from_millis(100);
const CHROMIUM: &str = "/usr/bin/chromium";
const MISSING_DRIVER: &str =
    "chromedriver not found: run scripts/test-all.sh, which installs chromium-driver";

/// Window sizes the dashboard is checked at. The page gets the full width and about
/// 140 px less height (headless Chromium still reserves its toolbar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewport {
    /// The ER wall screen, 1920×1080 (the size a [`Browser`] starts with).
    WallScreen,
    /// A tablet in landscape, 1180×820.
    Tablet,
    /// A phone in portrait, 390×844.
    Phone,
}

impl Viewport {
    /// Width and height in CSS pixels.
    pub fn size(self) -> (u32, u32) {
        match self {
            Viewport::WallScreen => (1920, 1080),
            Viewport::Tablet => (1180, 820),
            Viewport::Phone => (390, 844),
        }
    }
}

/// What [`Browser::mark_document`] left in the page; gone once the page reloads.
#[derive(Debug, Clone)]
pub struct DocumentMark(String);

/// A chromedriver process on a loopback port; killed on drop.
struct Driver {
    child: Child,
    port: u16,
    /// chromedriver's (and Chromium's) stdout and stderr, quoted when startup fails.
    log: tempfile::NamedTempFile,
}

impl Driver {
    fn spawn() -> anyhow::Result<Driver> {
        let program = find_chromedriver().context(MISSING_DRIVER)?;
        // Free now; a race with another process binding it is possible but shows up as a
        // clear startup error below.
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        let log = tempfile::NamedTempFile::new()?;
        let child = Command::new(&program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.reopen()?)
            .stderr(log.reopen()?)
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        Ok(Driver { child, port, log })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Waits until `/status` says chromedriver is ready for a session.
    async fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(1))
            .build()?;
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "chromedriver exited at startup ({status}):\n{}",
                    self.log_text()
                );
            }
            if let Ok(answer) = http.get(format!("{}/status", self.url())).send().await
                && let Ok(status) = answer.json::<serde_json::Value>().await
                && status["value"]["ready"] == true
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "chromedriver did not answer {}/status within {STARTUP_TIMEOUT:?}:\n{}",
                    self.url(),
                    self.log_text()
                );
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `chromedriver` on `PATH`, else Debian's `/usr/bin/chromedriver`.
fn find_chromedriver() -> Option<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("chromedriver"))
        .chain([PathBuf::from("/usr/bin/chromedriver")])
        .find(|path| path.is_file())
}

/// Headless Chromium as the tests need it: no sandbox (tests may run as root), no GPU,
/// no /dev/shm (small in containers), wall-screen size, Japanese UI and Accept-Language.
fn capabilities() -> Capabilities {
    let (width, height) = Viewport::WallScreen.size();
    let mut chrome = json!({
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            format!("--window-size={width},{height}"),
            "--lang=ja",
        ],
        "prefs": { "intl.accept_languages": "ja,en" },
    });
    if Path::new(CHROMIUM).exists() {
        chrome["binary"] = json!(CHROMIUM);
    }
    Capabilities::from_iter([("goog:chromeOptions".to_string(), chrome)])
}

/// Where screenshots go: `<target dir>/test-artifacts`, the target dir being
/// `CARGO_TARGET_DIR` (relative to the workspace root) or the workspace's `target/`.
pub fn artifacts_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate lives inside the workspace");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), PathBuf::from);
    workspace.join(target).join("test-artifacts")
}

/// One headless Chromium session behind its own chromedriver.
///
/// Call [`Browser::close`] at the end of a test; if the test fails first, drop ends the
/// session and stops chromedriver anyway.
pub struct Browser {
    client: Client,
    /// Some while the session is open: drop then deletes it, which quits Chromium.
    session_id: Option<String>,
    // Declared last: dropped (killed) after `Drop for Browser` has ended the session.
    driver: Driver,
}

impl Browser {
    /// Starts chromedriver and opens a Chromium session on an empty page.
    pub async fn start() -> anyhow::Result<Browser> {
        let mut driver = Driver::spawn()?;
        driver.wait_until_ready().await?;
        // Both of rustls' providers are compiled in (see tests/Cargo.toml): choose ring.
        // An error only means another test installed it first.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = ClientBuilder::rustls()?
            .capabilities(capabilities())
            .connect(&driver.url())
            .await
            .with_context(|| format!("opening a Chromium session:\n{}", driver.log_text()))?;
        let session_id = client.session_id().await?;
        Ok(Browser {
            client,
            session_id,
            driver,
        })
    }

    /// The fantoccini client, for anything the helpers below do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Ends the session (Chromium quits) and stops chromedriver.
    pub async fn close(mut self) -> anyhow::Result<()> {
        self.session_id = None;
        self.client.clone().close().await?;
        Ok(())
    }

    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("opening {url}"))
    }

    /// Resizes the window to a phone, tablet or wall screen.
    pub async fn set_viewport(&self, viewport: Viewport) -> anyhow::Result<()> {
        let (width, height) = viewport.size();
        self.client.set_window_size(width, height).await?;
        Ok(())
    }

    /// The first element matching `css` that is displayed, if any right now.
    async fn displayed(&self, css: &str) -> anyhow::Result<Option<Element>> {
        for element in self.client.find_all(Locator::Css(css)).await? {
            match element.is_displayed().await {
                Ok(true) => return Ok(Some(element)),
                Ok(false) => {}
                // The page replaced it (live update, navigation) while we looked.
                Err(e) if e.is_stale_element_reference() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    /// Waits up to `timeout` for an element matching `css` that is displayed (present in
    /// the DOM is not enough; an empty element with no size does not count either),
    /// polling, so it also sees elements a live update inserts.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> anyhow::Result<Element> {
        match poll(timeout, async || self.displayed(css).await).await? {
            Some(element) => Ok(element),
            None => Err(self
                .timed_out(format!("no displayed `{css}`"), timeout)
                .await),
        }
    }

    /// Waits up to `timeout` for a displayed element matching `css` whose visible text
    /// contains `needle`.
    pub async fn wait_for_text(
        &self,
        css: &str,
        needle: &str,
        timeout: Duration,
    ) -> anyhow::Result<Element> {
        let found = poll(timeout, async || {
            for element in self.client.find_all(Locator::Css(css)).await? {
                match visible_text_of(&element).await {
                    Ok(Some(text)) if text.contains(needle) => return Ok(Some(element)),
                    Ok(_) => {}
                    Err(e) if e.is_stale_element_reference() => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(None)
        })
        .await?;
        match found {
            Some(element) => Ok(element),
            None => {
                let what = format!("no displayed `{css}` containing {needle:?}");
                Err(self.timed_out(what, timeout).await)
            }
        }
    }

    /// The visible text (as rendered: hidden parts left out) of the first displayed
    /// element matching `css`, waiting up to [`WAIT`] for one.
    pub async fn visible_text(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.wait_for(css, WAIT).await?.text().await?)
    }

    /// The visible text of every displayed element matching `css`, in document order; no
    /// waiting.
    pub async fn visible_texts(&self, css: &str) -> anyhow::Result<Vec<String>> {
        let mut texts = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await? {
            texts.extend(visible_text_of(&element).await?);
        }
        Ok(texts)
    }

    /// Clicks the displayed element matching `css` (waiting up to [`WAIT`] for it).
    #[allow(dead_code, reason = "for the coming accept/decline tests")]
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        Ok(self.wait_for(css, WAIT).await?.click().await?)
    }

    /// Fills the named fields of the displayed form matching `form_css` (typing, as a user
    /// would) and clicks its submit button. Then wait for something only the next page
    /// shows: the old page may still be there when this returns.
    pub async fn submit_form(&self, form_css: &str, fields: &[(&str, &str)]) -> anyhow::Result<()> {
        let form = self.wait_for(form_css, WAIT).await?;
        for (name, value) in fields {
            let input = form
                .find(Locator::Css(&format!(r#"[name="{name}"]"#)))
                .await
                .with_context(|| format!("field {name:?} in `{form_css}`"))?;
            input.clear().await?;
            input.send_keys(value).await?;
        }
        form.find(Locator::Css(
            r#"button[type="submit"], input[type="submit"], button:not([type])"#,
        ))
        .await
        .with_context(|| format!("submit button of `{form_css}`"))?
        .click()
        .await?;
        Ok(())
    }

    /// Stores a cookie the way a `Set-Cookie` header (`set_cookie`) from the site of
    /// `page_url` would, opening that page first (WebDriver sets cookies for the current
    /// page's site). For tests that need a session but are not about signing in.
    pub async fn set_cookie(&self, page_url: &str, set_cookie: &str) -> anyhow::Result<()> {
        let mut cookie = Cookie::parse(set_cookie.to_string()).context("parsing Set-Cookie")?;
        self.goto(page_url).await?;
        if cookie.domain().is_none() {
            // fantoccini would send `"domain": null`, which chromedriver refuses.
            let url = self.client.current_url().await?;
            cookie.set_domain(url.host_str().context("a page without a host")?.to_string());
        }
        self.client.add_cookie(cookie).await?;
        Ok(())
    }

    /// Marks the current document, to tell later whether the page was reloaded or left.
    pub async fn mark_document(&self) -> anyhow::Result<DocumentMark> {
        let mark = uuid::Uuid::new_v4().to_string();
        self.client
            .execute(
                "window.__e2eDocumentMark = arguments[0];",
                vec![json!(mark)],
            )
            .await?;
        Ok(DocumentMark(mark))
    }

    /// Whether the page is still the document `mark` was left in (no reload, no navigation).
    pub async fn is_same_document(&self, mark: &DocumentMark) -> anyhow::Result<bool> {
        let found = self
            .client
            .execute("return window.__e2eDocumentMark ?? null;", vec![])
            .await?;
        Ok(found.as_str() == Some(mark.0.as_str()))
    }

    /// Saves the visible part of the page as `target/test-artifacts/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        ensure!(
            !name.is_empty()
                && !name.starts_with('.')
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
            "screenshot name {name:?}: use ASCII letters, digits, '-', '_' or '.'"
        );
        let png = self.client.screenshot().await?;
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// A timeout error naming what was awaited, where the browser was and what it showed.
    async fn timed_out(&self, what: String, timeout: Duration) -> anyhow::Error {
        let url = self
            .client
            .current_url()
            .await
            .map_or_else(|e| format!("<unknown: {e}>"), |u| u.to_string());
        let shown = match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let shown: String = shown.chars().take(600).collect();
        anyhow!("{what} within {timeout:?} on {url}; the page shows:\n{shown}")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A test that failed before `close`: end the session so chromedriver quits
        // Chromium (killing chromedriver alone can leave Chromium running). Blocking is
        // fine here: it is a short loopback request, bounded by timeouts.
        if let Some(id) = self.session_id.take() {
            let _ = delete_session(self.driver.port, &id);
        }
    }
}

/// `DELETE /session/{id}` over plain blocking HTTP/1.1 (drop cannot await).
fn delete_session(port: u16, id: &str) -> std::io::Result<()> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    // chromedriver answers once Chromium has quit; the headers are enough (it may keep
    // the connection open regardless of `Connection: close`).
    let (mut answer, mut chunk) = (Vec::new(), [0u8; 1024]);
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk)? {
            0 => break,
            n => answer.extend_from_slice(&chunk[..n]),
        }
    }
    Ok(())
}

/// The rendered text of `element`, or `None` when it is not displayed.
async fn visible_text_of(element: &Element) -> Result<Option<String>, CmdError> {
    if element.is_displayed().await? {
        Ok(Some(element.text().await?))
    } else {
        Ok(None)
    }
}

/// Calls `probe` every 100 ms until it finds something or `timeout` has passed.
async fn poll<T>(
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> anyhow::Result<Option<T>>,
) -> anyhow::Result<Option<T>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = probe().await? {
            return Ok(Some(found));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}
