//! The conventions every published OpenAPI document follows, applied in one pass over the
//! document generated from the `#[utoipa::path]` annotations, so a new route gets them without
//! repeating them:
//! - security schemes (`bearer`: a JWT or a `wrk_` API key; `session`: the browser's session
//!   cookie) on every operation that is not in [`PUBLIC`];
//! - every error response is `application/problem+json` with the `Problem` schema;
//! - the errors the shared machinery can produce are documented where they can happen: 401/403 on
//!   authenticated operations, 404 and 400 where there are path parameters, 400/413/415/422 where
//!   there is a JSON body, 422 where there are query parameters, 429 on the rate-limited auth
//!   routes, 431 everywhere.
//!
//! Route-specific errors (409 `conflict`, 410, 422 `guard_failed`...) stay in the annotations.

use serde_json::{Map, Value, json};

/// Operations that need no credentials (by path prefix).
const PUBLIC: &[&str] = &[
    "/api/auth/",
    "/api/ops/auth/login",
    "/api/ops/auth/refresh",
    "/api/ops/auth/logout",
    "/auth/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/openapi.json",
    "/api/schemas/",
];

/// Operations under the per-IP auth rate limit (`WRK_AUTH_RATE_LIMIT`).
const RATE_LIMITED: &[&str] = &["/api/auth/", "/api/ops/auth/"];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

fn is_public(path: &str) -> bool {
    PUBLIC.iter().any(|p| path.starts_with(p))
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

/// Applies the conventions to a serialized OpenAPI document.
pub fn finish(doc: &mut Value) {
    let components = doc
        .as_object_mut()
        .expect("an OpenAPI document is an object")
        .entry("components")
        .or_insert_with(|| json!({}));
    let components = components.as_object_mut().expect("components is an object");
    components.insert(
        "securitySchemes".into(),
        json!({
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "An access token from a login (a JWT), or a `wrk_` API key"
            },
            "session": {
                "type": "apiKey",
                "in": "cookie",
                "name": crate::auth::session::SESSION_COOKIE,
                "description": "The browser session; unsafe methods also need the `X-CSRF-Token` header (the `wrk_csrf` cookie's value)"
            }
        }),
    );
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            if let Some(op) = item.get_mut(*method).and_then(Value::as_object_mut) {
                finish_operation(path, op);
            }
        }
    }
}

fn finish_operation(path: &str, op: &mut Map<String, Value>) {
    let params = op
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let has_in = |place: &str| params.iter().any(|p| p["in"] == place);
    let has_path = has_in("path");
    let has_query = has_in("query");
    let json_body = op
        .get("requestBody")
        .and_then(|b| b.get("content"))
        .and_then(Value::as_object)
        .is_some_and(|c| c.keys().any(|k| k.contains("json")));
    let other_body = op.contains_key("requestBody") && !json_body;
    let public = is_public(path);

    if !public {
        op.insert("security".into(), json!([{"bearer": []}, {"session": []}]));
    }
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("responses is an object");
    let mut add = |code: &str, description: &str| {
        responses
            .entry(code.to_owned())
            .or_insert_with(|| problem_response(description));
    };
    if !public {
        add("401", "No valid credentials (`unauthenticated`)");
        add(
            "403",
            "The credentials do not allow this (`forbidden`, wrong role, scope or workspace)",
        );
    }
    if has_path {
        add("400", "A path parameter could not be decoded");
        add("404", "Not found (`not_found`)");
    }
    if json_body {
        add("400", "The body is not valid JSON (`bad_request`)");
        add("413", "The body is too large (`payload_too_large`)");
        add(
            "415",
            "The body is not `application/json` (`unsupported_media_type`)",
        );
        add(
            "422",
            "The body is valid JSON of the wrong shape, or a value is refused (`validation_failed`)",
        );
    }
    if other_body {
        add("400", "The body could not be read (`bad_request`)");
        add("413", "The body is too large (`payload_too_large`)");
        add(
            "415",
            "The body has the wrong content type (`unsupported_media_type`)",
        );
    }
    if has_query {
        add(
            "422",
            "A query parameter is missing, repeated or refused (`validation_failed`)",
        );
    }
    if RATE_LIMITED.iter().any(|p| path.starts_with(p)) {
        add(
            "429",
            "Too many requests from this address (`rate_limited`)",
        );
    }
    add(
        "431",
        "The request headers are too large (`headers_too_large`)",
    );
    // Every error is a problem document, whatever the annotation said.
    for (code, response) in responses.iter_mut() {
        let is_error = code.starts_with('4') || code.starts_with('5');
        let Some(response) = response.as_object_mut() else {
            continue;
        };
        if is_error {
            response.insert(
                "content".into(),
                json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}),
            );
        }
    }
}
