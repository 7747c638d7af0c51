//! [`Hospital`]: a hospital-view served in-process on a loopback port, for the browser
//! to open.

use std::net::Ipv4Addr;

use anyhow::{Context, ensure};
use myna_domain::wire::ArrivalNotice;

use super::driver::{Browser, WAIT};

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
    /// Its password (its TOTP secret is [`hospital_view::DEV_TOTP_SECRET`]).
    pub const STAFF_PASSWORD: &str = "browser-test-password";

    /// Opens the store and starts serving.
    pub async fn start() -> anyhow::Result<Hospital> {
        let dir = tempfile::tempdir()?;
        let state = hospital_view::AppState::open(hospital_view::Config {
            hospital_id: "hosp-browser-1".into(),
            hospital_name: "世田谷救命救急センター Setagaya Critical Care Center".into(),
            data_dir: dir.path().to_path_buf(),
            edge_token: Some(Hospital::EDGE_TOKEN.into()),
            edge_url: None,
            edge_tls: None,
            staff: vec![hospital_view::StaffAccount {
                id: Hospital::STAFF_ID.into(),
                name: "救急 看護師 ER Nurse".into(),
                password: Hospital::STAFF_PASSWORD.into(),
                totp_secret: hospital_view::DEV_TOTP_SECRET.into(),
            }],
            sign_in: hospital_view::SignInPolicy::default(),
            totp_key: None,
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
                    ("code", &hospital_view::dev_totp_code(chrono::Utc::now())),
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
                ("code", &hospital_view::dev_totp_code(chrono::Utc::now())),
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
