//! The run-to-completion rule for the incident's writing steps (identity, consent,
//! summary, handoff, withdrawal): once started, such a step runs to its end even if its
//! caller stops waiting (a cancelled Kotlin coroutine, a closed screen, a dropped Rust
//! future), so the write it queued and the step it saves stay together, instead of a
//! write sent whose step was never recorded.

use std::future::Future;

use crate::error::Result;

/// Runs `step` to its end. Inside a tokio runtime it runs as a task of that runtime (off
/// the caller's thread, SQLite included), which dropping the returned future does not
/// cancel; outside one it runs in place. A panic in the step is re-raised here.
pub(crate) async fn to_completion<T: Send + 'static>(
    step: impl Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    if tokio::runtime::Handle::try_current().is_err() {
        return step.await;
    }
    match tokio::spawn(step).await {
        Ok(result) => result,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        // Nothing aborts these tasks; a runtime shutting down drops them, and with them
        // this caller.
        Err(error) => Err(crate::error::MobileError::LocalStorage {
            detail: format!("step cancelled by runtime shutdown: {error}"),
        }),
    }
}
