//! Which failures pass with time, and how long to wait before trying again. Pure: no
//! I/O, no clock (the jitter's randomness aside).

use std::time::Duration;

use crate::edge::EdgeError;

/// Longest wait between two attempts of one write.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Whether a failure may pass with time. Only the edge itself refusing the write for good
/// is final: a 4xx carrying the edge's own error body (a revoked card's 403, an unknown
/// incident's 404, a conflict), other than "not signed in" (401: a device token or
/// certificate being renewed must not cost the queue). Everything else is
/// retried: no connection, a timeout, a server error, being told to slow down, and any
/// answer that is not the edge's (a captive portal's redirect or page, a proxy's 407, a
/// gateway's bare 404), since the edge never saw the write.
pub(crate) fn retryable(error: &EdgeError) -> bool {
    match error {
        EdgeError::Unreachable { .. }
        | EdgeError::InvalidResponse { .. }
        | EdgeError::Configuration { .. } => true,
        EdgeError::Rejected { status, code, .. } => {
            let from_the_edge = !code.starts_with("http_");
            let final_refusal = (400..500).contains(status) && !matches!(status, 401 | 408 | 429);
            !(from_the_edge && final_refusal)
        }
    }
}

/// Wait before attempt `attempts + 1`: 1 s doubling to [`MAX_BACKOFF`], each wait drawn
/// from its upper half, so a thousand tablets coming back under one cell tower do not
/// retry in lockstep. (Hand-written: a shift and a random draw; the backoff crates bring
/// a runtime abstraction we do not need.)
pub(crate) fn backoff(attempts: u32) -> Duration {
    use chacha20poly1305::aead::rand_core::RngCore;
    let full = Duration::from_secs(1u64 << attempts.min(6)).min(MAX_BACKOFF);
    let half = full / 2;
    let spread = u64::try_from(half.as_millis()).unwrap_or(u64::MAX).max(1);
    half + Duration::from_millis(chacha20poly1305::aead::OsRng.next_u64() % spread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_minute_with_jitter_in_the_upper_half() {
        for attempts in 0..12 {
            let full = Duration::from_secs(1u64 << attempts.min(6)).min(MAX_BACKOFF);
            for _ in 0..50 {
                let wait = backoff(attempts);
                assert!(wait >= full / 2 && wait < full, "{attempts}: {wait:?}");
            }
        }
        assert!(backoff(u32::MAX) <= MAX_BACKOFF);
    }

    #[test]
    fn only_the_edge_refusing_for_good_is_final() {
        let answer = |status, code: &str| EdgeError::Rejected {
            status,
            code: code.into(),
            message: "x".into(),
        };
        assert!(retryable(&EdgeError::Unreachable {
            message: "no signal".into()
        }));
        // The edge's own refusals are final…
        for status in [403, 404, 409, 422] {
            assert!(
                !retryable(&answer(status, "incident_not_found")),
                "{status}"
            );
        }
        // …except slow down and not signed in; and anything not from the edge is retried.
        for (status, code) in [
            (503, "storage_unavailable"),
            (429, "rate_limited"),
            (408, "http_408"),
            (401, "unauthorized"),
            (302, "http_302"),
            (404, "http_404"),
            (407, "http_407"),
        ] {
            assert!(retryable(&answer(status, code)), "{status} {code}");
        }
    }
}
