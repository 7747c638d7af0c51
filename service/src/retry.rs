//! How long an outbox waits between delivery attempts (edge to hospital, hospital to edge).

use std::time::Duration;

/// Longest wait between two delivery attempts of one outbox message.
pub const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(30);

/// Wait before attempt `attempts + 1` of an outbox delivery (edge to hospital, hospital to
/// edge): 1 s, 2 s, 4 s, ... up to [`MAX_RETRY_BACKOFF`]. No jitter: each side has few
/// peers, and a peer coming back should get its backlog at once.
pub fn retry_backoff(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.min(5)).min(MAX_RETRY_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_backoff_doubles_to_thirty_seconds() {
        let waits: Vec<u64> = (0..8).map(|n| retry_backoff(n).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(retry_backoff(u32::MAX), MAX_RETRY_BACKOFF);
    }
}
