//! [`ApiError`]: the host's one error type, mapped to RFC 9457 problem details in one place.
//!
//! Every handler returns `Result<_, ApiError>`. The table in [`ApiError::status_and_code`] is the
//! only place an error becomes a status and a machine `code`. The `detail` shown to clients is
//! always safe; the cause of an unexpected error goes to the log with the request id, never to
//! the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use wrk_core::automation::{DescriptionError, NameError, RequirementsError, WriteRefused};
use wrk_tenants::{Refusal, StoreError};

use crate::services::automations::AutomationError;

/// An RFC 9457 problem document, as sent on the wire.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:wrk:problem:<code>`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine code, e.g. `not_found`, `validation_failed`.
    pub code: String,
    /// Extra members for some codes (`allowed`, `failed`, `errors`, `reasons`, ...).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: Map<String, Value>,
}

/// One guard that did not hold, in a `guard_failed` problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FailedGuard {
    pub code: String,
    pub message: String,
}

/// A field-level validation message, shown next to the field in the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("authentication required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{detail}")]
    Validation {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("the request body is larger than the {limit} bytes this endpoint accepts")]
    PayloadTooLarge { limit: u64 },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests; retry in {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    #[error("the service is not ready yet")]
    Unavailable,
    /// The workspace is fenced on this host while it moves to another one (`Retry-After`).
    #[error("this workspace is being moved; retry in {retry_after} seconds")]
    Moving { retry_after: u32 },
    /// The request body did not arrive in time (`WRK_BODY_TIMEOUT`).
    #[error("the request body did not arrive within {secs} seconds")]
    RequestTimeout { secs: u64 },
    /// Login with an unverified email while verification is on.
    #[error("verify your email address first: follow the link we emailed you")]
    EmailNotVerified,
    /// A presented token, link or invitation can't be used (see [`Refusal`]).
    #[error("{}", .0.message())]
    Refused(Refusal),
    /// A version cannot make this move at all (state machine); `allowed` lists what the caller
    /// could ask for instead.
    #[error("{detail}")]
    InvalidTransition {
        detail: String,
        allowed: Vec<String>,
    },
    /// The move exists but not for this caller.
    #[error("{0}")]
    TransitionNotPermitted(String),
    /// Facts a transition needs do not hold; every failed guard is named.
    #[error("{detail}")]
    GuardFailed {
        detail: String,
        failed: Vec<FailedGuard>,
    },
    /// Optimistic concurrency: the caller's revision is not the stored one.
    #[error(
        "the blueprint was changed meanwhile: the current revision is {current}; reload and retry"
    )]
    StaleRevision { current: i64 },
    /// An uploaded plugin failed install validation: every reason, and the validation report
    /// (manifest, sample runs with fuel and time).
    #[error("the plugin failed validation: {}", .reasons.join("; "))]
    PluginInvalid { reasons: Vec<String>, report: Value },
    /// A rejection produced below the handlers (a path that does not parse, a multipart body
    /// without a boundary, a method the route does not have, too many header bytes): its status
    /// and a safe detail. See [`problem_responses`].
    #[error("{detail}")]
    Http { status: StatusCode, detail: String },
    /// The payment provider declined the charge (flow 16): its reason for the payer, and its
    /// decline code.
    #[error("the payment was declined: {message}")]
    PaymentFailed {
        decline_code: String,
        message: String,
    },
    /// The payment provider cannot be reached or is busy: the same request may be retried.
    #[error("{0}")]
    PaymentUnavailable(String),
    /// A platform webhook whose `WRK-Signature` is missing, malformed, stale or wrong (flow 27);
    /// one answer for all of them, so a sender learns nothing about which.
    #[error("the request's WRK-Signature is missing, stale or does not match")]
    InvalidSignature,
    /// Anything we did not expect. The cause is logged, never sent.
    #[error("unexpected error: {0:#}")]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Validation {
            detail: format!("{field}: {message}"),
            errors: vec![FieldError {
                field: field.to_owned(),
                message,
            }],
        }
    }

    /// The one table from error to HTTP status and problem `code`.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::Validation { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            Self::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::Unavailable | Self::Moving { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
            Self::RequestTimeout { .. } => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            Self::EmailNotVerified => (StatusCode::FORBIDDEN, "email_not_verified"),
            Self::Refused(r) => match r {
                Refusal::InvalidToken => (StatusCode::BAD_REQUEST, "invalid_token"),
                Refusal::InvitationExpired => (StatusCode::GONE, "invitation_expired"),
                Refusal::InvitationRevoked => (StatusCode::GONE, "invitation_revoked"),
                Refusal::InvitationAccepted => (StatusCode::CONFLICT, "invitation_accepted"),
            },
            Self::InvalidTransition { .. } => (StatusCode::CONFLICT, "invalid_transition"),
            Self::TransitionNotPermitted(_) => (StatusCode::FORBIDDEN, "transition_not_permitted"),
            Self::GuardFailed { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "guard_failed"),
            Self::StaleRevision { .. } => (StatusCode::CONFLICT, "stale_revision"),
            Self::PluginInvalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            Self::Http { status, .. } => (*status, code_of_status(*status)),
            Self::PaymentFailed { .. } => (StatusCode::PAYMENT_REQUIRED, "payment_failed"),
            Self::PaymentUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::InvalidSignature => (StatusCode::UNAUTHORIZED, "invalid_signature"),
            Self::Unexpected(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let (status, code) = self.status_and_code();
        let detail = match self {
            Self::Unexpected(_) => {
                "something went wrong on our side; it has been logged with the request id".into()
            }
            other => other.to_string(),
        };
        let mut extra = Map::new();
        match self {
            Self::Validation { errors, .. } => {
                extra.insert(
                    "errors".into(),
                    serde_json::to_value(errors).unwrap_or_default(),
                );
            }
            Self::PayloadTooLarge { limit } => {
                extra.insert("limit_bytes".into(), (*limit).into());
            }
            Self::InvalidTransition { allowed, .. } => {
                extra.insert("allowed".into(), allowed.clone().into());
            }
            Self::GuardFailed { failed, .. } => {
                extra.insert(
                    "failed".into(),
                    serde_json::to_value(failed).unwrap_or_default(),
                );
            }
            Self::StaleRevision { current } => {
                extra.insert("current_revision".into(), (*current).into());
            }
            Self::PluginInvalid { reasons, report } => {
                extra.insert("reasons".into(), reasons.clone().into());
                extra.insert("report".into(), report.clone());
            }
            Self::PaymentFailed { decline_code, .. } => {
                extra.insert("decline_code".into(), decline_code.clone().into());
            }
            _ => {}
        }
        Problem {
            kind: format!("urn:wrk:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            extra,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Unexpected(cause) = &self {
            tracing::error!(error = format!("{cause:#}"), "unexpected error");
        }
        let problem = self.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        let retry_after = match self {
            Self::RateLimited { retry_after } => Some(retry_after),
            Self::Moving { retry_after } => Some(u64::from(retry_after)),
            _ => None,
        };
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The problem `code` of a bare HTTP status (for [`ApiError::Http`]).
fn code_of_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        408 => "request_timeout",
        409 => "conflict",
        411 => "length_required",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "validation_failed",
        429 => "rate_limited",
        431 => "headers_too_large",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "bad_request",
    }
}

