//! Readiness (`GET /readyz`) and the gauges sampled beside it.
//!
//! # Checks
//! - `database`: a write round-trip (one row rewritten and committed) within
//!   [`READINESS_WRITE_TIMEOUT`].
//! - `outbox`: the oldest answer not yet delivered to the edge was given less than
//!   [`OUTBOX_STUCK_AFTER`] ago.
//!
//! The answer names checks only: no staff, patient or handoff.
//!
//! `GET /readyz` is unauthenticated, and its database check is a durable write: a
//! [`ReadinessCache`] answers every call within [`READINESS_REUSED_FOR`] of a check with
//! that check's result (callers meanwhile wait for the one running), so a flood of probes
//! costs one write a second at most and cannot monopolise the database connection. The
//! background task ([`check_periodically`]) checks afresh every [`SAMPLE_EVERY`].

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use myna_service::metrics::{Check, READINESS_WRITE_TIMEOUT, Readiness};

use crate::error::Result;
use crate::state::AppState;
use crate::store::DecisionBacklog;

/// The `service` label of hospital-view's metrics.
pub const SERVICE: &str = "hospital-view";

/// An answer undelivered for longer than this makes the service not ready: the
/// deliverer's backoff tops out far below it, so the edge (or the path to it) has been
/// unreachable for several attempts.
pub const OUTBOX_STUCK_AFTER: Duration = Duration::from_secs(10 * 60);

/// How often the server's background task runs the checks (and samples the gauges).
pub const SAMPLE_EVERY: Duration = Duration::from_secs(15);

fn age_seconds(then: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    (now - then).to_std().map_or(0.0, |d| d.as_secs_f64())
}

/// Reads the outbox backlog and sets `hospital_decision_outbox_undelivered` and
/// `hospital_decision_outbox_oldest_undelivered_age_seconds` (0 when nothing waits).
pub async fn sample(state: &AppState) -> Result<DecisionBacklog> {
    let backlog = state.store().run(|s| s.decision_backlog()).await?;
    let now = state.now();
    metrics::gauge!("hospital_decision_outbox_undelivered").set(backlog.undelivered as f64);
    metrics::gauge!("hospital_decision_outbox_oldest_undelivered_age_seconds").set(
        backlog
            .oldest_answered_at
            .map_or(0.0, |at| age_seconds(at, now)),
    );
    Ok(backlog)
}

/// Runs every check (and samples the gauges); see the module docs.
pub async fn readiness(state: &AppState) -> Readiness {
    let now = state.now();
    // The read first: a write stuck behind a lock holds the one connection meanwhile.
    let sampled = tokio::time::timeout(READINESS_WRITE_TIMEOUT, sample(state)).await;
    let outbox = match sampled {
        Ok(Ok(backlog)) => backlog
            .oldest_answered_at
            .is_none_or(|at| age_seconds(at, now) < OUTBOX_STUCK_AFTER.as_secs_f64()),
        Ok(Err(error)) => {
            tracing::error!(%error, "readiness: could not read the answers' outbox");
            false
        }
        Err(_) => false,
    };
    let database = matches!(
        tokio::time::timeout(
            READINESS_WRITE_TIMEOUT,
            state.store().run(move |s| s.probe_write(now)),
        )
        .await,
        Ok(Ok(()))
    );
    let checks = vec![
        Check {
            name: "database",
            ok: database,
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

/// How long a `/readyz` answer is reused.
pub const READINESS_REUSED_FOR: Duration = Duration::from_secs(1);

/// The last readiness and when it was checked, shared by the `/readyz` handlers.
#[derive(Clone, Default)]
pub struct ReadinessCache(Arc<tokio::sync::Mutex<Option<(tokio::time::Instant, Readiness)>>>);

impl ReadinessCache {
    /// The last readiness if it was checked less than [`READINESS_REUSED_FOR`] ago, else
    /// a fresh one ([`readiness`]). Concurrent callers wait for one check.
    pub async fn readiness(&self, state: &AppState) -> Readiness {
        let mut last = self.0.lock().await;
        if let Some((at, answer)) = last.as_ref()
            && at.elapsed() < READINESS_REUSED_FOR
        {
            return answer.clone();
        }
        let fresh = readiness(state).await;
        *last = Some((tokio::time::Instant::now(), fresh.clone()));
        fresh
    }
}

/// Runs the checks every [`SAMPLE_EVERY`] until `stop` completes, so
/// `readiness_check_ok` and the outbox gauges are current without a prober.
pub async fn check_periodically(state: AppState, stop: impl std::future::Future<Output = ()>) {
    let mut every = tokio::time::interval(SAMPLE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = every.tick() => {
                readiness(&state).await;
            }
        }
    }
}
