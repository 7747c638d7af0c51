//! Request rate limits, a middleware in front of every route but `GET /healthz`.
//!
//! A request is charged to its caller, found from its credentials without touching the
//! database: a configured device, hospital, officer or operator token is that caller; any
//! other bearer token or portal cookie is a portal session (keyed by the token's SHA-256),
//! and is also charged to the client address, as are requests without credentials
//! (sign-ins, the public log endpoints). So rotating made-up tokens buys nothing over the
//! address limit. Limits and their defaults are [`crate::config::RateLimits`].
//!
//! Over a limit the answer is 429 with `Retry-After` (whole seconds, rounded up) and
//! `{code: "rate_limited"}`; the handler does not run, so nothing is read, written or
//! logged in the access log.
//!
//! The counters are `governor`'s keyed GCRA limiters (one per limit) in memory: a restart
//! forgets them. Keys of callers that have been quiet long enough to be full again are
//! dropped when the table grows past [`PRUNE_ABOVE`] keys, at most once a second.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::headers::authorization::Bearer;
use axum_extra::headers::{Authorization, HeaderMapExt};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use myna_domain::wire::ErrorBody;
use myna_service::tls::TlsPeer;
use sha2::{Digest, Sha256};

use super::session::PORTAL_COOKIE;
use crate::config::{Config, RateLimit, RateLimits};

/// Tracked keys above which quiet (full again) keys are dropped.
pub const PRUNE_ABOVE: usize = 10_000;

/// Whom a request is charged to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Caller {
    /// A client certificate the TLS handshake verified (a tablet, a hospital-view, an
    /// officer or an operator over mTLS), by its hash: each its own limit, wherever it connects from (ambulance tablets
    /// may share a carrier's NAT address).
    Certificate([u8; 32]),
    /// A registered tablet, by device id.
    Device(String),
    /// A receiving hospital, by institution id.
    Hospital(String),
    /// A privacy officer or operator, by token hash.
    Staff([u8; 32]),
    /// A portal session (or an unknown token), by token hash.
    Session([u8; 32]),
}

/// The limiters and what they need to find the caller.
pub struct Limiter {
    config: Arc<Config>,
    per_caller: Option<DefaultKeyedRateLimiter<Caller>>,
    per_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    last_prune: Mutex<Instant>,
}

fn quota(limit: RateLimit) -> Quota {
    Quota::per_second(limit.per_second).allow_burst(limit.burst)
}

impl Limiter {
    /// Limiters for `config.rate_limits`.
    pub fn new(config: Arc<Config>) -> Self {
        let RateLimits {
            per_caller,
            per_address,
        } = config.rate_limits;
        Limiter {
            per_caller: per_caller.map(|l| DefaultKeyedRateLimiter::keyed(quota(l))),
            per_address: per_address.map(|l| DefaultKeyedRateLimiter::keyed(quota(l))),
            config,
            last_prune: Mutex::new(Instant::now()),
        }
    }

    /// The configured identity of a bearer token, if it is one.
    fn configured_caller(&self, token: &str) -> Option<Caller> {
        let config = &self.config;
        if let Some(device) = config.device_by_token(token) {
            Some(Caller::Device(device.device_id.clone()))
        } else if let Some(hospital) = config.hospital_by_token(token) {
            Some(Caller::Hospital(hospital.institution.id.clone()))
        } else if config.privacy_officer_by_token(token).is_some()
            || config.operator_by_token(token).is_some()
        {
            Some(Caller::Staff(Sha256::digest(token.as_bytes()).into()))
        } else {
            None
        }
    }

