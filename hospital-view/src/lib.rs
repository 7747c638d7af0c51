//! hospital-view: one hospital's ER arrival dashboard (救急受入画面).
//!
//! The edge-agent relays an [`ArrivalNotice`](myna_domain::wire::ArrivalNotice) for every
//! patient an ambulance crew brings here; this service stores each notice once per
//! handoff id in a SQLite file and shows the incoming patients, soonest first, on a wall
//! screen. Each card leads with what changes treatment in the first minutes: ETA, chief
//! complaint, then an alerts block (allergies, infections, high-risk drugs, abnormal labs,
//! blood type), then vitals and history. One instance serves one hospital.
//!
//! # Layout
//! - [`config`]: [`Config`] and [`EdgeTls`], what an instance is configured with;
//!   [`config_file`]: the binary's TOML file, read into a [`Config`];
//!   [`production`]: what the binary refuses to start with outside `--dev`.
//! - [`admin`]: staff account administration (`hospital-view admin`), every action
//!   recorded with who did it.
//! - [`state`]: [`AppState`] (opened from a [`Config`]: store, staff accounts, edge client).
//! - [`server`]: [`run`] (plain HTTP), [`run_tls`] (HTTPS, the edge identified by its client
//!   certificate): background tasks, serving and the drain, over `myna_service::serve`.
//! - [`routes`]: [`app`], the router: every route, its body limit and timeout.
//! - [`edge_api`]: the edge's routes (arrival notices and withdrawals in, stored notices
//!   out) and how the edge authenticates.
//! - [`pages`]: the staff's pages (dashboard, detail, FHIR export, answer form).
//! - [`session`]: the session cookie and the signed-in [`session::Staff`]; `sign_in`
//!   (private): the sign-in and sign-out handlers.
//! - [`stream`]: `GET /events`, the live dashboard's server-sent events.
//! - [`answers`]: the outbox deliverer carrying the ER's answers to the edge.
//! - [`health`]: readiness (`GET /readyz`: database, outbox) and the outbox gauges.
//! - [`staff`]: staff accounts and the sign-in rules (Argon2id, TOTP, lockout, expiry);
//!   [`clock`]: the time source (`myna_service::clock`), injectable for tests.
//! - [`error`]: the crate [`Error`]; [`http_error`]: the HTTP mappings
//!   ([`http_error::AppError`] for JSON, [`http_error::PageError`] for HTML).
//! - [`store`]: the SQLite file (WAL, `synchronous=FULL`), used through `spawn_blocking`.
//! - [`render`]: the maud pages (pure functions of the stored notices and `now`).
//! - [`fhir`]: one arrival notice as a FHIR R4 document `Bundle` shaped like the International
//!   Patient Summary, for import into a hospital EHR.
//!
//! # Routes
//! See [`routes`] for the table. In short: the edge delivers notices and withdrawals
//! (`POST /v1/arrivals`, `POST /v1/arrivals/{id}/withdrawal`, idempotent; over TLS the edge's
//! client certificate, over plain HTTP its bearer token);
//! staff sign in (`/sign-in`: staff id, password and a TOTP code; see [`staff`]) and see the dashboard (`GET /`),
//! which `GET /events` keeps live (server-sent events with ids: a reconnecting browser
//! resumes where it stopped); they accept or decline (`POST /arrivals/{id}/answer`), and
//! [`answers`] carries the answer to the edge (`POST /v1/hospital/handoffs/{id}/decision`),
//! retrying until it lands. `GET /arrivals/{id}` is the detail page (printable) and
//! `GET /arrivals/{id}/fhir` the summary as a FHIR IPS bundle.
//!
//! # Production and development
//! `hospital-view --config FILE` refuses to start with any development credential (see
//! [`production`]); `hospital-view --dev` seeds the development staff accounts (published
//! password and TOTP secret), the development edge token and TOTP key file, and stays on
//! loopback. TOTP secrets are sealed at rest ([`staff::sealing`]).
//!
//! # Privacy
//! The wall dashboard shows sex and age but never the patient's name (a wall screen is
//! seen by passers-by); the detail page shows the name for registration. Logs carry
//! handoff and incident ids only, never names, drugs or any record content.
//!
//! # Example
//! ```no_run
//! # async fn example() -> hospital_view::Result<()> {
//! let state = hospital_view::AppState::open(hospital_view::Config {
//!     hospital_id: "hosp-setagaya-3".into(),
//!     hospital_name: "世田谷救命救急センター Setagaya Critical Care Center".into(),
//!     data_dir: "./.myna-local".into(),
//!     edge_token: Some("dev-edge-token".into()),
//!     edge_url: Some("http://127.0.0.1:8080".into()),
//!     edge_tls: None,
//!     staff: hospital_view::dev_staff(),
//!     sign_in: hospital_view::SignInPolicy::default(),
//!     totp_key: None,
//! })?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! hospital_view::run(listener, state, std::future::pending()).await
//! # }
//! ```
#![warn(missing_docs)]

pub mod admin;
pub mod answers;
pub mod config;
pub mod config_file;
pub mod edge_api;
pub mod error;
pub mod fhir;
pub mod health;
pub mod http_error;
pub mod pages;
pub mod production;
pub mod render;
pub mod routes;
pub mod server;
pub mod session;
mod sign_in;
pub mod staff;
pub mod state;
pub mod store;
pub mod stream;

pub use config::{Config, EdgeTls};
pub use error::{Error, Result};
pub use myna_service::clock;
pub use myna_service::clock::{Clock, ManualClock, SystemClock};
pub use routes::app;
pub use server::{run, run_tls};
pub use staff::sealing::TotpKey;
pub use staff::{
    DEV_STAFF_PASSWORD, DEV_TOTP_SECRET, SignInPolicy, StaffAccount, dev_staff, dev_totp_code,
};
pub use state::{AppState, STALE_SWEEP_EVERY, open_store};
