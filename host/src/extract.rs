//! Extractors shared by handlers: JSON bodies whose rejections are problem documents, the request
//! metadata every audit row carries, and the resolved scope.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer};
use wrk_tenants::audit::RequestMeta;
use wrk_tenants::control::TenantRecord;

use crate::error::ApiError;
use crate::middleware::REQUEST_ID;
use crate::scope::{PeerAddr, Scope, client_ip};
use crate::state::AppState;

/// `Json<T>` whose failures are problem+json, for every route (the one JSON body rule):
/// - wrong content type → 415 `unsupported_media_type`; too large → 413 `payload_too_large`;
/// - not JSON at all → 400 `bad_request`;
/// - valid JSON that is not an object (an array, a string, ...) → 422 `validation_failed`: serde
///   would otherwise accept `["a","b"]` for a struct;
/// - a string holding a NUL character (`\u0000`) anywhere → 422 `validation_failed`;
/// - valid JSON of the wrong shape (missing or unknown field, wrong type, unknown enum value)
///   → 422 `validation_failed`, naming the field.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json_content_type(req.headers()) {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(bytes_rejection)?;
        json_body(&bytes).map(Self)
    }
}

/// `application/json` or any `application/*+json`, parameters (charset) ignored.
pub fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn bytes_rejection(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge {
            limit: crate::middleware::DEFAULT_BODY_LIMIT,
        }
    } else {
        ApiError::BadRequest("the request body could not be read".into())
    }
}

/// Parses a JSON request body under the rules of [`ApiJson`]. For handlers that read the body
/// themselves (an optional body, say).
pub fn json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let is_json = || serde_json::from_slice::<IgnoredAny>(bytes).is_ok();
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(if is_json() {
            ApiError::validation("body", "must be a JSON object")
        } else {
            not_json(serde_json::from_slice::<IgnoredAny>(bytes).err())
        });
    }
    if has_nul_escape(bytes) {
        return if is_json() {
            Err(ApiError::validation(
                "body",
                "text must not contain NUL characters",
            ))
        } else {
            Err(not_json(serde_json::from_slice::<IgnoredAny>(bytes).err()))
        };
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let path = e.path().to_string();
        (path, e.into_inner())
    });
    let value = value.and_then(|v| de.end().map(|()| v).map_err(|e| (String::new(), e)));
    match value {
        Ok(v) => Ok(v),
        // What decides 400 or 422 is whether the body is JSON at all: serde_json reports some
        // shape errors (a number where an enum is expected) as syntax errors, and a shape error
        // can come before the syntax error later in the text.
        Err((path, e)) => {
            if is_json() {
                Err(shape_error(&path, &e))
            } else {
                Err(not_json(serde_json::from_slice::<IgnoredAny>(bytes).err()))
            }
        }
    }
}

fn not_json(e: Option<serde_json::Error>) -> ApiError {
    ApiError::BadRequest(match e {
        Some(e) => format!("the body is not valid JSON: {e}"),
        None => "the body is not valid JSON".into(),
    })
}

fn shape_error(path: &str, e: &serde_json::Error) -> ApiError {
    // serde's message names the field and the expected type; it holds no internals. Its
    // position suffix (" at line 1 column 9") is noise for a field error.
    let message = e.to_string();
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    };
    let field = if path == "." || path.is_empty() {
        "body"
    } else {
        path
    };
    ApiError::validation(field, message)
}

/// Whether a JSON text holds a `\u0000` escape (a raw NUL byte is not valid JSON anyway).
fn has_nul_escape(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'u')
                && bytes
                    .get(i + 2..i + 6)
                    .is_some_and(|h| h.iter().all(|&c| c == b'0'))
            {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// `Query<T>` whose failures are problem+json: a value of the wrong type (`?limit=-1`,
/// `?include_archived=maybe`), a missing required key, a duplicated key, an unknown value, or a
/// NUL character → 422 `validation_failed` naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        query(parts.uri.query().unwrap_or("")).map(Self)
    }
}

/// Parses a query string under the rules of [`ApiQuery`].
pub fn query<T: DeserializeOwned>(raw: &str) -> Result<T, ApiError> {
    if form_urlencoded_has_nul(raw) {
        return Err(ApiError::validation(
            "query",
            "must not contain NUL characters",
        ));
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
    serde_path_to_error::deserialize::<_, T>(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() {
            "query".to_owned()
        } else {
            path
        };
        let inner = e.into_inner().to_string();
        ApiError::validation(&field, inner)
    })
}

fn form_urlencoded_has_nul(raw: &str) -> bool {
    form_urlencoded::parse(raw.as_bytes()).any(|(k, v)| k.contains('\0') || v.contains('\0'))
}

/// A page size (`?limit=`): 1 to 200, 50 when absent (API.md, conventions). Anything else is a
/// 422 `validation_failed` on `limit`, not silently clamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(pub u32);

impl Limit {
    /// The page size of an optional `?limit=`.
    pub fn or_default(limit: Option<Self>) -> u32 {
        limit.map_or(crate::services::DEFAULT_LIMIT, |l| l.0)
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u32::deserialize(d)?;
        if (1..=crate::services::MAX_LIMIT).contains(&n) {
            Ok(Self(n))
        } else {
            Err(serde::de::Error::custom(format!(
                "must be between 1 and {}",
                crate::services::MAX_LIMIT
            )))
        }
    }
}

