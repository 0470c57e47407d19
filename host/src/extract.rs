//! Extractors shared by handlers: JSON bodies whose rejections are problem documents, the request
//! metadata every audit row carries, and the resolved scope.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use wrk_tenants::audit::RequestMeta;
use wrk_tenants::control::TenantRecord;

use crate::app::AppState;
use crate::error::ApiError;
use crate::middleware::REQUEST_ID;
use crate::scope::{PeerAddr, Scope, client_ip};

/// `Json<T>` whose failures are problem+json: malformed JSON → 400, wrong shape or unknown field
/// → 422 `validation_failed`, wrong content type → 415, too large → 413.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => ApiError::Validation {
            // serde's message names the field and the expected type; it holds no internals.
            detail: e.body_text(),
            errors: vec![],
        },
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::BadRequest(format!("the body is not valid JSON: {}", e.body_text()))
        }
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::UnsupportedMediaType("send the body as application/json".into())
        }
        JsonRejection::BytesRejection(e) => {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge {
                    limit: crate::middleware::DEFAULT_BODY_LIMIT,
                }
            } else {
                ApiError::BadRequest("the request body could not be read".into())
            }
        }
        other => ApiError::BadRequest(other.body_text()),
    }
}

/// Request id, client IP and user agent, for audit rows.
#[derive(Debug, Clone)]
pub struct ClientMeta(pub RequestMeta);

impl FromRequestParts<AppState> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<PeerAddr>().map(|p| p.0.ip());
        let header_str = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Ok(Self(RequestMeta {
            request_id: header_str(REQUEST_ID),
            ip: client_ip(&parts.headers, peer, &app.config.trusted_proxies)
                .map(|ip| ip.to_string()),
            user_agent: header_str(header::USER_AGENT.as_str())
                .map(|ua| ua.chars().take(512).collect()),
        }))
    }
}

/// The workspace the request's host names. Only present on workspace hosts; the dispatcher
/// resolved it from the host name, so it never comes from request input.
#[derive(Debug, Clone)]
pub struct CurrentTenant(pub TenantRecord);

impl<S: Send + Sync> FromRequestParts<S> for CurrentTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Scope>() {
            Some(Scope::Tenant(t)) => Ok(Self(t.clone())),
            _ => Err(ApiError::not_found("workspace")),
        }
    }
}
