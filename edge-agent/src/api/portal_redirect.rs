//! Where a browser without a portal session goes: the sign-in page, in the language it
//! asked for (`?lang=`, else `Accept-Language`). Both the history page and `authz` (for
//! patient pages refused without a session) send it there.

use axum::extract::Query;
use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::response::{IntoResponse, Redirect, Response};

use super::portal_query::HistoryQuery;
use super::portal_text::Lang;

/// The page language: `?lang=` if given and known, else the browser's `Accept-Language`.
pub(super) fn lang_of(headers: &HeaderMap, query_lang: Option<&str>) -> Lang {
    let accept = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Lang::choose(query_lang, accept)
}

/// A redirect to the sign-in page in `lang`.
pub(super) fn sign_in_redirect(lang: Lang) -> Response {
    Redirect::to(&format!("/portal/sign-in?lang={}", lang.code())).into_response()
}

/// The sign-in redirect for a browser without a session, in the language it asked for.
pub(super) fn sign_in_redirect_for(request: &axum::extract::Request) -> Response {
    let query = Query::<HistoryQuery>::try_from_uri(request.uri())
        .ok()
        .map(|Query(q)| q);
    let lang = lang_of(
        request.headers(),
        query.as_ref().and_then(|q| q.lang.as_deref()),
    );
    sign_in_redirect(lang)
}