/// Most header fields a request may carry; hyper's own parser takes up to
/// [`HYPER_MAX_HEADERS`], so a request between the two still gets a problem document.
pub const MAX_HEADERS: usize = 100;
/// Most header bytes (names and values) a request may carry; hyper buffers up to 64 KiB.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// hyper's parser limit on header fields (server.rs); beyond it hyper answers a bare 431 itself,
/// before any of our code runs.
pub const HYPER_MAX_HEADERS: usize = 200;

/// The one safety net under every `/api/` route: any error response that is not already a
/// problem document — an axum rejection (path parameter, multipart boundary, method not
/// allowed), a layer's bare status — becomes `application/problem+json` with the same status.
/// It also answers 431 `headers_too_large` for requests over [`MAX_HEADERS`] /
/// [`MAX_HEADER_BYTES`] (hyper itself refuses only far larger ones, with an empty 431).
pub async fn problem_responses(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if req.headers().len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        let mut res = ApiError::Http {
            status: StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            detail: format!(
                "the request headers are too large: at most {MAX_HEADERS} fields and \
                 {MAX_HEADER_BYTES} bytes"
            ),
        }
        .into_response();
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return res;
    }
    let api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    let status = res.status();
    if !api || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if is_problem {
        return res;
    }
    let (parts, body) = res.into_parts();
    let plain = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    // axum's rejection texts are short and hold no internals ("Invalid URL: ...").
    let text = if plain && status.is_client_error() {
        axum::body::to_bytes(body, 2048)
            .await
            .ok()
            .and_then(|b| String::from_utf8(b.to_vec()).ok())
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
    } else {
        None
    };
    let detail = text.unwrap_or_else(|| {
        status
            .canonical_reason()
            .unwrap_or("the request was refused")
            .to_owned()
    });
    let mut out = ApiError::Http { status, detail }.into_response();
    for name in [header::ALLOW, header::RETRY_AFTER, header::CONNECTION] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(entity) => Self::not_found(entity.as_str()),
            StoreError::Conflict(msg) => Self::Conflict(msg),
            StoreError::Stale { current } => Self::StaleRevision { current },
            StoreError::Refused(r) => Self::Refused(r),
            StoreError::Transition(e) => e.into(),
            StoreError::WriteRefused(e) => e.into(),
            StoreError::Fenced { retry_after_secs } => Self::Moving {
                retry_after: retry_after_secs,
            },
            StoreError::Quote(e) => e.into(),
            other => Self::Unexpected(other.into()),
        }
    }
}

