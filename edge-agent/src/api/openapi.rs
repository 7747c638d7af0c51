//! The edge's OpenAPI 3.1 document, generated from the code: utoipa reads each handler's
//! `#[utoipa::path]` and the wire types' `ToSchema` derives (myna-domain's `openapi`
//! feature); `RouteTable` then adds what the route table ([`authz::ROUTES`]) and the
//! router's layers decide for every route alike: who may call it (security requirements)
//! and the answers of the layers (401, 403, 408, 429, 503, refused bodies).
//!
//! Served at `GET /openapi.json` and committed as `docs/openapi.json`
//! (`cargo run -p edge-agent --bin edge-openapi > docs/openapi.json`); the integration
//! tests hold both to the route table and to each other.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use myna_domain::wire::ErrorBody;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
use utoipa::openapi::security::{SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, Required};
use utoipa::{Modify, OpenApi, PartialSchema};

use super::authz::{self, Access, Role};
use super::session::PORTAL_COOKIE;

/// The client-certificate scheme (`mutualTLS`): tablets and hospital-views.
const CLIENT_CERTIFICATE: &str = "client_certificate";
/// The bearer-token scheme: officers, operators, portal sessions, and tablets and
/// hospital-views where client certificates are not required.
const BEARER: &str = "bearer";
/// The portal session cookie.
const PORTAL_SESSION: &str = "portal_session";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "myna edge-agent",
        description = "The edge's HTTP API: ambulance tablets (identity, consent, summary, \
            handoff), receiving hospitals' hospital-view, the patient portal, the privacy \
            officer's review queue, operators' disaster declarations and the public access \
            log. Every error is a JSON `ErrorBody` with a stable `code`. Every response \
            carries `x-request-id` (the request's own, or a new UUID), as do the edge's log \
            lines for it."
    ),
    paths(
        super::tablet::issue_challenge,
        super::tablet::open_incident,
        super::tablet::record_consent,
        super::tablet::summary,
        super::tablet::device_view,
        super::handoff::hand_off,
        super::handoff::hospitals,
        super::handoff::status,
        super::handoff::withdraw,
        super::handoff::decide,
        super::disasters::active,
        super::disasters::list,
        super::disasters::declare,
        super::review::queue,
        super::review::outcome,
        super::denials::list,
        super::portal::history,
        super::portal::proof,
        super::portal::audit_event,
        super::portal::flag,
        super::portal::history_page,
        super::portal::flag_form,
        super::portal_sign_in::issue_challenge,
        super::portal_sign_in::sign_in,
        super::portal::sign_in_page,
        super::portal::dev_sign_in,
        super::portal::dev_sign_in_page,
        super::log::key,
        super::log::checkpoint,
        super::log::inclusion,
        super::log::consistency,
        super::liveness::healthz,
        super::liveness::readyz,
        serve,
    ),
    components(schemas(ErrorBody)),
    modifiers(&RouteTable),
    tags(
        (name = "tablet", description = "Ambulance tablets (救急隊): identity, consent, the summary"),
        (name = "handoff", description = "Tablets: receiving hospitals and handoffs"),
        (name = "hospital", description = "Receiving hospitals' hospital-view"),
        (name = "disasters", description = "Disaster declarations (operators) and the active ones (tablets)"),
        (name = "review", description = "Privacy officers (個人情報保護担当) and operators: review queue, security log"),
        (name = "portal", description = "The patient portal's JSON API"),
        (name = "portal pages", description = "The patient portal's HTML pages"),
        (name = "log", description = "The public tamper-evident access log: hashes and keys only"),
        (name = "operations", description = "Health and this document"),
    )
)]
struct EdgeApi;

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    EdgeApi::openapi()
}

/// The document as pretty JSON with a final newline, as `docs/openapi.json` holds it.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("an OpenAPI document always serializes");
    json.push('\n');
    json
}

/// Rendered once: the document depends on the code only.
static DOCUMENT: LazyLock<String> = LazyLock::new(document_json);

/// `GET /openapi.json`.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object)))]
pub(super) async fn serve() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
}

/// Applies the route table and the router's layers to every operation.
struct RouteTable;

/// An answer many routes share, kept once in `components.responses`.
struct SharedAnswer {
    name: &'static str,
    status: &'static str,
    description: &'static str,
    /// With an [`ErrorBody`] (every shared answer but the timeout's empty one).
    error_body: bool,
}

const fn shared(
    name: &'static str,
    status: &'static str,
    description: &'static str,
    error_body: bool,
) -> SharedAnswer {
    SharedAnswer {
        name,
        status,
        description,
        error_body,
    }
}