    /// Charges one request; `Err(wait)` when it is over a limit.
    fn charge(&self, request: &Request) -> Result<(), Duration> {
        let headers = request.headers();
        // Read as the `auth` extractors read it.
        let bearer = headers.typed_get::<Authorization<Bearer>>();
        let bearer = bearer.as_ref().map(|b| b.token());
        let certificate = request
            .extensions()
            .get::<TlsPeer>()
            .and_then(TlsPeer::client_certificate)
            .map(|der| Caller::Certificate(Sha256::digest(der).into()));
        let configured =
            certificate.or_else(|| bearer.and_then(|token| self.configured_caller(token)));
        let caller = match configured {
            Some(caller) => Some(caller),
            None => {
                // Everyone else is charged to the address first.
                check(&self.per_address, &client_address(request), "address")?;
                let cookie = CookieJar::from_headers(headers)
                    .get(PORTAL_COOKIE)
                    .map(|c| c.value().to_string());
                bearer
                    .map(str::to_string)
                    .or(cookie)
                    .map(|token| Caller::Session(Sha256::digest(token.as_bytes()).into()))
            }
        };
        match caller {
            Some(caller) => check(&self.per_caller, &caller, "caller"),
            None => Ok(()),
        }
    }

    /// Drops full-again keys once the tables are large, at most once a second.
    fn prune(&self) {
        let tracked = self.per_caller.as_ref().map_or(0, |l| l.len())
            + self.per_address.as_ref().map_or(0, |l| l.len());
        if tracked <= PRUNE_ABOVE {
            return;
        }
        let Ok(mut last) = self.last_prune.lock() else {
            return;
        };
        if last.elapsed() < Duration::from_secs(1) {
            return;
        }
        *last = Instant::now();
        if let Some(limiter) = &self.per_caller {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        if let Some(limiter) = &self.per_address {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Charges `key` on `limiter`; a refusal counts in
/// `edge_rate_limit_refusals_total{kind}` (`caller` or `address`, never the key).
fn check<K: std::hash::Hash + Eq + Clone>(
    limiter: &Option<DefaultKeyedRateLimiter<K>>,
    key: &K,
    kind: &'static str,
) -> Result<(), Duration> {
    match limiter {
        None => Ok(()),
        Some(limiter) => limiter.check_key(key).map_err(|not_until| {
            metrics::counter!("edge_rate_limit_refusals_total", "kind" => kind).increment(1);
            not_until.wait_time_from(DefaultClock::default().now())
        }),
    }
}

/// The client's address: from the TLS accept loop, or from `axum::serve`'s connect info.
/// IPv6 clients are keyed by their /64 (one host usually holds a whole /64). Without
/// either (a test calling the router directly) all such requests share one key.
fn client_address(request: &Request) -> IpAddr {
    let addr = request
        .extensions()
        .get::<TlsPeer>()
        .map(|peer| peer.addr)
        .or_else(|| {
            request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| *addr)
        });
    match addr.map(|a| a.ip().to_canonical()) {
        Some(IpAddr::V6(v6)) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(prefix.into())
        }
        Some(v4) => v4,
        None => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
    }
}

/// `Retry-After` in whole seconds, rounded up, at least 1.
fn retry_after_secs(wait: Duration) -> u64 {
    u64::try_from(wait.as_nanos().div_ceil(1_000_000_000))
        .unwrap_or(u64::MAX)
        .max(1)
}

/// The middleware: refuses a request over its limits before anything else runs.
pub async fn limit(State(limiter): State<Arc<Limiter>>, request: Request, next: Next) -> Response {
    // Liveness costs nothing and a prober polling from one address is never refused.
    // `/readyz` writes to the database on every call, so it is charged like any anonymous
    // request (per address: far above any prober's rate, far below a flood's).
    if request.uri().path() == "/healthz" {
        return next.run(request).await;
    }
    let charged = limiter.charge(&request);
    limiter.prune();
    match charged {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            // No address, token or id: how many were refused is what an operator needs.
            tracing::info!(path = %request.uri().path(), "request refused: rate limited");
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(ErrorBody {
                    code: "rate_limited".into(),
                    message: "too many requests; retry after the time in Retry-After".into(),
                }),
            )
                .into_response();
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs(wait)),
            );
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(limits: RateLimits) -> Limiter {
        let mut config = Config::local("/nonexistent".into());
        config.rate_limits = limits;
        Limiter::new(Arc::new(config))
    }

