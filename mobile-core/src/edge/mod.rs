//! HTTP client of the edge server's tablet API (edge-agent `/v1/...`).
//!
//! A thin shell: it serialises the wire types of `myna_domain::wire`, sends them with the
//! device token, and turns every failure into an [`EdgeError`]. It holds no policy.
//! Error messages never carry response bodies (a body may hold personal data); only
//! the server's stable error code and its short message, which the server keeps free of
//! personal data.

use std::time::Duration;

use myna_domain::access::IncidentId;
use myna_domain::disaster::DisasterList;
use myna_domain::handoff::{GeoPoint, HandoffState};
use myna_domain::wire::{
    ConsentRecorded, ConsentRequest, ConsistencyProofDto, ErrorBody, HandoffRequest,
    HandoffResponse, HospitalList, IdentityChallenge, IncidentOpened, OpenIncidentRequest,
    SummaryResponse,
};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Time allowed to establish a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time allowed for a whole request, response body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one [`EdgeClient::handoff_state`] call waits for the hospital's answer: well
/// inside [`REQUEST_TIMEOUT`]; call again to keep waiting.
pub const ANSWER_WAIT: Duration = Duration::from_secs(8);
/// Largest response body accepted.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Largest signed checkpoint accepted: a checkpoint note is a few hundred bytes, plus
/// one line per signature.
pub const MAX_CHECKPOINT_BYTES: usize = 16 * 1024;

/// Why a call to the edge server failed. (Serialisable: the outbox keeps the last one.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EdgeError {
    /// The server could not be reached or the connection broke (no signal, timeout).
    #[error("edge server unreachable: {message}")]
    Unreachable {
        /// Transport-level description (no request or response bodies).
        message: String,
    },
    /// The server answered with a non-2xx status.
    #[error("edge server rejected the request ({status} {code}): {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Stable error code from the server's [`ErrorBody`], or `http_<status>`.
        code: String,
        /// The server's short message.
        message: String,
    },
    /// A 2xx response whose body is not the expected JSON.
    #[error("edge server response unreadable: {message}")]
    InvalidResponse {
        /// What was wrong, without echoing the body.
        message: String,
    },
    /// The client was set up with an unusable base URL or token.
    #[error("edge client misconfigured: {message}")]
    Configuration {
        /// What was wrong.
        message: String,
    },
}

/// Result type of this module.
pub type Result<T, E = EdgeError> = std::result::Result<T, E>;

/// Client of one edge server, authenticated as one tablet. Cheap to clone.
#[derive(Clone)]
pub struct EdgeClient {
    http: reqwest::Client,
    base_url: Url,
    device_token: String,
}

impl std::fmt::Debug for EdgeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeClient")
            .field("base_url", &self.base_url.as_str())
            .field("device_token", &"<redacted>")
            .finish()
    }
}

impl EdgeClient {
    /// Builds a client for `base_url` (e.g. `https://edge.local:8443`) that sends
    /// `device_token` as a bearer token. Connect timeout 3 s, request timeout 10 s,
    /// no redirects (a redirect would be a misconfiguration, not something to follow).
    pub fn new(base_url: String, device_token: String) -> Result<Self> {
        Self::build(base_url, device_token, http_builder(), |e| {
            EdgeError::Configuration {
                message: e.to_string(),
            }
        })
    }

    /// Checks `base_url` and `device_token`, then builds the HTTP client once from `http`
    /// (a failure there becomes `build_error`).
    fn build(
        base_url: String,
        device_token: String,
        http: reqwest::ClientBuilder,
        build_error: impl FnOnce(reqwest::Error) -> EdgeError,
    ) -> Result<Self> {
        let config = |message: &str| EdgeError::Configuration {
            message: message.to_string(),
        };
        let mut base_url = Url::parse(&base_url).map_err(|_| config("base URL is not a URL"))?;
        if !matches!(base_url.scheme(), "http" | "https") || base_url.cannot_be_a_base() {
            return Err(config("base URL must be http or https"));
        }
        if !base_url.path().ends_with('/') {
            let path = format!("{}/", base_url.path());
            base_url.set_path(&path);
        }
        let token_ok =
            !device_token.is_empty() && device_token.bytes().all(|b| b.is_ascii_graphic());
        if !token_ok {
            return Err(config("device token must be non-empty visible ASCII"));
        }
        let http = http.build().map_err(build_error)?;
        Ok(EdgeClient {
            http,
            base_url,
            device_token,
        })
    }

