//! Browser tests of the ER dashboard (hospital-view) in headless Chromium, and the harness
//! they share: [`Browser`] starts `chromedriver` on a free loopback port and drives one
//! Chromium session through it with fantoccini (WebDriver).
//!
//! Needs Debian's `chromium` and `chromium-driver` (and `fonts-noto-cjk`, so Japanese
//! renders in screenshots); `scripts/test-all.sh` installs them. Screenshots go to
//! `target/test-artifacts/<name>.png` (see [`artifacts_dir`]).
//!
//! # Layout
//! - [`Browser`]: start, navigate, wait for elements, read visible text, fill and submit
//!   forms, detect reloads, resize to a [`Viewport`], take screenshots; closes the session
//!   and stops chromedriver on drop.
//! - [`Hospital`]: a hospital-view served in-process on a loopback port.
//! - The tests, at the end (`browser_` prefix).
//!
//! # Example
//! Signing in through a form, then waiting for a card pushed by the server (live updates)
//! without the page reloading:
//! ```ignore
//! let browser = Browser::start().await?;
//! browser.goto(&format!("{}/sign-in", hospital.url)).await?;
//! browser.submit_form("form.sign-in", &[("staff_id", "er-001"), ("password", "...")]).await?;
//! browser.wait_for(r#"form[action="/sign-out"]"#, WAIT).await?; // the next page is there
//! let page = browser.mark_document().await?;
//! hospital.deliver(&notice).await?;
//! browser.wait_for_text("article.arrival", "Chest pain", WAIT).await?;
//! assert!(browser.is_same_document(&page).await?, "the card came without a reload");
//! ```

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail, ensure};
use chrono::{NaiveDate, Utc};
use fantoccini::cookies::Cookie;
use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use myna_domain::access::IncidentId;
use myna_domain::consent::ConsentState;
use myna_domain::identity::{PatientId, Sex};
use myna_domain::records::{
    Allergy, AllergySeverity, InfectionMarker, InfectionResult, MedicalRecord, QualitativeResult,
};
use myna_domain::summary::{EmergencySummary, PatientHeader};
use myna_domain::wire::{ArrivalNotice, Vitals};
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

/// A hospital-view served in-process on a free loopback port, on a temporary data dir,
/// with one staff account ([`Hospital::STAFF_ID`]).
pub struct Hospital {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    http: reqwest::Client,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<hospital_view::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Hospital {
    /// The bearer token the edge presents.
    pub const EDGE_TOKEN: &str = "browser-test-edge-token";
    /// The one staff account.
    pub const STAFF_ID: &str = "er-nurse-01";
    /// Its password.
    pub const STAFF_PASSWORD: &str = "browser-test-password";

    /// Opens the store and starts serving.
    pub async fn start() -> anyhow::Result<Hospital> {
        let dir = tempfile::tempdir()?;
        let state = hospital_view::AppState::open(hospital_view::Config {
            hospital_id: "hosp-browser-1".into(),
            hospital_name: "世田谷救命救急センター Setagaya Critical Care Center".into(),
            data_dir: dir.path().to_path_buf(),
            edge_token: Hospital::EDGE_TOKEN.into(),
            edge_url: None,
            staff: vec![hospital_view::StaffAccount {
                id: Hospital::STAFF_ID.into(),
                name: "救急 看護師 ER Nurse".into(),
                password: Hospital::STAFF_PASSWORD.into(),
            }],
        })?;
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(hospital_view::run(listener, state, async {
            let _ = stopped.await;
        }));
        Ok(Hospital {
            url,
            http: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            stop,
            served,
            _dir: dir,
        })
    }

    /// Delivers `notice` as the edge does: `POST /v1/arrivals` with the edge token.
    pub async fn deliver(&self, notice: &ArrivalNotice) -> anyhow::Result<()> {
        let answer = self
            .http
            .post(format!("{}/v1/arrivals", self.url))
            .bearer_auth(Hospital::EDGE_TOKEN)
            .json(notice)
            .send()
            .await?;
        let status = answer.status();
        ensure!(
            status.is_success(),
            "POST /v1/arrivals: {status}: {}",
            answer.text().await?
        );
        Ok(())
    }

