//! Background work of a running edge: signing checkpoints as the log grows, the daily
//! retention purge of medical records (never of access records), and sampling the
//! operational gauges and readiness checks ([`crate::health::readiness`]) every
//! [`crate::health::SAMPLE_EVERY`].

use std::future::Future;

use crate::error::Result;
use crate::state::AppState;
use crate::{health, transparency};

/// Deletes the medical records retention no longer keeps, as of the clock's date (the
/// same date the summary applies retention with). Returns how many were deleted.
pub async fn purge_expired_records(state: &AppState) -> Result<u64> {
    let today = state.clock.now().date_naive();
    let report = state
        .store
        .write(move |tx| tx.purge_expired_records(today))
        .await?;
    for (kind, deleted) in report.by_kind() {
        tracing::info!(kind = kind.as_str(), deleted, "retention purge");
    }
    Ok(report.total())
}

/// Runs until `stop` resolves: a checkpoint every `checkpoint_interval` when the log grew,
/// the retention purge at start and every `retention_interval`, and the gauges sampled.
pub async fn run(state: AppState, stop: impl Future<Output = ()>) {
    // tokio's interval panics on zero; a misconfigured zero means "as often as sensible".
    let at_least_a_second = |d: std::time::Duration| d.max(std::time::Duration::from_secs(1));
    let mut checkpoints =
        tokio::time::interval(at_least_a_second(state.config.checkpoint_interval));
    checkpoints.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut purges = tokio::time::interval(at_least_a_second(state.config.retention_interval));
    purges.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut samples = tokio::time::interval(health::SAMPLE_EVERY);
    samples.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = checkpoints.tick() => {
                if let Err(error) = transparency::publish(&state).await {
                    tracing::error!(%error, "could not publish a checkpoint");
                }
                let _ = health::sample(&state).await;
            }
            _ = samples.tick() => {
                // Every check, so `readiness_check_ok` is current without a prober (it
                // samples the gauges too and logs what failed).
                health::readiness(&state).await;
            }
            _ = purges.tick() => {
                if let Err(error) = purge_expired_records(&state).await {
                    tracing::error!(%error, "retention purge failed");
                }
            }
        }
    }
}