/// A refused quote move (flows 14-18): the quote's state is a 409 `conflict` whose detail says
/// which (expired, superseded, or the move that does not exist), the wrong caller a 403, a
/// missing reason a 422 on `reason`.
impl From<wrk_core::quote::QuoteTransitionError> for ApiError {
    fn from(err: wrk_core::quote::QuoteTransitionError) -> Self {
        use wrk_core::quote::QuoteTransitionError as Q;
        match err {
            e @ (Q::Expired { .. } | Q::Superseded | Q::StillValid { .. }) => {
                Self::Conflict(e.to_string())
            }
            Q::NotAllowed { from, to, .. } => Self::Conflict(format!(
                "the quote is {from}, so it cannot be {to}{}",
                match (from, to) {
                    (wrk_core::quote::QuoteStatus::Sent, wrk_core::quote::QuoteStatus::Signed) =>
                        ": accept it first",
                    _ => "",
                }
            )),
            e @ Q::NotPermitted { .. } => Self::Forbidden(format!(
                "{e}: only the workspace's owner or an admin decides on quotes"
            )),
            e @ Q::ReasonRequired => Self::validation("reason", e.to_string()),
        }
    }
}

/// A payment step that failed (flow 16): a decline is the payer's to fix (402 with the
/// provider's reason), a bad method a 422 on `payment_method`, an unreachable provider a 503;
/// anything else is ours and goes to the log.
impl From<crate::services::payments::PaymentError> for ApiError {
    fn from(err: crate::services::payments::PaymentError) -> Self {
        use crate::services::payments::PaymentError as P;
        match err {
            P::Declined { code, message } => Self::PaymentFailed {
                decline_code: code,
                message,
            },
            P::Invalid(why) => Self::validation("payment_method", why),
            P::Unavailable(why) => {
                tracing::warn!(error = %why, "payment provider unavailable");
                Self::PaymentUnavailable(
                    "the payment provider cannot be reached right now; try again in a few minutes"
                        .into(),
                )
            }
            e @ P::Provider(_) => Self::Unexpected(e.into()),
        }
    }
}

