//! What every server process of the system shares, written once: serving a router with a
//! bounded graceful drain (plain HTTP or TLS) beside its background tasks, the clock, JSON
//! bodies with one rule for refused ones, session tokens, development TLS certificates,
//! opening SQLite with the durability the access log relies on, and process setup. No
//! domain logic lives here.
//!
//! # Layout
//! - [`serve`]: [`serve::serve`] over a [`serve::Transport`] (plain HTTP through
//!   `axum::serve`, or TLS), the drain, [`stop_signal`] and [`serve::BackgroundTasks`].
//! - [`tls`]: [`serve_tls_with_drain`], the TLS accept loop (tokio-rustls + hyper-util),
//!   and the rustls server configuration.
//! - [`dev_tls`]: the development CA and loopback server certificate, created once and kept.
//! - [`clock`]: the [`clock::Clock`] trait, the system clock and a manual one for tests.
//! - [`json`]: the [`json::ApiJson`] extractor and response; a refused body becomes a
//!   [`json::BodyRejection`] (status, stable code, short message), which each service maps
//!   into its own error body ([`json::ApiState`]).
//! - [`token`]: session tokens, their stored hash, constant-time comparison of secrets.
//! - [`sqlite`]: opening a SQLite file for durable writes ([`open_durable`]).
//! - [`retry`]: the outbox backoff ([`retry_backoff`]).
//! - [`process`]: tracing setup (text or JSON lines), the open-file limit, loopback-only
//!   listening.
//! - [`config`]: configuration files (TOML, errors naming the key) and secrets read from
//!   files or the environment.
//! - [`private`]: private data directories and files (umask 077, 0700, 0600).
//! - [`metrics`]: the Prometheus recorder and its `/metrics` endpoint.
//! - [`request_id`]: the `x-request-id` a request is logged with, and its tracing span.
//! - [`error`]: the crate [`Error`] (TLS setup).
#![warn(missing_docs)]

pub mod clock;
pub mod config;
pub mod dev_tls;
pub mod error;
pub mod json;
pub mod metrics;
pub mod private;
pub mod process;
pub mod request_id;
pub mod retry;
pub mod serve;
pub mod sqlite;
pub mod tls;
pub mod token;

pub use error::{Error, Result};
pub use process::{
    LogFormat, init_tracing, init_tracing_as, raise_open_file_limit, require_loopback,
};
pub use retry::{MAX_RETRY_BACKOFF, retry_backoff};
pub use serve::{serve_with_drain, stop_signal};
pub use sqlite::open_durable;
pub use tls::serve_tls_with_drain;
pub use token::constant_time_eq;
