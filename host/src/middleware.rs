//! Cross-cutting HTTP layers: request ids, security headers, body limits, route labels, and
//! closing the connection after an error to a request with a body.

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::Limited;
use tower_http::request_id::{MakeRequestId, RequestId};

use crate::error::ApiError;

pub const REQUEST_ID: &str = "x-request-id";

/// The default body limit of JSON endpoints (1 MiB). Routes that take files declare their own.
pub const DEFAULT_BODY_LIMIT: u64 = 1024 * 1024;

/// Mints UUID v7 request ids (time-ordered, like every other id here).
#[derive(Debug, Clone, Copy, Default)]
pub struct MakeRequestUuidV7;

impl MakeRequestId for MakeRequestUuidV7 {
    fn make_request_id<B>(&mut self, _: &http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// An error answered to an HTTP/1 request that carried a body says `Connection: close`.
///
/// A refusal (401, 403, 413, …) is often decided before the body is read, and hyper then closes
/// the connection rather than drain an upload nobody wants. Without the header a client may put
/// that connection back in its pool and send its next request into the closing socket (an
/// "incomplete message" error on a request that was never answered). Saying so makes the close
/// part of the response (RFC 9112 §9.6), so the client opens a new connection instead. It costs
/// one reconnect after an error, never on success; HTTP/2 has no such header and needs none.
pub async fn close_after_error_with_body(req: Request, next: Next) -> Response {
    let has_body = req.version() <= http::Version::HTTP_11
        && (req.headers().contains_key(header::TRANSFER_ENCODING)
            || req
                .headers()
                .get(header::CONTENT_LENGTH)
                .is_some_and(|v| v.as_bytes() != b"0"));
    let mut res = next.run(req).await;
    if has_body && (res.status().is_client_error() || res.status().is_server_error()) {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

/// A client may send its own `X-Request-Id` (it is echoed back and logged), but only a short
/// token of safe characters: anything else is dropped and replaced, so ids can't inject into logs.
pub async fn sanitize_request_id(mut req: Request, next: Next) -> Response {
    let ok = req.headers().get(REQUEST_ID).is_none_or(|v| {
        let b = v.as_bytes();
        !b.is_empty()
            && b.len() <= 128
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
    });
    if !ok {
        req.headers_mut().remove(REQUEST_ID);
    }
    next.run(req).await
}

/// The Content-Security-Policy of every response: only our own scripts, styles and images.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

/// Strict security headers on every response.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// Adds HSTS when serving over TLS.
pub async fn hsts(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    res.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
    res
}

/// Refuses bodies over `limit` bytes: at once from `Content-Length` (before a byte of the body is
/// read), and while streaming for chunked bodies (the extractor then fails with 413).
pub async fn body_limit(limit: u64, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        let mut res = ApiError::PayloadTooLarge { limit }.into_response();
        // The body was never read, so the connection can't be reused safely.
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return res;
    }
    let (parts, body) = req.into_parts();
    let limited = Body::new(Limited::new(
        body,
        usize::try_from(limit).unwrap_or(usize::MAX),
    ));
    next.run(Request::from_parts(parts, limited)).await
}

/// The route template a response was produced by, for metrics labels (set inside the scope
/// routers, where the template is known; read by the outer metrics layer).
#[derive(Debug, Clone)]
pub struct RouteLabel(pub String);

pub async fn label_route(req: Request, next: Next) -> Response {
    let label = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let mut res = next.run(req).await;
    if let Some(label) = label {
        res.extensions_mut().insert(RouteLabel(label));
    }
    res
}