impl From<crate::services::quotes::QuoteError> for ApiError {
    fn from(err: crate::services::quotes::QuoteError) -> Self {
        use crate::services::quotes::QuoteError as Q;
        match err {
            Q::Store(e) => e.into(),
            Q::Payment(e) => e.into(),
            Q::Invalid { field, message } => Self::validation(field, message),
            Q::Conflict(why) => Self::Conflict(why),
            e @ (Q::Document(_) | Q::Pricing(_)) => Self::Unexpected(e.into()),
            Q::Plugins(e) => e.into(),
            Q::Blocking(e) => e.into(),
        }
    }
}

impl From<crate::services::credentials::CredentialError> for ApiError {
    fn from(err: crate::services::credentials::CredentialError) -> Self {
        use crate::services::credentials::CredentialError as C;
        match err {
            C::Store(e) => e.into(),
            C::Input(e) => Self::validation(&e.field, e.message),
            e @ (C::Secrets(_) | C::Blocking(_)) => Self::Unexpected(e.into()),
        }
    }
}

impl From<WriteRefused> for ApiError {
    fn from(err: WriteRefused) -> Self {
        Self::Conflict(err.to_string())
    }
}

impl From<wrk_core::threads::BodyError> for ApiError {
    fn from(err: wrk_core::threads::BodyError) -> Self {
        Self::validation("body", err.to_string())
    }
}

impl From<NameError> for ApiError {
    fn from(err: NameError) -> Self {
        Self::validation("name", err.to_string())
    }
}

impl From<DescriptionError> for ApiError {
    fn from(err: DescriptionError) -> Self {
        Self::validation("description", err.to_string())
    }
}

/// Requirements arrive as the `text` field of `PUT …/requirements`.
impl From<RequirementsError> for ApiError {
    fn from(err: RequirementsError) -> Self {
        Self::validation("text", err.to_string())
    }
}

impl From<AutomationError> for ApiError {
    fn from(err: AutomationError) -> Self {
        match err {
            AutomationError::Store(e) => e.into(),
            AutomationError::Transition(e) => e.into(),
            AutomationError::WriteRefused(e) => e.into(),
            e @ (AutomationError::BlueprintNotAnObject | AutomationError::BlueprintBounds(_)) => {
                Self::validation("blueprint", e.to_string())
            }
            e @ AutomationError::NotYourTask(_) => Self::Forbidden(e.to_string()),
            e @ (AutomationError::Pricing(_) | AutomationError::Blocking(_)) => {
                Self::Unexpected(e.into())
            }
        }
    }
}

