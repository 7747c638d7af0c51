//! Who may call what: the route table and the middleware that enforces it.
//!
//! Every request is identified once ([`identify`]) as a [`Principal`] — a tablet
//! (paramedic crew), a hospital's hospital-view (acting for its ER doctors and nurses), a
//! privacy officer, a patient signed in to the portal, or an operator — and checked
//! against [`ROUTES`], the one table of which roles may call each route. A route missing
//! from the table is refused to everyone (deny by default); so is a role the table does
//! not name. Every refusal is written to the security log (`auth_denials`) before the
//! answer goes out. Whose resource it is (own unit's incident, own hospital's handoff,
//! own history) is checked further in, where the resource is loaded; those refusals are
//! logged too (an incident's also in the patient's access log).
//!
//! The table is the specification: `authz` in the integration tests calls every route as
//! every role on its own and on another's resource and checks each cell, and `docs/api.md`
//! prints [`markdown_table`] (a test holds it to the table).

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use myna_domain::client_identity::{
    ClientCertificate, ClientIdentity, StaffRole, parse_client_certificate,
};
use myna_domain::identity::PatientId;
use myna_domain::policy;
use myna_service::tls::TlsPeer;
use myna_service::token::token_hash;

use super::error::{AppError, ScopeRefusal};
use super::portal_redirect::sign_in_redirect_for;
use super::session::PORTAL_COOKIE;
use crate::config::{Config, DeviceRegistration, HospitalEndpoint};
use crate::state::AppState;
use crate::store::AuthDenial;

/// A caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An ambulance crew's tablet (救急隊員).
    Paramedic,
    /// An emergency-receiving hospital's hospital-view, for its ER doctors and nurses.
    ErStaff,
    /// A privacy officer (個人情報保護担当).
    PrivacyOfficer,
    /// A patient signed in to the portal.
    Patient,
    /// An operator (運用担当).
    Operator,
}

impl Role {
    /// Every role, in the table's column order.
    pub const ALL: [Role; 5] = [
        Role::Paramedic,
        Role::ErStaff,
        Role::PrivacyOfficer,
        Role::Patient,
        Role::Operator,
    ];

    /// Stable name, as logged.
    pub fn code(self) -> &'static str {
        match self {
            Role::Paramedic => "paramedic",
            Role::ErStaff => "er_staff",
            Role::PrivacyOfficer => "privacy_officer",
            Role::Patient => "patient",
            Role::Operator => "operator",
        }
    }
}

/// The identified caller, put into the request's extensions by [`authorize`].
#[derive(Debug, Clone)]
pub enum Principal {
    /// A registered tablet.
    Paramedic(DeviceRegistration),
    /// A receiving hospital's hospital-view.
    ErStaff(HospitalEndpoint),
    /// A privacy officer, by id.
    PrivacyOfficer(String),
    /// A patient with a portal session.
    Patient(PatientId),
    /// An operator, by id.
    Operator(String),
}

impl Principal {
    /// The role.
    pub fn role(&self) -> Role {
        match self {
            Principal::Paramedic(_) => Role::Paramedic,
            Principal::ErStaff(_) => Role::ErStaff,
            Principal::PrivacyOfficer(_) => Role::PrivacyOfficer,
            Principal::Patient(_) => Role::Patient,
            Principal::Operator(_) => Role::Operator,
        }
    }