    /// Signs `browser` in through the sign-in form and waits for the dashboard.
    pub async fn sign_in(&self, browser: &Browser) -> anyhow::Result<()> {
        browser.goto(&format!("{}/sign-in", self.url)).await?;
        browser
            .submit_form(
                "form.sign-in",
                &[
                    ("staff_id", Hospital::STAFF_ID),
                    ("password", Hospital::STAFF_PASSWORD),
                ],
            )
            .await?;
        // The sign-out button: on every signed-in page, whether or not patients are listed.
        browser
            .wait_for(r#"form[action="/sign-out"] button"#, WAIT)
            .await?;
        Ok(())
    }

    /// Gives `browser` a staff session without the form: signs in over HTTP and hands the
    /// session cookie to the browser. For tests that are not about signing in.
    pub async fn sign_in_directly(&self, browser: &Browser) -> anyhow::Result<()> {
        let answer = self
            .http
            .post(format!("{}/sign-in", self.url))
            .form(&[
                ("staff_id", Hospital::STAFF_ID),
                ("password", Hospital::STAFF_PASSWORD),
            ])
            .send()
            .await?;
        let status = answer.status();
        let session = answer
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .with_context(|| format!("POST /sign-in answered {status} without a session"))?
            .to_str()?;
        browser
            .set_cookie(&format!("{}/sign-in", self.url), session)
            .await
    }

    /// Stops serving and waits for the drain.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        Ok(self.served.await??)
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// An ambulance `eta_minutes` out with a patient allergic to `allergen`, HBs antigen
/// positive.
fn arrival_with_alerts(allergen: &str, eta_minutes: i64) -> ArrivalNotice {
    let now = Utc::now();
    ArrivalNotice {
        handoff_id: uuid::Uuid::new_v4(),
        incident_id: IncidentId(uuid::Uuid::now_v7()),
        fire_department: "東京消防庁 Tokyo FD".into(),
        unit: "世田谷救急7 Setagaya Ambulance 7".into(),
        chief_complaint: "胸痛 Chest pain".into(),
        eta: now + chrono::Duration::minutes(eta_minutes),
        vitals: Vitals {
            heart_rate: Some(118),
            systolic_mmhg: Some(84),
            diastolic_mmhg: Some(50),
            spo2_percent: Some(91),
            respiratory_rate: Some(24),
            gcs: Some(13),
            temperature_c: Some(36.9),
        },
        consent: Some(ConsentState::Given),
        summary: Some(EmergencySummary {
            patient: PatientHeader {
                id: PatientId("P-browser-1".into()),
                name: "佐藤 花子".into(),
                birth_date: day(1950, 4, 1),
                sex: Sex::Female,
            },
            records: vec![
                MedicalRecord::DrugAllergy(Allergy {
                    substance: allergen.into(),
                    reaction: "anaphylaxis".into(),
                    severity: AllergySeverity::Severe,
                    recorded_on: day(2024, 1, 10),
                }),
                MedicalRecord::Infection(InfectionResult {
                    marker: InfectionMarker::HbsAntigen,
                    result: QualitativeResult::Positive,
                    tested_on: day(2025, 3, 3),
                }),
            ],
            assembled_at: now,
        }),
        sent_at: now,
    }
}

#[tokio::test]
async fn browser_dashboard_shows_alerts_and_saves_a_screenshot() -> anyhow::Result<()> {
    let hospital = Hospital::start().await?;
    let notice = arrival_with_alerts("Cefazolin", 6);
    hospital.deliver(&notice).await?;
    let browser = Browser::start().await?;
    hospital.sign_in_directly(&browser).await?;
    browser.goto(&format!("{}/", hospital.url)).await?;

    let card = format!("#arrival-{}", notice.handoff_id);
    let allergy = browser
        .wait_for(&format!("{card} li.allergy"), WAIT)
        .await?;
    let infection = browser
        .wait_for(&format!("{card} li.infection"), WAIT)
        .await?;
    for (alert, expected) in [
        (&allergy, &["ALLERGY", "Cefazolin", "anaphylaxis"][..]),
        (&infection, &["INFECTION", "HBs抗原", "hepatitis B"][..]),
    ] {
        assert!(alert.is_displayed().await?);
        let text = alert.text().await?;
        for needle in expected {
            assert!(text.contains(needle), "{needle:?} not shown in {text:?}");
        }
    }
    // The wall screen never shows the patient's name.
    assert!(!browser.visible_text("body").await?.contains("佐藤"));

    let path = browser.screenshot("browser-dashboard-alerts").await?;
    let png = std::fs::read(&path)?;
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    assert!(
        png.len() > 10_000,
        "{} is only {} bytes",
        path.display(),
        png.len()
    );

    // On a tablet and a phone the alerts still show.
    for (viewport, name) in [(Viewport::Tablet, "tablet"), (Viewport::Phone, "phone")] {
        browser.set_viewport(viewport).await?;
        let width = browser
            .client()
            .execute("return window.innerWidth;", vec![])
            .await?;
        assert_eq!(width, json!(viewport.size().0), "{viewport:?}");
        browser
            .wait_for(&format!("{card} li.allergy"), WAIT)
            .await?;
        browser
            .screenshot(&format!("browser-dashboard-alerts-{name}"))
            .await?;
    }

    browser.close().await?;
    hospital.stop().await
}

#[tokio::test]
async fn browser_new_arrival_appears_without_reload() -> anyhow::Result<()> {
    let hospital = Hospital::start().await?;
    let browser = Browser::start().await?;
    hospital.sign_in(&browser).await?;
    browser.wait_for_text("#live-status", "Live", WAIT).await?;
    let page = browser.mark_document().await?;

    let notice = arrival_with_alerts("Penicillin", 9);
    hospital.deliver(&notice).await?;
    let card = format!("#arrival-{}", notice.handoff_id);
    browser
        .wait_for_text(&format!("{card} li.allergy"), "Penicillin", WAIT)
        .await?;
    assert!(browser.is_same_document(&page).await?, "the page reloaded");
    assert_eq!(
        browser
            .visible_texts("main.arrivals > article.arrival")
            .await?
            .len(),
        1
    );

    browser.close().await?;
    hospital.stop().await
}