impl From<wrk_core::machine::TransitionError> for ApiError {
    fn from(err: wrk_core::machine::TransitionError) -> Self {
        use wrk_core::machine::TransitionError as T;
        match err {
            T::InvalidTransition { from, to, allowed } => Self::InvalidTransition {
                detail: format!(
                    "a version cannot go from {from} to {to}; allowed from {from}: {}",
                    if allowed.is_empty() {
                        "nothing, for you".to_owned()
                    } else {
                        allowed
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
                allowed: allowed.iter().map(|s| s.as_str().to_owned()).collect(),
            },
            e @ T::NotPermitted { .. } => Self::TransitionNotPermitted(e.to_string()),
            // Not a move of an existing version: the actor may not create one at all.
            e @ T::CreationNotPermitted { .. } => Self::Forbidden(e.to_string()),
            T::GuardFailed(guards) => Self::GuardFailed {
                detail: format!(
                    "cannot move yet: {}",
                    guards
                        .iter()
                        .map(|g| g.message())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                failed: guards
                    .iter()
                    .map(|g| FailedGuard {
                        code: g.code().to_owned(),
                        message: g.message().to_owned(),
                    })
                    .collect(),
            },
        }
    }
}

impl From<wrk_plugins::RegistryError> for ApiError {
    fn from(e: wrk_plugins::RegistryError) -> Self {
        use wrk_plugins::RegistryError as R;
        match e {
            R::UnknownPlugin(_) => Self::not_found("plugin"),
            R::NothingToRollBack(_) => Self::Conflict(e.to_string()),
            R::KindMismatch { .. } => Self::BadRequest(e.to_string()),
        }
    }
}

impl From<crate::services::plugins::PluginsError> for ApiError {
    fn from(err: crate::services::plugins::PluginsError) -> Self {
        use crate::services::plugins::PluginsError as P;
        match err {
            P::NotFound => Self::not_found("plugin"),
            P::Registry(e) => e.into(),
            e @ P::WrongKind { .. } => Self::validation("plugin_id", e.to_string()),
            P::Invalid(report) => Self::PluginInvalid {
                reasons: report.reasons.clone(),
                report: serde_json::to_value(&*report).unwrap_or(serde_json::Value::Null),
            },
            P::Store(e) => e.into(),
            e @ (P::Io(_) | P::Task(_)) => Self::Unexpected(e.into()),
        }
    }
}

impl From<crate::services::documents::DocumentsError> for ApiError {
    fn from(err: crate::services::documents::DocumentsError) -> Self {
        use crate::services::documents::DocumentsError as D;
        match err {
            D::TooLarge { limit } => Self::PayloadTooLarge { limit },
            e @ D::Empty => Self::validation("file", e.to_string()),
            e @ D::UnsupportedType => Self::UnsupportedMediaType(e.to_string()),
            D::WriteRefused(e) => e.into(),
            e @ (D::NotInIntake { .. } | D::NoProposal(_)) => Self::Conflict(e.to_string()),
            D::NotFound(what) => Self::not_found(what),
            D::Blueprint(e) => (*e).into(),
            D::Store(e) => e.into(),
            D::File(e) => Self::Unexpected(e),
            e @ D::Task(_) => Self::Unexpected(e.into()),
        }
    }
}

impl From<crate::services::identity::IdentityError> for ApiError {
    fn from(err: crate::services::identity::IdentityError) -> Self {
        use crate::services::identity::IdentityError as I;
        match err {
            I::Invalid { field, message } => Self::validation(&field, message),
            I::Unauthenticated => Self::Unauthenticated,
            I::EmailNotVerified => Self::EmailNotVerified,
            I::Forbidden(why) => Self::Forbidden(why),
            I::NotFound(what) => Self::not_found(what),
            I::Store(e) => e.into(),
            I::Password(e) => e.into(),
            I::Unexpected(e) => Self::Unexpected(e),
            I::Task(e) => e.into(),
        }
    }
}

impl From<crate::auth::password::PasswordError> for ApiError {
    fn from(err: crate::auth::password::PasswordError) -> Self {
        use crate::auth::password::PasswordError as P;
        match err {
            // A hashing slot frees within tens of milliseconds.
            P::Busy => Self::RateLimited { retry_after: 1 },
            P::Hash(e) => Self::Unexpected(anyhow::anyhow!("password hashing: {e}")),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(err: tokio::task::JoinError) -> Self {
        Self::Unexpected(anyhow::anyhow!("blocking task failed: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unexpected_errors_never_leak_their_cause() {
        let err = ApiError::Unexpected(anyhow::anyhow!("SELECT * FROM secrets at /var/lib/x"));
        let p = err.problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("SELECT") && !p.detail.contains("/var"));
    }

    #[test]
    fn a_refused_version_creation_is_forbidden_not_a_conflict() {
        let refused = wrk_core::machine::create_version(&wrk_core::machine::Actor::System)
            .expect_err("only clients create versions");
        for err in [
            ApiError::from(refused.clone()),
            ApiError::from(StoreError::Transition(refused.clone())),
            ApiError::from(AutomationError::Transition(refused)),
        ] {
            let p = err.problem();
            assert_eq!((p.status, p.code.as_str()), (403, "forbidden"));
        }
    }

    #[test]
    fn a_refused_transition_from_the_store_keeps_its_own_status_and_code() {
        use wrk_core::machine::{Guard, TransitionError, VersionStatus};
        let cases = [
            (
                TransitionError::InvalidTransition {
                    from: VersionStatus::Live,
                    to: VersionStatus::QaTesting,
                    allowed: vec![VersionStatus::Paused],
                },
                409,
                "invalid_transition",
            ),
            (
                TransitionError::NotPermitted {
                    from: VersionStatus::BuildInProgress,
                    to: VersionStatus::QaTesting,
                    actor: wrk_core::machine::ActorKind::Client,
                },
                403,
                "transition_not_permitted",
            ),
            (
                TransitionError::GuardFailed(vec![Guard::QuoteSent]),
                422,
                "guard_failed",
            ),
        ];
        for (err, status, code) in cases {
            let p = ApiError::from(StoreError::Transition(err)).problem();
            assert_eq!((p.status, p.code.as_str()), (status, code));
        }
        let p = ApiError::from(StoreError::WriteRefused(WriteRefused::ReadOnly)).problem();
        assert_eq!((p.status, p.code.as_str()), (409, "conflict"));
    }

    #[test]
    fn a_full_password_queue_is_a_429_rate_limited_problem_with_retry_after() {
        let res = ApiError::from(crate::auth::password::PasswordError::Busy).into_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers()[header::RETRY_AFTER], "1");
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let p = ApiError::from(crate::auth::password::PasswordError::Busy).problem();
        assert_eq!(p.code, "rate_limited");
    }

    #[test]
    fn quote_and_payment_refusals_have_their_status_code_and_a_detail_that_says_which() {
        use crate::services::payments::PaymentError;
        use wrk_core::quote::{QuoteStatus, QuoteTransitionError as Q};
        let at = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        let cases: Vec<(ApiError, u16, &str, &str)> = vec![
            (
                Q::Expired { valid_until: at }.into(),
                409,
                "conflict",
                "expired",
            ),
            (Q::Superseded.into(), 409, "conflict", "superseded"),
            (
                Q::NotAllowed {
                    from: QuoteStatus::Sent,
                    to: QuoteStatus::Signed,
                    allowed: vec![],
                }
                .into(),
                409,
                "conflict",
                "accept it first",
            ),
            (
                StoreError::Quote(Q::NotPermitted {
                    from: QuoteStatus::Sent,
                    to: QuoteStatus::Accepted,
                    actor: wrk_core::machine::ActorKind::Client,
                })
                .into(),
                403,
                "forbidden",
                "owner or an admin",
            ),
            (Q::ReasonRequired.into(), 422, "validation_failed", "reason"),
            (
                PaymentError::Declined {
                    code: "card_declined".into(),
                    message: "Your card was declined.".into(),
                }
                .into(),
                402,
                "payment_failed",
                "Your card was declined.",
            ),
            (
                PaymentError::Invalid("not a card".into()).into(),
                422,
                "validation_failed",
                "payment_method",
            ),
            (
                PaymentError::Unavailable("timeout".into()).into(),
                503,
                "unavailable",
                "try again",
            ),
        ];
        for (err, status, code, says) in cases {
            let p = err.problem();
            assert_eq!((p.status, p.code.as_str()), (status, code), "{p:?}");
            assert!(p.detail.contains(says), "{} does not say {says}", p.detail);
        }
        let p = ApiError::from(PaymentError::Provider("sk_live_secret".into())).problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("sk_live"));
    }

    #[test]
    fn a_bad_webhook_signature_is_401_invalid_signature() {
        let p = ApiError::InvalidSignature.problem();
        assert_eq!((p.status, p.code.as_str()), (401, "invalid_signature"));
    }

    #[test]
    fn validation_problems_carry_field_errors() {
        let p = ApiError::validation("subdomain", "is reserved").problem();
        assert_eq!(p.code, "validation_failed");
        assert_eq!(p.extra["errors"][0]["field"], "subdomain");
    }
}