    /// The id written to the security log.
    fn id(&self) -> String {
        match self {
            Principal::Paramedic(device) => device.device_id.clone(),
            Principal::ErStaff(hospital) => hospital.institution.id.clone(),
            Principal::PrivacyOfficer(id) | Principal::Operator(id) => id.clone(),
            Principal::Patient(patient) => patient.0.clone(),
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (public log hashes, health, sign-in pages, the API document).
    Public,
    /// These roles only; anonymous callers get 401 (JSON) and other roles 403.
    Roles(&'static [Role]),
    /// A patient's HTML page: anonymous browsers are sent to the sign-in page.
    PatientPage,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct RouteRule {
    /// HTTP method (GET also covers HEAD).
    pub method: &'static str,
    /// The route template as registered.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Whose resource within the role, checked where the resource is loaded.
    pub scope: &'static str,
}

const PARAMEDIC: &[Role] = &[Role::Paramedic];
const ER_STAFF: &[Role] = &[Role::ErStaff];
const OFFICER: &[Role] = &[Role::PrivacyOfficer];
const PATIENT: &[Role] = &[Role::Patient];
const OPERATOR: &[Role] = &[Role::Operator];
const OVERSIGHT: &[Role] = &[Role::PrivacyOfficer, Role::Operator];

const fn rule(
    method: &'static str,
    path: &'static str,
    access: Access,
    scope: &'static str,
) -> RouteRule {
    RouteRule {
        method,
        path,
        access,
        scope,
    }
}

/// The route table: every route the edge serves, and who may call it.
#[rustfmt::skip]
pub const ROUTES: &[RouteRule] = &[
    rule("POST", "/v1/identity-challenges", Access::Roles(PARAMEDIC), "bound to the calling tablet"),
    rule("POST", "/v1/incidents", Access::Roles(PARAMEDIC), "opened for the calling tablet's unit"),
    rule("PUT", "/v1/incidents/{id}/consent", Access::Roles(PARAMEDIC), "own unit's active incident"),
    rule("GET", "/v1/incidents/{id}/summary", Access::Roles(PARAMEDIC), "own unit's active incident"),
    rule("POST", "/v1/incidents/{id}/device-views", Access::Roles(PARAMEDIC), "own unit's incident"),
    rule("POST", "/v1/incidents/{id}/handoff", Access::Roles(PARAMEDIC), "own unit's active incident; to an emergency-receiving hospital"),
    rule("GET", "/v1/hospitals", Access::Roles(PARAMEDIC), "emergency-receiving hospitals only"),
    rule("GET", "/v1/handoffs/{id}", Access::Roles(PARAMEDIC), "own tablet's handoff"),
    rule("POST", "/v1/handoffs/{id}/withdraw", Access::Roles(PARAMEDIC), "own tablet's handoff"),
    rule("POST", "/v1/hospital/handoffs/{id}/decision", Access::Roles(ER_STAFF), "handoff to own hospital"),
    rule("GET", "/v1/disasters/active", Access::Roles(PARAMEDIC), "the tablet's own area"),
    rule("GET", "/v1/disasters", Access::Roles(OPERATOR), "all"),
    rule("POST", "/v1/disasters", Access::Roles(OPERATOR), "all"),
    rule("GET", "/v1/review-queue", Access::Roles(OFFICER), "no record content"),
    rule("POST", "/v1/review-queue/{id}/outcome", Access::Roles(OFFICER), "queued accesses"),
    rule("GET", "/v1/auth-denials", Access::Roles(OVERSIGHT), "the security log"),
    rule("GET", "/portal/v1/history", Access::Roles(PATIENT), "own history"),
    rule("GET", "/portal/v1/history/{id}/proof", Access::Roles(PATIENT), "own history"),
    rule("GET", "/portal/v1/history/{id}/audit-event", Access::Roles(PATIENT), "own history"),
    rule("POST", "/portal/v1/history/{id}/flag", Access::Roles(PATIENT), "own history"),
    rule("GET", "/portal", Access::PatientPage, "own history"),
    rule("POST", "/portal/history/{id}/flag", Access::PatientPage, "own history"),
    rule("POST", "/portal/v1/sign-in/challenges", Access::Public, "one-time, 2 minutes"),
    rule("POST", "/portal/v1/sign-in", Access::Public, "the card's own patient"),
    rule("GET", "/portal/sign-in", Access::Public, "-"),
    rule("POST", "/portal/v1/dev-sign-in", Access::Public, "development only"),
    rule("GET", "/portal/dev-sign-in", Access::Public, "development only"),
    rule("GET", "/v1/log/key", Access::Public, "hashes and keys only"),
    rule("GET", "/v1/log/checkpoint", Access::Public, "hashes and keys only"),
    rule("GET", "/v1/log/proof/inclusion", Access::Public, "hashes and keys only"),
    rule("GET", "/v1/log/proof/consistency", Access::Public, "hashes and keys only"),
    rule("GET", "/healthz", Access::Public, "-"),
    rule("GET", "/readyz", Access::Public, "-"),
    rule("GET", "/openapi.json", Access::Public, "-"),
];

/// The rule for `method` on the route template `path`, if the table has one.
pub fn rule_for(method: &Method, path: &str) -> Option<&'static RouteRule> {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    ROUTES
        .iter()
        .find(|rule| rule.method == method && rule.path == path)
}

/// Whether `principal` (or an anonymous caller) passes `access`.
pub fn allows(access: Access, role: Option<Role>) -> bool {
    match (access, role) {
        (Access::Public, _) => true,
        (Access::Roles(roles), Some(role)) => roles.contains(&role),
        (Access::PatientPage, Some(role)) => role == Role::Patient,
        (_, None) => false,
    }
}

/// The table as Markdown, for `docs/api.md`: one row per route, one column per role.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| Route | Paramedic | ER staff | Privacy officer | Patient | Operator | Anonymous | Scope within the role |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for rule in ROUTES {
        let cell = |allowed: bool| if allowed { "allow" } else { "deny" };
        let roles: Vec<&str> = Role::ALL
            .iter()
            .map(|role| cell(allows(rule.access, Some(*role))))
            .collect();
        out.push_str(&format!(
            "| `{} {}` | {} | {} | {} |\n",
            rule.method,
            rule.path,
            roles.join(" | "),
            cell(allows(rule.access, None)),
            rule.scope,
        ));
    }
    out
}

/// The request's bearer token, if it has one.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// A configured institution acts as ER staff only if it is an emergency-receiving hospital:
/// a clinic or pharmacy configured by mistake identifies as no one.
fn er_staff(hospital: Option<&HospitalEndpoint>) -> Option<Principal> {
    hospital
        .filter(|h| policy::emergency_view_allowed(h.institution.kind).is_ok())
        .map(|h| Principal::ErStaff(h.clone()))
}

/// The identity of the request's verified client certificate: `Ok(None)` without one
/// (plain HTTP, or a TLS client that presented none); `Err(())` when the certificate names
/// no registered tablet or hospital, and no enabled staff account of its role (the
/// handshake already refused expired, revoked and foreign certificates).
async fn certificate_principal(
    state: &AppState,
    peer: &TlsPeer,
) -> Result<Result<Option<Principal>, ()>, AppError> {
    let config = &state.config;
    let Some(der) = peer.client_certificate() else {
        return Ok(Ok(None));
    };
    let certificate = match parse_client_certificate(der) {
        Ok(certificate) => certificate,
        Err(error) => {
            tracing::info!(%error, "client certificate names no identity");
            return Ok(Err(()));
        }
    };
    if let ClientIdentity::Staff { role, id } = &certificate.identity {
        let (role, lookup) = (*role, id.clone());
        let enabled = state
            .store
            .read(move |tx| tx.enabled_staff(&lookup, role))
            .await?;
        if !enabled {
            // An unknown id, a disabled account and an account of the other role look
            // alike from outside; the log says which id and serial, never a name.
            tracing::info!(staff = %id, role = %role, serial = %certificate.serial,
                "client certificate names no enabled staff account of its role");
            return Ok(Err(()));
        }
        return Ok(Ok(Some(match role {
            StaffRole::Officer => Principal::PrivacyOfficer(id.clone()),
            StaffRole::Operator => Principal::Operator(id.clone()),
        })));
    }
    Ok(registered_principal(config, certificate))
}

/// The tablet or hospital a certificate names, if it is registered.
fn registered_principal(
    config: &Config,
    certificate: ClientCertificate,
) -> Result<Option<Principal>, ()> {
    match &certificate.identity {
        ClientIdentity::Device {
            fire_department,
            unit,
            device_id,
        } => {
            let Some(registration) = config
                .device(device_id)
                .filter(|d| d.unit == *unit && d.fire_department.id == *fire_department)
            else {
                // Ids and the serial, not names: the serial is what a CRL would revoke.
                tracing::info!(device = %device_id, serial = %certificate.serial,
                    "client certificate names no registered device (or another unit)");
                return Err(());
            };
            let mut registration = registration.clone();
            registration.certificate_serial = Some(certificate.serial);
            Ok(Some(Principal::Paramedic(registration)))
        }
        ClientIdentity::Hospital { hospital_id } => match er_staff(config.hospital(hospital_id)) {
            Some(principal) => Ok(Some(principal)),
            None => {
                tracing::info!(hospital = %hospital_id, serial = %certificate.serial,
                    "client certificate names no configured hospital");
                Err(())
            }
        },
        // An edge's certificate is for delivering to hospital-views, not for calling an
        // edge: no route here serves one.
        ClientIdentity::Edge { .. } => {
            tracing::info!(serial = %certificate.serial,
                "client certificate names an edge, which calls no edge route");
            Err(())
        }
        // Looked up in the store by `certificate_principal` before this is called.
        ClientIdentity::Staff { .. } => Err(()),
    }
}

/// Identifies the caller. Tablets and hospital-views by the client certificate the TLS
/// handshake verified (its identity must be registered); without one, and only while
/// [`Config::require_client_certificates`] is off, by their bearer token. Officers and
/// operators by a client certificate naming an enabled staff account of their role
/// (`store::accounts`), or by the tokens configured for development; patients by a portal
/// session (bearer or cookie). `Ok(None)`: no or unknown credentials.
pub async fn identify(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<&TlsPeer>,
) -> Result<Option<Principal>, AppError> {
    let config = &state.config;
    if let Some(peer) = peer {
        match certificate_principal(state, peer).await? {
            Ok(Some(principal)) => return Ok(Some(principal)),
            Ok(None) => {}
            Err(()) => return Ok(None),
        }
    }
    let bearer = bearer_token(headers);
    if let Some(token) = bearer.as_deref() {
        if !config.require_client_certificates {
            if let Some(device) = config.device_by_token(token) {
                return Ok(Some(Principal::Paramedic(device.clone())));
            }
            if let Some(principal) = er_staff(config.hospital_by_token(token)) {
                return Ok(Some(principal));
            }
        }
        if let Some(officer) = config.privacy_officer_by_token(token) {
            return Ok(Some(Principal::PrivacyOfficer(officer.id.clone())));
        }
        if let Some(id) = config.operator_by_token(token) {
            return Ok(Some(Principal::Operator(id)));
        }
    }
    let session = bearer.or_else(|| {
        CookieJar::from_headers(headers)
            .get(PORTAL_COOKIE)
            .map(|c| c.value().to_string())
    });
    let Some(token) = session else {
        return Ok(None);
    };
    let hash = token_hash(&token);
    let now = state.clock.now();
    let patient = state
        .store
        .read(move |tx| tx.portal_session(&hash, now))
        .await?;
    Ok(patient.map(Principal::Patient))
}

/// Appends a refusal to the security log. A storage failure does not turn the refusal
/// into an error; it is reported to the operator's log instead.
pub async fn log_denial(
    state: &AppState,
    principal: Option<&Principal>,
    method: &Method,
    route: &str,
    resource: Option<String>,
    reason: &'static str,
) {
    let denial = AuthDenial {
        at: state.clock.now(),
        role: principal
            .map_or("anonymous", |p| p.role().code())
            .to_string(),
        principal: principal.map(Principal::id),
        method: method.to_string(),
        route: route.to_string(),
        resource,
        reason: reason.to_string(),
    };
    tracing::warn!(role = %denial.role, method = %denial.method, route = %denial.route, reason, "request refused");
    metrics::counter!("edge_auth_denials_total", "reason" => reason).increment(1);
    if let Err(error) = state
        .store
        .write(move |tx| tx.append_auth_denial(&denial))
        .await
    {
        tracing::error!(%error, "could not write a refusal to the security log");
    }
}

/// The middleware: identify, check the table, log and refuse, or pass the principal on.
pub async fn authorize(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    // Unmatched paths fall through to the router's 404.
    let Some(route) = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
    else {
        return next.run(request).await;
    };
    let method = request.method().clone();
    let peer = request.extensions().get::<TlsPeer>().cloned();
    let principal = match identify(&state, request.headers(), peer.as_ref()).await {
        Ok(principal) => principal,
        Err(error) => return error.into_response(),
    };
    let access = rule_for(&method, &route).map(|rule| rule.access);
    let allowed =
        access.is_some_and(|access| allows(access, principal.as_ref().map(Principal::role)));
    if !allowed {
        let reason = match (&access, &principal) {
            (None, _) => "route_not_in_table",
            (_, None) => "unauthenticated",
            (_, Some(_)) => "role_not_allowed",
        };
        log_denial(&state, principal.as_ref(), &method, &route, None, reason).await;
        return match (access, principal) {
            (Some(Access::PatientPage), None) => sign_in_redirect_for(&request),
            (_, None) => AppError::Unauthorized.into_response(),
            (_, Some(_)) => AppError::Forbidden.into_response(),
        };
    }
    if let Some(principal) = principal.clone() {
        request.extensions_mut().insert(principal);
    }
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    if response.extensions().get::<ScopeRefusal>().is_some() {
        let resource = Some(path);
        log_denial(
            &state,
            principal.as_ref(),
            &method,
            &route,
            resource,
            "outside_scope",
        )
        .await;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_one_rule_per_route_and_method() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} {} twice",
                    a.method,
                    a.path
                );
            }
        }
    }

    #[test]
    fn anonymous_callers_pass_public_routes_only() {
        for rule in ROUTES {
            assert_eq!(
                allows(rule.access, None),
                rule.access == Access::Public,
                "{} {}",
                rule.method,
                rule.path
            );
        }
    }

    #[test]
    fn head_is_checked_as_get_and_unknown_routes_have_no_rule() {
        assert!(rule_for(&Method::HEAD, "/healthz").is_some());
        assert!(rule_for(&Method::DELETE, "/v1/incidents/{id}/summary").is_none());
        assert!(rule_for(&Method::GET, "/v1/secret").is_none());
    }
}
