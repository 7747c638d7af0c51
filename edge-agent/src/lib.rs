//! edge-agent: the service the ambulance tablets talk to.
//!
//! It resolves a card to a patient, enforces the emergency-access policy of
//! [`myna_domain::policy`], assembles the emergency summary, writes an access record for
//! every disclosure, refusal and denial **in the same SQLite transaction** as the read, and
//! only then answers. It relays patients to receiving hospitals and serves the patient
//! portal's viewing history.
//!
//! # Layout
//! - [`error`]: the crate's [`Error`] and [`Result`].
//! - [`state`]: [`AppState`], the shared state of a running edge, and [`AppState::open`].
//! - [`server`]: [`run`] and [`run_tls`]: serve, background tasks, drain at shutdown.
//! - [`config`]: devices, hospitals, trusted card CAs, TLS; local development defaults;
//!   the configuration file ([`config::file`]) and what production refuses
//!   ([`config::refusals`]).
//! - [`card_trust`]: is a card certificate genuine (JPKI CA chain), unrevoked and valid.
//! - [`store`]: the SQLite file (WAL, `synchronous=FULL`) and its typed operations;
//!   [`store::Store::import`] is the only way patients get in (the edge makes none up).
//! - [`identify`]: evidence to patient (card trust, PIN challenge and signature, basic
//!   facts), and issuing identification challenges.
//! - [`portal_sign_in`]: a patient's card sign-in to the portal (challenge, card trust,
//!   signature over the portal message), and issuing portal challenges.
//! - [`emergency`]: the incident flows (identify, consent, disclose, hand off): they call the
//!   domain policy and write access records; no HTTP here.
//! - [`handoff`]: after a handoff: the hospital's answer, the crew's withdrawal, the tablet's view.
//! - [`fhir`]: the access log as FHIR R4 `AuditEvent`s (JSON, bulk-data NDJSON).
//! - [`housekeeping`]: periodic checkpoints, the daily retention purge, gauge sampling.
//! - [`health`]: readiness (`GET /readyz`: database, checkpoint, CRLs, outbox) and the
//!   operational gauges.
//! - [`relay`]: the outbox deliverer: arrival and withdrawal notices to hospital-view
//!   instances, retried until acknowledged; its HTTP client in [`relay::client`].
//! - [`review`]: the privacy officer's review queue: what is queued, the anomaly flags
//!   (sans I/O).
//! - [`api`]: axum routes, extractors, portal sessions and the HTTP error mapping; thin.
//! - [`transparency`]: the access log's signing key ([`transparency::key`]) and periodic
//!   signed checkpoints.
//! - [`verify`]: replaying a log file or export against its key (the `myna-log` binary).
//! - [`client_certs`]: development client certificates (mTLS) for configured tablets and
//!   hospitals.
//! - [`cli`]: the `edge-agent` binary's arguments and start-up (`--config FILE` or `--dev`).
//! - [`admin`]: `edge-agent admin …`: staff accounts, log-key rotation, the record of
//!   administrative actions.
//! - [`clock`]: the clock trait, so tests control time: `myna_service::clock`, re-exported.
//!
//! # Example
//! ```no_run
//! # async fn example() -> edge_agent::Result<()> {
//! let config = edge_agent::config::Config::local("./.myna-local".into());
//! let state = edge_agent::AppState::open(config, edge_agent::clock::system())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! edge_agent::run(listener, state, std::future::pending()).await
//! # }
//! ```
//!
//! Over TLS, [`run_tls`] takes a rustls server configuration as well, e.g. the development
//! certificates of `myna_service::dev_tls::DevTls` (the `edge-agent --tls` flag).
#![warn(missing_docs)]

pub mod admin;
pub mod api;
pub mod card_trust;
pub mod cli;
pub mod client_certs;
pub mod config;
pub mod emergency;
pub mod error;
pub mod fhir;
pub mod handoff;
pub mod health;
pub mod housekeeping;
pub mod identify;
pub mod portal_sign_in;
pub mod relay;
pub mod review;
pub mod server;
pub mod state;
pub mod store;
pub mod transparency;
pub mod verify;

pub use api::app;
pub use error::{Error, Result};
pub use myna_service::clock;
pub use server::{run, run_tls};
pub use state::AppState;