/// A page cursor (`?cursor=`): the `next_cursor` of the previous page, an id. Garbage is a 422
/// `validation_failed` on `cursor`, never silently ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub String);

impl Cursor {
    pub fn into_inner(cursor: Option<Self>) -> Option<String> {
        cursor.map(|c| c.0)
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match uuid::Uuid::parse_str(&s) {
            Ok(id) => Ok(Self(id.to_string())),
            Err(_) => Err(serde::de::Error::custom(
                "is not a cursor: pass the next_cursor of the previous page",
            )),
        }
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

/// Deserializes an integer that JSON may spell `42` or `42.0` (JSON Schema counts both as the
/// integer 42); `42.5` and out-of-range values are refused. For integer fields of request bodies:
/// `#[serde(deserialize_with = "crate::extract::integer")]`.
pub fn integer<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    let n = serde_json::Number::deserialize(d)?;
    let whole = if let Some(i) = n.as_i64() {
        Some(i)
    } else if let Some(f) = n.as_f64() {
        // serde_json's default float parsing may be one ulp off for long literals
        // (`2251799813685247.0`), so "integral" allows for that much.
        let r = f.round();
        #[allow(clippy::cast_possible_truncation)]
        let i = r as i64;
        ((f - r).abs() <= f.abs() * 4.0 * f64::EPSILON && f.abs() < 9.0e15).then_some(i)
    } else {
        None
    };
    whole
        .and_then(|i| T::try_from(i).ok())
        .ok_or_else(|| serde::de::Error::custom(format!("expected an integer in range, got {n}")))
}

/// [`integer`] for an optional field (`null` or absent is `None`; pair with `#[serde(default)]`).
pub fn optional_integer<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    #[derive(Deserialize)]
    struct Wrap<T: TryFrom<i64>>(#[serde(deserialize_with = "integer")] T);
    Ok(Option::<Wrap<T>>::deserialize(d)?.map(|w| w.0))
}

/// [`integer`] for each item of a list (`[80, 100.0]` is `[80, 100]`).
pub fn integer_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    #[derive(Deserialize)]
    struct Wrap<T: TryFrom<i64>>(#[serde(deserialize_with = "integer")] T);
    Ok(Vec::<Wrap<T>>::deserialize(d)?
        .into_iter()
        .map(|w| w.0)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        #[allow(dead_code)]
        name: String,
        #[serde(default, deserialize_with = "optional_integer")]
        n: Option<u32>,
    }

    fn code(r: Result<Body, ApiError>) -> (u16, String) {
        let p = r.expect_err("refused").problem();
        (p.status, p.detail)
    }

    #[test]
    fn only_objects_of_the_right_shape_are_accepted() {
        assert_eq!(code(json_body(br#"["a"]"#)).0, 422);
        assert_eq!(code(json_body(br#""a""#)).0, 422);
        assert_eq!(code(json_body(b"[")).0, 400);
        assert_eq!(code(json_body(b"")).0, 400);
        assert_eq!(code(json_body(br#"{"name": 1}"#)).0, 422);
        assert_eq!(code(json_body(br#"{"name": "a", "x": 1} trailing"#)).0, 400);
        assert_eq!(code(json_body(br#"{"name": "a\u0000"}"#)).0, 422);
        assert!(json_body::<Body>(br#"{"name": "a\\u0000"}"#).is_ok());
    }

    #[test]
    fn integers_may_be_spelled_as_integral_floats() {
        let b: Body = json_body(br#"{"name": "a", "n": 7.0}"#).unwrap();
        assert_eq!(b.n, Some(7));
        assert_eq!(code(json_body(br#"{"name": "a", "n": 7.5}"#)).0, 422);
        assert_eq!(code(json_body(br#"{"name": "a", "n": -1}"#)).0, 422);
        let b: Body = json_body(br#"{"name": "a", "n": null}"#).unwrap();
        assert_eq!(b.n, None);
    }

    #[test]
    fn each_item_of_an_integer_list_may_be_an_integral_float() {
        #[derive(Debug, Deserialize)]
        struct List {
            #[serde(deserialize_with = "integer_list")]
            xs: Vec<u32>,
        }
        let l: List = json_body(br#"{"xs": [80, 100.0]}"#).unwrap();
        assert_eq!(l.xs, [80, 100]);
        assert!(json_body::<List>(br#"{"xs": [80.5]}"#).is_err());
        assert!(json_body::<List>(br#"{"xs": [-1]}"#).is_err());
    }

    #[derive(Debug, Deserialize)]
    struct Page {
        limit: Option<Limit>,
        cursor: Option<Cursor>,
    }

    #[test]
    fn limit_and_cursor_are_checked_not_clamped_or_ignored() {
        let p: Page = query("limit=200&cursor=01a23d1d-9d6b-7793-87d5-b6b09aecb507").unwrap();
        assert_eq!(Limit::or_default(p.limit), 200);
        assert!(p.cursor.is_some());
        let p: Page = query("").unwrap();
        assert_eq!(Limit::or_default(p.limit), 50);
        for bad in [
            "limit=0",
            "limit=201",
            "limit=-1",
            "cursor=x",
            "limit=1&limit=2",
            "cursor=%00",
        ] {
            let e = query::<Page>(bad).expect_err(bad).problem();
            assert_eq!(e.status, 422, "{bad}");
        }
    }
}