    fn request(bearer: Option<&str>, from: Option<&str>) -> Request {
        let mut builder = Request::builder().uri("/v1/hospitals");
        if let Some(token) = bearer {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let mut request = builder.body(axum::body::Body::empty()).unwrap();
        if let Some(addr) = from {
            request
                .extensions_mut()
                .insert(ConnectInfo(addr.parse::<SocketAddr>().unwrap()));
        }
        request
    }

    fn allowed(limiter: &Limiter, request: &Request, times: usize) -> usize {
        (0..times)
            .filter(|_| limiter.charge(request).is_ok())
            .count()
    }

    #[test]
    fn defaults_fit_a_crew_and_stop_a_flood() {
        let limits = RateLimits::default();
        let caller = limits.per_caller.unwrap();
        assert_eq!((caller.burst.get(), caller.per_second.get()), (20, 5));
        let address = limits.per_address.unwrap();
        assert!(address.burst >= caller.burst && address.per_second >= caller.per_second);
        assert_eq!(Config::local(".".into()).rate_limits, limits);
        assert_eq!(RateLimit::new(0, 5), None);
        assert_eq!(RateLimit::new(5, 0), None);
    }

    #[test]
    fn a_device_gets_its_burst_and_other_devices_theirs() {
        let limiter = limiter(RateLimits::default());
        let one = request(Some("dev-device-token-1"), Some("10.0.0.1:1"));
        let two = request(Some("dev-device-token-2"), Some("10.0.0.1:2"));
        assert_eq!(allowed(&limiter, &one, 30), 20);
        let wait = limiter.charge(&one).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(200),
            "{wait:?}"
        );
        assert_eq!(allowed(&limiter, &two, 30), 20);
    }

    #[test]
    fn unauthenticated_requests_share_their_address_limit() {
        let limiter = limiter(RateLimits::default());
        // Made-up tokens from one address: each is a new "session", the address is one.
        let allowed = (0..100)
            .filter(|n| {
                limiter
                    .charge(&request(
                        Some(&format!("guess-{n}")),
                        Some("192.0.2.7:4000"),
                    ))
                    .is_ok()
            })
            .count();
        assert_eq!(allowed, 60);
        assert!(
            limiter
                .charge(&request(None, Some("192.0.2.7:4001")))
                .is_err()
        );
        assert!(
            limiter
                .charge(&request(None, Some("192.0.2.8:4001")))
                .is_ok()
        );
        // Same /64, another host: the same key.
        let v6 = RateLimits {
            per_caller: None,
            per_address: RateLimit::new(1, 1),
        };
        let limiter = super::tests::limiter(v6);
        assert!(
            limiter
                .charge(&request(None, Some("[2001:db8::1]:1")))
                .is_ok()
        );
        assert!(
            limiter
                .charge(&request(None, Some("[2001:db8::2]:1")))
                .is_err()
        );
        assert!(
            limiter
                .charge(&request(None, Some("[2001:db8:0:1::1]:1")))
                .is_ok()
        );
    }

    #[test]
    fn configured_callers_skip_the_address_limit() {
        let limits = RateLimits {
            per_caller: RateLimit::new(5, 1),
            per_address: RateLimit::new(1, 1),
        };
        let limiter = limiter(limits);
        let officer = request(Some("dev-privacy-officer-token"), Some("10.0.0.9:1"));
        assert_eq!(allowed(&limiter, &officer, 10), 5);
        assert!(limiter.charge(&request(None, Some("10.0.0.9:2"))).is_ok());
    }

    #[test]
    fn off_means_off() {
        let limiter = limiter(RateLimits::OFF);
        let one = request(Some("dev-device-token-1"), None);
        assert_eq!(allowed(&limiter, &one, 1_000), 1_000);
        assert_eq!(allowed(&limiter, &request(None, None), 1_000), 1_000);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        for (wait, secs) in [(0, 1), (1, 1), (999, 1), (1_000, 1), (1_001, 2), (2_500, 3)] {
            assert_eq!(
                retry_after_secs(Duration::from_millis(wait)),
                secs,
                "{wait}"
            );
        }
    }
}
