//! Serving the embedded UI: assets with ETags and page shells, and the not-found answers that
//! depend on who is asking (a page for browsers, problem+json for everyone else).

use axum::extract::{Path, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// `GET /assets/{*path}`: an embedded file, revalidated by ETag (`304` when unchanged).
pub async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match wrk_web::asset(&path) {
        Some(a) => serve(
            a,
            &headers,
            StatusCode::OK,
            "public, max-age=0, must-revalidate",
        ),
        None => not_found_response(&headers, "file"),
    }
}

/// A page shell with the given status.
pub fn page(name: &str, headers: &HeaderMap, status: StatusCode) -> Response {
    match wrk_web::page(name) {
        // Pages are tiny shells; never cache them so a new release is picked up at once.
        Some(a) => serve(a, headers, status, "no-cache"),
        None => ApiError::not_found("page").into_response(),
    }
}

fn serve(
    a: wrk_web::Asset,
    headers: &HeaderMap,
    status: StatusCode,
    cache: &'static str,
) -> Response {
    let etag = HeaderValue::from_str(&a.etag).expect("hex etag is a valid header");
    if status == StatusCode::OK
        && headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| v.as_bytes() == a.etag.as_bytes())
    {
        return (
            StatusCode::NOT_MODIFIED,
            [
                (header::ETAG, etag),
                (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            ],
        )
            .into_response();
    }
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_str(&a.content_type)
                    .unwrap_or(HeaderValue::from_static("application/octet-stream")),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        a.bytes.into_owned(),
    )
        .into_response()
}

/// Whether the client prefers a page over JSON: browsers navigating send `Accept: text/html`.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

fn not_found_response(headers: &HeaderMap, what: &str) -> Response {
    if wants_html(headers) {
        page("404", headers, StatusCode::NOT_FOUND)
    } else {
        ApiError::not_found(what).into_response()
    }
}

/// The fallback of every scope: a 404 page or problem.
pub async fn fallback(req: Request) -> Response {
    let what = if req.uri().path().starts_with("/api/") {
        "endpoint"
    } else {
        "page"
    };
    not_found_response(req.headers(), what)
}

/// A host that names no workspace.
pub fn workspace_not_found(headers: &HeaderMap) -> Response {
    if wants_html(headers) {
        page("not-found", headers, StatusCode::NOT_FOUND)
    } else {
        ApiError::NotFound("there is no workspace at this address".into()).into_response()
    }
}

/// A workspace fenced on this host while it moves: a page for browsers, problem+json for
/// everyone else; both `503` with `Retry-After`.
pub fn workspace_moving(headers: &HeaderMap, retry_after: u32) -> Response {
    if wants_html(headers) {
        let mut page = page("moving", headers, StatusCode::SERVICE_UNAVAILABLE);
        page.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        page
    } else {
        ApiError::Moving { retry_after }.into_response()
    }
}

/// A host outside the base domain (an IP address, another name).
pub fn unknown_host(base: &str) -> Response {
    ApiError::NotFound(format!(
        "this server answers for {base} and its workspaces; the requested host is not one of them"
    ))
    .into_response()
}