    /// [`EdgeClient::new`] for an edge whose certificate is issued by the deployment's own CA
    /// (`ca_der`, a DER X.509 certificate), pinned: that CA is the only one trusted, the
    /// system's and the built-in roots are not. A server certificate from any other issuer
    /// fails as [`EdgeError::Unreachable`], saying it is not trusted.
    pub fn with_root_certificate(
        base_url: String,
        device_token: String,
        ca_der: Vec<u8>,
    ) -> Result<Self> {
        let invalid_ca = || EdgeError::Configuration {
            message: "deployment CA certificate is not a valid DER certificate".into(),
        };
        let ca = reqwest::Certificate::from_der(&ca_der).map_err(|_| invalid_ca())?;
        let pinned = http_builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca);
        Self::build(base_url, device_token, pinned, |_| invalid_ca())
    }

    /// [`EdgeClient::with_root_certificate`] that also presents the tablet's client
    /// certificate (mTLS): `certificate_pem` (the tablet's certificate, optionally followed
    /// by intermediates) and `key_pem` (its PKCS#8, PKCS#1 or SEC1 private key), both PEM,
    /// issued by the deployment's device CA. An edge requiring client certificates
    /// identifies the tablet by it and ignores the token. A certificate or key that cannot
    /// be read is a [`EdgeError::Configuration`] error (the message names neither).
    pub fn with_client_certificate(
        base_url: String,
        device_token: String,
        ca_der: Vec<u8>,
        certificate_pem: &str,
        key_pem: &str,
    ) -> Result<Self> {
        let invalid = |what: &str| EdgeError::Configuration {
            message: format!("{what} is not usable"),
        };
        let ca = reqwest::Certificate::from_der(&ca_der)
            .map_err(|_| invalid("deployment CA certificate (DER)"))?;
        let identity =
            reqwest::Identity::from_pem(format!("{certificate_pem}\n{key_pem}").as_bytes())
                .map_err(|_| invalid("client certificate or key (PEM)"))?;
        let http = http_builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            .identity(identity);
        Self::build(base_url, device_token, http, |_| {
            invalid("client certificate or key (PEM)")
        })
    }

    /// `POST /v1/identity-challenges` (no body): a one-time challenge for the card to sign
    /// after the patient enters the PIN. It is bound to this tablet, single use, and
    /// expires after a short time (`expires_at`); ask for a fresh one for every attempt.
    pub async fn identity_challenge(&self) -> Result<IdentityChallenge> {
        self.call::<(), _>(Method::POST, "v1/identity-challenges", None)
            .await
    }

    /// `POST /v1/incidents`: opens the incident (idempotent for the same incident id).
    pub async fn open_incident(&self, request: &OpenIncidentRequest) -> Result<IncidentOpened> {
        self.call(Method::POST, "v1/incidents", Some(request)).await
    }

    /// `PUT /v1/incidents/{id}/consent`: records the patient's consent decision.
    pub async fn record_consent(
        &self,
        incident: IncidentId,
        request: &ConsentRequest,
    ) -> Result<ConsentRecorded> {
        let path = format!("v1/incidents/{incident}/consent");
        self.call(Method::PUT, &path, Some(request)).await
    }

    /// `GET /v1/incidents/{id}/summary`: the emergency summary (logged by the server
    /// before it is sent).
    pub async fn fetch_summary(&self, incident: IncidentId) -> Result<SummaryResponse> {
        let path = format!("v1/incidents/{incident}/summary");
        self.call::<(), _>(Method::GET, &path, None).await
    }

    /// `GET /v1/hospitals`: receiving hospitals the crew can choose.
    pub async fn hospitals(&self) -> Result<HospitalList> {
        self.call::<(), _>(Method::GET, "v1/hospitals", None).await
    }

    /// `GET /v1/disasters/active`: declared disasters covering this tablet's area now.
    pub async fn active_disasters(&self) -> Result<DisasterList> {
        self.call::<(), _>(Method::GET, "v1/disasters/active", None)
            .await
    }

    /// `GET /v1/hospitals?lat=&lon=`: receiving hospitals, nearest to `here` first, each
    /// with its distance.
    pub async fn hospitals_near(&self, here: GeoPoint) -> Result<HospitalList> {
        let path = format!("v1/hospitals?lat={}&lon={}", here.lat, here.lon);
        self.call::<(), _>(Method::GET, &path, None).await
    }

    /// `GET /v1/handoffs/{id}?wait=&known=`: where a handoff stands. With `known` (the
    /// state's tag the tablet already shows: `sent`, `delivered`, `accepted`, `declined`,
    /// `withdrawn`) the edge answers as soon as it differs, or after [`ANSWER_WAIT`].
    pub async fn handoff_state(
        &self,
        handoff: uuid::Uuid,
        known: Option<&str>,
    ) -> Result<HandoffState> {
        let path = match known {
            Some(tag) => format!(
                "v1/handoffs/{handoff}?wait={}&known={tag}",
                ANSWER_WAIT.as_secs()
            ),
            None => format!("v1/handoffs/{handoff}"),
        };
        self.call::<(), _>(Method::GET, &path, None).await
    }

    /// `POST /v1/handoffs/{id}/withdraw`: the crew takes the patient elsewhere; the
    /// hospital is told.
    pub async fn withdraw_handoff(&self, handoff: uuid::Uuid) -> Result<HandoffState> {
        let path = format!("v1/handoffs/{handoff}/withdraw");
        self.call::<(), _>(Method::POST, &path, None).await
    }

    /// `POST /v1/incidents/{id}/handoff`: relays the patient to a hospital.
    pub async fn hand_off(
        &self,
        incident: IncidentId,
        request: &HandoffRequest,
    ) -> Result<HandoffResponse> {
        let path = format!("v1/incidents/{incident}/handoff");
        self.call(Method::POST, &path, Some(request)).await
    }

    /// `POST /v1/incidents/{id}/device-views`: reports that the crew opened the tablet's
    /// summary copy again (an access the edge logs). Idempotent by the report's view id.
    pub async fn report_device_view(
        &self,
        incident: IncidentId,
        report: &myna_domain::wire::DeviceViewReport,
    ) -> Result<myna_domain::wire::DeviceViewRecorded> {
        let path = format!("v1/incidents/{incident}/device-views");
        self.call(Method::POST, &path, Some(report)).await
    }

    /// `GET /v1/log/checkpoint`: the access log's latest signed checkpoint, as the
    /// signed-note text. Untrusted until opened with the log key the tablet was
    /// provisioned with (see [`crate::LogWitness`]). A 2xx answer that is not
    /// `text/plain` (a captive portal's page, say) is an [`EdgeError::InvalidResponse`].
    pub async fn log_checkpoint(&self) -> Result<String> {
        let reply = self
            .send::<()>(Method::GET, "v1/log/checkpoint", None, MAX_CHECKPOINT_BYTES)
            .await?;
        let is_text = reply.content_type.as_deref().is_some_and(|value| {
            value
                .split(';')
                .next()
                .is_some_and(|media| media.trim().eq_ignore_ascii_case("text/plain"))
        });
        if !is_text {
            return Err(EdgeError::InvalidResponse {
                message: "checkpoint response is not text/plain".into(),
            });
        }
        String::from_utf8(reply.bytes).map_err(|_| EdgeError::InvalidResponse {
            message: "checkpoint response is not UTF-8".into(),
        })
    }

    /// `GET /v1/log/proof/consistency?from=&to=`: hashes proving that the log's tree of
    /// `to` entries extends its tree of `from` entries. Untrusted until checked with
    /// `myna_domain::transparency::verify_consistency`.
    pub async fn consistency_proof(&self, from: u64, to: u64) -> Result<ConsistencyProofDto> {
        let path = format!("v1/log/proof/consistency?from={from}&to={to}");
        self.call::<(), _>(Method::GET, &path, None).await
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let reply = self.send(method, path, body, MAX_RESPONSE_BYTES).await?;
        serde_json::from_slice(&reply.bytes).map_err(|e| EdgeError::InvalidResponse {
            // Position and category only: serde_json's message can quote body content.
            message: format!(
                "{:?} JSON error at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ),
        })
    }

    /// Sends one request and reads a 2xx body of at most `limit` bytes; any other
    /// status becomes [`EdgeError::Rejected`].
    async fn send<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        limit: usize,
    ) -> Result<Reply> {
        let url = self
            .base_url
            .join(path)
            .map_err(|_| EdgeError::Configuration {
                message: "cannot build request URL".into(),
            })?;
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(&self.device_token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let mut response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if bytes.len() + chunk.len() > limit {
                return Err(EdgeError::InvalidResponse {
                    message: format!("response body over {limit} bytes"),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(rejected(status, &bytes));
        }
        Ok(Reply {
            content_type,
            bytes,
        })
    }
}

/// A 2xx response: its media type and body.
struct Reply {
    content_type: Option<String>,
    bytes: Vec<u8>,
}

/// The client settings every [`EdgeClient`] shares: rustls, connect timeout 3 s, request
/// timeout 10 s, no redirects, our user agent.
fn http_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("mobile-core/", env!("CARGO_PKG_VERSION")))
}

