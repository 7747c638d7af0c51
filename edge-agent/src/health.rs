//! Readiness (`GET /readyz`) and the operational gauges sampled beside it.
//!
//! # Checks
//! - `database`: a write round-trip through the store's writer (one row rewritten and
//!   committed) within [`READINESS_WRITE_TIMEOUT`].
//! - `checkpoint`: no access-log entry has waited for a signed checkpoint longer than
//!   [`CHECKPOINT_STALE_INTERVALS`] × the checkpoint interval. A quiet log (every entry
//!   covered) is ready however old its newest checkpoint: one is signed only when the log
//!   grew.
//! - `card_crls`: a card CA is configured, a CRL is loaded for each, none is past its
//!   next update ([`CardTrust::crls_current`](crate::card_trust::CardTrust::crls_current)).
//! - `outbox`: the oldest undelivered message to a hospital was queued less than
//!   [`OUTBOX_STUCK_AFTER`] ago.
//!
//! The answer names checks only: no patient, incident or hospital.

use std::time::Duration;

use chrono::{DateTime, Utc};
use myna_service::metrics::{Check, READINESS_WRITE_TIMEOUT, Readiness};

use crate::error::Result;
use crate::state::AppState;
use crate::store::OperationalSample;

/// The `service` label of the edge's metrics.
pub const SERVICE: &str = "edge-agent";

/// An undelivered hospital message older than this makes the edge not ready: the
/// relay's backoff tops out far below it, so a message this old means the hospital (or
/// the path to it) has been down for several attempts.
pub const OUTBOX_STUCK_AFTER: Duration = Duration::from_secs(10 * 60);

/// How many checkpoint intervals an entry may wait for a signed checkpoint.
pub const CHECKPOINT_STALE_INTERVALS: u32 = 3;

/// How often [`crate::housekeeping`] runs the checks (and samples the gauges).
pub const SAMPLE_EVERY: Duration = Duration::from_secs(15);

/// Seconds from `then` to `now`, never negative.
fn age_seconds(then: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    (now - then).to_std().map_or(0.0, |d| d.as_secs_f64())
}

/// Reads the log and outbox facts and sets the gauges `edge_log_entries`,
/// `edge_log_newest_checkpoint_age_seconds`, `edge_outbox_undelivered` and
/// `edge_outbox_oldest_undelivered_age_seconds` (0 when nothing waits).
pub async fn sample(state: &AppState) -> Result<OperationalSample> {
    let sample = state.store.read(|tx| tx.operational_sample()).await?;
    let now = state.clock.now();
    metrics::gauge!("edge_log_entries").set(sample.log_entries as f64);
    if let Some(at) = sample.newest_checkpoint_at {
        metrics::gauge!("edge_log_newest_checkpoint_age_seconds").set(age_seconds(at, now));
    }
    metrics::gauge!("edge_outbox_undelivered").set(sample.outbox_undelivered as f64);
    metrics::gauge!("edge_outbox_oldest_undelivered_age_seconds").set(
        sample
            .oldest_undelivered_at
            .map_or(0.0, |at| age_seconds(at, now)),
    );
    Ok(sample)
}

/// Runs every check (and samples the gauges); see the module docs.
pub async fn readiness(state: &AppState) -> Readiness {
    let now = state.clock.now();
    let database = matches!(
        tokio::time::timeout(
            READINESS_WRITE_TIMEOUT,
            state.store.write(move |tx| tx.probe_write(now)),
        )
        .await,
        Ok(Ok(()))
    );
    let sampled = sample(state).await;
    if let Err(error) = &sampled {
        tracing::error!(%error, "readiness: could not read the log and outbox");
    }
    let sample = sampled.ok();
    let interval = state
        .config
        .checkpoint_interval
        .max(Duration::from_secs(1))
        .saturating_mul(CHECKPOINT_STALE_INTERVALS);
    let checkpoint = sample.as_ref().is_some_and(|s| {
        s.oldest_unsigned_entry_at
            .is_none_or(|at| age_seconds(at, now) <= interval.as_secs_f64())
    });
    let outbox = sample.as_ref().is_some_and(|s| {
        s.oldest_undelivered_at
            .is_none_or(|at| age_seconds(at, now) < OUTBOX_STUCK_AFTER.as_secs_f64())
    });
    let checks = vec![
        Check {
            name: "database",
            ok: database,
        },
        Check {
            name: "checkpoint",
            ok: checkpoint,
        },
        Check {
            name: "card_crls",
            ok: state.config.card_trust.crls_current(now),
        },
        Check {
            name: "outbox",
            ok: outbox,
        },
    ];
    for check in checks.iter().filter(|c| !c.ok) {
        tracing::warn!(check = check.name, "readiness check failed");
    }
    Readiness::new(SERVICE, checks)
}