#[rustfmt::skip]
const SHARED: [SharedAnswer; 8] = [
    shared("Unauthorized", "401", "`unauthorized`: no or unknown credentials", true),
    shared("Forbidden", "403", "`forbidden`: a role this route does not allow", true),
    shared("RequestTimeout", "408", "The request took longer than the edge allows (empty body)", false),
    shared("RateLimited", "429", "`rate_limited`: too many requests from this caller or address; see `retry-after`", true),
    shared("StorageUnavailable", "503", "`storage_unavailable`: storage failed; nothing was disclosed", true),
    shared("BadBody", "400", "`invalid_body`: the body is not JSON of the expected shape", true),
    shared("BodyTooLarge", "413", "`body_too_large`: the body is over the size limit", true),
    shared("UnsupportedMediaType", "415", "`invalid_body`: the body is not `application/json`", true),
];

/// The `x-request-id` every answer carries.
fn request_id_header() -> utoipa::openapi::Header {
    HeaderBuilder::new()
        .schema(String::schema())
        .description(Some("The request's id, as logged"))
        .build()
}

impl SharedAnswer {
    fn response(&self) -> Response {
        let builder = ResponseBuilder::new()
            .description(self.description)
            .header("x-request-id", request_id_header());
        if !self.error_body {
            return builder.build();
        }
        builder
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    }
}

/// Who may call a route, as security requirements: any one of them suffices; none for a
/// public route.
fn security(access: Access) -> Vec<SecurityRequirement> {
    let scheme = |name: &str| SecurityRequirement::new::<_, _, &str>(name, []);
    match access {
        Access::Public => Vec::new(),
        Access::PatientPage => vec![scheme(PORTAL_SESSION)],
        Access::Roles(roles) => {
            let mut out = Vec::new();
            if roles
                .iter()
                .any(|r| matches!(r, Role::Paramedic | Role::ErStaff))
            {
                out.push(scheme(CLIENT_CERTIFICATE));
            }
            out.push(scheme(BEARER));
            if roles.contains(&Role::Patient) {
                out.push(scheme(PORTAL_SESSION));
            }
            out
        }
    }
}

fn operation_mut<'a>(item: &'a mut PathItem, method: &str) -> Option<&'a mut Operation> {
    match method {
        "GET" => item.get.as_mut(),
        "POST" => item.post.as_mut(),
        "PUT" => item.put.as_mut(),
        "DELETE" => item.delete.as_mut(),
        "PATCH" => item.patch.as_mut(),
        _ => None,
    }
}

impl Modify for RouteTable {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            CLIENT_CERTIFICATE,
            SecurityScheme::MutualTls {
                description: Some(
                    "A client certificate issued by a trusted CA naming a registered tablet \
                     (device) or a configured hospital"
                        .into(),
                ),
                extensions: None,
            },
        );
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A privacy officer's or operator's token, a portal session token, \
                         or (only where client certificates are not required) a tablet's \
                         or hospital's token",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            PORTAL_SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                PORTAL_COOKIE,
                "The portal session cookie set by `POST /portal/v1/sign-in`",
            ))),
        );
        for answer in &SHARED {
            components
                .responses
                .insert(answer.name.into(), RefOr::T(answer.response()));
        }
        for rule in authz::ROUTES {
            let Some(item) = openapi.paths.paths.get_mut(rule.path) else {
                continue;
            };
            let Some(operation) = operation_mut(item, rule.method) else {
                continue;
            };
            let security = security(rule.access);
            operation.security = (!security.is_empty()).then_some(security);
            let mut names = vec!["RequestTimeout", "StorageUnavailable"];
            // Every route but /healthz is rate limited (`rate_limit`).
            if rule.path != "/healthz" {
                names.push("RateLimited");
            }
            if let Access::Roles(_) = rule.access {
                names.extend(["Unauthorized", "Forbidden"]);
            }
            let json_body = operation.request_body.as_ref().is_some_and(|body| {
                body.content.contains_key("application/json")
                    && matches!(body.required, Some(Required::True) | None)
            });
            if json_body {
                names.extend(["BadBody", "BodyTooLarge", "UnsupportedMediaType"]);
            }
            for answer in SHARED.iter().filter(|a| names.contains(&a.name)) {
                operation
                    .responses
                    .responses
                    .entry(answer.status.into())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(answer.name)));
            }
            // The handler's own answers carry the request id too.
            for response in operation.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    response
                        .headers
                        .entry("x-request-id".into())
                        .or_insert_with(request_id_header);
                }
            }
        }
    }
}