/// rustls' reason when it refused the server's certificate (unknown issuer, wrong name,
/// expired), found in the error's source chain. rustls is not a dependency of this crate, so
/// this reads the message rustls gives `Error::InvalidCertificate` ("invalid peer
/// certificate: ...").
fn untrusted_certificate(error: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        let message = current.to_string();
        if let Some(reason) = message.strip_prefix("invalid peer certificate: ") {
            return Some(reason.to_string());
        }
        source = current.source();
    }
    None
}

fn unreachable(error: reqwest::Error) -> EdgeError {
    if let Some(reason) = untrusted_certificate(&error) {
        return EdgeError::Unreachable {
            message: format!(
                "the server certificate is not trusted ({reason}): \
                 this is not the deployment's edge server, or the tablet has the wrong CA"
            ),
        };
    }
    // reqwest errors describe the transport (and the URL, which holds only ids).
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "connection failed"
    };
    EdgeError::Unreachable {
        message: format!("{kind}: {error}"),
    }
}

fn rejected(status: StatusCode, body: &[u8]) -> EdgeError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { code, message }) => EdgeError::Rejected {
            status: status.as_u16(),
            code,
            message,
        },
        Err(_) => EdgeError::Rejected {
            status: status.as_u16(),
            code: format!("http_{}", status.as_u16()),
            message: status
                .canonical_reason()
                .unwrap_or("unexpected status")
                .to_string(),
        },
    }
}

#[cfg(test)]
mod tests;
